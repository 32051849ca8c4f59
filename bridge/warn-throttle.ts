import type { Logger } from "../compat";
/**
 * Warnings that repeat for every message while a broker is away (one per refused call) are logged
 * once, then at most once per interval with how many were left out, so an outage does not flood
 * the log. Metrics still count every occurrence.
 */

/** Default interval between two lines of the same warning. */
export const WARN_INTERVAL_MS = 5_000;

/** Rate-limits warnings by key (e.g. service and failure kind). */
export class WarnThrottle {
  private readonly runs = new Map<string, { until: number; suppressed: number }>();

  constructor(
    private readonly log: Logger,
    private readonly intervalMs = WARN_INTERVAL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Log `message` unless the same `key` was logged less than the interval ago; the next line carries `suppressed`. */
  warn(key: string, message: string, meta: Record<string, unknown>): void {
    const t = this.now();
    const run = this.runs.get(key);
    if (run !== undefined && t < run.until) {
      run.suppressed++;
      return;
    }
    const suppressed = run?.suppressed ?? 0;
    this.runs.set(key, { until: t + this.intervalMs, suppressed: 0 });
    this.log.warn(message, suppressed > 0 ? { ...meta, suppressed } : meta);
  }
}
