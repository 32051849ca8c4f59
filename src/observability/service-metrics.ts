/**
 * The Prometheus metrics of the services a process runs (docs/metrics.md): each worker by entrypoint,
 * errors by type, outgoing calls, workers busy against max_workers and event handler lag. Names
 * follow nameko-prometheus where it has one, with the fixed prefix `cliffracer_` and a `service`
 * label in place of its per-service prefix, so one query covers every service.
 */
import { excTypeOf, RemoteError } from "../../compat";
import type { ContainerMetrics, Entrypoint, WorkerOutcome } from "../core/extension";
import type { ResilienceStats } from "../client/resilience";
import type { MetricsSource, ServiceContainer } from "../core/service-container";
import { RpcProxyProvider } from "../dependencies/rpc-proxy";
import { EventHandler } from "../entrypoints/events";
import { HttpEntrypoint } from "../entrypoints/http";
import { RpcEntrypoint } from "../entrypoints/rpc";
import { Timer } from "../entrypoints/timer";
import { Buckets, collected, createRegistry, type Registry, type Sample } from "./metrics";

/**
 * Event lag buckets in seconds: from a handler keeping up (milliseconds) to events that waited for a
 * service that was down (hours, up to a day).
 */
export const LAG_BUCKETS_SECONDS = [
  0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600, 21_600, 86_400,
];

type Labels = Record<string, string>;

/**
 * The `exc_type` label of an outgoing call's error: a remote error's own (what the called service
 * raised), else the error's (UnknownService, RpcTimeout...).
 */
function remoteType(error: unknown): string {
  return error instanceof RemoteError ? error.excType : excTypeOf(error);
}

/**
 * A histogram whose observation count is also exposed as a counter (nameko-prometheus declares a
 * `_total` counter beside each latency histogram), one series per label set.
 */
class TimedFamily {
  private readonly series = new Map<string, { labels: Labels; buckets: Buckets }>();

  constructor(
    registry: Registry,
    counter: string | undefined,
    histogram: string,
    help: string,
    private readonly bounds?: readonly number[],
  ) {
    const all = (): Array<{ labels: Labels; buckets: Buckets }> => [...this.series.values()];
    if (counter !== undefined)
      collected(registry, counter, `${help}: how many`, "counter", () =>
        all().map((s) => ({ labels: s.labels, value: s.buckets.total })),
      );
    collected(registry, histogram, `${help}: seconds`, "histogram", () =>
      all().flatMap((s) => s.buckets.samples(histogram, s.labels)),
    );
  }

  /** The series of `labels` (created on first use; callers keep it rather than ask per observation). */
  of(labels: Labels): Buckets {
    const key = Object.values(labels).join("\u0000");
    let found = this.series.get(key);
    if (found === undefined) this.series.set(key, (found = { labels, buckets: new Buckets(this.bounds) }));
    return found.buckets;
  }
}

/** A counter family with one value per label set. */
class CounterFamily {
  private readonly series = new Map<string, { labels: Labels; value: number }>();

  constructor(registry: Registry, name: string, help: string) {
    collected(registry, name, help, "counter", () =>
      [...this.series.values()].map((s) => ({ labels: s.labels, value: s.value })),
    );
  }

  inc(labels: Labels): void {
    const key = Object.values(labels).join("\u0000");
    const found = this.series.get(key);
    if (found === undefined) this.series.set(key, { labels, value: 1 });
    else found.value++;
  }
}

/**
 * The family and labels of an entrypoint's workers: nameko-prometheus's for @rpc, @eventHandler and
 * @http, and one family for timers and any other entrypoint.
 */
