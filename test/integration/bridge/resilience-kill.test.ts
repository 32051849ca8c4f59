// `kill -9` of a bridge process while 1,000 events and 1,000 calls flow each way: (1) the only bridge, then a
// restart; (2) one of two bridges, the other carrying on. The bridges are `node bin/cliffracer.js bridge
// --config ...` child processes; everything else (the runtime service, the independent Nameko peer, callers
// and publishers) runs in this process and records every execution and every delivery
// (resilience-fixture.ts). The two cases share a file so they never load the machine at the same time.
//
// Each flow issues its first half, then waits; the bridge is killed once every flow has had items
// through the bridge and calls of both directions are being executed behind it, so all four are
// under way (calls in flight, events queued behind the bridge's prefetch); then every flow issues
// its second half.
//
// "Executed twice by the bridge's fault", precisely:
// - NATS -> AMQP: core NATS never redelivers and the bridge never retries, so each call reaches the
//   Nameko service at most once, killed bridge or not. A call whose request died with the killed
//   bridge gets the caller's timeout (its reply, if it was executed, died with it too).
// - AMQP -> NATS: RabbitMQ gives a request the killed bridge had not acked to the next consumer,
//   as it does for a killed Nameko service. The bridges record every request they hand over to
//   NATS in a KV bucket they share (docs/at-most-once.md), so a redelivered request that was handed
//   over is not forwarded again: its caller gets the recorded reply, or CallOutcomeUnknown. So no
//   call runs twice, and every caller gets its reply or CallOutcomeUnknown. A plain NATS subscriber
//   sees every forwarded request with its reply subject, whose inbox names the bridge connection,
//   so this is checked per call, without timing assumptions.
import type { BridgeProcess } from "../../helpers/processes";
import { killAllChildren } from "../../helpers/processes";
import { waitFor, withTimeout } from "../../helpers/waiters";
import { duplicates, metricValue, missing, ResilienceWorld, tally } from "./resilience-fixture";

jest.setTimeout(360_000);

const TOTAL = 1000;
const HALF = TOTAL / 2;
/** Calls in flight per direction. */
const CALL_WINDOW = 32;
/** Dispatches/publishes in flight per direction (they queue up behind the bridge). */
const EVENT_WINDOW = 64;
/** Items of every flow through the bridge before the kill. */
const MIN_DONE_BEFORE_KILL = 50;
/** Calls of each direction the bridge carried and still waits to answer when it is killed. */
const MIN_EXECUTING_AT_KILL = CALL_WINDOW / 4;
/** Milliseconds each call executes, so that most calls in flight are past the bridge, not in it. */
const WORK_MS = 20;
/** The bridge's defaults: unacked AMQP events it holds, JetStream events it pulls at once. */
const EVENT_PREFETCH = 128;

/** How the world goes on after the kill. */
interface KillPlan {
  victim: BridgeProcess;
  /** Consecutive probes that must avoid a dead subscription (see waitNatsRouteClean). */
  probes: number;
  /** Returns the bridge that carries on (a restarted one, or the survivor), ready. */
  afterKill(): Promise<BridgeProcess>;
}

