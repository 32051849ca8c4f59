// Argument binding and error replies of @rpc methods, called through the runtime's own client.
import { IsInt, IsString, Min, MinLength, ValidateNested } from "class-validator";
import { Type } from "class-transformer";
import {
  IncorrectSignature,
  kwargs,
  MethodNotFound,
  namekoError,
  RemoteError,
  rpc,
  UnserializableValueError,
  ValidationFailed,
  ValueError,
} from "cliffracer";
import type { RpcClient } from "../../../src/client/rpc-client";
import { NatsFixture } from "../../helpers/brokers";

@namekoError("calc_errors.Overdrawn")
class Overdrawn extends Error {
  constructor(readonly account: string) {
    super(account);
    this.name = "Overdrawn";
  }
}

class Address {
  @IsString()
  @MinLength(2)
  city!: string;
}

class NewUser {
  @IsString()
  @MinLength(3)
  name!: string;

  @IsInt()
  @Min(0)
  age!: number;

  @ValidateNested()
  @Type(() => Address)
  address!: Address;
}

class Calc {
  name = "calc";

  @rpc()
  add(a: number, b: number) {
    return a + b;
  }

  @rpc()
  greet(name: string, punctuation = "!", times = 1) {
    return `Hello, ${name}${punctuation}`.repeat(times);
  }

  @rpc()
  async slowAdd(a: number, b: number) {
    await Promise.resolve();
    return a + b;
  }

  @rpc()
  fail() {
    throw new ValueError("bad value", 42);
  }

  @rpc()
  failPlain() {
    throw new TypeError("plain js error");
  }

  @rpc()
  overdraw(account: string) {
    throw new Overdrawn(account);
  }

  @rpc()
  throwString() {
    throw "just a string";
  }

  @rpc()
  throwUndefined() {
    throw undefined;
  }

  @rpc()
  unserializable() {
    return () => 1;
  }

  @rpc()
  circular() {
    const a: Record<string, unknown> = {};
    a.self = a;
    return a;
  }

  @rpc()
  register(user: NewUser) {
    return { name: user.name, isNewUser: user instanceof NewUser, city: user.address.city };
  }
}

