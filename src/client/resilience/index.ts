// Resilience policies of proxies: retries, circuit breaker, bulkhead (docs/resilience.md).
export { DEFAULT_RETRY, retryDelay, type RetryOptions, type RetryPolicy } from "./backoff";
export { Bulkhead, DEFAULT_BULKHEAD, type BulkheadOptions, type BulkheadPolicy } from "./bulkhead";
export {
  CircuitBreaker,
  DEFAULT_CIRCUIT_BREAKER,
  type Admission,
  type CallVerdict,
  type CircuitBreakerOptions,
  type CircuitBreakerPolicy,
  type CircuitState,
} from "./circuit-breaker";
export { observeResilience, type ResilienceEvent, type ResilienceListener } from "./events";
export { isTransientFailure } from "./failures";
export {
  checkResilienceOptions,
  ServicePolicy,
  type ResilienceClock,
  type ResilienceOptions,
  type ResilienceStats,
} from "./policy";
