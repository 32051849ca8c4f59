// RabbitMQ restarted under a running bridge while calls flow: the bridge
// recovers by itself, without being restarted; /ready answers 503 while RabbitMQ is away and 200
// once it is back; NATS callers get BridgeUnavailable at once meanwhile; events the NATS side
// publishes meanwhile reach Nameko once RabbitMQ is back; calls and events work both ways after.
//
// The shared broker on 5672 is never restarted (other tests use it): the test boots a RabbitMQ node
// of its own (test/helpers/private-servers.ts), restarts it gracefully (SIGTERM, as a service
// manager does) and then crashes it (kill -9); its data directory is kept, so durable queues and
// persistent messages survive, as on a real broker. The Nameko-side peers of the test do not
// reconnect by themselves (real Nameko does), so the test starts them again once RabbitMQ is back;
// the bridge is left alone. A last case kills the bridge while RabbitMQ is away and the bridge holds
// NATS events it could not hand over yet: they come back to the next bridge, none is lost.
import { PrivateRabbitMq } from "../../helpers/private-servers";
import { killAllChildren, type BridgeProcess } from "../../helpers/processes";
import { waitFor } from "../../helpers/waiters";
import { missing, ResilienceWorld, ROUND, roundTrip } from "./resilience-fixture";

jest.setTimeout(300_000);