function entrypointSeries(service: string, e: Entrypoint): { family: keyof WorkerFamilies; labels: Labels } {
  const method_name = e.methodName;
  if (e instanceof RpcEntrypoint) return { family: "rpc", labels: { service, method_name } };
  if (e instanceof EventHandler)
    return {
      family: "events",
      labels: { service, method_name, source_service: e.sourceService, event_type: e.eventType },
    };
  if (e instanceof HttpEntrypoint)
    return {
      family: "http",
      labels: { service, method_name, http_method: e.methods.join(","), endpoint: e.rule.rule },
    };
  const entrypoint = e instanceof Timer ? "timer" : e.constructor.name;
  return { family: "other", labels: { service, method_name, entrypoint } };
}

interface WorkerFamilies {
  rpc: TimedFamily;
  events: TimedFamily;
  http: TimedFamily;
  other: TimedFamily;
}

/** The gauge value of each circuit state: the higher, the less gets through. */
const CIRCUIT_VALUES = { closed: 0, "half-open": 1, open: 2 } as const;

/**
 * One sample per label set of `entries`, their values combined (two @RpcProxy attributes of a
 * service may call the same target, each with its own policy).
 */
function merged(entries: Sample[], combine: (a: number, b: number) => number): Sample[] {
  const byKey = new Map<string, Sample>();
  for (const e of entries) {
    const key = Object.values(e.labels).join("\u0000");
    const found = byKey.get(key);
    if (found === undefined) byKey.set(key, { ...e });
    else found.value = combine(found.value, e.value);
  }
  return [...byKey.values()];
}

/**
 * Retries, refusals and circuit states of the containers' @RpcProxy policies, read from their
 * stats() when scraped (docs/resilience.md, Logs and metrics).
 */
function registerResilience(registry: Registry, containers: readonly ServiceContainer[]): void {
  const policies = (): Array<{ labels: Labels; stats: ResilienceStats }> =>
    containers.flatMap((c) =>
      c.dependencies.flatMap((d) => {
        const stats = d instanceof RpcProxyProvider ? d.policy?.stats() : undefined;
        return stats ? [{ labels: { service: c.serviceName, target_service: stats.service }, stats }] : [];
      }),
    );
  const sum = (a: number, b: number) => a + b;
  collected(
    registry,
    "cliffracer_rpc_outgoing_retries_total",
    "retries of calls to idempotent methods",
    "counter",
    () =>
      merged(
        policies().map(({ labels, stats }) => ({ labels, value: stats.retries })),
        sum,
      ),
  );
  collected(
    registry,
    "cliffracer_rpc_outgoing_refused_total",
    "calls refused before sending, by reason (circuit_open, bulkhead_full)",
    "counter",
    () =>
      merged(
        policies().flatMap(({ labels, stats }) => [
          { labels: { ...labels, reason: "circuit_open" }, value: stats.refusedCircuitOpen },
          { labels: { ...labels, reason: "bulkhead_full" }, value: stats.refusedBulkheadFull },
        ]),
        sum,
      ),
  );
  collected(registry, "cliffracer_circuit_state", "circuit to a service: 0 closed, 1 half-open, 2 open", "gauge", () =>
    merged(
      policies().flatMap(({ labels, stats }) =>
        stats.circuit === undefined ? [] : [{ labels, value: CIRCUIT_VALUES[stats.circuit] }],
      ),
      Math.max,
    ),
  );
}

/**
 * The metrics of every container of a process, in one registry (give it to the runner as its
 * `metrics`, then serve `registry`). Counting is plain arithmetic on cached series; the registry
 * reads them only when scraped.
 */
export class ServiceMetrics implements MetricsSource {
  readonly registry: Registry;
  private readonly workers: WorkerFamilies;
  private readonly workerErrors: CounterFamily;
  private readonly outgoing: TimedFamily;
  private readonly outgoingErrors: CounterFamily;
  private readonly lag: TimedFamily;
  private readonly containers: ServiceContainer[] = [];

