import "reflect-metadata";
import { Type } from "class-transformer";
import { IsInt, IsOptional, IsString, Min, MinLength, ValidateNested } from "class-validator";
import { bindArguments, bindDto, dtoClassOf, MethodSignature, signatureOf } from "../../../compat/binding";
import { ConfigurationError, IncorrectSignature, ValidationFailed } from "../../../compat/errors";

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error("expected a throw");
}

/** A method parsed from source text, as `class { <src> }` would define it. */
function method(src: string): (...args: unknown[]) => unknown {
  return new Function(`return (class { ${src} }).prototype.f;`)() as (...args: unknown[]) => unknown;
}

const names = (sig: MethodSignature): string[] => sig.params.map((p) => p.name);
const defaults = (sig: MethodSignature): boolean[] => sig.params.map((p) => p.hasDefault);

describe("signatureOf", () => {
  it("reads plain parameters", () => {
    const sig = signatureOf(method("f(a, b) {}"), "add");
    expect(sig).toEqual({
      name: "add",
      params: [
        { name: "a", hasDefault: false, keywordOnly: false },
        { name: "b", hasDefault: false, keywordOnly: false },
      ],
      varArgs: false,
      varKwargs: false,
    });
  });

  it("reads a method compiled from TypeScript", () => {
    class Greeting {
      async hello(name: string, punctuation = "!"): Promise<string> {
        return `Hello, ${name}${punctuation}`;
      }
    }
    const sig = signatureOf(Greeting.prototype.hello, "hello");
    expect(names(sig)).toEqual(["name", "punctuation"]);
    expect(defaults(sig)).toEqual([false, true]);
  });

  it("reads a method without parameters", () => {
    expect(signatureOf(method("f() { return 1; }"), "f").params).toEqual([]);
  });

  it.each([
    ["commas and parentheses", `f(a, b = g(1, 2), c) {}`],
    ["strings with brackets and commas", `f(a, b = "x,)(", c) {}`],
    ["single-quoted strings with escapes", `f(a, b = 'it\\'s, )', c) {}`],
    ["template literals with substitutions", "f(a, b = `x${[1, 2].join(',')})`, c) {}"],
    ["arrow functions", `f(a, b = (x, y) => ({ x, y }), c) {}`],
    ["object literals", `f(a, b = { k: [1, 2], s: ")" }, c) {}`],
    ["regular expressions", `f(a, b = /[,)]/g, c) {}`],
    ["division", `f(a, b = 4 / 2, c = 1 / 2) {}`],
    ["block comments", `f(a /* , x */, b = 1 /* ) */, c) {}`],
    ["line comments", `f(a, // b,\n b = 1, c) {}`],
  ])("copes with defaults and noise containing %s", (_what, src) => {
    expect(names(signatureOf(method(src), "f"))).toEqual(["a", "b", "c"]);
  });

  it("marks only parameters with defaults", () => {
    expect(defaults(signatureOf(method("f(a, b = 1, c = a == 1) {}"), "f"))).toEqual([false, true, true]);
  });

  it("reads a rest parameter as *args", () => {
    const sig = signatureOf(method("f(a, ...rest) {}"), "f");
    expect(names(sig)).toEqual(["a"]);
    expect(sig.varArgs).toBe(true);
  });

  it("reads a sole destructured object parameter as **kwargs", () => {
    const sig = signatureOf(method("f({ a, b = 2 }) {}"), "f");
    expect(sig.params).toEqual([]);
    expect(sig.varKwargs).toBe(true);
  });

  it("reads a last destructured object parameter, before a rest parameter, as **kwargs", () => {
    const sig = signatureOf(method("f(a, { k } = {}, ...rest) {}"), "f");
    expect(names(sig)).toEqual(["a"]);
    expect(sig.varKwargs).toBe(true);
    expect(sig.varArgs).toBe(true);
  });

  it("keeps a destructured array parameter positional, named by its pattern", () => {
    const sig = signatureOf(method("f([x, y], b) {}"), "f");
    expect(names(sig)).toEqual(["[x, y]", "b"]);
  });

  it("ignores a trailing comma", () => {
    expect(names(signatureOf(method("f(a, b,) {}"), "f"))).toEqual(["a", "b"]);
  });

  it.each([
    ["a generator method", "*f(a, b) {}"],
    ["an async generator method", "async *f(a, b) {}"],
    ["a computed method name", `["f"](a, b) {}`],
  ])("reads %s", (_what, src) => {
    const fn = new Function(`const C = class { ${src} }; return C.prototype.f;`)() as (...args: unknown[]) => unknown;
    expect(names(signatureOf(fn, "f"))).toEqual(["a", "b"]);
  });

  it("reads a computed name containing a call", () => {
    const fn = new Function(`const k = (x) => x; return (class { [k("f")](a, b) {} }).prototype.f;`)() as (
      ...args: unknown[]
    ) => unknown;
    expect(names(signatureOf(fn, "f"))).toEqual(["a", "b"]);
  });

  it.each([
    ["an arrow function", (a: number, b = 2) => a + b, ["a", "b"]],
    ["an async arrow function", async (a: number) => a, ["a"]],
    [
      "a function expression",
      function named(a: number, b: number) {
        return a + b;
      },
      ["a", "b"],
    ],
  ])("reads %s", (_what, fn, expected) => {
    expect(names(signatureOf(fn, "f"))).toEqual(expected);
  });

  it("reads an arrow function without parentheses", () => {
    expect(names(signatureOf(new Function("return x => x")() as () => unknown, "f"))).toEqual(["x"]);
    expect(names(signatureOf(new Function("return async x => x")() as () => unknown, "f"))).toEqual(["x"]);
  });

  it("marks keyword-only parameters from an override", () => {
    const sig = signatureOf(method("f(a, k = 1) {}"), "f", { keywordOnly: ["k"] });
    expect(sig.params[1]).toEqual({ name: "k", hasDefault: true, keywordOnly: true });
  });

  it("refuses a keyword-only override naming no parameter", () => {
    expect(thrown(() => signatureOf(method("f(a) {}"), "f", { keywordOnly: ["zz"] }))).toBeInstanceOf(
      ConfigurationError,
    );
  });

  it("takes an explicit signature from an override", () => {
    const sig = signatureOf(method("f(...all) {}"), "f", {
      params: [{ name: "x", hasDefault: false, keywordOnly: false }],
      varArgs: false,
      varKwargs: true,
    });
    expect(sig).toEqual({
      name: "f",
      params: [{ name: "x", hasDefault: false, keywordOnly: false }],
      varArgs: false,
      varKwargs: true,
    });
  });
});

