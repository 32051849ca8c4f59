import type { ServiceContainer } from "../core/service-container";
import { ExtensionNotFound } from "./errors";
import type { MethodName } from "./types";

/**
 * Before start, keep only the entrypoints of the named methods (Nameko's restrict_entrypoints): the
 * others never start, so a timer does not fire and an event handler does not consume. Every
 * entrypoint of a named method is kept (`@rpc` and `@timer` on one method cannot be told apart).
 */
export function restrictEntrypoints<T extends object>(
  container: ServiceContainer<T>,
  ...methodNames: MethodName<T>[]
): void {
  const known = [...new Set(container.entrypoints.map((e) => e.methodName))];
  const missing = methodNames.filter((name) => !known.includes(name));
  if (missing.length > 0) throw new ExtensionNotFound("entrypoint", missing, known, container.serviceName);
  const kept = container.entrypoints.filter((e) => (methodNames as string[]).includes(e.methodName));
  container.replaceExtensions(kept, container.dependencies);
}
