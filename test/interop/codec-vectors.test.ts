// Our encoder and decoder against Nameko 2.14.1 messages captured on the wire
// (docs/nameko-wire.md, Captured messages) and against CPython 3.11 reference outputs, byte for byte.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  bindArguments,
  contextFromHeaders,
  contextToHeaders,
  decodeReply,
  decodeRequest,
  deserializeError,
  encodeErrorReply,
  encodeJson,
  encodeReply,
  encodeRequest,
  IncorrectSignature,
  KeyError,
  MethodNotFound,
  NamekoError,
  registerError,
  RemoteError,
  type SerializedError,
  serializeError,
  signatureOf,
  ValueError,
} from "../../compat";

// The vectors are JSON written by Python: read them as the shapes each test expects.
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON vectors of many shapes
type Json = any;
const vectors = (file: string): Json => JSON.parse(readFileSync(join(__dirname, "vectors", file), "utf8"));
/** it.each rows: a label for the test title, then the vector. */
const rows = (list: Json[], label: (v: Json) => string): [string, Json][] => list.map((v) => [label(v), v]);

const requests = vectors("rpc-requests.json");
const replies = vectors("rpc-replies.json");
const errors = vectors("rpc-errors.json");
const signatures = vectors("incorrect-signature.json");
const events = vectors("events.json");
const context = vectors("context.json");
const python = vectors("python-reference.json");

class Calc {
  add(a: number, b: number): number {
    return a + b;
  }
}
const addSignature = signatureOf(Calc.prototype.add, "add");

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error("expected a throw");
}

describe("RPC requests", () => {
  it.each(rows(requests.vectors, (v) => v.name))("encodes %s exactly as Nameko", (_name, v: Json) => {
    expect(encodeRequest(v.args, v.kwargs)).toBe(v.body);
  });

  it.each(rows(requests.vectors, (v) => v.name))("decodes %s", (_name, v: Json) => {
    expect(decodeRequest(v.body)).toEqual({ args: v.args, kwargs: v.kwargs });
    expect(decodeRequest(Buffer.from(v.body))).toEqual({ args: v.args, kwargs: v.kwargs });
  });

  it.each(rows(requests.accepted_foreign_bodies, (v) => v.name))("accepts a foreign body: %s", (_name, v: Json) => {
    expect(decodeRequest(v.body)).toEqual({ args: v.args, kwargs: v.kwargs });
  });
});

describe("RPC replies", () => {
  it("encodes the add reply exactly", () => {
    expect(encodeReply(3)).toBe(replies.vectors[0].body);
  });

  it("encodes the special-types result exactly as kombu 5.2", () => {
    // JavaScript has no naive datetimes, dates, times, decimals or UUIDs: those arrive as strings
    const result = {
      datetime_naive: "2024-01-02T03:04:05.678000",
      datetime_utc: new Date(Date.UTC(2024, 0, 2, 3, 4, 5)),
      date: "2024-01-02T00:00:00",
      time: "03:04:05",
      decimal: "1.10",
      uuid: "12345678-1234-5678-1234-567812345678",
      tuple: [1, 2],
      unicode: "café ☃",
      float: 0.1,
      big: 2n ** 70n,
    };
    expect(encodeReply(result)).toBe(replies.vectors[1].body);
  });

  it("decodes the special-types result with the big integer as bigint", () => {
    const reply = decodeReply(replies.vectors[1].body);
    expect(reply.error).toBeNull();
    expect(reply.result).toEqual({
      datetime_naive: "2024-01-02T03:04:05.678000",
      datetime_utc: "2024-01-02T03:04:05Z",
      date: "2024-01-02T00:00:00",
      time: "03:04:05",
      decimal: "1.10",
      uuid: "12345678-1234-5678-1234-567812345678",
      tuple: [1, 2],
      unicode: "café ☃",
      float: 0.1,
      big: 1180591620717411303424n,
    });
  });

  it("decodes a foreign compact reply without an error key as success", () => {
    expect(decodeReply(replies.foreign_replies[0].body)).toEqual({ result: { ok: true }, error: null });
  });
});

