/**
 * Prometheus metrics (prom-client registries) for message flows: calls, errors, latency, in-flight
 * and redeliveries, labelled by direction and service. Each process part gets its own Registry, so
 * two bridges or a bridge and a runtime in one test process never collide on metric names.
 *
 * The hot path: prom-client hashes the label set on every `inc()`/`observe()`, which cost a sixth
 * of the bridge's CPU per call in the bench. Here each (direction, service) pair keeps plain
 * counters and histogram buckets, and the registry reads them only when /metrics is scraped.
 */
import { collectDefaultMetrics, Registry, type Metric } from "prom-client";

/** Latency buckets in seconds: sub-millisecond RPC up to a 30 s timeout. */
export const LATENCY_BUCKETS_SECONDS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
];

/** Options of {@link createRegistry}. */
export interface RegistryOptions {
  /** Labels added to every metric (e.g. `{ bridge: "b1" }`). */
  defaultLabels?: Record<string, string>;
  /** Also collect Node process metrics (CPU, memory, event loop lag); default true. */
  processMetrics?: boolean;
}

/** A fresh registry, with Node process metrics unless turned off. */
export function createRegistry(options: RegistryOptions = {}): Registry {
  const registry = new Registry();
  if (options.defaultLabels) registry.setDefaultLabels(options.defaultLabels);
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });
  return registry;
}

/** The instruments of one (direction, service) pair; obtained from {@link FlowMetrics.for}. */
export interface FlowInstruments {
  /** Counts the start of a message and returns its start time (for {@link finished}). */
  started(): number;
  /** Counts the end of a message started at `startedAt`; `errorKind` marks it failed (e.g. "timeout", "remote"). */
  finished(startedAt: number, errorKind?: string): void;
  /** Counts a message that was not tracked in flight, handled in `seconds` (e.g. an event once handed over). */
  observed(seconds: number): void;
  /** Counts a failure of `kind` without ending a tracked message (e.g. an event dropped or retried). */
  failed(kind: string): void;
  /** Counts a message the broker delivered again (AMQP `redelivered`, JetStream delivery count > 1). */
  redelivered(): void;
}

/** One (direction, service) pair's numbers. */
class FlowState implements FlowInstruments {
  inFlight = 0;
  total = 0;
  redeliveries = 0;
  sum = 0;
  /** Per bucket (not cumulative); the last slot is +Inf. */
  readonly buckets = new Float64Array(LATENCY_BUCKETS_SECONDS.length + 1);
  readonly errors = new Map<string, number>();

  constructor(readonly labels: { direction: string; service: string }) {}

  started(): number {
    this.inFlight++;
    return performance.now();
  }

  finished(startedAt: number, errorKind?: string): void {
    this.inFlight--;
    this.observed((performance.now() - startedAt) / 1000);
    if (errorKind !== undefined) this.failed(errorKind);
  }

  observed(seconds: number): void {
    this.total++;
    this.sum += seconds;
    let i = 0;
    while (i < LATENCY_BUCKETS_SECONDS.length && seconds > LATENCY_BUCKETS_SECONDS[i]) i++;
    this.buckets[i]++;
  }

  failed(kind: string): void {
    this.errors.set(kind, (this.errors.get(kind) ?? 0) + 1);
  }

  redelivered(): void {
    this.redeliveries++;
  }
}

type Sample = { value: number; labels: Record<string, string | number>; metricName?: string };

/** A metric whose values are computed when the registry is read (prom-client's Metric contract). */
function collected(
  registry: Registry,
  name: string,
  help: string,
  type: "counter" | "gauge" | "histogram",
  values: () => Sample[],
): void {
  const metric = {
    name,
    help,
    type,
    aggregator: "sum",
    get: async () => ({ name, help, type, aggregator: "sum", values: values() }),
    reset: () => undefined,
  };
  registry.registerMetric(metric as unknown as Metric);
}

/**
 * Calls/messages of one flow (`<namespace>_total`, `_errors_total`, `_duration_seconds`,
 * `_in_flight`, `_redeliveries_total`), labelled `direction` and `service`.
 */
export class FlowMetrics {
  private readonly states = new Map<string, FlowState>();

  /** `namespace` e.g. `cliffracer_bridge_rpc`; `what` names the unit in help texts (e.g. "calls"). */
  constructor(registry: Registry, namespace: string, what: string) {
    const each =
      (f: (s: FlowState) => Sample[]): (() => Sample[]) =>
      () =>
        [...this.states.values()].flatMap(f);
    collected(
      registry,
      `${namespace}_total`,
      `${what} handled`,
      "counter",
      each((s) => [{ labels: s.labels, value: s.total }]),
    );
    collected(
      registry,
      `${namespace}_errors_total`,
      `${what} that failed, by kind`,
      "counter",
      each((s) => [...s.errors].map(([kind, value]) => ({ labels: { ...s.labels, kind }, value }))),
    );
    collected(
      registry,
      `${namespace}_duration_seconds`,
      `time to handle ${what}, in seconds`,
      "histogram",
      each((s) => histogramSamples(`${namespace}_duration_seconds`, s)),
    );
    collected(
      registry,
      `${namespace}_in_flight`,
      `${what} being handled now`,
      "gauge",
      each((s) => [{ labels: s.labels, value: s.inFlight }]),
    );
    collected(
      registry,
      `${namespace}_redeliveries_total`,
      `${what} delivered again by the broker`,
      "counter",
      each((s) => [{ labels: s.labels, value: s.redeliveries }]),
    );
  }

  /** The instruments of a (direction, service) pair (created on first use, then cached). */
  for(direction: string, service: string): FlowInstruments {
    const key = `${direction}\u0000${service}`;
    let state = this.states.get(key);
    if (state === undefined) this.states.set(key, (state = new FlowState({ direction, service })));
    return state;
  }
}

function histogramSamples(name: string, s: FlowState): Sample[] {
  const out: Sample[] = [];
  let cumulative = 0;
  for (let i = 0; i < LATENCY_BUCKETS_SECONDS.length; i++) {
    cumulative += s.buckets[i];
    out.push({
      metricName: `${name}_bucket`,
      labels: { ...s.labels, le: LATENCY_BUCKETS_SECONDS[i] },
      value: cumulative,
    });
  }
  out.push({ metricName: `${name}_bucket`, labels: { ...s.labels, le: "+Inf" }, value: s.total });
  out.push({ metricName: `${name}_sum`, labels: s.labels, value: s.sum });
  out.push({ metricName: `${name}_count`, labels: s.labels, value: s.total });
  return out;
}

/** A 0/1 gauge per named part (e.g. `part="nats"`), for connection state. */
export class UpGauge {
  private readonly parts = new Map<string, boolean>();

  constructor(registry: Registry, name: string, help: string) {
    collected(registry, name, help, "gauge", () =>
      [...this.parts].map(([part, up]) => ({ labels: { part }, value: up ? 1 : 0 })),
    );
  }

  set(part: string, up: boolean): void {
    this.parts.set(part, up);
  }
}

export type { Registry };