describe("bindArguments", () => {
  const add = signatureOf(method("f(a, b) {}"), "add");
  const withDefault = signatureOf(method("f(a, b = 1) {}"), "f");

  it("returns positional args as they are", () => {
    expect(bindArguments(add, [1, 2], {})).toEqual([1, 2]);
  });

  it("binds keyword arguments by name, in parameter order", () => {
    expect(bindArguments(add, [], { b: 2, a: 1 })).toEqual([1, 2]);
    expect(bindArguments(add, [1], { b: 2 })).toEqual([1, 2]);
  });

  it("leaves undefined where a default applies", () => {
    expect(bindArguments(withDefault, [1], {})).toEqual([1, undefined]);
  });

  it("passes an explicit null instead of applying the default", () => {
    expect(bindArguments(withDefault, [1], { b: null })).toEqual([1, null]);
  });

  it("appends surplus positional arguments for a rest parameter", () => {
    const sig = signatureOf(method("f(a, ...rest) {}"), "f");
    expect(bindArguments(sig, [1, 2, 3], {})).toEqual([1, 2, 3]);
    expect(bindArguments(sig, [], { a: 1 })).toEqual([1]);
  });

  it("passes remaining keyword arguments as one object for **kwargs", () => {
    const sig = signatureOf(method("f(a, { ...kw }) {}"), "f");
    expect(bindArguments(sig, [1], { x: 2, y: 3 })).toEqual([1, { x: 2, y: 3 }]);
    expect(bindArguments(sig, [], { a: 1 })).toEqual([1, {}]);
  });

  it("places the kwargs object before surplus positional arguments", () => {
    const sig = signatureOf(method("f(a, { ...kw } = {}, ...rest) {}"), "f");
    expect(bindArguments(sig, [1, 2, 3], { z: 9 })).toEqual([1, { z: 9 }, 2, 3]);
  });

  it("binds keyword-only parameters from kwargs only", () => {
    const sig = signatureOf(method("f(a, k) {}"), "f", { keywordOnly: ["k"] });
    expect(bindArguments(sig, [1], { k: 2 })).toEqual([1, 2]);
    expect(thrown(() => bindArguments(sig, [1, 2], {})).message).toBe(
      "f() takes 2 positional arguments but 3 were given",
    );
    expect(thrown(() => bindArguments(sig, [1], {})).message).toBe("f() missing 1 required keyword-only argument: 'k'");
  });

  it("counts keyword-only arguments given in the too-many message", () => {
    const sig = signatureOf(method("f(a, k) {}"), "f", { keywordOnly: ["k"] });
    expect(thrown(() => bindArguments(sig, [1, 2], { k: 3 })).message).toBe(
      "f() takes 2 positional arguments but 3 positional arguments (and 1 keyword-only argument) were given",
    );
  });

  it.each([
    [[1], {}, "add() missing 1 required positional argument: 'b'"],
    [[], {}, "add() missing 2 required positional arguments: 'a' and 'b'"],
    [[1, 2], { c: 3 }, "add() got an unexpected keyword argument 'c'"],
    [[1, 2, 3], {}, "add() takes 3 positional arguments but 4 were given"],
    [[1], { a: 1, b: 2 }, "add() got multiple values for argument 'a'"],
    [[], { self: 1 }, "add() got multiple values for argument 'self'"],
    [[1, 2], null, "inspect.getcallargs() argument after ** must be a mapping, not NoneType"],
    [5, {}, "Value after * must be an iterable, not int"],
  ])("raises Python's IncorrectSignature for add(%j, %j)", (args, kwargs, message) => {
    const err = thrown(() => bindArguments(add, args, kwargs));
    expect(err).toBeInstanceOf(IncorrectSignature);
    expect(err.message).toBe(message);
  });

  it("lists three missing names as inspect.getcallargs does (no serial comma)", () => {
    const sig = signatureOf(method("f(a, b, c) {}"), "add");
    expect(thrown(() => bindArguments(sig, [], {})).message).toBe(
      "add() missing 3 required positional arguments: 'a', 'b' and 'c'",
    );
  });

  it("says 'from n to m' when some parameters have defaults", () => {
    expect(thrown(() => bindArguments(withDefault, [1, 2, 3, 4], {})).message).toBe(
      "f() takes from 2 to 3 positional arguments but 5 were given",
    );
  });

  it("uses the singular for a method taking only self", () => {
    const sig = signatureOf(method("f() {}"), "f");
    expect(thrown(() => bindArguments(sig, [1], {})).message).toBe("f() takes 1 positional argument but 2 were given");
  });

  it("quotes keyword names like Python's repr", () => {
    expect(thrown(() => bindArguments(add, [1, 2], { "it's": 1 })).message).toBe(
      `add() got an unexpected keyword argument "it's"`,
    );
  });

  it("splats a string args value into characters", () => {
    expect(bindArguments(add, "ab", {})).toEqual(["a", "b"]);
  });

  it("gives the same answer on repeated calls with a cached signature", () => {
    expect(bindArguments(add, [1], { b: 2 })).toEqual([1, 2]);
    expect(bindArguments(add, [1], { b: 2 })).toEqual([1, 2]);
  });
});