describe("RPC error replies", () => {
  const byName = (name: string): Json => errors.vectors.find((v: Json) => v.name.startsWith(name));

  class Opaque {
    handle = (): void => undefined;
    __repr__(): string {
      return "<Opaque>";
    }
  }

  class CustomError extends NamekoError {}
  registerError("specsvc.CustomError", CustomError);

  const cases: [string, () => string][] = [
    ["ValueError(", () => encodeErrorReply(new ValueError("bad value", 42, { k: 1 }, null))],
    ["MethodNotFound(", () => encodeErrorReply(new MethodNotFound("missing_method"))],
    ["calc.add(1):", () => encodeErrorReply(thrown(() => bindArguments(addSignature, [1], {})))],
    ["calc.add(1, 2, c=3)", () => encodeErrorReply(thrown(() => bindArguments(addSignature, [1, 2], { c: 3 })))],
    ["body without kwargs", () => encodeErrorReply(thrown(() => decodeRequest('{"args": [1, 2]}')))],
    ["returns object()", () => encodeReply(new Opaque())],
    ['returns b"raw"', () => encodeReply(Buffer.from("raw"))],
    ["CustomError(", () => encodeErrorReply(new CustomError("custom"))],
    ["KeyError(", () => encodeErrorReply(new KeyError("missing"))],
  ];

  it.each(cases)("produces the captured body for %s", (name, produce) => {
    expect(produce()).toBe(byName(name).body);
  });

  it.each(rows(errors.vectors, (v) => v.name))("decodes the error object of %s", (_name, v: Json) => {
    expect(decodeReply(v.body)).toEqual({ result: null, error: v.error });
  });

  it("raises the registered classes the Python client raised", () => {
    const notFound = deserializeError(byName("MethodNotFound(").error);
    expect(notFound).toBeInstanceOf(MethodNotFound);
    expect(notFound.message).toBe("missing_method");
    const signature = deserializeError(byName("calc.add(1):").error);
    expect(signature).toBeInstanceOf(IncorrectSignature);
    expect(signature.message).toBe("add() missing 1 required positional argument: 'b'");
  });

  it("raises RemoteError with Nameko's message for unregistered paths", () => {
    const v = byName("ValueError(");
    const err = deserializeError(v.error as SerializedError);
    expect(err).toBeInstanceOf(RemoteError);
    expect(err.message).toBe(v.remote_error_message);
  });
});

describe("IncorrectSignature texts", () => {
  it.each(rows(signatures.vectors, (v) => v.call))("%s", (_call, v: Json) => {
    const err = thrown(() => bindArguments(addSignature, v.args, v.kwargs));
    expect(err).toBeInstanceOf(IncorrectSignature);
    expect((err as Error).message).toBe(v.message);
  });
});

describe("event bodies", () => {
  it.each(rows(events.vectors, (v) => v.name))("encodes %s", (_name, v: Json) => {
    expect(encodeJson(v.payload)).toBe(v.body);
  });
});

describe("context headers", () => {
  it.each(rows(context.vectors, (v) => v.name))("reads and re-emits %s", (_name, v: Json) => {
    const { data, parentStack } = contextFromHeaders(v.headers);
    expect(data).toEqual(v.data);
    expect(parentStack).toEqual(v.parent_stack);
    const headers = contextToHeaders(data, parentStack);
    expect(Object.keys(headers)).toEqual(Object.keys(v.headers));
    expect(headers).toEqual(v.headers);
  });
});

describe("CPython 3.11 reference outputs", () => {
  it.each(rows(python.json_strings, (v) => v.output))("json.dumps string %s", (_o, v: Json) => {
    expect(encodeJson(v.input)).toBe(v.output);
  });

  it.each(rows(python.json_numbers, (v) => v.output))("json.dumps number %s", (_o, v: Json) => {
    expect(encodeJson(v.input)).toBe(v.output);
  });

  it.each(rows(python.json_composite, (v) => v.output))("json.dumps %s", (_o, v: Json) => {
    expect(encodeJson(v.input)).toBe(v.output);
  });

  it.each(rows(python.value_errors, (v) => v.value))("ValueError value %s", (_value, v: Json) => {
    const err = serializeError(new ValueError(...v.args));
    expect(err).toEqual({
      exc_type: "ValueError",
      exc_path: "builtins.ValueError",
      exc_args: v.exc_args,
      value: v.value,
    });
  });

  it.each(rows(python.key_errors, (v) => v.value))("KeyError value %s", (_value, v: Json) => {
    const err = serializeError(new KeyError(...v.args));
    expect(err).toEqual({ exc_type: "KeyError", exc_path: "builtins.KeyError", exc_args: v.exc_args, value: v.value });
  });

  for (const s of python.binding) {
    const fn = new Function(`return ({ ${s.js} }).f;`)() as (...a: unknown[]) => unknown;
    const sig = signatureOf(fn, "f", { keywordOnly: s.keywordOnly });
    const jsNames = sig.params.map((p) => p.name);
    it.each(rows(s.calls, (c) => `${JSON.stringify(c.args)} ${JSON.stringify(c.kwargs)}`))(
      `${s.py} called with %s`,
      (_label, c: Json) => {
        if (c.error !== undefined) {
          const err = thrown(() => bindArguments(sig, c.args, c.kwargs));
          expect(err).toBeInstanceOf(IncorrectSignature);
          expect((err as Error).message).toBe(c.error);
          return;
        }
        const out = bindArguments(sig, c.args, c.kwargs);
        const expected: Record<string, unknown> = {};
        jsNames.forEach((name, i) => {
          if (out[i] !== undefined) expected[name] = out[i];
        });
        if (sig.varKwargs) expected.kw = out[jsNames.length];
        if (sig.varArgs) expected.rest = out.slice(jsNames.length + (sig.varKwargs ? 1 : 0));
        const pyBound = { ...c.bound };
        // Python fills defaults in; JavaScript applies them itself when it sees undefined
        for (const p of sig.params) if (p.hasDefault && !(p.name in expected)) delete pyBound[p.name];
        expect(expected).toEqual(pyBound);
      },
    );
  }
});