describe("rpc arguments and errors", () => {
  const fx = new NatsFixture();
  let client: RpcClient;

  beforeAll(async () => {
    await fx.start(Calc);
    client = await fx.client();
  });
  afterAll(() => fx.cleanup());

  it("binds positional, keyword and default arguments like Python", async () => {
    expect(await client.call("calc", "add", [1, 2])).toBe(3);
    expect(await client.call("calc", "add", [], { a: 1, b: 2 })).toBe(3);
    expect(await client.call("calc", "add", [1], { b: 5 })).toBe(6);
    expect(await client.call("calc", "greet", ["Ada"])).toBe("Hello, Ada!");
    expect(await client.call("calc", "greet", ["Ada"], { times: 2 })).toBe("Hello, Ada!Hello, Ada!");
    expect(await client.call("calc", "greet", ["Ada", "?"])).toBe("Hello, Ada?");
    expect(await client.call("calc", "slowAdd", [2, 3])).toBe(5);
  });

  it.each([
    [[1], {}, "add() missing 1 required positional argument: 'b'"],
    [[1, 2], { c: 3 }, "add() got an unexpected keyword argument 'c'"],
    [[1, 2, 3], {}, "add() takes 3 positional arguments but 4 were given"],
    [[1], { a: 1, b: 2 }, "add() got multiple values for argument 'a'"],
    [[], {}, "add() missing 2 required positional arguments: 'a' and 'b'"],
  ])("answers IncorrectSignature for add(*%j, **%j)", async (args, kw, message) => {
    const err = await client.call("calc", "add", args, kw).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IncorrectSignature);
    expect((err as Error).message).toBe(message);
  });

  it("answers MethodNotFound for an unknown method", async () => {
    const err = await client.call("calc", "missing_method").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MethodNotFound);
    expect((err as Error).message).toBe("missing_method");
  });

  it("re-raises an unregistered error as RemoteError with exc_type and value", async () => {
    const err = await client.call("calc", "fail").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteError);
    expect((err as RemoteError).excType).toBe("ValueError");
    expect((err as RemoteError).value).toBe("('bad value', 42)");
    const plain = await client.call("calc", "failPlain").catch((e: unknown) => e);
    expect(plain).toBeInstanceOf(RemoteError);
    expect((plain as RemoteError).excType).toBe("TypeError");
    expect((plain as RemoteError).value).toBe("plain js error");
  });

  it("re-raises a registered error as its own class", async () => {
    const err = await client.call("calc", "overdraw", ["acc-1"]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Overdrawn);
    expect((err as Overdrawn).account).toBe("acc-1");
  });

  it("gives clear replies for thrown non-Error values and unserializable results, and keeps serving", async () => {
    const str = await client.call("calc", "throwString").catch((e: unknown) => e);
    expect(str).toBeInstanceOf(RemoteError);
    expect((str as RemoteError).value).toBe("just a string");
    const undef = await client.call("calc", "throwUndefined").catch((e: unknown) => e);
    expect(undef).toBeInstanceOf(RemoteError);
    const fn = await client.call("calc", "unserializable").catch((e: unknown) => e);
    expect(fn).toBeInstanceOf(RemoteError);
    expect((fn as RemoteError).excType).toBe(UnserializableValueError.name);
    const circ = await client.call("calc", "circular").catch((e: unknown) => e);
    expect((circ as RemoteError).excType).toBe("UnserializableValueError");
    expect(await client.call("calc", "add", [20, 22])).toBe(42);
  });

  it("validates a DTO parameter and reports each failing field", async () => {
    const ok = await client.call("calc", "register", [], { name: "Ada", age: 36, address: { city: "London" } });
    expect(ok).toEqual({ name: "Ada", isNewUser: true, city: "London" });
    const err = await client
      .call("calc", "register", [], { name: "A", age: -1, address: { city: "L" } })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationFailed);
    const fields = (err as ValidationFailed).fields;
    expect(Object.keys(fields).sort()).toEqual(["address.city", "age", "name"]);
    expect(fields.age.join(" ")).toMatch(/age must not be less than 0/);
  });

  it("binds a DTO parameter as a Python caller's register(user={...}) and register({...}) bind", async () => {
    const body = { name: "Ada", age: 36, address: { city: "London" } };
    const expected = { name: "Ada", isNewUser: true, city: "London" };
    expect(await client.call("calc", "register", [], { user: body })).toEqual(expected);
    expect(await client.call("calc", "register", [body])).toEqual(expected);
    expect(await client.call("calc", "register", [], body)).toEqual(expected);
    const cluster = await fx.cluster();
    expect(await cluster.service("calc").register(kwargs({ user: body }))).toEqual(expected);
  });

  it("answers ValidationFailed for a bad body given by the parameter's name", async () => {
    const err = await client
      .call("calc", "register", [], { user: { name: "A", age: -1, address: { city: "L" } } })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationFailed);
    expect(Object.keys((err as ValidationFailed).fields).sort()).toEqual(["address.city", "age", "name"]);
  });

  it("answers IncorrectSignature for a DTO body given both by position and by name", async () => {
    const body = { name: "Ada", age: 36, address: { city: "London" } };
    const err = await client.call("calc", "register", [body], { user: body }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IncorrectSignature);
    expect((err as Error).message).toBe("register() got multiple values for argument 'user'");
  });

  it("sends keyword arguments from a proxy with kwargs()", async () => {
    const cluster = await fx.cluster();
    const calc = cluster.service("calc");
    expect(await calc.greet("Bo", kwargs({ punctuation: "?" }))).toBe("Hello, Bo?");
    expect(await calc.callKw("add", [], { a: 2, b: 2 })).toBe(4);
    expect(await calc.call("add", 4, 4)).toBe(8);
  });
});
