// `record --side nats`: a service on NATS recorded from plain subscriptions, routing unchanged.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ClusterRpcProxy,
  EventDispatcher,
  eventHandler,
  kwargs,
  rpc,
  RpcProxy,
  UnknownService,
  type Dispatch,
  type ServiceProxy,
} from "cliffracer";
import { MASK, parseCassette, type HandledEvent, type RecordedCall, type RecordedEvent } from "../../../compat";
import { record } from "../../../sidebyside";
import { NATS_URL, testLogger } from "../../helpers/brokers";
import { EventsFixture } from "../../helpers/jetstream";
import { deferred, withTimeout } from "../../helpers/waiters";

const CALLS = 40;
const EVENTS = 10;

class Stock {
  name = "stock";

  @rpc()
  reserve(n: number): number {
    return n % 7;
  }
}

class Orders {
  name = "orders";
  @RpcProxy("stock") stock!: ServiceProxy;
  @EventDispatcher() dispatch!: Dispatch;

  @rpc()
  async place(n: number, card: string): Promise<{ n: number; reserved: unknown; cardLength: number }> {
    const reserved = await this.stock.reserve(n);
    await this.dispatch("placed", { n });
    return { n, reserved, cardLength: card.length };
  }
}

/** Handles orders.placed: a call to stock and an event of its own, from the handler's worker. */
class Shipping {
  name = "shipping";
  @RpcProxy("stock") stock!: ServiceProxy;
  @EventDispatcher() dispatch!: Dispatch;

  @eventHandler("orders", "placed")
  async onPlaced(payload: { n: number }): Promise<void> {
    const reserved = await this.stock.reserve(payload.n);
    await this.dispatch("shipped", { n: payload.n, reserved });
  }
}

describe("cliffracer record (NATS)", () => {
  let dir: string;
  const fx = new EventsFixture();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "cliff-record-nats-"));
    await fx.start(Stock);
    await fx.start(Orders);
  });
  afterAll(async () => {
    await fx.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it("records calls with their nested calls and events, and an unknown service stays unknown", async () => {
    const out = join(dir, "orders.jsonl");
    const listening = deferred();
    const recording = record({
      side: "nats",
      services: ["orders", "stock"],
      out,
      amqpUri: "",
      natsUrl: NATS_URL,
      natsPrefix: fx.prefix,
      max: CALLS + EVENTS,
      seconds: 30,
      masks: { "orders.place": ["card"] },
      onListening: () => listening.resolve(),
      log: testLogger(),
    });
    await withTimeout(listening.promise, 10_000, "the recording to start");

    const dispatch = await fx.dispatcher();
    const cluster = await ClusterRpcProxy.connect({ natsUrl: NATS_URL, prefix: fx.prefix, timeoutMs: 10_000 });
    try {
      await Promise.all(
        Array.from({ length: CALLS }, (_, n) => cluster.service("orders").place(n, kwargs({ card: `4111-${n}` }))),
      );
      await expect(cluster.service("ghost_service").anything()).rejects.toBeInstanceOf(UnknownService);
      for (let i = 0; i < EVENTS; i++) await dispatch("orders", "tick", { i });
    } finally {
      await cluster.close();
    }

    const summary = await withTimeout(recording, 20_000, "the recording to end");
    expect(summary).toMatchObject({ calls: CALLS, events: EVENTS, endedBy: "max", skipped: 0 });
    const cassette = parseCassette(readFileSync(out, "utf8"));
    expect(cassette.problems).toEqual([]);
    const calls = cassette.entries.filter((e): e is RecordedCall => e.kind === "call");
    const events = cassette.entries.filter((e): e is RecordedEvent => e.kind === "event");
    expect(events).toHaveLength(EVENTS);
    expect(calls.map((c) => c.args[0]).sort((a, b) => Number(a) - Number(b))).toEqual(
      Array.from({ length: CALLS }, (_, n) => n),
    );
    for (const call of calls) {
      const n = call.args[0] as number;
      expect(call.kwargs).toEqual({ card: MASK });
      expect(call.reply).toEqual({
        result: { n, reserved: n % 7, cardLength: `4111-${n}`.length },
        error: null,
      });
      expect(call.calls).toMatchObject([{ service: "stock", method: "reserve", args: [n], reply: { result: n % 7 } }]);
      expect(call.events).toMatchObject([{ source: "orders", type: "placed", payload: { n } }]);
    }
  });

  it("records events a service handles, found by its handlers' consumers, with its handler's call and event", async () => {
    await fx.start(Shipping);
    const out = join(dir, "shipping.jsonl");
    const listening = deferred();
    const recording = record({
      side: "nats",
      services: ["shipping", "stock"],
      out,
      amqpUri: "",
      natsUrl: NATS_URL,
      natsPrefix: fx.prefix,
      max: EVENTS,
      seconds: 20,
      onListening: () => listening.resolve(),
      log: testLogger(),
    });
    await withTimeout(listening.promise, 10_000, "the recording to start");
    const dispatch = await fx.dispatcher();
    for (let n = 0; n < EVENTS; n++) await dispatch("orders", "placed", { n });
    const summary = await withTimeout(recording, 20_000, "the recording to end");
    expect(summary).toMatchObject({ handled: EVENTS, calls: 0, endedBy: "max" });
    const cassette = parseCassette(readFileSync(out, "utf8"));
    expect(cassette.problems).toEqual([]);
    const handled = cassette.entries as HandledEvent[];
    expect(handled.map((h) => (h.payload as { n: number }).n).sort((a, b) => a - b)).toEqual(
      Array.from({ length: EVENTS }, (_, n) => n),
    );
    for (const h of handled) {
      const n = (h.payload as { n: number }).n;
      expect(h).toMatchObject({
        kind: "handled",
        service: "shipping",
        handler: "onPlaced",
        source: "orders",
        type: "placed",
        workerCallId: expect.stringMatching(/^shipping\.onPlaced\./),
        calls: [{ service: "stock", method: "reserve", args: [n], reply: { result: n % 7, error: null } }],
        events: [{ source: "shipping", type: "shipped", payload: { n, reserved: n % 7 } }],
      });
    }
  });
});
