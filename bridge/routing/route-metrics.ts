/**
 * Metrics of weighted routing on the bridge's /metrics (docs/routing.md, Measuring a cut-over): per
 * service, method and side, the calls sent, those that failed by type, and their latency, so a
 * dashboard shows the port against the original while the weights move.
 */
import { Buckets, collected, type Registry } from "../../src/internal";
import type { RouteSide } from "./route-table";

/**
 * Distinct method labels kept per service: method names come from callers, so a caller sending
 * made-up names must not grow the metrics without bound; the rest are counted under `_other`.
 */
export const MAX_ROUTE_METHOD_LABELS = 200;
const OTHER_METHOD = "_other";

class RouteSeries {
  readonly latency = new Buckets();
  readonly errors = new Map<string, number>();
  constructor(readonly labels: { service: string; method: string; side: RouteSide }) {}
}

/** `cliffracer_route_calls_total`, `cliffracer_route_errors_total` and `cliffracer_route_duration_seconds`. */
export class RouteMetrics {
  private readonly series = new Map<string, RouteSeries>();
  private readonly methods = new Map<string, Set<string>>();

  constructor(registry: Registry) {
    const all = (): RouteSeries[] => [...this.series.values()];
    collected(registry, "cliffracer_route_calls_total", "routed calls sent to a side", "counter", () =>
      all().map((s) => ({ labels: s.labels, value: s.latency.total })),
    );
    collected(registry, "cliffracer_route_errors_total", "routed calls that failed, by type", "counter", () =>
      all().flatMap((s) => [...s.errors].map(([type, value]) => ({ labels: { ...s.labels, type }, value }))),
    );
    collected(
      registry,
      "cliffracer_route_duration_seconds",
      "time a side took to answer a routed call",
      "histogram",
      () => all().flatMap((s) => s.latency.samples("cliffracer_route_duration_seconds", s.labels)),
    );
  }

  /** Records one call sent to `side` that took `seconds`; `errorType` when it failed. */
  record(service: string, method: string, side: RouteSide, seconds: number, errorType: string | undefined): void {
    const label = this.methodLabel(service, method);
    const key = `${service}\u0000${label}\u0000${side}`;
    let series = this.series.get(key);
    if (series === undefined) this.series.set(key, (series = new RouteSeries({ service, method: label, side })));
    series.latency.observe(seconds);
    if (errorType !== undefined) series.errors.set(errorType, (series.errors.get(errorType) ?? 0) + 1);
  }

  private methodLabel(service: string, method: string): string {
    let seen = this.methods.get(service);
    if (seen === undefined) this.methods.set(service, (seen = new Set()));
    if (seen.has(method)) return method;
    if (seen.size >= MAX_ROUTE_METHOD_LABELS) return OTHER_METHOD;
    seen.add(method);
    return method;
  }
}
