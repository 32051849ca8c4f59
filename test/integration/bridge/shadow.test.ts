// Shadow traffic (docs/shadow.md) against real brokers: the independent Nameko peer serves `orders`
// on RabbitMQ (calling `stock` and dispatching `orders.placed`), a TypeScript port of it runs on NATS
// under a private prefix and differs on one method; the bridge shadows 500 live calls to the port.
import { ManagementApi } from "../../../amqp";
import { EventDispatcher, rpc, RpcProxy, type Dispatch, type ServiceProxy } from "cliffracer";
import { createBridge, type Bridge } from "../../../bridge/bridge";
import type { ShadowReport } from "../../../sidebyside/shadow";
import { EventsFixture } from "../../helpers/jetstream";
import { waitFor } from "../../helpers/waiters";
import {
  PeerDispatcher,
  startPeerHandler,
  type PeerHandler,
  type PeerService,
  type PeerWorker,
} from "../../interop/nameko-peer";
import { BridgeFixture, ensureManagementApi, MANAGEMENT_URL } from "./bridge-fixture";

const CALLS = 500;
const CALLERS = 5;
const METHODS = ["place", "total", "label"] as const;

/** The port: `place` and `total` as the original, `label` not. */
class Orders {
  name = "orders";
  @RpcProxy("stock") stock!: ServiceProxy;
  @EventDispatcher() dispatch!: Dispatch;

  @rpc()
  async place(n: number): Promise<{ n: number; reserved: number }> {
    const reserved = (await this.stock.reserve(n)) as number;
    await this.dispatch("placed", { n });
    return { n, reserved };
  }

  @rpc()
  total(n: number): number {
    return n * 2;
  }

  @rpc()
  label(n: number): string {
    return `ts-${n}`;
  }
}

interface Binding {
  source: string;
  destination: string;
  routing_key: string;
}

const isShadowStack = (stack: readonly string[]): boolean => stack.some((id) => id.startsWith("cliffracer_shadow."));

