/**
 * What a bench case is, and the two measurement procedures (RPC, events) that every case of that
 * kind shares, so all cases are measured the same way.
 */
import type { Child } from "./children";
import type { ConsumeResult, PhaseResult } from "./load";
import type { LatencySummary } from "./stats";

/** Durations of a run (full or --quick). */
export interface Timing {
  warmupMs: number;
  phaseMs: number;
  /** In-flight levels measured, in order; the first is the latency level. */
  concurrencies: number[];
  /** How long a consumer may take to drain a phase. */
  drainTimeoutMs: number;
}

/** What the probe found of one module of ours (path without extension, from the repo root). */
export interface ModuleProbe {
  /** The .ts file exists. */
  exists: boolean;
  /** Its named exports, when it loaded. */
  exports: string[];
  /** Why it did not load. */
  error?: string;
}

/** What the runner found about our own code, by module. */
export type Probe = Record<string, ModuleProbe>;

/** Whether a case can run: its needed "module:Export" names are all there and load. */
export type Availability =
  { status: "available" } | { status: "not available"; reason: string } | { status: "error"; reason: string };

/** A need's module and export: "src/x:Name" -> ["src/x", "Name"]; "python:nameko" is a module of its own. */
export function parseNeed(need: string): [module: string, name: string | undefined] {
  if (need.startsWith("python:")) return [need, undefined];
  const [module, name] = need.split(":");
  return [module, name];
}

/** Check a case's needs against the probe. Code not written yet is "not available"; code that fails to load is an error. */
export function availability(needs: readonly string[], probe: Probe): Availability {
  const absent: string[] = [];
  for (const need of needs) {
    const [module, name] = parseNeed(need);
    const found = probe[module];
    if (module.startsWith("python:")) {
      if (!found?.exists) return { status: "not available", reason: found?.error ?? `${module} not probed` };
    } else if (!found || !found.exists) absent.push(`${module}.ts`);
    else if (found.error) return { status: "error", reason: `${module}.ts does not load: ${found.error}` };
    else if (name && !found.exports.includes(name)) absent.push(`${name} in ${module}.ts`);
  }
  return absent.length
    ? { status: "not available", reason: `no ${[...new Set(absent)].join(", ")} yet` }
    : { status: "available" };
}

/** Handed to a case by the runner for one round. */
export interface CaseContext {
  /** Unique per case and round: use it in every subject, queue, stream and service name. */
  readonly token: string;
  readonly timing: Timing;
  /** Request body size of the case's calls (its `payloadBytes`, else the default): pass it to the caller role. */
  readonly bodyBytes: number;
  /** Start a role process that the runner tracks (CPU, peak RSS, stop). */
  spawn(name: string, role: string, options?: Record<string, unknown>): Promise<Child>;
  /** Start several role processes at once (when none needs another to be up first); in the order given. */
  spawnAll(specs: readonly [name: string, role: string, options?: Record<string, unknown>][]): Promise<Child[]>;
  /** Mark the start and end of the measured window (CPU seconds and profiles are taken between them). */
  markMeasureStart(): Promise<void>;
  markMeasureEnd(): Promise<void>;
  /** Progress line (only with --verbose). */
  log(message: string): void;
}

/** RPC figures of one round. */
export interface RpcMeasurement {
  kind: "rpc";
  /** Latency at 1 in flight, µs. */
  latency: LatencySummary;
  /** calls/s by in-flight level. */
  rates: Record<string, number>;
  /** Latency by in-flight level, µs. */
  latencyAt: Record<string, LatencySummary>;
  /** Calls completed inside the measured windows. */
  operations: number;
}

/** Event figures of one round. */
export interface EventMeasurement {
  kind: "events";
  /** Publish -> handler latency of one event at a time (spaced by EVENT_GAP_MS), µs. */
  latency: LatencySummary;
  /** Publishes acknowledged per second, by in-flight level. */
  published: Record<string, number>;
  /** Events delivered per second, publish start -> last receipt, by in-flight level. */
  rates: Record<string, number>;
  /** End-to-end latency by in-flight level, µs. */
  latencyAt: Record<string, LatencySummary>;
  operations: number;
}

/** One round's figures of a case. */
export type Measurement = RpcMeasurement | EventMeasurement;

