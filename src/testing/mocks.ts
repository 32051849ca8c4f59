import type * as JestMock from "jest-mock";
import type { Mock, Mocked, ModuleMocker } from "jest-mock";
import { JestMockMissing } from "./errors";

/**
 * A mock of a dependency whose type is not known: callable, and every property is such a mock
 * (Nameko's MagicMock).
 */
export type AnyMock = Mock<(...args: unknown[]) => unknown> & { readonly [name: string]: AnyMock };

/** The mock standing in for a dependency of type `T`: jest-mock's `Mocked<T>`, or AnyMock when `T` is not known. */
export type DependencyMock<T> = object extends T ? AnyMock : Mocked<T>;

/**
 * Properties a mock never grows: `then` (so awaiting a mock does not hang) and what jest and Node
 * probe on a value to tell what it is (`calls`: jest takes a value with `calls.all()` for a jasmine
 * spy). Assign one to use it: `users.calls = jest.fn()`.
 */
const NOT_CHILDREN = new Set([
  "then",
  "calls",
  "asymmetricMatch",
  "$$typeof",
  "nodeType",
  "toJSON",
  "@@__IMMUTABLE_ITERABLE__@@",
  "@@__IMMUTABLE_RECORD__@@",
]);

let mocker: ModuleMocker | undefined;

/** jest-mock is an optional peer dependency: loaded on first use, so cliffracer/testing imports without it. */
function jestMock(): ModuleMocker {
  if (mocker) return mocker;
  let mod: typeof JestMock;
  try {
    // A synchronous, lazy load: workerFactory is synchronous, and a static import would fail without jest-mock.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    mod = require("jest-mock") as typeof JestMock;
  } catch (err) {
    throw new JestMockMissing(err);
  }
  return (mocker = new mod.ModuleMocker(globalThis));
}

/**
 * A jest mock function whose properties are jest mocks too, made on first access and kept
 * (Nameko's MagicMock): `users.get_user.mockResolvedValue(user)`, then
 * `expect(users.get_user).toHaveBeenCalledWith(1)`. Calls return undefined unless told otherwise.
 */
export function createMock<T extends object = object>(name = "mock"): DependencyMock<T> {
  return mockNode(jestMock(), name) as unknown as DependencyMock<T>;
}

function mockNode(jest: ModuleMocker, name: string): Mock {
  const fn = jest.fn().mockName(name);
  const children = new Map<string, Mock>();
  return new Proxy(fn, {
    get(target, prop, receiver) {
      // The mock's own API (mock, mockReturnValue, ...) and what every function has stay as they are.
      if (typeof prop === "symbol" || prop in target) return Reflect.get(target, prop, receiver) as unknown;
      if (NOT_CHILDREN.has(prop)) return undefined;
      let child = children.get(prop);
      if (!child) children.set(prop, (child = mockNode(jest, `${name}.${prop}`)));
      return child;
    },
  });
}
