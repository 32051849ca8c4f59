// Type tests of cliffracer/testing (docs/typed-proxies.md, Type tests). Checked by `npm run test:types`, never
// run: hooks and mocks are typed from the service class, and every `@ts-expect-error` must not compile.
import { expectTypeOf } from "expect-type";
import type { MockedFunction } from "jest-mock";
import { kwargs, ServiceContainer, ServiceRunner, type Dispatch, type ServiceProxy } from "cliffracer";
import {
  createMock,
  entrypointHook,
  entrypointWaiter,
  getContainer,
  replaceDependencies,
  restrictEntrypoints,
  workerFactory,
  type AnyMock,
} from "cliffracer/testing";
import { GreetingService, type UserApi } from "../../examples/greeting/greeting-service";

declare const container: ServiceContainer<GreetingService>;

// entrypointHook: arguments and awaited result from the method.
const hello = entrypointHook(container, "hello");
expectTypeOf(hello("Ada")).toEqualTypeOf<Promise<string>>();
expectTypeOf(hello("Ada", "?")).toEqualTypeOf<Promise<string>>();
expectTypeOf(hello("Ada", kwargs({ punctuation: "?" }))).toEqualTypeOf<Promise<string>>();
expectTypeOf(entrypointHook(container, "greet_user")(1)).toEqualTypeOf<Promise<string>>();
// @ts-expect-error hello takes a string
void hello(1);
// @ts-expect-error greet_user takes one argument
void entrypointHook(container, "greet_user")();
// @ts-expect-error no method of that name
entrypointHook(container, "helo");
// @ts-expect-error a dependency is not an entrypoint
entrypointHook(container, "users");

// The untyped form keeps working: any method name, any arguments, an unknown result.
declare const untyped: ServiceContainer;
expectTypeOf(entrypointHook(untyped, "anything")(1, "two")).toEqualTypeOf<Promise<unknown>>();

// A container made from the class, or found in a runner, is typed from it.
const made = new ServiceContainer(GreetingService);
expectTypeOf(made).toEqualTypeOf<ServiceContainer<GreetingService>>();
expectTypeOf(getContainer(new ServiceRunner(), GreetingService)).toEqualTypeOf<ServiceContainer<GreetingService>>();
void entrypointWaiter(made, "hello");
// @ts-expect-error no method of that name
void entrypointWaiter(made, "helo");

// workerFactory: the instance typed as the class, a stubbed dependency typed as its mock.
const service = workerFactory(GreetingService);
expectTypeOf(service.hello).toEqualTypeOf<(name: string, punctuation?: string) => string>();
expectTypeOf(service.greet_user).returns.toEqualTypeOf<Promise<string>>();
expectTypeOf(service.users.get_user).toExtend<MockedFunction<(userId: number) => Promise<{ name: string }>>>();
service.users.get_user.mockResolvedValue({ name: "Grace" });
// @ts-expect-error the mock resolves to what UserApi.get_user returns
service.users.get_user.mockResolvedValue({ id: 1 });
// A given dependency is typed as given.
const users = { get_user: async (id: number) => ({ id, name: "Grace" }) };
expectTypeOf(workerFactory(GreetingService, { users }).users).toEqualTypeOf(users);
// @ts-expect-error not a property of GreetingService
workerFactory(GreetingService, { user: users });

// replaceDependencies: one mock per name, typed from the property.
const [proxy] = replaceDependencies(made, "users");
expectTypeOf(proxy.get_user).toExtend<MockedFunction<(userId: number) => Promise<{ name: string }>>>();
replaceDependencies(made, { users });
// @ts-expect-error not a property of GreetingService
replaceDependencies(made, "user");
// @ts-expect-error not a property of GreetingService
replaceDependencies(made, { user: users });
restrictEntrypoints(made, "hello", "welcome");
// @ts-expect-error no method of that name
restrictEntrypoints(made, "helo");

// createMock: typed from what it stands in for, or AnyMock.
expectTypeOf(createMock<Dispatch>()).toExtend<MockedFunction<Dispatch>>();
expectTypeOf(createMock<ServiceProxy<UserApi>>().get_user).toExtend<
  MockedFunction<(userId: number) => Promise<{ name: string }>>
>();
expectTypeOf(createMock()).toEqualTypeOf<AnyMock>();
// An untyped proxy's names come from an index signature: under noUncheckedIndexedAccess, `!` them.
expectTypeOf(createMock<ServiceProxy>()["anything"]!).toExtend<
  MockedFunction<(...args: unknown[]) => Promise<unknown>>
>();
