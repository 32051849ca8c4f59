import "reflect-metadata";
import { describeError, validateName } from "../../compat";
import { ServiceDefinitionError } from "../errors";
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
  for (let p: object | null = cls.prototype; p && p !== Object.prototype; p = Object.getPrototypeOf(p))
    chain.unshift(p);
  return chain.flatMap((p) => (Reflect.getOwnMetadata(key, p) as T[] | undefined) ?? []);
}

/** A validated description of a service class. */
export interface ServiceDescription {
  name: string;
  cls: ServiceClass;
  entrypoints: EntrypointFactory[];
  dependencies: DependencyFactory[];
}

/** True when a class has at least one decorated entrypoint (used by `cliffracer run` to find services). */
export function hasEntrypoints(cls: unknown): cls is ServiceClass {
  return (
    typeof cls === "function" && cls.prototype !== undefined && collect(ENTRYPOINTS, cls as ServiceClass).length > 0
  );
}

/** The declared `name` of a service class, unvalidated: a static `serviceName`, else the `name` field of an instance. */
export function serviceNameOf(cls: ServiceClass): unknown {
  const staticName = (cls as unknown as { serviceName?: unknown }).serviceName;
  if (staticName !== undefined) return staticName;
  // Nameko reads the class attribute; in TypeScript `name = "x"` is an instance field (the class's own
  // static `name` is its JavaScript identifier), so one throwaway instance tells us.
  let instance: { name?: unknown };
  try {
    instance = new cls() as { name?: unknown };
  } catch (err) {
    throw new ServiceDefinitionError(
      `Service class ${cls.name} could not be instantiated to read its name: ${String(err)}`,
    );
  }
  return instance.name;
}

/** Validate a service class once, at start-up: a usable `name`, and its recorded extensions. */
export function describeService(cls: ServiceClass): ServiceDescription {
  if (typeof cls !== "function") throw new ServiceDefinitionError(`Not a service class: ${String(cls)}`);
  const name = serviceNameOf(cls);
  if (typeof name !== "string" || name === "") {
    throw new ServiceDefinitionError(
      `Service class ${cls.name} has no name: declare \`name = "my_service"\` on the class (Nameko's service name)`,
    );
  }
  try {
    validateName("service", name);
  } catch (err) {
    throw new ServiceDefinitionError(`Service class ${cls.name} has an invalid name: ${describeError(err)}`);
  }
  return {
    name,
    cls,
    entrypoints: collect<EntrypointFactory>(ENTRYPOINTS, cls),
    dependencies: collect<DependencyFactory>(DEPENDENCIES, cls),
  };
}

export { collect as collectMetadata, ENTRYPOINTS, DEPENDENCIES };
