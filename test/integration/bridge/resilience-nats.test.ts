// nats-server restarted under a running bridge while calls flow: the bridge
// reconnects by itself, without being restarted; /ready answers 503 while NATS is away and 200 once
// it is back; Nameko callers' requests made meanwhile wait in RabbitMQ and are answered once NATS is
// back; events the Nameko side dispatches meanwhile reach the runtime handler once NATS is back;
// calls and events work both ways after.
//
// The shared nats-server on 4222 is never restarted (other tests use it): the test runs one of its
// own on a free port with its own JetStream store (test/helpers/private-servers.ts) and restarts it
// on the same port and store, first gracefully (SIGTERM), then after a crash (kill -9). The runtime
// service and the test's NATS clients reconnect by themselves, as the bridge must.
import { PrivateNatsServer } from "../../helpers/private-servers";
import { killAllChildren, type BridgeProcess } from "../../helpers/processes";
import { waitFor } from "../../helpers/waiters";
import { missing, NATS_SERVICE, ResilienceWorld, ROUND, roundTrip } from "./resilience-fixture";

jest.setTimeout(300_000);

/** Nameko calls made while NATS is away. */
const CALLS_DURING = 50;

describe("bridge resilience: nats-server restarted under a running bridge", () => {
  let nats: PrivateNatsServer;
  let world: ResilienceWorld;

  beforeAll(async () => {
    nats = await PrivateNatsServer.start();
    // Calls in flight when NATS goes away lose their reply: the bridge answers RpcTimeout after its
    // rpc_timeout, shortened here so the test does not wait for it long.
    world = await new ResilienceWorld({ natsUrl: nats.url, watchForwarded: false, bridgeRpcTimeoutSeconds: 5 }).setup();
  }, 60_000);
  afterAll(async () => {
    await killAllChildren();
    // cleanup() deletes the events stream, so the server must be up for it.
    if (!nats.running) await nats.restart().catch(() => undefined);
    await world?.cleanup();
    await nats?.destroy();
  }, 60_000);

  /** One outage of nats-server (`down` stops it) while Nameko callers keep calling; the bridge must come back by itself. */
  async function outage(
    bridge: BridgeProcess,
    label: string,
    base: number,
    down: () => Promise<void>,
  ): Promise<string> {
    const loop = world.amqpCallLoop(8, base);
    await loop.waitOk(50);
    const stopAt = performance.now();
    await down();
    await bridge.waitReady(false, 30_000);
    // The Nameko side keeps dispatching events and calling: both wait in RabbitMQ.
    const ticks = world.tickFlow({ total: ROUND, window: 16, base: base + 5_000 });
    const calls = world.amqpCallFlow({ total: CALLS_DURING, window: CALLS_DURING, base: base + 7_000 });
    const callsDone = calls.flow.run();
    await ticks.flow.run();
    await world.waitQueued(`rpc-${NATS_SERVICE}`, CALLS_DURING);
    const restartAt = performance.now();
    await nats.restart();
    await bridge.waitReady(true, 60_000);
    const readyAt = performance.now();
    await callsDone;
    await loop.waitOk(50);
    await loop.stop();

    // Made while NATS was away: queued in RabbitMQ, answered once it was back.
    const during = [...calls.results.values()];
    expect(during.filter((c) => c.kind !== "ok")).toEqual([]);
    expect(loop.startedFrom(readyAt).filter((c) => c.kind !== "ok")).toEqual([]);
    // What the Nameko side dispatched meanwhile reaches the runtime handler.
    expect(ticks.failures).toEqual([]);
    await waitFor(() => missing(world.ledger.ticks, ROUND, base + 5_000).length === 0, {
      what: "events dispatched during the outage delivered",
      timeoutMs: 60_000,
    });
    const inFlightAtStop = loop.calls.filter((c) => c.startedAt < stopAt && c.endedAt > stopAt);
    const fateCounts = new Map<string, number>();
    for (const c of inFlightAtStop) {
      const fate = c.kind === "ok" ? "ok" : `${c.kind} (${c.detail ?? ""})`;
      fateCounts.set(fate, (fateCounts.get(fate) ?? 0) + 1);
    }
    const fates = [...fateCounts].map(([fate, n]) => `${n} ${fate}`).join(", ");
    const slowest = Math.max(...during.map((c) => c.endedAt - c.startedAt));
    return (
      `${label}: /ready 503 after the stop, 200 ${((readyAt - restartAt) / 1000).toFixed(1)} s after the restart began; ` +
      `Nameko calls: ${loop.calls.filter((c) => c.endedAt <= stopAt && c.kind === "ok").length} ok before the stop, ${inFlightAtStop.length} in flight at it (${fates}), ` +
      `${during.length} made while NATS was away all answered after (slowest ${(slowest / 1000).toFixed(1)} s); ${ROUND} events dispatched meanwhile delivered`
    );
  }

  it("recovers by itself from a graceful restart and from a crash of nats-server", async () => {
    const bridge = await world.spawnBridge("resilience-nats");
    await bridge.waitReady(true, 60_000);
    await roundTrip(world, 0);

    const report: string[] = [];
    report.push(await outage(bridge, "nats-server stopped (SIGTERM) and started again", 10_000, () => nats.stop()));
    await roundTrip(world, 20_000);
    report.push(await outage(bridge, "nats-server killed (SIGKILL) and started again", 30_000, () => nats.kill()));
    await roundTrip(world, 40_000);
    console.log(
      `bridge across nats-server restarts:\n  ${report.join("\n  ")}\n  warnings and errors the bridge logged: ${world.bridgeWarnings() || "none"}`,
    );

    // The same bridge process all along.
    expect(bridge.alive).toBe(true);
    expect(world.bridges).toHaveLength(1);
    expect(world.namekoViolations()).toEqual([]);
  });
});
