/**
 * Prometheus metrics (prom-client registries) shared by the bridge and `cliffracer run`
 * (docs/metrics.md): families whose values are plain numbers kept per label set and read only when
 * /metrics is scraped. Each process part gets its own Registry, so two bridges, or a bridge and a
 * runtime, in one test process never collide on metric names.
 *
 * The hot path: prom-client hashes the label set on every `inc()`/`observe()`, which cost a sixth
 * of the bridge's CPU per call in the bench. Here each label set keeps plain counters and histogram
 * buckets, looked up once and cached by the caller where it can.
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

/** The numbers of one histogram series: count, sum and per-bucket counts. */
export class Buckets {
  total = 0;
  sum = 0;
  /** Per bucket (not cumulative); the last slot is +Inf. */
  private readonly counts: Float64Array;

  constructor(private readonly bounds: readonly number[] = LATENCY_BUCKETS_SECONDS) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(seconds: number): void {
    this.total++;
    this.sum += seconds;
    let i = 0;
    while (i < this.bounds.length && seconds > this.bounds[i]) i++;
    this.counts[i]++;
  }

  /** The `_bucket`, `_sum` and `_count` samples of histogram `name` for these labels. */
  samples(name: string, labels: Labels): Sample[] {
    const out: Sample[] = [];
    let cumulative = 0;
    for (let i = 0; i < this.bounds.length; i++) {
      cumulative += this.counts[i];
      out.push({ metricName: `${name}_bucket`, labels: { ...labels, le: this.bounds[i] }, value: cumulative });
    }
    out.push({ metricName: `${name}_bucket`, labels: { ...labels, le: "+Inf" }, value: this.total });
    out.push({ metricName: `${name}_sum`, labels, value: this.sum });
    out.push({ metricName: `${name}_count`, labels, value: this.total });
    return out;
  }
}

/** One (direction, service) pair's numbers. */
class FlowState implements FlowInstruments {
  inFlight = 0;
  redeliveries = 0;
  readonly latency = new Buckets();
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
    this.latency.observe(seconds);
  }

  failed(kind: string): void {
    this.errors.set(kind, (this.errors.get(kind) ?? 0) + 1);
  }

  redelivered(): void {
    this.redeliveries++;
  }
}

type Labels = Record<string, string | number>;
/** One line of a metric as prom-client's registry reads it. */
export type Sample = { value: number; labels: Labels; metricName?: string };

/**
 * Registers a metric whose samples `values` computes each time the registry is read (prom-client's
 * Metric contract), e.g. a gauge read from live state.
 */
export function collected(
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
      each((s) => [{ labels: s.labels, value: s.latency.total }]),
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
      each((s) => s.latency.samples(`${namespace}_duration_seconds`, s.labels)),
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