class Address {
  @IsString()
  @MinLength(5)
  zip!: string;
}

class CreateUser {
  @IsString()
  name!: string;

  @IsInt()
  @Min(0)
  age!: number;

  @IsOptional()
  @ValidateNested()
  @Type(() => Address)
  address?: Address;
}

class Plain {
  name!: string;
}

class UserService {
  create(dto: CreateUser): CreateUser {
    return dto;
  }
  plain(dto: Plain): Plain {
    return dto;
  }
  scalar(name: string): string {
    return name;
  }
  two(a: CreateUser, b: CreateUser): CreateUser[] {
    return [a, b];
  }
}
// Written out instead of relying on the compiler, so the test does not depend on how ts-jest emits metadata.
Reflect.defineMetadata("design:paramtypes", [CreateUser], UserService.prototype, "create");
Reflect.defineMetadata("design:paramtypes", [Plain], UserService.prototype, "plain");
Reflect.defineMetadata("design:paramtypes", [String], UserService.prototype, "scalar");
Reflect.defineMetadata("design:paramtypes", [CreateUser, CreateUser], UserService.prototype, "two");

/** A no-op method decorator: decorating is what makes the compiler emit design:paramtypes. */
const decorated: MethodDecorator = () => undefined;

class DecoratedService {
  @decorated
  create(dto: CreateUser): CreateUser {
    return dto;
  }
}

