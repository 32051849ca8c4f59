import { jetstream } from "@nats-io/jetstream";
import { headers } from "@nats-io/transport-node";
import { ClusterRpcProxy } from "../../../src/client/standalone";
import type { StandaloneDispatcher } from "../../../src/client/standalone-dispatcher";
import type { DependencyProvider, WorkerContext } from "../../../src/core/extension";
import { registerDependency } from "../../../src/core/metadata";
import { EventDispatcher, type Dispatch } from "../../../src/dependencies/event-dispatcher";
import { eventHandler } from "../../../src/entrypoints/events";
import { rpc } from "../../../src/entrypoints/rpc";
import { EventsFixture } from "../../helpers/jetstream";
import { deferred } from "../../helpers/waiters";

/** Injects the worker context itself, so a handler can report what it was given. */
class WorkerProvider implements DependencyProvider {
  constructor(readonly attrName: string) {}
  getDependency(worker: WorkerContext): WorkerContext {
    return worker;
  }
}
function Worker(): PropertyDecorator {
  return (target, key) => registerDependency(target, () => new WorkerProvider(String(key)));
}

interface Seen {
  stack: readonly string[];
  data: Record<string, unknown>;
  callId: string;
  payload: unknown;
}
const snapshot = (w: WorkerContext, payload: unknown): Seen => ({
  stack: [...w.callIdStack],
  data: { ...w.data },
  callId: w.callId,
  payload,
});

describe("event context", () => {
  let fx: EventsFixture;
  let dispatch: StandaloneDispatcher;

  beforeEach(async () => ({ fx, dispatch } = await EventsFixture.withDispatcher()));
  afterEach(() => fx.cleanup());

  it("carries the call id stack and user id from a dispatching worker to the handler", async () => {
    const relayed = deferred<Seen>();
    const sunk = deferred<Seen>();
    class Relay {
      name = "relay";
      @Worker() worker!: WorkerContext;
      @EventDispatcher() dispatch!: Dispatch;
      @eventHandler("origin", "start")
      async onStart(payload: { n: number }) {
        relayed.resolve(snapshot(this.worker, payload));
        await this.dispatch("relayed", { n: payload.n + 1 });
      }
    }
    class Sink {
      name = "sink";
      @Worker() worker!: WorkerContext;
      @eventHandler("relay", "relayed")
      async onRelayed(payload: unknown) {
        sunk.resolve(snapshot(this.worker, payload));
      }
    }
    await fx.start(Relay);
    await fx.start(Sink);

    // A caller outside the runtime sends Nameko's context headers (docs/nats-contract.md, Headers).
    const nc = await fx.client();
    const h = headers();
    h.set("nameko.user_id", "u-1");
    h.set("nameko.language", "en-gb");
    h.set("nameko.call_id_stack", JSON.stringify(["standalone_rpc_proxy.call.4bc54ab8-9897-4976-b7c7-9fb250b0f0f6"]));
    await jetstream(nc).publish(`${fx.prefix}.events.origin.start`, JSON.stringify({ n: 1 }), { headers: h });

    const relay = await relayed.promise;
    const sink = await sunk.promise;
    expect(relay.stack).toEqual(["standalone_rpc_proxy.call.4bc54ab8-9897-4976-b7c7-9fb250b0f0f6", relay.callId]);
    expect(relay.callId).toMatch(/^relay\.onStart\.[0-9a-f-]{36}$/);
    expect(sink.stack).toEqual([...relay.stack, sink.callId]);
    expect(sink.callId).toMatch(/^sink\.onRelayed\.[0-9a-f-]{36}$/);
    expect(sink.data).toEqual({ user_id: "u-1", language: "en-gb" });
    expect(sink.payload).toEqual({ n: 2 });
  });

  it("carries the context of a dispatching RPC worker called by a standalone proxy", async () => {
    const caller = deferred<Seen>();
    const handler = deferred<Seen>();
    class Checkout {
      name = "checkout";
      @Worker() worker!: WorkerContext;
      @EventDispatcher() dispatch!: Dispatch;
      @rpc()
      async pay(amount: number) {
        caller.resolve(snapshot(this.worker, amount));
        await this.dispatch("paid", { amount });
        return "ok";
      }
    }
    class Receipts {
      name = "receipts";
      @Worker() worker!: WorkerContext;
      @eventHandler("checkout", "paid")
      async onPaid(payload: unknown) {
        handler.resolve(snapshot(this.worker, payload));
      }
    }
    await fx.start(Checkout);
    await fx.start(Receipts);
    const cluster = await ClusterRpcProxy.connect({
      natsUrl: fx.config.natsUrl,
      prefix: fx.prefix,
      contextData: { user_id: "u-42" },
    });
    try {
      expect(await cluster.service("checkout").pay(10)).toBe("ok");
    } finally {
      await cluster.close();
    }
    const c = await caller.promise;
    const h = await handler.promise;
    expect(c.stack).toEqual([...cluster.callIdStack, c.callId]);
    expect(h.stack).toEqual([...cluster.callIdStack, c.callId, h.callId]);
    expect(h.data).toEqual({ user_id: "u-42" });
    expect(h.payload).toEqual({ amount: 10 });
  });

  it("an event from the standalone dispatcher carries no context: the handler's stack is its own call id", async () => {
    const seen = deferred<Seen>();
    class Sink {
      name = "standalone_sink";
      @Worker() worker!: WorkerContext;
      @eventHandler("anyone", "ping")
      async onPing(payload: unknown) {
        seen.resolve(snapshot(this.worker, payload));
      }
    }
    await fx.start(Sink);
    await dispatch("anyone", "ping", "plain string payload");
    const s = await seen.promise;
    expect(s.stack).toEqual([s.callId]);
    expect(s.data).toEqual({});
    expect(s.payload).toBe("plain string payload");
  });
});
