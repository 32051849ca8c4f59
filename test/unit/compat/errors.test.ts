import { runInNewContext } from "node:vm";
import {
  AttributeError,
  BadRequest,
  CallOutcomeUnknown,
  ConfigurationError,
  describeError,
  deserializeError,
  type ErrorClass,
  Exception,
  excPathOf,
  IncorrectSignature,
  IndexError,
  InvalidName,
  KeyError,
  LookupError,
  MalformedReply,
  MalformedRequest,
  MethodNotFound,
  NamekoError,
  namekoError,
  NotImplementedError,
  PayloadTooLarge,
  PermissionError,
  registerError,
  registeredError,
  RemoteError,
  RpcTimeout,
  RuntimeError,
  safeForSerialization,
  SerializedError,
  serializeError,
  UnknownService,
  UnserializableValueError,
  ValidationFailed,
  ValueError,
} from "../../../compat/errors";

describe("NamekoError", () => {
  it("keeps the constructor arguments as excArgs", () => {
    expect(new ValueError("a", 1).excArgs).toEqual(["a", 1]);
  });

  it.each([
    [[], ""],
    [["one"], "one"],
    [[42], "42"],
    [["a", 1, null, true], "('a', 1, None, True)"],
  ])("derives the message like Python's str(exc) from %j", (args, message) => {
    expect(new ValueError(...args).message).toBe(message);
  });

  it("names errors after their class", () => {
    class NotFound extends NamekoError {}
    expect(new NotFound("x").name).toBe("NotFound");
    expect(new MethodNotFound("m").name).toBe("MethodNotFound");
  });

  it("exposes the exc_path on the instance", () => {
    expect(new MethodNotFound("m").excPath).toBe("nameko.exceptions.MethodNotFound");
  });

  it("places Nameko's request errors under BadRequest", () => {
    for (const err of [
      new MalformedRequest("x"),
      new MethodNotFound("x"),
      new IncorrectSignature("x"),
      new ValidationFailed({}),
    ]) {
      expect(err).toBeInstanceOf(BadRequest);
      expect(err).toBeInstanceOf(NamekoError);
      expect(err).toBeInstanceOf(Error);
    }
  });

  it("quotes a KeyError's key in its message, as Python's str(KeyError) does", () => {
    expect(new KeyError("missing").message).toBe("'missing'");
    expect(new KeyError(3).message).toBe("3");
  });

  it("makes InvalidName a ConfigurationError", () => {
    expect(new InvalidName("bad")).toBeInstanceOf(ConfigurationError);
  });
});

describe("the special error classes", () => {
  it("RemoteError reads '<exc_type> <value>' and keeps both parts", () => {
    const err = new RemoteError("ValueError", "bad");
    expect(err.message).toBe("ValueError bad");
    expect(err.excType).toBe("ValueError");
    expect(err.value).toBe("bad");
    expect(serializeError(err)).toEqual({
      exc_type: "RemoteError",
      exc_path: "nameko.exceptions.RemoteError",
      exc_args: ["ValueError bad"],
      value: "ValueError bad",
    });
  });

  it("UnknownService reads 'Unknown service `x`'", () => {
    const err = new UnknownService("users");
    expect(err.message).toBe("Unknown service `users`");
    expect(err.serviceName).toBe("users");
    expect(serializeError(err).exc_args).toEqual(["users"]);
  });

  it("UnserializableValueError has no args and shows the value's repr", () => {
    const err = new UnserializableValueError({ a: Buffer.from("x") });
    expect(err.excArgs).toEqual([]);
    expect(err.message).toBe("Unserializable value: `{'a': b'x'}`");
    expect(serializeError(err)).toEqual({
      exc_type: "UnserializableValueError",
      exc_path: "nameko.exceptions.UnserializableValueError",
      exc_args: [],
      value: "Unserializable value: `{'a': b'x'}`",
    });
  });

  it("RpcTimeout carries the timeout", () => {
    const err = new RpcTimeout(5);
    expect(err.timeoutSeconds).toBe(5);
    expect(err.message).toBe("5");
  });

  it("ValidationFailed carries its fields as its one argument", () => {
    const fields = { name: ["name must be a string"], "address.zip": ["zip too short"] };
    const err = new ValidationFailed(fields);
    expect(err.fields).toBe(fields);
    expect(serializeError(err)).toEqual({
      exc_type: "ValidationFailed",
      exc_path: "cliffracer.exceptions.ValidationFailed",
      exc_args: [fields],
      value: "{'name': ['name must be a string'], 'address.zip': ['zip too short']}",
    });
  });
});

