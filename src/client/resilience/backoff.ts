/** How a proxy retries a call to an idempotent method (docs/resilience.md, Retries). */
export interface RetryOptions {
  /** Attempts in all, the first one included (default 3). */
  maxAttempts?: number;
  /** Delay before the first retry in milliseconds, before jitter (default 100). */
  delayMs?: number;
  /** No delay exceeds this, in milliseconds (default 2000). */
  maxDelayMs?: number;
  /** Each retry waits this many times longer than the one before (default 2). */
  factor?: number;
}

/** RetryOptions with every default filled in. */
export type RetryPolicy = Readonly<Required<RetryOptions>>;

export const DEFAULT_RETRY: RetryPolicy = Object.freeze({ maxAttempts: 3, delayMs: 100, maxDelayMs: 2000, factor: 2 });

/**
 * The wait before retry number `retry` (1 for the first): exponential, capped, then jittered
 * between half and all of it, so callers that failed together do not retry together while each
 * still backs off. `random` returns a number in [0, 1).
 */
export function retryDelay(retry: number, policy: RetryPolicy, random: () => number): number {
  const base = Math.min(policy.maxDelayMs, policy.delayMs * policy.factor ** (retry - 1));
  return base / 2 + random() * (base / 2);
}