describe("bridge resilience: RabbitMQ restarted under a running bridge", () => {
  let rabbit: PrivateRabbitMq;
  let world: ResilienceWorld;

  beforeAll(async () => {
    rabbit = await PrivateRabbitMq.start();
    world = await new ResilienceWorld({ amqpUri: rabbit.uri }).setup();
  }, 150_000);
  afterAll(async () => {
    await killAllChildren();
    await world?.cleanup();
    await rabbit?.destroy();
  }, 60_000);

  /** One outage of RabbitMQ (`down` stops it) while NATS callers keep calling; the bridge must come back by itself. */
  async function outage(
    bridge: BridgeProcess,
    label: string,
    base: number,
    down: () => Promise<void>,
  ): Promise<string> {
    const loop = world.natsCallLoop(8, base);
    await loop.waitOk(50);
    const stopAt = performance.now();
    await down();
    // The bridge notices by itself (connection closed) and says so.
    await bridge.waitReady(false, 30_000);
    const notReadyAt = performance.now();
    // The NATS side keeps publishing events for Nameko: they wait (in JetStream, or pulled by the bridge).
    const tocks = world.tockFlow({ total: ROUND, window: 16, base: base + 5_000 });
    await tocks.flow.run();
    // ...and NATS callers are told at once that the other side is away.
    await waitFor(() => loop.startedFrom(notReadyAt).filter((c) => c.kind === "error").length >= 20, {
      what: "NATS calls refused while RabbitMQ is down",
      timeoutMs: 30_000,
    });

    const restartAt = performance.now();
    await rabbit.restart();
    await world.startAmqpPeers();
    await bridge.waitReady(true, 60_000);
    const readyAt = performance.now();
    await loop.waitOk(50);
    await loop.stop();

    const during = loop.calls.filter((c) => c.startedAt >= notReadyAt && c.endedAt <= readyAt);
    const refused = during.filter(
      (c) => c.kind === "error" && /BridgeUnavailable/.test(c.detail ?? "") && c.endedAt - c.startedAt < 1_000,
    );
    const after = loop.startedFrom(readyAt);
    // While the bridge is not ready a call is refused at once with BridgeUnavailable (or already
    // served again, just before /ready was polled), never left to time out.
    expect(during.filter((c) => c.kind !== "ok" && !refused.includes(c))).toEqual([]);
    // Once /ready says so, every call goes through again.
    expect(after.filter((c) => c.kind !== "ok")).toEqual([]);
    expect(after.length).toBeGreaterThan(0);
    // What the NATS side published meanwhile reaches the Nameko handler.
    expect(tocks.failures).toEqual([]);
    await waitFor(() => missing(world.tocks(), ROUND, base + 5_000).length === 0, {
      what: "events published during the outage delivered",
      timeoutMs: 30_000,
    });
    const inFlightAtStop = loop.calls.filter((c) => c.startedAt < stopAt && c.endedAt > stopAt);
    const fateCounts = new Map<string, number>();
    for (const c of inFlightAtStop) {
      const fate = c.kind === "ok" ? "ok" : `${c.kind} (${c.detail ?? ""})`;
      fateCounts.set(fate, (fateCounts.get(fate) ?? 0) + 1);
    }
    const fates = [...fateCounts].map(([fate, n]) => `${n} ${fate}`).join(", ");
    return (
      `${label}: /ready 503 after the stop, 200 ${((readyAt - restartAt) / 1000).toFixed(1)} s after the restart began; ` +
      `NATS calls: ${loop.calls.filter((c) => c.endedAt <= stopAt && c.kind === "ok").length} ok before the stop, ${inFlightAtStop.length} in flight at it (${fates}), ` +
      `${refused.length} refused at once with BridgeUnavailable while not ready, ${after.length} ok after; ${ROUND} events published meanwhile delivered`
    );
  }

  it("recovers by itself from a graceful restart and from a crash of RabbitMQ", async () => {
    const bridge = await world.spawnBridge("resilience-rabbitmq");
    await bridge.waitReady(true, 60_000);
    await roundTrip(world, 0);

    const report: string[] = [];
    report.push(await outage(bridge, "RabbitMQ stopped (SIGTERM) and started again", 10_000, () => rabbit.stop()));
    await roundTrip(world, 20_000);
    report.push(await outage(bridge, "RabbitMQ killed (SIGKILL) and started again", 30_000, () => rabbit.kill()));
    await roundTrip(world, 40_000);
    console.log(
      `bridge across RabbitMQ restarts:\n  ${report.join("\n  ")}\n  warnings and errors the bridge logged: ${world.bridgeWarnings() || "none"}`,
    );

    // The same bridge process all along.
    expect(bridge.alive).toBe(true);
    expect(world.bridges).toHaveLength(1);
    expect(world.namekoViolations()).toEqual([]);
  });

  it("loses none of the NATS events a bridge held for an absent RabbitMQ when it is killed", async () => {
    await killAllChildren();
    if (!rabbit.running) {
      await rabbit.restart();
      await world.startAmqpPeers();
    }
    const first = await world.spawnBridge("resilience-rabbitmq-held");
    await first.waitReady(true, 60_000);
    await rabbit.stop();
    await first.waitReady(false, 30_000);
    // Published while RabbitMQ is away: the bridge pulls some and holds them, unacked, until it can
    // publish them with a confirm.
    const base = 50_000;
    const tocks = world.tockFlow({ total: 2 * ROUND, window: 16, base });
    await tocks.flow.run();
    const held = await waitFor(async () => (await world.bridgeEventsUnacked()) || undefined, {
      what: "the bridge holding NATS events",
      timeoutMs: 30_000,
      intervalMs: 50,
    });
    await first.kill("SIGKILL");

    await rabbit.restart();
    await world.startAmqpPeers();
    const second = await world.spawnBridge("resilience-rabbitmq-held-2");
    await second.waitReady(true, 60_000);
    // What the dead bridge held comes back after ack_wait, to the new bridge.
    await waitFor(() => missing(world.tocks(), 2 * ROUND, base).length === 0, {
      what: "every event published during the outage delivered",
      timeoutMs: 60_000,
      intervalMs: 50,
    });
    expect(tocks.failures).toEqual([]);
    const copies = [...world.tocks()].filter(([id, n]) => id >= base && id < base + 2 * ROUND && n > 1).length;
    console.log(
      `bridge killed while RabbitMQ was away: it held ${held} NATS events unacked; all ${2 * ROUND} delivered after the restarts, ${copies} of them twice`,
    );
    expect(copies).toBeLessThanOrEqual(held);
    await roundTrip(world, 60_000);
    expect(world.namekoViolations()).toEqual([]);
  });
});
