import type { ServiceContainer, WorkerEvent } from "../core/service-container";
import { findEntrypoint } from "./entrypoint-hook";
import { EntrypointWaiterTimeout } from "./errors";
import type { MethodName } from "./types";

/** Options of entrypointWaiter. */
export interface EntrypointWaiterOptions {
  timeoutMs?: number;
  /** Keep waiting until this returns true for a finished worker (Nameko's callback). */
  until?: (event: WorkerEvent) => boolean;
}

/**
 * Resolve once a worker of `methodName` has finished, its dependencies' teardown included (Nameko's
 * entrypoint_waiter); reject with EntrypointWaiterTimeout after `timeoutMs` (default 30 s). Create it
 * before triggering the entrypoint:
 * `const done = entrypointWaiter(c, "onPayment"); ...; await done`.
 */
export function entrypointWaiter<T extends object>(
  container: ServiceContainer<T>,
  methodName: MethodName<T>,
  options: EntrypointWaiterOptions = {},
): Promise<WorkerEvent> {
  findEntrypoint(container, methodName);
  const { timeoutMs = 30_000, until = () => true } = options;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stop();
      reject(new EntrypointWaiterTimeout(container.serviceName, methodName, timeoutMs));
    }, timeoutMs);
    const stop = container.observeWorkers((event) => {
      // By method name: a method may have several entrypoints (@rpc and @timer), as in Nameko.
      if (event.entrypoint.methodName !== methodName || !until(event)) return;
      clearTimeout(timer);
      stop();
      resolve(event);
    });
  });
}