/** An instance of any error class, whatever its constructor's arguments. */
const instanceOf = (cls: ErrorClass): Error => new (cls as unknown as new (...args: unknown[]) => Error)("x", 1, 2);

describe("excPathOf", () => {
  it.each<[ErrorClass, string, string]>([
    [NamekoError, "NamekoError", "cliffracer.exceptions.NamekoError"],
    [BadRequest, "BadRequest", "nameko.exceptions.BadRequest"],
    [MalformedRequest, "MalformedRequest", "nameko.exceptions.MalformedRequest"],
    [MethodNotFound, "MethodNotFound", "nameko.exceptions.MethodNotFound"],
    [IncorrectSignature, "IncorrectSignature", "nameko.exceptions.IncorrectSignature"],
    [ValidationFailed, "ValidationFailed", "cliffracer.exceptions.ValidationFailed"],
    [RemoteError, "RemoteError", "nameko.exceptions.RemoteError"],
    [UnknownService, "UnknownService", "nameko.exceptions.UnknownService"],
    [UnserializableValueError, "UnserializableValueError", "nameko.exceptions.UnserializableValueError"],
    [RpcTimeout, "RpcTimeout", "nameko.exceptions.RpcTimeout"],
    [MalformedReply, "MalformedReply", "cliffracer.exceptions.MalformedReply"],
    [PayloadTooLarge, "PayloadTooLarge", "cliffracer.exceptions.PayloadTooLarge"],
    [CallOutcomeUnknown, "CallOutcomeUnknown", "cliffracer.bridge.CallOutcomeUnknown"],
    [ConfigurationError, "ConfigurationError", "nameko.exceptions.ConfigurationError"],
    [InvalidName, "InvalidName", "cliffracer.exceptions.InvalidName"],
    [Exception, "Exception", "builtins.Exception"],
    [ValueError, "ValueError", "builtins.ValueError"],
    [LookupError, "LookupError", "builtins.LookupError"],
    [KeyError, "KeyError", "builtins.KeyError"],
    [IndexError, "IndexError", "builtins.IndexError"],
    [AttributeError, "AttributeError", "builtins.AttributeError"],
    [RuntimeError, "RuntimeError", "builtins.RuntimeError"],
    [NotImplementedError, "NotImplementedError", "builtins.NotImplementedError"],
    [PermissionError, "PermissionError", "builtins.PermissionError"],
  ])("serializes %p as exc_type %s, exc_path %s", (cls, name, path) => {
    const err = instanceOf(cls);
    expect(err.name).toBe(name);
    expect(excPathOf(err)).toBe(path);
    expect(serializeError(err)).toMatchObject({ exc_type: name, exc_path: path });
  });

  it("deserializes Nameko's registry and our errors with fields as themselves, the rest as RemoteError", () => {
    const registered: ErrorClass[] = [
      MalformedRequest,
      MethodNotFound,
      IncorrectSignature,
      ValidationFailed,
      PayloadTooLarge,
      CallOutcomeUnknown,
    ];
    for (const cls of registered) expect(registeredError(excPathOf(instanceOf(cls)))).toBe(cls);
    for (const cls of [BadRequest, RemoteError, RpcTimeout, ConfigurationError, InvalidName, ValueError, KeyError]) {
      expect(registeredError(excPathOf(instanceOf(cls)))).toBeUndefined();
    }
  });

  it("registerError with deserialize: false names the path and leaves callers a RemoteError", () => {
    class Throttled extends NamekoError {}
    registerError("shop.exceptions.Throttled", Throttled, { deserialize: false });
    const wire = serializeError(new Throttled("slow down"));
    expect(wire).toMatchObject({ exc_type: "Throttled", exc_path: "shop.exceptions.Throttled" });
    expect(registeredError("shop.exceptions.Throttled")).toBeUndefined();
    const back = deserializeError(wire);
    expect(back).toBeInstanceOf(RemoteError);
    expect(back).toMatchObject({ excType: "Throttled", value: "slow down" });
  });

  it("uses the class's declared Nameko path", () => {
    expect(excPathOf(new IncorrectSignature("x"))).toBe("nameko.exceptions.IncorrectSignature");
    expect(excPathOf(new KeyError("x"))).toBe("builtins.KeyError");
    expect(excPathOf(new Exception("x"))).toBe("builtins.Exception");
  });

  it("does not inherit a parent's path: an unregistered subclass is cliffracer.remote.<Name>", () => {
    class OutOfStock extends ValueError {}
    expect(excPathOf(new OutOfStock("x"))).toBe("cliffracer.remote.OutOfStock");
  });

  it("maps JavaScript built-in errors to builtins.<Name>, keeping the JavaScript name", () => {
    expect(excPathOf(new TypeError("x"))).toBe("builtins.TypeError");
    expect(excPathOf(new RangeError("x"))).toBe("builtins.RangeError");
    expect(excPathOf(new Error("x"))).toBe("builtins.Error");
  });

  it("uses cliffracer.remote.<Name> for unregistered user classes", () => {
    class Boom extends Error {}
    expect(excPathOf(new Boom("x"))).toBe("cliffracer.remote.Boom");
  });

  it("prefers a registered path", () => {
    @namekoError("shop.exceptions.SoldOut")
    class SoldOut extends NamekoError {}
    expect(excPathOf(new SoldOut())).toBe("shop.exceptions.SoldOut");
    expect(registeredError("shop.exceptions.SoldOut")).toBe(SoldOut);
  });
});