describe("bridge --shadow", () => {
  const fx = new BridgeFixture();
  const port = new EventsFixture();
  let bridge: Bridge;
  let stock: PeerService;
  let audit: PeerHandler;
  let dispatcher: PeerDispatcher;
  const api = new ManagementApi(MANAGEMENT_URL);

  beforeAll(async () => {
    await ensureManagementApi();
    await fx.setup();
    dispatcher = await PeerDispatcher.start(fx.vhost.uri);
    stock = await fx.peerService({ name: "stock", methods: { reserve: { params: ["n"], fn: (n: number) => n % 7 } } });
    await fx.peerService({
      name: "orders",
      maxWorkers: 50,
      methods: {
        place: {
          params: ["n"],
          async fn(this: PeerWorker, n: number) {
            const reserved = await this.call("stock", "reserve", [n]);
            await dispatcher.dispatch("orders", "placed", { n }, { service: { callIdStack: this.callIdStack } });
            return { n, reserved };
          },
        },
        total: { params: ["n"], fn: (n: number) => n * 2 },
        label: { params: ["n"], fn: (n: number) => `py-${n}` },
      },
    });
    audit = await startPeerHandler({
      uri: fx.vhost.uri,
      source: "orders",
      eventType: "placed",
      service: "audit",
      method: "on_placed",
    });
    await port.start(Orders);
    const config = fx.config({ discovery: { enabled: false } });
    config.shadow = {
      service: "orders",
      prefix: port.prefix,
      rate: 1,
      timeoutMs: 1_000,
      settleMs: 100,
      keep: 5,
      maxInFlight: 1_000,
      ignore: [],
    };
    bridge = createBridge(config, { log: fx.log });
    await bridge.start();
    await waitFor(() => bridge.shadowReport()?.running, { what: "the shadow to read the firehose", timeoutMs: 10_000 });
  }, 30_000);

  afterAll(async () => {
    await bridge?.stop();
    await audit?.stop();
    await dispatcher?.close();
    await port.cleanup();
    await fx.cleanup();
  });

  it("names exactly the method that differs; callers, dependencies and handlers see only the original", async () => {
    const callers = await Promise.all(Array.from({ length: CALLERS }, () => fx.peerCaller()));
    const replies = await Promise.all(
      Array.from({ length: CALLS }, (_, i) =>
        callers[i % CALLERS]!.call("orders", METHODS[i % METHODS.length]!, [i]).then((r) => [i, r] as const),
      ),
    );
    // Every caller got the original's reply, including the one value only the original produces.
    for (const [i, reply] of replies) {
      const method = METHODS[i % METHODS.length];
      expect(reply).toEqual(method === "place" ? { n: i, reserved: i % 7 } : method === "total" ? i * 2 : `py-${i}`);
    }
    const per = (m: string): number => replies.filter(([i]) => METHODS[i % METHODS.length] === m).length;

    const report = await waitFor(
      () => {
        const r = bridge.shadowReport()!;
        const done = Object.values(r.methods).reduce((n, m) => n + m.compared + m.failed + m.skipped, 0);
        return done === CALLS ? r : undefined;
      },
      { what: "every call to be compared", timeoutMs: 15_000 },
    );
    // The same report over the ops port.
    const served = (await (await fetch(`${bridge.opsUrl}/shadow`)).json()) as ShadowReport;
    expect(served.methods).toEqual(JSON.parse(JSON.stringify(report.methods)));
    expect(report).toMatchObject({ service: "orders", prefix: port.prefix, running: true, failures: {} });
    expect(Object.keys(report.methods).sort()).toEqual(["label", "place", "total"]);
    for (const m of ["place", "total"])
      expect(report.methods[m]).toMatchObject({
        seen: per(m),
        compared: per(m),
        matched: per(m),
        mismatched: 0,
        failed: 0,
        skipped: 0,
        inFlight: 0,
        lastMismatches: [],
      });
    const label = report.methods.label!;
    expect(label).toMatchObject({ seen: per("label"), compared: per("label"), matched: 0, mismatched: per("label") });
    expect(label.lastMismatches).toHaveLength(5);
    for (const mismatch of label.lastMismatches) {
      const n = Number(/label\((\d+)\)/.exec(mismatch.call)?.[1]);
      expect(mismatch.text).toEqual([`reply.result: expected "py-${n}", got "ts-${n}"`]);
      expect(mismatch.differences).toEqual([
        { path: "reply.result", kind: "changed", expected: `py-${n}`, got: `ts-${n}` },
      ]);
    }

    // The port's calls were answered by the stubs: the real stock served only the original's.
    expect(stock.deliveries).toHaveLength(per("place"));
    expect(stock.deliveries.filter((d) => isShadowStack(d.context.parentStack))).toEqual([]);
    // The port's events reached no real handler: it saw each of the original's once.
    const events = await audit.waitFor(per("place"), 10_000);
    expect(events).toHaveLength(per("place"));
    expect(events.filter((e) => isShadowStack(e.context.parentStack))).toEqual([]);

    const metrics = await (await fetch(`${bridge.opsUrl}/metrics`)).text();
    expect(metrics).toMatch(
      new RegExp(
        `cliffracer_shadow_calls_total\\{[^}]*method="label"[^}]*outcome="mismatched"[^}]*\\} ${per("label")}`,
      ),
    );
    expect(metrics).toMatch(
      new RegExp(`cliffracer_shadow_calls_total\\{[^}]*method="place"[^}]*outcome="matched"[^}]*\\} ${per("place")}`),
    );
  }, 30_000);

  it("reads the firehose through a bounded private queue and adds no binding that catches requests", async () => {
    const vhost = encodeURIComponent(fx.vhost.name);
    expect((await api.vhost(fx.vhost.name)).tracing).toBe(true);
    const bindings = await api.getJson<Binding[]>(`/api/bindings/${vhost}`);
    const patterns = bindings.filter((b) => b.source === "nameko-rpc" && /[*#]/.test(b.routing_key));
    expect(patterns.map((b) => `${b.routing_key} -> ${b.destination}`).sort()).toEqual([
      "orders.* -> rpc-orders",
      "stock.* -> rpc-stock",
    ]);
    const traced = bindings.filter((b) => b.source === "amq.rabbitmq.trace");
    expect(traced.map((b) => b.routing_key).sort()).toEqual(["publish.*.events", "publish.nameko-rpc"]);
    const queue = await api.getJson<{ arguments: Record<string, unknown> }>(
      `/api/queues/${vhost}/${encodeURIComponent(traced[0]!.destination)}`,
    );
    expect(queue.arguments).toMatchObject({ "x-max-length": 100_000, "x-overflow": "drop-head" });
  });

  it("a port that is down fails only the shadow: callers are answered, the timeouts counted", async () => {
    await port.cleanup();
    const before = bridge.shadowReport()!.methods.total!;
    const caller = await fx.peerCaller();
    const got = await Promise.all(Array.from({ length: 20 }, (_, i) => caller.call("orders", "total", [i])));
    expect(got).toEqual(Array.from({ length: 20 }, (_, i) => i * 2));
    const after = await waitFor(
      () => {
        const m = bridge.shadowReport()!.methods.total!;
        return m.failed - before.failed === 20 ? m : undefined;
      },
      { what: "the shadow failures to be counted", timeoutMs: 10_000 },
    );
    expect(after).toMatchObject({ seen: before.seen + 20, compared: before.compared, inFlight: 0 });
    // The stubs' wildcard subscription under the prefix also gets (and leaves) requests to the port itself,
    // so NATS never says "no responders": a port that is down shows as timeouts.
    expect(after.lastFailure).toMatch(/^orders\.total\(\d+\): RpcTimeout/);
    expect(bridge.shadowReport()!.failures.timeout).toBe(20);
  });

  it("stopping the bridge switches the firehose off again", async () => {
    await bridge.stop();
    expect((await api.vhost(fx.vhost.name)).tracing).toBe(false);
  });
});