describe("dtoClassOf", () => {
  it("finds the class-validator class of a single-parameter method", () => {
    expect(dtoClassOf(UserService.prototype, "create")).toBe(CreateUser);
  });

  it("works with the metadata the compiler emits for a decorated method", () => {
    expect(dtoClassOf(DecoratedService.prototype, "create")).toBe(CreateUser);
  });

  it.each([
    ["a class without validation rules", "plain"],
    ["a primitive parameter", "scalar"],
    ["two parameters", "two"],
    ["no metadata", "missing"],
  ])("returns undefined for %s", (_what, name) => {
    expect(dtoClassOf(UserService.prototype, name)).toBeUndefined();
  });
});

describe("bindDto", () => {
  it("builds a validated instance from kwargs", async () => {
    const dto = await bindDto(CreateUser, [], { name: "Ann", age: 30, address: { zip: "12345" } });
    expect(dto).toBeInstanceOf(CreateUser);
    expect(dto.address).toBeInstanceOf(Address);
    expect(dto).toEqual({ name: "Ann", age: 30, address: { zip: "12345" } });
  });

  it("accepts a single positional object in place of kwargs", async () => {
    const dto = await bindDto(CreateUser, [{ name: "Ann", age: 1 }], {});
    expect(dto.name).toBe("Ann");
  });

  it("binds kwargs holding only the parameter's name as the body, as Python binds create(user={...})", async () => {
    const dto = await bindDto(
      CreateUser,
      [],
      { user: { name: "Ann", age: 1, address: { zip: "12345" } } },
      "create",
      "user",
    );
    expect(dto).toBeInstanceOf(CreateUser);
    expect(dto.address).toBeInstanceOf(Address);
    expect(dto).toEqual({ name: "Ann", age: 1, address: { zip: "12345" } });
  });

  it("validates a body given by the parameter's name field by field", async () => {
    const err = await bindDto(CreateUser, [], { user: { name: 5, age: -1 } }, "create", "user").catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ValidationFailed);
    expect(Object.keys((err as ValidationFailed).fields).sort()).toEqual(["age", "name"]);
  });

  it.each([
    ["the DTO has a field of the parameter's name", { address: { zip: "12345" } }, "address"],
    ["the value under the parameter's name is not an object", { user: ["Ann", 1] }, "user"],
    ["other kwargs come with it", { user: { name: "Ann", age: 1 }, extra: 1 }, "user"],
  ])("reads the kwargs as the fields when %s", async (_what, kwargs, paramName) => {
    const err = await bindDto(CreateUser, [], kwargs, "create", paramName).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationFailed);
    expect(Object.keys((err as ValidationFailed).fields).sort()).toEqual(["age", "name"]);
  });

  it("refuses a body given both by position and by the parameter's name, as Python does", async () => {
    const err = await bindDto(CreateUser, [{ name: "Ann", age: 1 }], { user: {} }, "create", "user").catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(IncorrectSignature);
    expect((err as Error).message).toBe("create() got multiple values for argument 'user'");
  });

  it("reports every failing field with its messages", async () => {
    const err = await bindDto(CreateUser, [], { name: 5, age: -1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationFailed);
    const fields = (err as ValidationFailed).fields;
    expect(Object.keys(fields).sort()).toEqual(["age", "name"]);
    expect(fields.name).toEqual(["name must be a string"]);
    expect(fields.age).toEqual(["age must not be less than 0"]);
  });

  it("reports nested fields with dotted paths", async () => {
    const err = await bindDto(CreateUser, [], { name: "A", age: 1, address: { zip: "1" } }).catch((e: unknown) => e);
    expect((err as ValidationFailed).fields).toEqual({
      "address.zip": ["zip must be longer than or equal to 5 characters"],
    });
  });

  it.each([
    ["two positional arguments", [{}, {}], {}, "create() takes 2 positional arguments but 3 were given"],
    ["a positional non-object", ["Ann"], {}, "create() argument must be a dict, not str"],
    ["a positional object with kwargs", [{}], { name: "x" }, "create() got an unexpected keyword argument 'name'"],
    [
      "kwargs that are not a mapping",
      [],
      null,
      "inspect.getcallargs() argument after ** must be a mapping, not NoneType",
    ],
  ])("refuses %s with IncorrectSignature", async (_what, args, kwargs, message) => {
    const err = await bindDto(CreateUser, args, kwargs, "create").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IncorrectSignature);
    expect((err as Error).message).toBe(message);
  });
});
