import "reflect-metadata";
import type { DependencyProvider, Entrypoint } from "./extension";

/** Metadata keys; decorators only record under these, describeService() reads them once. */
const ENTRYPOINTS = Symbol.for("cliffracer:entrypoints");
const DEPENDENCIES = Symbol.for("cliffracer:dependencies");

/** Builds a fresh entrypoint for one container. */
export type EntrypointFactory = () => Entrypoint;
/** Builds a fresh dependency provider for one container. */
export type DependencyFactory = () => DependencyProvider;

/** A service class: anything constructible whose instances carry a `name`. */
export type ServiceClass<T = object> = new () => T;

/** Record an entrypoint factory for a method of a service class (called by decorators). */
export function registerEntrypoint(prototype: object, factory: EntrypointFactory): void {
  const list: EntrypointFactory[] = Reflect.getOwnMetadata(ENTRYPOINTS, prototype) ?? [];
  Reflect.defineMetadata(ENTRYPOINTS, [...list, factory], prototype);
}

/** Record a dependency factory for a property of a service class (called by decorators). */
export function registerDependency(prototype: object, factory: DependencyFactory): void {
  const list: DependencyFactory[] = Reflect.getOwnMetadata(DEPENDENCIES, prototype) ?? [];
  Reflect.defineMetadata(DEPENDENCIES, [...list, factory], prototype);
}

/** Factories recorded on a class and its ancestors, base classes first. */
function collect<T>(key: symbol, cls: ServiceClass): T[] {
  const chain: object[] = [];
  for (let p: object | null = cls.prototype; p && p !== Object.prototype; p = Object.getPrototypeOf(p)) chain.unshift(p);
  return chain.flatMap((p) => (Reflect.getOwnMetadata(key, p) as T[] | undefined) ?? []);
}

/** A validated description of a service class. */
export interface ServiceDescription {
  name: string;
  cls: ServiceClass;
  entrypoints: EntrypointFactory[];
  dependencies: DependencyFactory[];
}

export { collect as collectMetadata, ENTRYPOINTS, DEPENDENCIES };