describe("safeForSerialization (Nameko's safe_for_serialization)", () => {
  it("keeps strings and stringifies scalars like Python's str()", () => {
    expect(safeForSerialization(["s", 42, 1.5, null, undefined, true, false, 10n])).toEqual([
      "s",
      "42",
      "1.5",
      "None",
      "None",
      "True",
      "False",
      "10",
    ]);
  });

  it("recurses into dicts, lists, Maps and Sets", () => {
    expect(safeForSerialization({ k: [1, { n: null }] })).toEqual({ k: ["1", { n: "None" }] });
    expect(safeForSerialization(new Map<unknown, unknown>([[1, 2]]))).toEqual({ "1": "2" });
    expect(safeForSerialization(new Set([1]))).toEqual(["1"]);
  });

  it("turns bytes into a list of their values as strings", () => {
    expect(safeForSerialization(Buffer.from("ab"))).toEqual(["97", "98"]);
  });

  it("stringifies dates and errors", () => {
    expect(safeForSerialization(new Date(Date.UTC(2024, 0, 2, 3, 4, 5)))).toBe("2024-01-02 03:04:05+00:00");
    expect(safeForSerialization(new Error("inner"))).toBe("inner");
  });

  it("writes a class instance as its str(), as Python does with an object it cannot iterate", () => {
    class Point {
      x = 1;
    }
    expect(safeForSerialization([new Point()])).toEqual(["<Point object>"]);
  });

  it("gives up on self-containing structures with [__unicode__ failed]", () => {
    const deep: unknown[] = [];
    deep.push(deep);
    expect(JSON.stringify(safeForSerialization(deep))).toContain("[__unicode__ failed]");
  });
});

