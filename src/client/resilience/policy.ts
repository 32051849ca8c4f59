import { setTimeout as sleep } from "node:timers/promises";
import { BulkheadFull, CircuitOpen, ConfigurationError, describeError, type Logger } from "../../../compat";
import { DEFAULT_RETRY, retryDelay, type RetryOptions, type RetryPolicy } from "./backoff";
import { Bulkhead, DEFAULT_BULKHEAD, type BulkheadOptions, type BulkheadPolicy } from "./bulkhead";
import {
  CircuitBreaker,
  DEFAULT_CIRCUIT_BREAKER,
  type Admission,
  type CircuitBreakerOptions,
  type CircuitBreakerPolicy,
  type CircuitState,
} from "./circuit-breaker";
import { emitResilienceEvent } from "./events";
import { isTransientFailure } from "./failures";

/**
 * Resilience of a proxy to one service (docs/resilience.md). Nothing is on by default: without
 * these options a proxy behaves as Nameko's, one attempt and no breaker.
 */
export interface ResilienceOptions {
  /** Methods safe to run more than once; only these are ever retried. */
  idempotent?: readonly string[];
  /** Retry calls to the `idempotent` methods that time out or find no responder; `true` for the defaults. */
  retry?: RetryOptions | boolean;
  /** A circuit breaker for the service; `true` for the defaults. */
  circuitBreaker?: CircuitBreakerOptions | boolean;
  /** A limit on concurrent calls to the service; `true` for the defaults. */
  bulkhead?: BulkheadOptions | boolean;
}

/** Time and chance for a policy; tests give their own. */
export interface ResilienceClock {
  /** Milliseconds, monotonic. */
  now(): number;
  sleep(ms: number): Promise<void>;
  /** A number in [0, 1). */
  random(): number;
}

const SYSTEM_CLOCK: ResilienceClock = {
  now: () => performance.now(),
  sleep: (ms) => sleep(ms),
  random: Math.random,
};

/** Counters and state of one policy, for a metrics layer (docs/resilience.md, Logs and metrics). */
export interface ResilienceStats {
  service: string;
  /** The circuit's state; undefined without a breaker. */
  circuit?: CircuitState;
  /** Calls holding a bulkhead slot, and waiting for one; undefined without a bulkhead. */
  running?: number;
  queued?: number;
  /** Attempts sent (retries included). */
  attempts: number;
  /** Attempts that timed out, found no responder or lost their connection. */
  failures: number;
  retries: number;
  refusedCircuitOpen: number;
  refusedBulkheadFull: number;
}

/** The resilience policy of a proxy to one service: wraps each call attempt; shared by every proxy object made for it. */
export class ServicePolicy {
  private readonly idempotent: ReadonlySet<string>;
  private readonly retry?: RetryPolicy;
  private readonly breaker?: CircuitBreaker;
  private readonly bulkhead?: Bulkhead;
  private readonly counters = { attempts: 0, failures: 0, retries: 0, refusedCircuitOpen: 0, refusedBulkheadFull: 0 };

  private constructor(
    readonly service: string,
    idempotent: readonly string[],
    policies: Policies,
    private readonly log: Logger,
    private readonly clock: ResilienceClock,
  ) {
    this.idempotent = new Set(idempotent);
    this.retry = policies.retry;
    if (policies.breaker) this.breaker = new CircuitBreaker(policies.breaker, () => clock.now());
    if (policies.bulkhead) this.bulkhead = new Bulkhead(policies.bulkhead);
  }

  /**
   * The policy for `service`, or undefined when the options turn nothing on (calls then go straight
   * to the client, as Nameko's do). Throws ConfigurationError for options that cannot work.
   */
  static of(
    service: string,
    options: ResilienceOptions,
    log: Logger,
    clock: ResilienceClock = SYSTEM_CLOCK,
  ): ServicePolicy | undefined {
    const idempotent = options.idempotent ?? [];
    const policies = policiesOf(options);
    validate(service, idempotent, policies);
    if (!policies.retry && !policies.breaker && !policies.bulkhead) return undefined;
    return new ServicePolicy(service, idempotent, policies, log, clock);
  }

  /** Counters and state now. */
  stats(): ResilienceStats {
    return {
      service: this.service,
      circuit: this.breaker?.state,
      running: this.bulkhead?.running,
      queued: this.bulkhead?.queued,
      ...this.counters,
    };
  }