/** Runs the four flows, kills the victim under load, lets the flows finish, checks and reports. */
async function killUnderLoad(
  world: ResilienceWorld,
  label: string,
  plan: KillPlan,
): Promise<{
  carrier: BridgeProcess;
  noResponderRetries: number;
  forwardedPerBridge: number[];
  publishedPerBridge: number[];
}> {
  const amqpCalls = world.amqpCallFlow({ total: TOTAL, window: CALL_WINDOW, pauseAt: HALF });
  const natsCalls = world.natsCallFlow({ total: TOTAL, window: CALL_WINDOW, pauseAt: HALF });
  const ticks = world.tickFlow({ total: TOTAL, window: EVENT_WINDOW, pauseAt: HALF });
  const tocks = world.tockFlow({ total: TOTAL, window: EVENT_WINDOW, pauseAt: HALF });
  const flows = [amqpCalls.flow, natsCalls.flow, ticks.flow, tocks.flow];
  const done = (): number[] => [
    amqpCalls.results.size,
    natsCalls.results.size,
    world.ledger.ticks.size,
    world.tocks().size,
  ];
  const running = Promise.all(flows.map((f) => f.run()));

  // Calls the bridge carried and whose reply has not come back yet: being executed right now.
  const executing = (): number[] => [
    world.forwardedCount - amqpCalls.results.size,
    world.legacyDeliveries().length - natsCalls.results.size,
  ];
  await waitFor(
    () => Math.min(...done()) >= MIN_DONE_BEFORE_KILL && Math.min(...executing()) >= MIN_EXECUTING_AT_KILL,
    {
      timeoutMs: 90_000,
      what: "every flow under way",
      intervalMs: 1,
    },
  ).catch((err: unknown) => {
    throw new Error(`${String(err)}; done per flow: ${done().join(", ")}; calls executing: ${executing().join(", ")}`);
  });
  const executingAtKill = executing();
  // New NATS calls wait until no request can reach the dead bridge's subscription, so every call
  // lost with the bridge was in its hands at the kill.
  natsCalls.flow.pause();
  const doneAtKill = done();
  const inFlight = flows.map((f, i) => f.issued - doneAtKill[i]);
  const killedAt = performance.now();
  const exit = await plan.victim.kill("SIGKILL");
  expect(exit.signal).toBe("SIGKILL");
  // JetStream keeps what the dead bridge pulled as unacked until ack_wait; RabbitMQ requeues at once.
  const heldByTheDead = await world.bridgeEventsUnacked();
  await world.waitNatsRouteClean(plan.probes);
  for (const f of flows) f.resume();

  const carrier = await plan.afterKill();
  await withTimeout(running, 120_000, "every call settled and every event sent");
  await waitFor(() => world.ledger.ticks.size === TOTAL && world.tocks().size === TOTAL, {
    timeoutMs: 60_000,
    intervalMs: 50,
    what: "every event delivered",
  }).catch((err: unknown) => {
    throw new Error(
      `${String(err)}; missing ticks ${missing(world.ledger.ticks, TOTAL).slice(0, 20)}, tocks ${missing(world.tocks(), TOTAL).slice(0, 20)}`,
    );
  });
  // Nothing pending or unacked anywhere: no redelivery can still come, the counts are final.
  await world.waitIdle();

  // ---- the numbers ----
  const a2n = tally(amqpCalls.results);
  const n2a = tally(natsCalls.results);
  const noResponderRetries = [...natsCalls.results.values()].reduce((n, r) => n + r.attempts - 1, 0);
  const amqpExec = world.amqpExecutions();
  const reExecuted = [...world.ledger.executions].filter(([, n]) => n > 1).map(([id]) => id);
  const unknownRan = [...amqpCalls.results]
    .filter(([id, r]) => r.kind === "unknown" && world.ledger.executions.has(id))
    .map(([id]) => id);
  const n2aTimedOut = [...natsCalls.results].filter(([, r]) => r.kind === "timeout").map(([id]) => id);
  const n2aTimedOutExecuted = n2aTimedOut.filter((id) => amqpExec.count.has(id));
  const tickDup = duplicates(world.ledger.ticks);
  const tockDup = duplicates(world.tocks());
  const perBridge = (lists: Iterable<string[]>): number[] => {
    const counts = new Map<string, number>();
    for (const list of lists) for (const who of list) counts.set(who, (counts.get(who) ?? 0) + 1);
    return [...counts.values()];
  };
  const forwardedPerBridge = perBridge(world.forwarded.values());
  const publishedPerBridge = perBridge(amqpExec.replyTo.values());
  const metrics = await carrier.metrics();
  const report = [
    `kill -9 after ${doneAtKill.join("/")} done (calls AMQP->NATS / calls NATS->AMQP / events AMQP->NATS / events NATS->AMQP); in flight at the kill: ${inFlight.join("/")}, of the calls executing: ${executingAtKill.join("/")}`,
    `calls AMQP -> NATS: ${a2n.ok} replies, ${a2n.unknown} CallOutcomeUnknown (of which ran: ${unknownRan.length}), ${a2n.timeout} timeouts, ${a2n.error} errors; executed twice: ${reExecuted.length}`,
    `calls NATS -> AMQP: ${n2a.ok} replies, ${n2a.timeout} timeouts (executed, reply lost with the bridge: ${n2aTimedOutExecuted.length}), ${n2a.error} errors; no-responder retries: ${noResponderRetries}`,
    `calls per bridge process: AMQP -> NATS ${forwardedPerBridge.join(" + ")}, NATS -> AMQP ${publishedPerBridge.join(" + ")}`,
    `events AMQP -> NATS: ${TOTAL} delivered, ${tickDup.extra} duplicates (${tickDup.ids} events)`,
    `events NATS -> AMQP: ${TOTAL} delivered, ${tockDup.extra} duplicates (${tockDup.ids} events)`,
    `JetStream events the killed bridge held unacked (redelivered after ack_wait): ${heldByTheDead}`,
    `warnings and errors the bridges logged: ${world.bridgeWarnings() || "none"}`,
    `redeliveries counted by the bridge that carried on: rpc amqp_to_nats ${metricValue(metrics, "cliffracer_bridge_rpc_redeliveries_total", 'direction="amqp_to_nats"')} (answered from the record: ${metricValue(metrics, "cliffracer_bridge_rpc_errors_total", 'direction="amqp_to_nats"', 'kind="outcome_unknown"')} CallOutcomeUnknown, ${metricValue(metrics, "cliffracer_bridge_rpc_errors_total", 'direction="amqp_to_nats"', 'kind="replayed"')} recorded replies), events amqp_to_nats ${metricValue(metrics, "cliffracer_bridge_events_redeliveries_total", 'direction="amqp_to_nats"')}, events nats_to_amqp ${metricValue(metrics, "cliffracer_bridge_events_redeliveries_total", 'direction="nats_to_amqp"')}`,
  ];
  console.log(`${label}:\n  ${report.join("\n  ")}`);

  // ---- events: every one arrives; duplicates only from what the killed bridge held ----
  expect(ticks.failures).toEqual([]);
  expect(tocks.failures).toEqual([]);
  expect(missing(world.ledger.ticks, TOTAL)).toEqual([]);
  expect(missing(world.tocks(), TOTAL)).toEqual([]);
  expect(tickDup.extra).toBeLessThanOrEqual(EVENT_PREFETCH);
  expect(tockDup.extra).toBeLessThanOrEqual(EVENT_PREFETCH);

  // ---- calls AMQP -> NATS: at most once; every caller gets its reply or CallOutcomeUnknown ----
  expect(
    [...amqpCalls.results]
      .filter(([, r]) => r.kind !== "ok" && r.kind !== "unknown")
      .map(([id, r]) => `${id}: ${r.kind} ${r.detail ?? ""}`),
  ).toEqual([]);
  expect(reExecuted).toEqual([]);
  for (let id = 0; id < TOTAL; id++) {
    const via = world.forwarded.get(id) ?? [];
    // Each runtime execution is one forwarded request, and no call was forwarded twice...
    expect({ id, executions: world.ledger.executions.get(id) ?? 0 }).toEqual({ id, executions: via.length });
    expect({ id, forwarded: Math.min(via.length, 2) }).toEqual({ id, forwarded: Math.min(via.length, 1) });
    // ...and a caller with a reply had its call run exactly once.
    if (amqpCalls.results.get(id)!.kind === "ok") expect({ id, forwarded: via.length }).toEqual({ id, forwarded: 1 });
  }
  expect(new Set([...world.forwarded.values()].flat()).size).toBeLessThanOrEqual(2);
  // Only requests the killed bridge held unacked can have an unknown outcome: at most the callers' window.
  expect(a2n.unknown).toBeLessThanOrEqual(CALL_WINDOW);

  // ---- calls NATS -> AMQP: a reply or the caller's timeout; executed at most once ----
  expect(
    [...natsCalls.results].filter(([, r]) => r.kind === "error").map(([id, r]) => `${id}: ${r.detail ?? ""}`),
  ).toEqual([]);
  expect(n2a.ok + n2a.timeout).toBe(TOTAL);
  // Only calls the killed bridge had taken time out: made before the kill, at most the window.
  expect(n2aTimedOut.filter((id) => natsCalls.results.get(id)!.startedAt >= killedAt)).toEqual([]);
  expect(n2a.timeout).toBeLessThanOrEqual(CALL_WINDOW);
  expect([...amqpExec.count].filter(([, n]) => n > 1)).toEqual([]);
  for (const [id, r] of natsCalls.results)
    if (r.kind === "ok") expect({ id, executions: amqpExec.count.get(id) }).toEqual({ id, executions: 1 });
  expect(new Set([...amqpExec.replyTo.values()].flat()).size).toBeLessThanOrEqual(2);

  // ---- what Nameko needs on everything the bridges published to it ----
  expect(world.namekoViolations()).toEqual([]);
  expect(await carrier.ready()).toBe(true);
  return { carrier, noResponderRetries, forwardedPerBridge, publishedPerBridge };
}

