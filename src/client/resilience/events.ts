import type { CircuitState } from "./circuit-breaker";

/** Fields every resilience event has: the remote service and method, and the calling worker's call id. */
interface EventBase {
  service: string;
  method: string;
  /** The call id of the worker (or standalone proxy) making the call, when it has one. */
  callId?: string;
}

/** Something a proxy's resilience policy did (docs/resilience.md, Logs and metrics). */
export type ResilienceEvent =
  | (EventBase & { type: "retry"; attempt: number; delayMs: number; error: string })
  | (EventBase & { type: "circuit"; from: CircuitState; to: CircuitState })
  | (EventBase & { type: "refused"; reason: "circuit-open" | "bulkhead-full" });

/** Receives every resilience event of the process. */
export type ResilienceListener = (event: ResilienceEvent) => void;

const listeners = new Set<ResilienceListener>();

/**
 * Receive every retry, circuit change and refusal of every proxy in the process, e.g. to count them
 * in a metrics registry; returns the function that stops it. A listener that throws is ignored.
 */
export function observeResilience(listener: ResilienceListener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function emitResilienceEvent(event: ResilienceEvent): void {
  for (const listener of listeners) {
    try {
      listener(event);
    } catch {
      // A metrics hook must never fail a call.
    }
  }
}