  /**
   * Run `send` (one attempt of a call to `method`) under the policy: refused at once with
   * CircuitOpen or BulkheadFull; retried with backoff after a transient failure when `method` is
   * idempotent and retries are on; any other error, and every error of a method not declared
   * idempotent, is the caller's after one attempt.
   */
  async call<T>(method: string, callId: string | undefined, send: () => Promise<T>): Promise<T> {
    const attempts = this.retry !== undefined && this.idempotent.has(method) ? this.retry.maxAttempts : 1;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.attempt(method, callId, send);
      } catch (err) {
        if (attempt >= attempts || !isTransientFailure(err)) throw err;
        const delayMs = Math.round(retryDelay(attempt, this.retry!, this.clock.random));
        const error = describeError(err);
        this.counters.retries++;
        this.log.warn("rpc call retried", {
          service: this.service,
          method,
          call_id: callId,
          attempt: attempt + 1,
          delay_ms: delayMs,
          error,
        });
        emitResilienceEvent({
          type: "retry",
          service: this.service,
          method,
          callId,
          attempt: attempt + 1,
          delayMs,
          error,
        });
        await this.clock.sleep(delayMs);
      }
    }
  }

  private async attempt<T>(method: string, callId: string | undefined, send: () => Promise<T>): Promise<T> {
    const admission = this.admit(method, callId);
    if (this.bulkhead) {
      const slot = this.bulkhead.acquire();
      if (slot === undefined) {
        if (admission !== undefined) this.record(admission, "neutral", method, callId);
        this.counters.refusedBulkheadFull++;
        this.log.debug("rpc call refused: bulkhead full", { service: this.service, method, call_id: callId });
        emitResilienceEvent({ type: "refused", reason: "bulkhead-full", service: this.service, method, callId });
        throw new BulkheadFull(this.service, this.bulkhead.policy.concurrency, this.bulkhead.policy.maxQueue);
      }
      await slot;
    }
    this.counters.attempts++;
    try {
      const result = await send();
      if (admission !== undefined) this.record(admission, "success", method, callId);
      return result;
    } catch (err) {
      const failed = isTransientFailure(err);
      if (failed) this.counters.failures++;
      if (admission !== undefined) this.record(admission, failed ? "failure" : "success", method, callId);
      throw err;
    } finally {
      this.bulkhead?.release();
    }
  }

  /** The breaker's admission (undefined without a breaker); throws CircuitOpen when it refuses. */
  private admit(method: string, callId: string | undefined): Exclude<Admission, "refuse"> | undefined {
    const breaker = this.breaker;
    if (breaker === undefined) return undefined;
    const before = breaker.state;
    const admission = breaker.admit();
    this.changed(before, method, callId);
    if (admission !== "refuse") return admission;
    this.counters.refusedCircuitOpen++;
    this.log.debug("rpc call refused: circuit open", { service: this.service, method, call_id: callId });
    emitResilienceEvent({ type: "refused", reason: "circuit-open", service: this.service, method, callId });
    throw new CircuitOpen(this.service);
  }

  private record(
    admission: Exclude<Admission, "refuse">,
    verdict: "success" | "failure" | "neutral",
    method: string,
    callId: string | undefined,
  ): void {
    const before = this.breaker!.state;
    this.breaker!.record(admission, verdict);
    this.changed(before, method, callId);
  }

  /** Log and emit a change of the circuit's state, with the call that caused it. */
  private changed(from: CircuitState, method: string, callId: string | undefined): void {
    const to = this.breaker!.state;
    if (to === from) return;
    const meta = { service: this.service, method, call_id: callId, from, to };
    if (to === "open") this.log.warn("circuit opened", meta);
    else this.log.info(to === "closed" ? "circuit closed" : "circuit half-open", meta);
    emitResilienceEvent({ type: "circuit", service: this.service, method, callId, from, to });
  }
}

/** Throw ConfigurationError now for resilience options that cannot work (a decorator checks them when the class is defined). */
export function checkResilienceOptions(service: string, options: ResilienceOptions): void {
  validate(service, options.idempotent ?? [], policiesOf(options));
}

function policiesOf(options: ResilienceOptions): Policies {
  return {
    retry: resolve(options.retry, DEFAULT_RETRY),
    breaker: resolve(options.circuitBreaker, DEFAULT_CIRCUIT_BREAKER),
    bulkhead: resolve(options.bulkhead, DEFAULT_BULKHEAD),
  };
}

/** The policies a ServicePolicy applies, defaults filled in; undefined when off. */
interface Policies {
  retry?: RetryPolicy;
  breaker?: CircuitBreakerPolicy;
  bulkhead?: BulkheadPolicy;
}

/** The options of one policy with defaults filled in (keys given as undefined keep theirs), or undefined when off. */
function resolve<T extends object>(value: Partial<T> | boolean | undefined, defaults: T): T | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return defaults;
  return { ...defaults, ...Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) };
}

/** Refuse options that cannot work, naming the service and the option. */
function validate(service: string, idempotent: readonly string[], { retry, breaker, bulkhead }: Policies): void {
  const fail = (what: string) => {
    throw new ConfigurationError(`resilience of the proxy to ${service}: ${what}`);
  };
  if (retry) {
    if (!Number.isInteger(retry.maxAttempts) || retry.maxAttempts < 1) fail("retry.maxAttempts must be an integer ≥ 1");
    if (!(retry.delayMs >= 0) || !(retry.maxDelayMs >= 0)) fail("retry delays must be ≥ 0");
    if (!(retry.factor >= 1)) fail("retry.factor must be ≥ 1");
    if (idempotent.length === 0) fail("retry is on but no method is declared idempotent");
  }
  if (breaker) {
    if (!(breaker.threshold > 0 && breaker.threshold <= 1)) fail("circuitBreaker.threshold must be in (0, 1]");
    if (!Number.isInteger(breaker.minRequestCount) || breaker.minRequestCount < 1)
      fail("circuitBreaker.minRequestCount must be an integer ≥ 1");
    if (!(breaker.windowMs > 0)) fail("circuitBreaker.windowMs must be > 0");
    if (!(breaker.halfOpenAfterMs >= 0)) fail("circuitBreaker.halfOpenAfterMs must be ≥ 0");
  }
  if (bulkhead) {
    if (!Number.isInteger(bulkhead.concurrency) || bulkhead.concurrency < 1)
      fail("bulkhead.concurrency must be an integer ≥ 1");
    if (!Number.isInteger(bulkhead.maxQueue) || bulkhead.maxQueue < 0) fail("bulkhead.maxQueue must be an integer ≥ 0");
  }
}
