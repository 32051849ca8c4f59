// A service running on both sides during a migration (Nameko instance on RabbitMQ, runtime instance
// on NATS, bridge with --nats-service): every call, from either side, is executed exactly once.
import { rpc } from "cliffracer";
import type { Bridge } from "../../../bridge/bridge";
import { BridgeFixture } from "./bridge-fixture";

const CALLS = 1000;
const onNats: string[] = [];

class Dual {
  name = "dual";

  @rpc()
  work(id: string): string {
    onNats.push(id);
    return "nats";
  }
}

function counts(ids: string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const id of ids) m.set(id, (m.get(id) ?? 0) + 1);
  return m;
}

describe("bridge rpc: a service on both sides at once", () => {
  const fx = new BridgeFixture();
  const onAmqp: string[] = [];
  let bridge: Bridge;

  beforeAll(async () => {
    await fx.setup();
    await fx.peerService({
      name: "dual",
      maxWorkers: 20,
      methods: { work: (id: string) => (onAmqp.push(id), "amqp") },
    });
    await fx.nats.start(Dual, { maxWorkers: 50 });
    // Declared on both sides: NATS wins the RPC routes (the bridge consumes rpc-dual and leaves rpc.dual.* to the runtime).
    bridge = await fx.readyBridge({ natsServices: ["dual"], amqpServices: ["dual"] });
  });
  afterAll(() => fx.cleanup());

  it("routes AMQP callers to both implementations and NATS callers to the runtime only", () => {
    expect(bridge.status().rpcToNats).toEqual(["dual"]);
    expect(bridge.status().rpcToAmqp).toEqual([]);
  });

  it(`executes ${CALLS} calls from each side exactly once each`, async () => {
    const caller = await fx.peerCaller({ timeoutMs: 30_000 });
    const client = await fx.nats.client(30_000);
    const fromAmqp = Array.from({ length: CALLS }, (_, i) => `a-${i}`);
    const fromNats = Array.from({ length: CALLS }, (_, i) => `n-${i}`);
    const [amqpReplies, natsReplies] = await Promise.all([
      Promise.all(fromAmqp.map((id) => caller.call("dual", "work", [id]))),
      Promise.all(fromNats.map((id) => client.call("dual", "work", [id]))),
    ]);
    expect(amqpReplies).toHaveLength(CALLS);
    expect(new Set(natsReplies)).toEqual(new Set(["nats"]));

    const executedAmqpCalls = counts([...onAmqp, ...onNats].filter((id) => id.startsWith("a-")));
    expect(executedAmqpCalls.size).toBe(CALLS);
    expect([...executedAmqpCalls.values()].every((n) => n === 1)).toBe(true);
    const executedNatsCalls = counts(onNats.filter((id) => id.startsWith("n-")));
    expect(executedNatsCalls.size).toBe(CALLS);
    expect([...executedNatsCalls.values()].every((n) => n === 1)).toBe(true);
    expect(onAmqp.filter((id) => id.startsWith("n-"))).toEqual([]);
    // The two implementations really competed for the AMQP calls.
    expect(onAmqp.length).toBeGreaterThan(0);
    expect(onNats.filter((id) => id.startsWith("a-")).length).toBeGreaterThan(0);
    // And each reply came from the side that executed it.
    expect(amqpReplies.filter((r) => r === "amqp")).toHaveLength(onAmqp.length);
  });
});
