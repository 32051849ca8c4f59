// Two bridges share the work (competing consumers on rpc-<name>, one NATS queue group), and when one
// dies mid-flow the other carries on: every AMQP call is answered (requests the dead bridge held
// are redelivered, and answered CallOutcomeUnknown when it had handed them over: at most once,
// docs/at-most-once.md), NATS calls it held end in the caller's timeout, and nothing else is lost.
import { rpc, RpcTimeout } from "cliffracer";
import { PeerRemoteError } from "../../interop/nameko-peer";
import type { Bridge } from "../../../bridge/bridge";
import { waitFor } from "../../helpers/waiters";
import { BridgeFixture } from "./bridge-fixture";

const CALLS = 400;
/** Calls kept in flight per side: a steady flow rather than one burst. */
const IN_FLIGHT = 16;

/** Runs `n` calls, `concurrency` at a time; resolves with the results in call order. */
async function flow<T>(n: number, concurrency: number, call: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array<T>(n);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < n) {
      const i = next++;
      results[i] = await call(i);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  return results;
}
const executedOnNats: string[] = [];

class Calc {
  name = "calc";

  @rpc()
  async echo(id: string): Promise<string> {
    executedOnNats.push(id);
    await new Promise((r) => setImmediate(r));
    return id;
  }
}

async function metricSum(bridge: Bridge, name: string, direction: string): Promise<number> {
  const text = await bridge.registry.metrics();
  return text
    .split("\n")
    .filter((l) => l.startsWith(`${name}{`) && l.includes(`direction="${direction}"`))
    .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(" ") + 1)), 0);
}

function callsCarried(bridge: Bridge, direction: string): Promise<number> {
  return metricSum(bridge, "cliffracer_bridge_rpc_total", direction);
}

describe("bridge rpc: two bridges, one killed mid-flow", () => {
  const fx = new BridgeFixture();
  const executedOnAmqp: string[] = [];
  let b1: Bridge;
  let b2: Bridge;

  beforeAll(async () => {
    await fx.setup();
    await fx.nats.start(Calc, { maxWorkers: 50 });
    await fx.peerService({
      name: "legacy",
      maxWorkers: 50,
      methods: { echo: (id: string) => (executedOnAmqp.push(id), id) },
    });
    const spec = { natsServices: ["calc"], amqpServices: ["legacy"], prefetch: 32 };
    b1 = await fx.readyBridge({ ...spec, name: "b1" });
    b2 = await fx.readyBridge({ ...spec, name: "b2" });
  });
  afterAll(() => fx.cleanup());

  it("answers every AMQP call and loses no NATS call except those the dead bridge held", async () => {
    const caller = await fx.peerCaller({ timeoutMs: 30_000 });
    const client = await fx.nats.client(5_000);
    let answered = 0;
    const fromAmqp = flow(CALLS, IN_FLIGHT, async (i) => {
      const r = await caller.call("calc", "echo", [`a-${i}`]).then(
        (ok) => ({ ok }),
        (err: unknown) => ({ err }),
      );
      answered++;
      return r;
    });
    const fromNats = flow(CALLS, IN_FLIGHT, async (i) => {
      const r = await client.call("legacy", "echo", [`n-${i}`]).then(
        (ok) => ({ ok }),
        (err: unknown) => ({ err }),
      );
      answered++;
      return r;
    });

    await waitFor(() => answered >= CALLS, { what: "half of the calls answered", timeoutMs: 30_000, intervalMs: 2 });
    const [b1Amqp, b1Nats] = [await callsCarried(b1, "amqp_to_nats"), await callsCarried(b1, "nats_to_amqp")];
    await b1.kill();

    const amqp = await fromAmqp;
    const nats = await fromNats;
    const failed = nats.filter((r): r is { err: unknown } => "err" in r);
    // Only calls the dead bridge had taken can fail (at most the calls in flight), by the caller's timeout.
    for (const f of failed) expect(f.err).toBeInstanceOf(RpcTimeout);
    expect(failed.length).toBeLessThanOrEqual(IN_FLIGHT);
    // Every answered NATS call ran on RabbitMQ.
    const ranOnAmqp = new Set(executedOnAmqp);
    nats.forEach((r, i) => {
      if ("ok" in r)
        expect({ id: `n-${i}`, ran: ranOnAmqp.has(`n-${i}`), reply: r.ok }).toEqual({
          id: `n-${i}`,
          ran: true,
          reply: `n-${i}`,
        });
    });

    // No AMQP call ran twice. Each got its reply, or (only requests b1 had handed over when it
    // died, at most the calls in flight) CallOutcomeUnknown from b2, which counted the redelivery.
    const runs = new Map<string, number>();
    for (const id of executedOnNats) runs.set(id, (runs.get(id) ?? 0) + 1);
    expect([...runs].filter(([, n]) => n > 1)).toEqual([]);
    const unknown: string[] = [];
    amqp.forEach((r, i) => {
      if ("ok" in r)
        expect({ id: `a-${i}`, reply: r.ok, ran: runs.get(`a-${i}`) }).toEqual({
          id: `a-${i}`,
          reply: `a-${i}`,
          ran: 1,
        });
      else {
        expect(r.err).toBeInstanceOf(PeerRemoteError);
        expect((r.err as PeerRemoteError).excType).toBe("CallOutcomeUnknown");
        unknown.push(`a-${i}`);
      }
    });
    expect(unknown.length).toBeLessThanOrEqual(IN_FLIGHT);
    expect(await metricSum(b2, "cliffracer_bridge_rpc_redeliveries_total", "amqp_to_nats")).toBeGreaterThanOrEqual(
      unknown.length,
    );

    // Both bridges had carried calls both ways before the kill; b2 carried the rest.
    expect({ b1Amqp: b1Amqp > 0, b1Nats: b1Nats > 0 }).toEqual({ b1Amqp: true, b1Nats: true });
    expect(await callsCarried(b2, "amqp_to_nats")).toBeGreaterThan(0);
    expect(await client.call("legacy", "echo", ["after"])).toBe("after");
    expect(await caller.call("calc", "echo", ["after"])).toBe("after");
  });
});