/** A bench case. */
export interface BenchCase {
  /** Stable id, used by --only and in the JSON. */
  id: string;
  /** Row label. */
  title: string;
  kind: "rpc" | "events";
  /** The id of the floor this case is compared with (none for a floor). */
  floor?: string;
  /** "module:Export" names of our code the case runs on (module = path from the repo root, no extension). */
  needs: readonly string[];
  /** What limits it, for BENCHMARKS.md. */
  limits: string;
  /**
   * A row of the payload-size table: the request body's size in bytes. Its 100-byte rows are cases
   * of the main RPC table (every RPC case echoes a 100-byte body unless it says otherwise).
   */
  payloadBytes?: number;
  /** This case's timing, from the run's (a family of many cases measures fewer levels, in shorter windows). */
  timing?: (run: Timing) => Timing;
  run(ctx: CaseContext): Promise<Measurement>;
}

/**
 * The RPC procedure: warm-up at the highest and the lowest level, then one window per level.
 * `caller` answers "phase" (lib/load.ts).
 */
export async function measureRpc(ctx: CaseContext, caller: Child): Promise<RpcMeasurement> {
  const { warmupMs, phaseMs, concurrencies } = ctx.timing;
  const phaseTimeout = (ms: number) => ms + 30_000;
  const top = Math.max(...concurrencies);
  await caller.command<PhaseResult>(
    "phase",
    { concurrency: top, durationMs: warmupMs, phase: 0 },
    phaseTimeout(warmupMs),
  );
  await caller.command<PhaseResult>(
    "phase",
    { concurrency: 1, durationMs: warmupMs / 4, phase: 0 },
    phaseTimeout(warmupMs),
  );
  const rates: Record<string, number> = {};
  const latencyAt: Record<string, LatencySummary> = {};
  let operations = 0;
  await ctx.markMeasureStart();
  for (const concurrency of concurrencies) {
    const r = await caller.command<PhaseResult>(
      "phase",
      { concurrency, durationMs: phaseMs, phase: 0 },
      phaseTimeout(phaseMs),
    );
    if (r.completed === 0) throw new Error(`no call completed at ${concurrency} in flight`);
    rates[concurrency] = r.completed / (r.elapsedMs / 1000);
    latencyAt[concurrency] = r.latency;
    operations += r.completed;
  }
  await ctx.markMeasureEnd();
  return { kind: "rpc", latency: latencyAt[concurrencies[0]], rates, latencyAt, operations };
}

/**
 * Pause between the events of the latency phase: about 300 events/s with the slowest publish
 * ack, under every case's one-in-flight rate, so no event waits behind another.
 */
export const EVENT_GAP_MS = 2;

/**
 * The event procedure: for each level, the consumer is told the phase, the publisher publishes for
 * the window, then the consumer must receive every event published (each body checked).
 * Delivered/s = events published / (last receipt - first publish). The latency is timed in a phase
 * of its own, one event at a time, EVENT_GAP_MS apart; latencyAt keeps each level's back-to-back
 * figure (queueing included).
 */

export async function measureEvents(ctx: CaseContext, publisher: Child, consumer: Child): Promise<EventMeasurement> {
  const { warmupMs, phaseMs, concurrencies, drainTimeoutMs } = ctx.timing;
  const top = Math.max(...concurrencies);
  let phase = 1;
  const onePhase = async (concurrency: number, durationMs: number, gapMs?: number) => {
    const tag = phase++;
    await consumer.command("expect", { phase: tag });
    const pub = await publisher.command<PhaseResult>(
      "phase",
      { concurrency, durationMs, phase: tag, gapMs },
      durationMs + 30_000,
    );
    const got = await consumer.command<ConsumeResult>(
      "await",
      { count: pub.started, timeoutMs: drainTimeoutMs },
      drainTimeoutMs + 10_000,
    );
    return { pub, got };
  };
  await onePhase(top, warmupMs);
  await onePhase(1, warmupMs / 4);
  // Outside the measured window (its CPU figures are per event at full pace).
  const single = await onePhase(1, phaseMs, EVENT_GAP_MS);
  const published: Record<string, number> = {};
  const rates: Record<string, number> = {};
  const latencyAt: Record<string, LatencySummary> = {};
  let operations = 0;
  await ctx.markMeasureStart();
  for (const concurrency of concurrencies) {
    const { pub, got } = await onePhase(concurrency, phaseMs);
    if (pub.completed === 0) throw new Error(`no publish completed at ${concurrency} in flight`);
    published[concurrency] = pub.completed / (pub.elapsedMs / 1000);
    const spanS = Number(BigInt(got.lastNs) - BigInt(pub.startNs)) / 1e9;
    rates[concurrency] = got.received / spanS;
    latencyAt[concurrency] = got.endToEnd;
    operations += got.received;
  }
  await ctx.markMeasureEnd();
  return { kind: "events", latency: single.got.endToEnd, published, rates, latencyAt, operations };
}