describe("serializeError", () => {
  it("writes the four keys in Nameko's order", () => {
    expect(Object.keys(serializeError(new ValueError("x")))).toEqual(["exc_type", "exc_path", "exc_args", "value"]);
  });

  it("serializes a multi-argument ValueError exactly as Nameko", () => {
    expect(serializeError(new ValueError("bad value", 42, { k: 1 }, null))).toEqual({
      exc_type: "ValueError",
      exc_path: "builtins.ValueError",
      exc_args: ["bad value", "42", { k: "1" }, "None"],
      value: "('bad value', 42, {'k': 1}, None)",
    });
  });

  it("uses the message as the one argument of a JavaScript error", () => {
    expect(serializeError(new TypeError("x is not a function"))).toEqual({
      exc_type: "TypeError",
      exc_path: "builtins.TypeError",
      exc_args: ["x is not a function"],
      value: "x is not a function",
    });
  });

  it("gives a JavaScript error with an empty message no arguments", () => {
    expect(serializeError(new Error())).toEqual({
      exc_type: "Error",
      exc_path: "builtins.Error",
      exc_args: [],
      value: "",
    });
  });

  it("recognises errors from another realm (e.g. Node's own errors inside jest)", () => {
    const foreign = runInNewContext("new TypeError('from elsewhere')") as unknown;
    expect(foreign instanceof Error).toBe(false);
    expect(serializeError(foreign)).toEqual({
      exc_type: "TypeError",
      exc_path: "builtins.TypeError",
      exc_args: ["from elsewhere"],
      value: "from elsewhere",
    });
  });

  describe("an error whose message cannot be read (Python: str(exc) raises)", () => {
    class Unprintable extends Error {}
    const unreadable = (err: Error): Error =>
      Object.defineProperty(err, "message", {
        get(): string {
          throw new Error("message getter failed");
        },
      });

    it("keeps its type and path, with Nameko's placeholder value and no arguments", () => {
      expect(serializeError(unreadable(new Unprintable()))).toEqual({
        exc_type: "Unprintable",
        exc_path: "cliffracer.remote.Unprintable",
        exc_args: [],
        value: "[__unicode__ failed]",
      });
    });

    it("keeps the arguments of a NamekoError", () => {
      expect(serializeError(unreadable(new ValueError("kept", 1)))).toEqual({
        exc_type: "ValueError",
        exc_path: "builtins.ValueError",
        exc_args: ["kept", "1"],
        value: "[__unicode__ failed]",
      });
    });

    it("falls back to the class name when `name` cannot be read either", () => {
      const err = Object.defineProperty(unreadable(new Unprintable()), "name", {
        get(): string {
          throw new Error("name getter failed");
        },
      });
      expect(serializeError(err)).toMatchObject({ exc_type: "Unprintable", value: "[__unicode__ failed]" });
    });

    it("writes a message that is not a string as its str()", () => {
      const err = Object.assign(new Unprintable(), { message: 42 as unknown as string });
      expect(serializeError(err)).toMatchObject({ exc_args: ["42"], value: "42" });
    });
  });

  it("builds a NamekoError whose argument is too deep to print, with Nameko's placeholder message", () => {
    let deep: unknown[] = [];
    for (let i = 0; i < 1000; i++) deep = [deep];
    const err = new ValueError(deep);
    expect(err.message).toBe("[__unicode__ failed]");
    expect(err.excArgs).toEqual([deep]);
  });

  it("uses the class name when a subclass does not set `name`", () => {
    class PaymentDeclined extends Error {}
    expect(serializeError(new PaymentDeclined("no")).exc_type).toBe("PaymentDeclined");
  });

  it("uses an explicitly set name", () => {
    const err = new Error("x");
    err.name = "CustomName";
    expect(serializeError(err).exc_type).toBe("CustomName");
  });

  it("uses excArgs when a plain error defines them", () => {
    const err = Object.assign(new Error("msg"), { excArgs: ["a", 2] });
    expect(serializeError(err).exc_args).toEqual(["a", "2"]);
  });

  it("serializes a registered plain Error subclass under its path", () => {
    class Declined extends Error {}
    registerError("payments.Declined", Declined);
    expect(serializeError(new Declined("card"))).toEqual({
      exc_type: "Declined",
      exc_path: "payments.Declined",
      exc_args: ["card"],
      value: "card",
    });
  });

  it.each([
    ["a string", "boom", ["boom"], "boom"],
    ["a number", 42, ["42"], "42"],
    ["null", null, ["None"], "None"],
    ["an object", { a: 1 }, [{ a: "1" }], "{'a': 1}"],
  ])("reports a thrown non-Error (%s) as Python's Exception", (_what, value, args, text) => {
    expect(serializeError(value)).toEqual({
      exc_type: "Exception",
      exc_path: "builtins.Exception",
      exc_args: args,
      value: text,
    });
  });

  it("writes [__unicode__ failed] when str() of a thrown value fails", () => {
    const hostile = {
      __repr__(): string {
        throw new Error("no");
      },
    };
    expect(serializeError(hostile).value).toBe("[__unicode__ failed]");
  });
});