  /** `processMetrics`: also Node's process metrics (CPU, memory, event loop lag); default true. */
  constructor(options: { processMetrics?: boolean } = {}) {
    const registry = (this.registry = createRegistry({ processMetrics: options.processMetrics }));
    this.workers = {
      rpc: new TimedFamily(
        registry,
        "cliffracer_rpc_requests_total",
        "cliffracer_rpc_request_latency_seconds",
        "RPC requests handled by a worker",
      ),
      events: new TimedFamily(
        registry,
        "cliffracer_events_total",
        "cliffracer_events_latency_seconds",
        "events handled by a worker",
      ),
      http: new TimedFamily(
        registry,
        "cliffracer_http_requests_total",
        "cliffracer_http_request_latency_seconds",
        "HTTP requests handled by a worker",
      ),
      other: new TimedFamily(
        registry,
        "cliffracer_entrypoint_runs_total",
        "cliffracer_entrypoint_latency_seconds",
        "workers of timers and other entrypoints",
      ),
    };
    this.workerErrors = new CounterFamily(
      registry,
      "cliffracer_worker_errors_total",
      "workers that ended with an error, by the error's exc_type",
    );
    this.outgoing = new TimedFamily(
      registry,
      "cliffracer_rpc_outgoing_requests_total",
      "cliffracer_rpc_outgoing_latency_seconds",
      "RPC calls made through @RpcProxy",
    );
    this.outgoingErrors = new CounterFamily(
      registry,
      "cliffracer_rpc_outgoing_errors_total",
      "RPC calls made through @RpcProxy that failed, by exc_type",
    );
    this.lag = new TimedFamily(
      registry,
      undefined,
      "cliffracer_events_lag_seconds",
      "time from an event's publication to its handler",
      LAG_BUCKETS_SECONDS,
    );
    const gauge = (name: string, help: string, value: (c: ServiceContainer) => number): void =>
      collected(registry, name, help, "gauge", () =>
        this.containers.map((c): Sample => ({ labels: { service: c.serviceName }, value: value(c) })),
      );
    gauge("cliffracer_workers_busy", "workers running now", (c) => c.activeWorkers);
    gauge("cliffracer_workers_max", "max_workers: the most workers that run at once", (c) => c.maxWorkers);
    gauge("cliffracer_workers_queued", "workers waiting for a max_workers slot", (c) =>
      Math.max(0, c.pendingWorkers - c.activeWorkers),
    );
    registerResilience(registry, this.containers);
  }

  /** See MetricsSource: the metrics one container reports to. */
  forContainer(container: ServiceContainer): ContainerMetrics {
    this.containers.push(container);
    const service = container.serviceName;
    const workers = new Map<Entrypoint, { buckets: Buckets; method_name: string }>();
    const outgoing = new Map<string, Buckets>();
    const lag = new Map<Entrypoint, Buckets>();
    return {
      workerFinished: (entrypoint, outcome: WorkerOutcome, seconds) => {
        let found = workers.get(entrypoint);
        if (found === undefined) {
          const { family, labels } = entrypointSeries(service, entrypoint);
          found = { buckets: this.workers[family].of(labels), method_name: entrypoint.methodName };
          workers.set(entrypoint, found);
        }
        found.buckets.observe(seconds);
        if (!outcome.ok)
          this.workerErrors.inc({ service, method_name: found.method_name, exc_type: excTypeOf(outcome.error) });
      },
      outgoingCall: (target_service, method_name) => {
        const key = `${target_service}.${method_name}`;
        let buckets = outgoing.get(key);
        if (buckets === undefined)
          outgoing.set(key, (buckets = this.outgoing.of({ service, target_service, method_name })));
        const startedAt = performance.now();
        const series = buckets;
        return (error?: unknown) => {
          series.observe((performance.now() - startedAt) / 1000);
          if (error !== undefined)
            this.outgoingErrors.inc({ service, target_service, method_name, exc_type: remoteType(error) });
        };
      },
      eventLag: (entrypoint, source_service, event_type, seconds) => {
        let buckets = lag.get(entrypoint);
        if (buckets === undefined)
          lag.set(
            entrypoint,
            (buckets = this.lag.of({ service, method_name: entrypoint.methodName, source_service, event_type })),
          );
        buckets.observe(seconds);
      },
    };
  }
}
