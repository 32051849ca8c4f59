// `record --side nats`: a service on NATS recorded from plain subscriptions, routing unchanged.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ClusterRpcProxy,
  EventDispatcher,
  kwargs,
  rpc,
  RpcProxy,
  UnknownService,
  type Dispatch,
  type ServiceProxy,
} from "cliffracer";
import { MASK, parseCassette, type RecordedCall, type RecordedEvent } from "../../../compat";
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
});
