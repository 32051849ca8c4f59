import { describeService, type ServiceClass } from "../core/metadata";

/** One recorded call on a stub: the property path and the arguments. */
export interface StubCall {
  path: string;
  args: unknown[];
}

/** A stand-in dependency: any property chain is callable, every call is recorded and resolves undefined. */
export type Stub = { readonly calls: StubCall[] } & { readonly [key: string]: unknown };

/** A Stub (Nameko's MagicMock, minus the magic): `stub.calls` lists what the code under test did. */
export function createStub(): Stub {
  const calls: StubCall[] = [];
  const node = (path: string): unknown =>
    new Proxy(function stub() {}, {
      get: (_t, prop) => {
        if (prop === "calls") return calls;
        if (typeof prop !== "string" || prop === "then") return undefined;
        return node(path ? `${path}.${prop}` : prop);
      },
      apply: (_t, _this, args: unknown[]) => {
        calls.push({ path, args });
        return Promise.resolve(undefined);
      },
    });
  return node("") as Stub;
}

/**
 * A service instance for unit tests without a broker (Nameko's worker_factory): every dependency
 * is the object given in `deps`, or a Stub.
 */
export function workerFactory<T extends object>(cls: ServiceClass<T>, deps: Record<string, unknown> = {}): T {
  const { dependencies } = describeService(cls);
  const instance = new cls() as Record<string, unknown>;
  for (const factory of dependencies) {
    const { attrName } = factory();
    instance[attrName] = attrName in deps ? deps[attrName] : createStub();
  }
  return instance as T;
}
