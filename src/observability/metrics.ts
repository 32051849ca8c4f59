/**
 * Prometheus instruments (prom-client) for message flows: calls, errors, latency, in-flight and
 * redeliveries, labelled by direction and service. Each process part gets its own Registry, so two
 * bridges or a bridge and a runtime in one test process never collide on metric names.
 *
 * The hot path: instruments for one (direction, service) pair are resolved once and cached, so
 * recording a call costs a map lookup and a few additions, not a label hash per metric.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";

/** Latency buckets in seconds: sub-millisecond RPC up to a 30 s timeout. */
export const LATENCY_BUCKETS_SECONDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

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

interface LabelledCounter {
  inc(value?: number): void;
}

/**
 * Calls/messages of one flow (`<namespace>_total`, `_errors_total`, `_duration_seconds`,
 * `_in_flight`, `_redeliveries_total`), labelled `direction` and `service`.
 */
export class FlowMetrics {
  private readonly total: Counter<"direction" | "service">;
  private readonly errors: Counter<"direction" | "service" | "kind">;
  private readonly duration: Histogram<"direction" | "service">;
  private readonly inFlight: Gauge<"direction" | "service">;
  private readonly redeliveries: Counter<"direction" | "service">;
  private readonly cache = new Map<string, FlowInstruments>();

  /** `namespace` e.g. `cliffracer_bridge_rpc`; `what` names the unit in help texts (e.g. "calls"). */
  constructor(registry: Registry, namespace: string, what: string) {
    const registers = [registry];
    const labelNames = ["direction", "service"] as const;
    this.total = new Counter({ name: `${namespace}_total`, help: `${what} handled`, labelNames, registers });
    this.errors = new Counter({
      name: `${namespace}_errors_total`,
      help: `${what} that failed, by kind`,
      labelNames: ["direction", "service", "kind"] as const,
      registers,
    });
    this.duration = new Histogram({
      name: `${namespace}_duration_seconds`,
      help: `time to handle ${what}, in seconds`,
      labelNames,
      buckets: LATENCY_BUCKETS_SECONDS,
      registers,
    });
    this.inFlight = new Gauge({ name: `${namespace}_in_flight`, help: `${what} being handled now`, labelNames, registers });
    this.redeliveries = new Counter({
      name: `${namespace}_redeliveries_total`,
      help: `${what} delivered again by the broker`,
      labelNames,
      registers,
    });
  }

  /** The cached instruments of a (direction, service) pair. */
  for(direction: string, service: string): FlowInstruments {
    const key = `${direction}\u0000${service}`;
    let inst = this.cache.get(key);
    if (inst === undefined) {
      inst = this.build(direction, service);
      this.cache.set(key, inst);
    }
    return inst;
  }

  private build(direction: string, service: string): FlowInstruments {
    const total = this.total.labels(direction, service);
    const duration = this.duration.labels(direction, service);
    const inFlight = this.inFlight.labels(direction, service);
    const redeliveries = this.redeliveries.labels(direction, service);
    const errorsByKind = new Map<string, LabelledCounter>();
    const errors = this.errors;
    const failed = (kind: string): void => {
      let c = errorsByKind.get(kind);
      if (c === undefined) errorsByKind.set(kind, (c = errors.labels(direction, service, kind)));
      c.inc();
    };
    return {
      started(): number {
        inFlight.inc();
        return performance.now();
      },
      finished(startedAt: number, errorKind?: string): void {
        inFlight.dec();
        total.inc();
        duration.observe((performance.now() - startedAt) / 1000);
        if (errorKind !== undefined) failed(errorKind);
      },
      observed(seconds: number): void {
        total.inc();
        duration.observe(seconds);
      },
      failed,
      redelivered(): void {
        redeliveries.inc();
      },
    };
  }
}

/** A 0/1 gauge per named part (e.g. `side="amqp"`), for connection state. */
export class UpGauge {
  private readonly gauge: Gauge<"part">;

  constructor(registry: Registry, name: string, help: string) {
    this.gauge = new Gauge({ name, help, labelNames: ["part"] as const, registers: [registry] });
  }

  set(part: string, up: boolean): void {
    this.gauge.labels(part).set(up ? 1 : 0);
  }
}

export type { Registry };