describe("bridge resilience: kill -9 of a bridge process under load", () => {
  let world: ResilienceWorld;

  beforeEach(async () => {
    world = await new ResilienceWorld({ workMs: WORK_MS }).setup();
  }, 60_000);
  afterEach(async () => {
    await killAllChildren();
    await world.cleanup();
  }, 60_000);

  it("the only bridge, then a restart: no event or call lost, no call executed twice by the bridge", async () => {
    const first = await world.spawnBridge("resilience-kill-1");
    await first.waitReady(true, 60_000);
    await killUnderLoad(world, "kill -9 of the only bridge, then a restart", {
      victim: first,
      probes: 1,
      afterKill: async () => {
        const second = await world.spawnBridge("resilience-kill-2");
        await second.waitReady(true, 60_000);
        return second;
      },
    });
  });

  it("one of two bridges: the other carries on, nothing lost", async () => {
    const [a, b] = await Promise.all([world.spawnBridge("resilience-pair-a"), world.spawnBridge("resilience-pair-b")]);
    // Two processes compiling the sources at once on a busy machine can take more than a minute.
    await Promise.all([a.waitReady(true, 150_000), b.waitReady(true, 150_000)]);
    const { noResponderRetries } = await killUnderLoad(world, "kill -9 of one of two bridges", {
      victim: a,
      // With two subscribers the server picks one per request: ten answered in a row leave a
      // lingering dead subscription a chance of 1 in 1024.
      probes: 10,
      afterKill: async () => {
        // The survivor never stopped being ready.
        expect(await b.ready()).toBe(true);
        return b;
      },
    });
    // A NATS caller always found a bridge.
    expect(noResponderRetries).toBe(0);
    expect(b.alive).toBe(true);
  });
});
