import { describeService, type ServiceClass } from "../core/metadata";
import { ExtensionNotFound } from "./errors";
import { createMock, type DependencyMock } from "./mocks";
import type { Injections, NoUnknownKeys } from "./types";

/**
 * The service instance workerFactory returns: a given injection is typed as given; another property
 * holding an object is typed as its mock (it is one, when it is a dependency); methods and plain
 * values keep their types. A stubbed dependency typed as a function (an EventDispatcher's Dispatch)
 * keeps its type: reach its mock API with `jest.mocked(service.dispatch)`.
 */
export type WorkerInstance<T, D> = {
  [K in keyof T]: K extends keyof D
    ? D[K]
    : T[K] extends (...args: never[]) => unknown
      ? T[K]
      : T[K] extends object
        ? DependencyMock<T[K]>
        : T[K];
};

/**
 * A service instance for unit tests, without a broker (Nameko's worker_factory): each dependency is
 * the value given in `deps` under its property name, or a jest mock (createMock). A name in `deps`
 * that is not a dependency of the class throws ExtensionNotFound, naming the dependencies it has.
 */
export function workerFactory<T extends object, D extends Injections<T> = Record<never, never>>(
  cls: ServiceClass<T>,
  deps?: D & NoUnknownKeys<D, T>,
): WorkerInstance<T, D> {
  const description = describeService(cls);
  const names = description.dependencies.map((factory) => factory().attrName);
  const given: Record<string, unknown> = deps ?? {};
  const unknown = Object.keys(given).filter((name) => !names.includes(name));
  if (unknown.length > 0) throw new ExtensionNotFound("dependency", unknown, names, cls.name);
  const instance = new cls() as Record<string, unknown>;
  for (const name of names) instance[name] = Object.hasOwn(given, name) ? given[name] : createMock(name);
  return instance as WorkerInstance<T, D>;
}
