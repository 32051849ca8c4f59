// Cutting a Nameko service over to its port by weight (docs/routing.md): Nameko callers on the
// callers' vhost and NATS callers keep calling `orders` as before, while the bridge sends each call to
// the original (an independent Nameko-protocol peer on a vhost of its own) or to the port (a runtime
// service serving under a private NATS_RPC_INTAKE_PREFIX), as the route table says. Every call runs
// exactly once, on the side the table and the request's identity choose, and every caller is answered.
import { rpc } from "cliffracer";
import type { Bridge } from "../../../bridge/bridge";
import { chooseSide } from "../../../bridge/routing/route-table";
import { BridgeFixture } from "./bridge-fixture";

/** Calls per caller and step: 400 from the Nameko caller and 400 from the NATS caller. */
const CALLS_PER_CALLER = 400;
/**
 * The weights a cut-over moves through; the last step rolls back in one command to the table the
 * cut-over started from (`POST /routes/orders/rollback {"revision": N}`, what `cliffracer route
 * orders --rollback --to N` sends), so the original has every call again.
 */
const STEPS: Array<{ weight: number; rollback?: boolean }> = [
  { weight: 0 },
  { weight: 10 },
  { weight: 50 },
  { weight: 100 },
  { weight: 0, rollback: true },
];
/**
 * The port's share of a step's n calls is binomial(n, w/100) if the identity hash spreads evenly:
 * it must lie within 4 standard deviations of n·w/100 (a false alarm about once in 16,000 runs), and
 * be exact at 0% and 100%.
 */
const SIGMAS = 4;

const onPort: string[] = [];

class Orders {
  name = "orders";

  @rpc()
  work(id: string): string {
    onPort.push(id);
    return "port";
  }
}

/** What the ops port answers about a service's table. */
interface RoutesAnswer {
  routes: Record<string, number>;
  revision: number | null;
}

function counts(ids: string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const id of ids) m.set(id, (m.get(id) ?? 0) + 1);
  return m;
}

describe("routing by weight: a Nameko service cut over to its port", () => {
  const fx = new BridgeFixture();
  const onOriginal: string[] = [];
  let bridge: Bridge;

  beforeAll(async () => {
    await fx.setup();
    const original = await fx.otherVhost();
    await fx.peerService({
      uri: original.uri,
      name: "orders",
      maxWorkers: 20,
      methods: { work: (id: string) => (onOriginal.push(id), "original") },
    });
    await fx.nats.start(Orders, { maxWorkers: 50, rpcIntakePrefix: fx.portPrefix });
    bridge = await fx.readyBridge({ routing: { orders: { originalAmqpUri: original.uri } }, rpcTimeoutMs: 30_000 });
  }, 30_000);
  afterAll(() => fx.cleanup());

  async function ops(method: string, path: string, body: unknown): Promise<RoutesAnswer> {
    const response = await fetch(`${bridge.opsUrl!}${path}`, {
      method,
      body: JSON.stringify(body),
      headers: { "content-type": "application/json" },
    });
    expect(response.status).toBe(200);
    return (await response.json()) as RoutesAnswer;
  }

  it("serves the routed service on both intakes and nowhere else", () => {
    const status = bridge.status();
    expect(status.routed).toEqual(["orders"]);
    expect(status.rpcToNats).toEqual([]);
    expect(status.rpcToAmqp).toEqual([]);
  });

  it("runs 2,000 Nameko and 2,000 NATS calls exactly once each while the weight moves 0 -> 10 -> 50 -> 100 -> rollback", async () => {
    const caller = await fx.peerCaller({ timeoutMs: 30_000 });
    const client = await fx.nats.client(30_000);
    const steps: Array<{ weight: number; sent: string[] }> = [];
    const replies = new Map<string, string>();
    let startRevision: number | null = null;
    for (const [s, step] of STEPS.entries()) {
      // Through the bridge's ops port, as `cliffracer route` does; each answer comes once the new
      // table is in force on this bridge.
      const answer: RoutesAnswer = step.rollback
        ? await ops("POST", "/routes/orders/rollback", { revision: startRevision })
        : await ops("PUT", "/routes/orders", { "*": step.weight });
      expect(answer.routes).toEqual({ "*": step.weight });
      if (s === 0) startRevision = answer.revision;
      const table = bridge.routes("orders");
      expect(table.defaultWeight).toBe(step.weight);
      const fromAmqp = Array.from({ length: CALLS_PER_CALLER }, (_, i) => `s${s}-a-${i}`);
      const fromNats = Array.from({ length: CALLS_PER_CALLER }, (_, i) => `s${s}-n-${i}`);
      // All of a step's calls are in flight together, from both callers.
      await Promise.all([
        ...fromAmqp.map(async (id) => {
          const reply = await caller.send("orders.work", JSON.stringify({ args: [id], kwargs: {} }));
          const body = JSON.parse(reply.content.toString("utf8")) as { result: string; error: unknown };
          expect(body.error).toBeNull();
          replies.set(id, body.result);
          // The side is a function of the request's identity (reply_to:correlation_id) and the table.
          const identity = `${caller.uuid}:${String(reply.properties.correlationId)}`;
          expect(body.result).toBe(chooseSide(table, "work", identity));
        }),
        ...fromNats.map(async (id) => replies.set(id, (await client.call("orders", "work", [id])) as string)),
      ]);
      steps.push({ weight: step.weight, sent: [...fromAmqp, ...fromNats] });
    }

    // Every caller answered, every call executed exactly once, on the side that answered it.
    const all = steps.flatMap((st) => st.sent);
    expect(replies.size).toBe(all.length);
    const executed = counts([...onOriginal, ...onPort]);
    expect(executed.size).toBe(all.length);
    expect([...executed.values()].filter((n) => n !== 1)).toEqual([]);
    const portRan = new Set(onPort);
    for (const id of all) expect(replies.get(id)).toBe(portRan.has(id) ? "port" : "original");

    // The port's share per step, for each caller and both together.
    for (const { weight, sent } of steps) {
      for (const group of [sent, sent.filter((id) => id.includes("-a-")), sent.filter((id) => id.includes("-n-"))]) {
        const n = group.length;
        const p = weight / 100;
        const k = group.filter((id) => portRan.has(id)).length;
        const tolerance = SIGMAS * Math.sqrt(n * p * (1 - p));
        expect({ weight, n, k, within: Math.abs(k - n * p) <= tolerance }).toEqual({ weight, n, k, within: true });
      }
    }

    // What a dashboard reads while the weights move.
    const metrics = await bridge.registry.metrics();
    const calls = (side: string): number =>
      Number(
        new RegExp(
          `^cliffracer_route_calls_total\\{service="orders",method="work",side="${side}"[^}]*\\} (\\d+)$`,
          "m",
        ).exec(metrics)?.[1],
      );
    expect(calls("port")).toBe(onPort.length);
    expect(calls("original")).toBe(onOriginal.length);
    expect(metrics).toMatch(/cliffracer_route_duration_seconds_count\{service="orders",method="work",side="port"/);
  }, 55_000);
});
