import type { DependencyProvider } from "../core/extension";
import type { ServiceContainer } from "../core/service-container";
import { ExtensionNotFound } from "./errors";
import { createMock, type DependencyMock } from "./mocks";
import type { Injections, NoUnknownKeys, PropertyName, Untyped } from "./types";

/** The mocks replaceDependencies returns for `names`, in order. */
export type DependencyMocks<T, N extends readonly string[]> = {
  [I in keyof N]: Untyped<T> extends true ? DependencyMock<object> : DependencyMock<T[N[I] & keyof T]>;
};

/**
 * Before start, replace dependencies of a container by jest mocks (createMock) injected into every
 * worker, and return the mocks in the order named (Nameko's replace_dependencies; always an array):
 * `const [payments, dispatch] = replaceDependencies(container, "payments", "dispatch")`.
 */
export function replaceDependencies<T extends object, const N extends readonly PropertyName<T>[]>(
  container: ServiceContainer<T>,
  ...names: N
): DependencyMocks<T, N>;
/**
 * Before start, replace dependencies by the values given under their property names (Nameko's
 * `replace_dependencies(container, name=value)`): `replaceDependencies(container, { db: testDb })`.
 */
export function replaceDependencies<T extends object, D extends Injections<T> & object>(
  container: ServiceContainer<T>,
  replacements: D & NoUnknownKeys<D, T>,
): void;
export function replaceDependencies(
  container: ServiceContainer,
  ...args: Array<string | Record<string, unknown>>
): unknown[] | void {
  const names = args.filter((a): a is string => typeof a === "string");
  const given: Record<string, unknown> = Object.assign({}, ...args.filter((a) => typeof a !== "string"));
  const replacements = new Map<string, unknown>(names.map((name) => [name, createMock(name)]));
  for (const [name, value] of Object.entries(given)) replacements.set(name, value);
  const known = container.dependencies.map((d) => d.attrName);
  const missing = [...replacements.keys()].filter((name) => !known.includes(name));
  if (missing.length > 0) throw new ExtensionNotFound("dependency", missing, known, container.serviceName);
  const dependencies = container.dependencies.map((d) =>
    replacements.has(d.attrName) ? constantDependency(d.attrName, replacements.get(d.attrName)) : d,
  );
  container.replaceExtensions(container.entrypoints, dependencies);
  if (names.length > 0) return names.map((name) => replacements.get(name));
}

/** A provider injecting the same value into every worker (Nameko's MockDependencyProvider). */
function constantDependency(attrName: string, value: unknown): DependencyProvider {
  return { attrName, getDependency: () => value };
}
