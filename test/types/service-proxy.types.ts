// Type tests of proxies (docs/typed-proxies.md). Checked by `npm run test:types`, never run: every
// `@ts-expect-error` below is a call that must not compile, and tsc fails if it ever does compile.
import { expectTypeOf } from "expect-type";
import { ClusterRpcProxy, kwargs, KwArgs, rpc, RpcProxy, type ServiceProxy } from "cliffracer";

interface User {
  id: number;
  name: string;
}

/** What a caller declares about the `users` service. */
interface UsersApi {
  get_user(id: number): User;
  find(name: string, kw?: KwArgs<{ exact?: boolean; limit?: number }>): User[];
  add(...args: [a: number, b: number] | [kw: KwArgs<{ a: number; b: number }>]): number;
  /** Named like a proxy method: reached through `call("publish", ...)`. */
  publish(topic: string): void;
}

/** A service class used as its own API: only its methods count, async results are unwrapped. */
class UsersService {
  name = "users";
  @RpcProxy("accounts") accounts!: ServiceProxy;

  @rpc()
  async get_user(id: number): Promise<User> {
    return { id, name: `user ${id}` };
  }

  @rpc()
  greet(name: string, punctuation = "!"): string {
    return `Hello, ${name}${punctuation}`;
  }
}

declare const users: ServiceProxy<UsersApi>;
declare const cluster: ClusterRpcProxy;

// Results are the declared ones, awaited.
expectTypeOf(users.get_user(1)).toEqualTypeOf<Promise<User>>();
expectTypeOf(users.find("ada")).toEqualTypeOf<Promise<User[]>>();
expectTypeOf(users.add(1, 2)).toEqualTypeOf<Promise<number>>();
expectTypeOf(users.call("publish", "news")).toEqualTypeOf<Promise<void>>();

// Keyword arguments are checked against the KwArgs<...> the method declares.
expectTypeOf(users.find("ada", kwargs({ exact: true }))).toEqualTypeOf<Promise<User[]>>();
expectTypeOf(users.add(kwargs({ a: 1, b: 2 }))).toEqualTypeOf<Promise<number>>();
expectTypeOf(users.callKw("find", ["ada"], { limit: 5 })).toEqualTypeOf<Promise<User[]>>();
expectTypeOf(users.withOptions({ timeoutMs: 500 }).get_user(1)).toEqualTypeOf<Promise<User>>();
users.publish("get_user", [1]);

// @ts-expect-error wrong argument type
void users.get_user("1");
// @ts-expect-error missing argument
void users.get_user();
// @ts-expect-error unknown method on a typed proxy
void users.get_usr(1);
// @ts-expect-error unknown method through call()
void users.call("get_usr", 1);
// @ts-expect-error a result used as what it is not
const _wrongUse: Promise<string> = users.get_user(1);
// @ts-expect-error a misspelled keyword
void users.find("ada", kwargs({ exakt: true }));
// @ts-expect-error a keyword of the wrong type
void users.find("ada", kwargs({ limit: "5" }));
// @ts-expect-error a required keyword missing
void users.add(kwargs({ a: 1 }));
// @ts-expect-error keywords on a method that declares none
void users.get_user(kwargs({ id: 1 }));
// @ts-expect-error callKw keywords are checked too
void users.callKw("find", ["ada"], { limt: 5 });
// @ts-expect-error `exactOptionalPropertyTypes`: an optional option is left out, never undefined
void users.withOptions({ timeoutMs: undefined });

// The service class itself as the API: methods only, with Promise<R> awaited once.
const fromClass = cluster.service<UsersService>("users");
expectTypeOf(fromClass.get_user(1)).toEqualTypeOf<Promise<User>>();
expectTypeOf(fromClass.greet("Ada", "?")).toEqualTypeOf<Promise<string>>();
// @ts-expect-error a field of the class is not a remote method
void fromClass.name;
// @ts-expect-error nor is a dependency
void fromClass.accounts;

// Inside a service: the decorated property takes the typed form.
class Greeter {
  name = "greeter";
  @RpcProxy("users") users!: ServiceProxy<UsersApi>;

  @rpc()
  async greet(id: number): Promise<string> {
    const user = await this.users.get_user(id);
    expectTypeOf(user).toEqualTypeOf<User>();
    return `Hello, ${user.name}`;
  }
}
void Greeter;

// The untyped form keeps working: any name, unknown results, kwargs() of any shape.
declare const untyped: ServiceProxy;
expectTypeOf(untyped.call("anything", 1, kwargs({ verbose: true }))).toEqualTypeOf<Promise<unknown>>();
expectTypeOf(untyped.callKw("anything", [1], { verbose: true })).toEqualTypeOf<Promise<unknown>>();
expectTypeOf(cluster.service("users")).toEqualTypeOf<ServiceProxy>();
// Its method names come from an index signature, so under noUncheckedIndexedAccess TypeScript
// adds `undefined` to them: reach them through call(), or give the proxy a type.
// @ts-expect-error possibly undefined under noUncheckedIndexedAccess
void untyped.anything(1);
expectTypeOf(untyped.withOptions({ timeoutMs: 1 })).toEqualTypeOf<ServiceProxy>();
