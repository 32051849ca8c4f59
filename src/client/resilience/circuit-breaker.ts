/** `closed`: calls go through; `open`: refused at once; `half-open`: one probe call goes through. */
export type CircuitState = "closed" | "open" | "half-open";

/** When a proxy's circuit to a service opens and when it tries again (docs/resilience.md, Circuit breaker). */
export interface CircuitBreakerOptions {
  /** Share of failed calls in a window that opens the circuit, in (0, 1] (default 0.5). */
  threshold?: number;
  /** Calls a window must have seen before its failures can open the circuit (default 20). */
  minRequestCount?: number;
  /** Length of a counting window in milliseconds; counts start again after it (default 60000). */
  windowMs?: number;
  /** How long the circuit stays open before it lets one probe call through, in milliseconds (default 10000). */
  halfOpenAfterMs?: number;
}

/** CircuitBreakerOptions with every default filled in. */
export type CircuitBreakerPolicy = Readonly<Required<CircuitBreakerOptions>>;

export const DEFAULT_CIRCUIT_BREAKER: CircuitBreakerPolicy = Object.freeze({
  threshold: 0.5,
  minRequestCount: 20,
  windowMs: 60_000,
  halfOpenAfterMs: 10_000,
});

/** What the breaker lets a call do: go, go as the half-open probe, or be refused. */
export type Admission = "call" | "probe" | "refuse";

/**
 * How a call ended for the breaker: `failure` (the service did not answer: timeout, no responder,
 * transport), `success` (it answered, even with an error), `neutral` (the call never left).
 */
export type CallVerdict = "success" | "failure" | "neutral";

/**
 * The state machine of one circuit, on an injected clock so it is tested without waiting.
 * closed → open when, within a window of `windowMs`, at least `minRequestCount` calls ended and the
 * failed share reached `threshold`; open → half-open on the first call `halfOpenAfterMs` later, which
 * is the probe (others are refused while it runs); half-open → closed when the probe succeeds, back
 * to open when it fails.
 */
export class CircuitBreaker {
  private current: CircuitState = "closed";
  private windowStart: number;
  private calls = 0;
  private failures = 0;
  private openedAt = 0;
  private probing = false;

  constructor(
    private readonly policy: CircuitBreakerPolicy,
    private readonly now: () => number,
  ) {
    this.windowStart = now();
  }

  /** The state as of the last call admitted or recorded: an open circuit turns half-open only when a call comes. */
  get state(): CircuitState {
    return this.current;
  }

  /** Whether a call may go now; a `probe` or `call` admission must be given back to record(). */
  admit(): Admission {
    if (this.current === "closed") return "call";
    if (this.current === "open") {
      if (this.now() - this.openedAt < this.policy.halfOpenAfterMs) return "refuse";
      this.current = "half-open";
    }
    if (this.probing) return "refuse";
    this.probing = true;
    return "probe";
  }

  /** The end of a call admitted with `admission`. */
  record(admission: Exclude<Admission, "refuse">, verdict: CallVerdict): void {
    if (admission === "probe") {
      this.probing = false;
      if (verdict === "success") this.close();
      else if (verdict === "failure") this.open();
      return;
    }
    // A call admitted while closed that ends after the circuit opened says nothing new.
    if (this.current !== "closed" || verdict === "neutral") return;
    const now = this.now();
    if (now - this.windowStart >= this.policy.windowMs) this.resetWindow(now);
    this.calls++;
    if (verdict === "failure") this.failures++;
    if (this.calls >= this.policy.minRequestCount && this.failures / this.calls >= this.policy.threshold) this.open();
  }

  private open(): void {
    this.current = "open";
    this.openedAt = this.now();
  }

  private close(): void {
    this.current = "closed";
    this.resetWindow(this.now());
  }

  private resetWindow(now: number): void {
    this.windowStart = now;
    this.calls = 0;
    this.failures = 0;
  }
}