describe("deserializeError", () => {
  const obj = (exc_type: string, exc_path: string, exc_args: unknown[], value: string): SerializedError => ({
    exc_type,
    exc_path,
    exc_args,
    value,
  });

  it.each([
    [MalformedRequest, "nameko.exceptions.MalformedRequest"],
    [MethodNotFound, "nameko.exceptions.MethodNotFound"],
    [IncorrectSignature, "nameko.exceptions.IncorrectSignature"],
  ])("builds the pre-registered %p from exc_args", (cls, path) => {
    const err = deserializeError(obj(cls.name, path, ["text"], "text"));
    expect(err).toBeInstanceOf(cls);
    expect(err.message).toBe("text");
  });

  it("restores ValidationFailed with its fields", () => {
    const fields = { name: ["must be a string"] };
    const err = deserializeError(serializeError(new ValidationFailed(fields)));
    expect(err).toBeInstanceOf(ValidationFailed);
    expect((err as ValidationFailed).fields).toEqual(fields);
  });

  it("builds user-registered classes", () => {
    @namekoError("inventory.exceptions.OutOfStock")
    class OutOfStock extends NamekoError {}
    const err = deserializeError(obj("OutOfStock", "inventory.exceptions.OutOfStock", ["sku-1", 3], "('sku-1', 3)"));
    expect(err).toBeInstanceOf(OutOfStock);
    expect((err as OutOfStock).excArgs).toEqual(["sku-1", 3]);
  });

  it("returns RemoteError for an unregistered path", () => {
    const err = deserializeError(obj("ValueError", "builtins.ValueError", ["bad"], "bad"));
    expect(err).toBeInstanceOf(RemoteError);
    expect(err.message).toBe("ValueError bad");
  });

  it("tolerates missing keys as Python's None", () => {
    const err = deserializeError({} as SerializedError);
    expect(err).toBeInstanceOf(RemoteError);
    expect(err.message).toBe("None None");
  });

  it("tolerates a null error object", () => {
    expect(deserializeError(null as unknown as SerializedError).message).toBe("None None");
  });

  it("round-trips a serialized MethodNotFound", () => {
    const err = deserializeError(serializeError(new MethodNotFound("nope")));
    expect(err).toBeInstanceOf(MethodNotFound);
    expect(serializeError(err)).toEqual(serializeError(new MethodNotFound("nope")));
  });
});

describe("PayloadTooLarge", () => {
  const err = new PayloadTooLarge("reply of a.b of 2000 bytes exceeds the NATS max_payload of 1000 bytes", 2000, 1000);

  it("serializes as a Nameko error whose value is the sentence", () => {
    expect(serializeError(err)).toEqual({
      exc_type: "PayloadTooLarge",
      exc_path: "cliffracer.exceptions.PayloadTooLarge",
      exc_args: ["reply of a.b of 2000 bytes exceeds the NATS max_payload of 1000 bytes", "2000", "1000"],
      value: "reply of a.b of 2000 bytes exceeds the NATS max_payload of 1000 bytes",
    });
  });

  it("comes back typed, with size and limit as numbers", () => {
    const back = deserializeError(serializeError(err));
    expect(back).toBeInstanceOf(PayloadTooLarge);
    expect(back).toMatchObject({ size: 2000, limit: 1000, message: err.message });
  });
});

/** An error whose `message` getter throws. */
function withUnreadableMessage<E extends Error>(err: E): E {
  return Object.defineProperty(err, "message", {
    get(): string {
      throw new Error("message getter failed");
    },
  });
}

describe("describeError", () => {
  it("names the type of an error whose message cannot be read, and does not throw", () => {
    class Unprintable extends Error {}
    expect(describeError(withUnreadableMessage(new Unprintable()))).toBe("Unprintable (its message cannot be read)");
  });

  it("gives an error's message, also for an error from another realm", () => {
    expect(describeError(new RpcTimeout(5))).toBe("5");
    expect(describeError(runInNewContext("new TypeError('elsewhere')"))).toBe("elsewhere");
  });

  it("gives a thrown non-Error value as text", () => {
    expect(describeError("plain text")).toBe("plain text");
    expect(describeError(42)).toBe("42");
    expect(describeError(undefined)).toBe("undefined");
  });

  it("does not throw for a value that cannot be turned into text", () => {
    expect(describeError(Object.create(null))).toBe("[object Object]");
    const hostile = {
      toString(): string {
        throw new Error("no text");
      },
    };
    expect(describeError(hostile)).toBe("[object Object]");
  });
});
