import {
  asciiBytes,
  decodeReply,
  decodeRequest,
  encodeErrorReply,
  encodeReply,
  encodeReplyBytes,
  encodeRequest,
  encodeRequestBytes,
  isPlainRequestEnvelope,
  JsonDecodeError,
  requestEnvelope,
} from "../../../compat/codec";
import {
  IncorrectSignature,
  MalformedReply,
  MalformedRequest,
  UnserializableValueError,
  ValueError,
} from "../../../compat/errors";
import { MAX_NESTING } from "../../../compat/python";

/** `[[...[]...]]` with `depth` lists. */
function nestedList(depth: number): unknown[] {
  let v: unknown[] = [];
  for (let i = 1; i < depth; i++) v = [v];
  return v;
}

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error("expected a throw");
}

describe("encodeRequest", () => {
  it("writes args then kwargs", () => {
    expect(encodeRequest([1, "a"], { k: true })).toBe('{"args": [1, "a"], "kwargs": {"k": true}}');
  });

  it("defaults kwargs to an empty object", () => {
    expect(encodeRequest([])).toBe('{"args": [], "kwargs": {}}');
  });

  it("throws UnserializableValueError for arguments that cannot be encoded", () => {
    expect(thrown(() => encodeRequest([() => 1]))).toBeInstanceOf(UnserializableValueError);
  });

  it("refuses class instances, Sets and too deep nesting in arguments as in replies (docs/nameko-wire.md, Values)", () => {
    class Point {
      x = 1;
    }
    let deep: unknown[] = [];
    for (let i = 0; i < 1000; i++) deep = [deep];
    expect(thrown(() => encodeRequest([new Point()]))).toBeInstanceOf(UnserializableValueError);
    expect(thrown(() => encodeRequest([], { tags: new Set(["a"]) }))).toBeInstanceOf(UnserializableValueError);
    expect(thrown(() => encodeRequest([deep]))).toBeInstanceOf(UnserializableValueError);
  });

  it("writes -0 as -0.0", () => {
    expect(encodeRequest([-0])).toBe('{"args": [-0.0], "kwargs": {}}');
  });
});

describe("requestEnvelope", () => {
  it("returns the request object without looking inside args and kwargs", () => {
    expect(requestEnvelope('{"args": 5, "kwargs": null, "x": 1}')).toEqual({ args: 5, kwargs: null, x: 1 });
  });

  it.each([
    ["[1, 2]", "Message body must be a JSON object, not list"],
    ["null", "Message body must be a JSON object, not NoneType"],
    ['"x"', "Message body must be a JSON object, not str"],
    ['{"args": []}', "Message missing `args` or `kwargs`"],
  ])("refuses %s with MalformedRequest: %s", (body, message) => {
    const err = thrown(() => requestEnvelope(body));
    expect(err).toBeInstanceOf(MalformedRequest);
    expect(err.message).toBe(message);
  });
});

describe("decodeRequest", () => {
  it("returns args and kwargs", () => {
    expect(decodeRequest('{"args": [1], "kwargs": {"b": 2}}')).toEqual({ args: [1], kwargs: { b: 2 } });
  });

  it("ignores extra top-level keys", () => {
    expect(decodeRequest('{"args": [], "kwargs": {}, "x": 1}')).toEqual({ args: [], kwargs: {} });
  });

  it.each([
    ["args missing", '{"kwargs": {}}'],
    ["kwargs missing", '{"args": [1, 2]}'],
  ])("throws MalformedRequest with Nameko's text when %s", (_what, body) => {
    const err = thrown(() => decodeRequest(body));
    expect(err).toBeInstanceOf(MalformedRequest);
    expect(err.message).toBe("Message missing `args` or `kwargs`");
  });

  it("throws MalformedRequest for bad JSON", () => {
    const err = thrown(() => decodeRequest("{nope"));
    expect(err).toBeInstanceOf(MalformedRequest);
    expect(err.message).toMatch(/^Message body is not valid JSON: /);
  });

  it.each([
    ["list", "[1, 2]"],
    ["str", '"x"'],
    ["NoneType", "null"],
    ["int", "5"],
  ])("throws MalformedRequest for a body that is a %s", (type, body) => {
    const err = thrown(() => decodeRequest(body));
    expect(err).toBeInstanceOf(MalformedRequest);
    expect(err.message).toBe(`Message body must be a JSON object, not ${type}`);
  });

  it("throws MalformedRequest for a body nested deeper than a Python peer reads", () => {
    const body = '{"args": [' + "[".repeat(1000) + "]".repeat(1000) + '], "kwargs": {}}';
    const err = thrown(() => decodeRequest(body));
    expect(err).toBeInstanceOf(MalformedRequest);
    expect(err.message).toMatch(/^Message body is not valid JSON: Nesting deeper than 900 levels/);
  });

  it("splats string args into characters, as Python's *args does", () => {
    expect(decodeRequest('{"args": "ab", "kwargs": {}}').args).toEqual(["a", "b"]);
  });

  it("splats dict args into their keys, as Python's *args does", () => {
    expect(decodeRequest('{"args": {"x": 1, "y": 2}, "kwargs": {}}').args).toEqual(["x", "y"]);
  });

  it("throws IncorrectSignature for args that are not iterable", () => {
    const err = thrown(() => decodeRequest('{"args": 5, "kwargs": {}}'));
    expect(err).toBeInstanceOf(IncorrectSignature);
    expect(err.message).toBe("Value after * must be an iterable, not int");
  });

  it.each([
    ["NoneType", "null"],
    ["list", "[]"],
    ["str", '"x"'],
  ])("throws Nameko's IncorrectSignature for kwargs that are a %s", (type, kwargs) => {
    const err = thrown(() => decodeRequest(`{"args": [1, 2], "kwargs": ${kwargs}}`));
    expect(err).toBeInstanceOf(IncorrectSignature);
    expect(err.message).toBe(`inspect.getcallargs() argument after ** must be a mapping, not ${type}`);
  });
});

describe("asciiBytes", () => {
  it("gives a written body's UTF-8 bytes, whatever characters its values hold", () => {
    const values = ["café", "€ and 😀", "\ud800 alone", 'quote " and \\ backslash', "\u007f\u0080\u00ff"];
    for (const body of [
      encodeRequest(values, { k: "ü" }),
      encodeReply({ clé: values }),
      encodeErrorReply(new ValueError("naïve")),
    ]) {
      expect(asciiBytes(body)).toEqual(Buffer.from(body, "utf8"));
    }
    expect(decodeReply(asciiBytes(encodeReply(values))).result).toEqual(values);
  });
});

describe("encodeRequestBytes / encodeReplyBytes", () => {
  const long = "x".repeat(20_000);
  const values: unknown[] = [
    long,
    `${long} "quoted" \\ and é`,
    "short",
    [long, 1, undefined, null, { k: long }],
    { nested: [long] },
    -0,
    undefined,
  ];

  it("write the bytes of encodeRequest and encodeReply, long strings or not", () => {
    for (const v of values) {
      expect(encodeReplyBytes(v).equals(Buffer.from(encodeReply(v)))).toBe(true);
      expect(encodeRequestBytes([v, long], { k: v }).equals(Buffer.from(encodeRequest([v, long], { k: v })))).toBe(
        true,
      );
    }
    expect(encodeRequestBytes([long, undefined]).toString()).toBe(`{"args": ["${long}", null], "kwargs": {}}`);
  });

  it("refuse what encodeRequest refuses, with its error", () => {
    const call = () => encodeRequestBytes([long, new Set([1])]);
    expect(call).toThrow(UnserializableValueError);
    expect(call).toThrow(new UnserializableValueError([long, new Set([1])]).message);
    expect(() => encodeRequestBytes([long], { deep: nestedList(MAX_NESTING) })).toThrow(UnserializableValueError);
  });
});

describe("isPlainRequestEnvelope", () => {
  const ok = (text: string): boolean => {
    try {
      requestEnvelope(Buffer.from(text));
      return true;
    } catch (err) {
      if (err instanceof MalformedRequest) return false;
      throw err;
    }
  };
  const plain = (text: string): boolean => isPlainRequestEnvelope(Buffer.from(text));

  it("says yes, without decoding, to the requests clients write", () => {
    for (const text of [
      encodeRequest(["x".repeat(100_000)], {}),
      encodeRequest([1, -2.5e-3, 0, true, false, null, [], {}, [[1], { a: [] }], "a b"], { k: { n: [1, "2"] } }),
      '{"args": ["é ü, raw UTF-8"], "kwargs": {}}',
      '{"kwargs":{},"args":[]}',
      ' \n{ "args" : [ 1 , 2 ] , "kwargs" : { "a" : "b" } , "extra" : 3 } \t',
    ]) {
      expect(plain(text)).toBe(true);
      expect(ok(text)).toBe(true);
    }
  });

  it("leaves to requestEnvelope what is not plain JSON or not an envelope", () => {
    for (const text of [
      encodeRequest(['quote " inside'], {}),
      '{"args": [NaN], "kwargs": {}}',
      `{"args": ${"[".repeat(100)}${"]".repeat(100)}, "kwargs": {}}`,
      '{"args": []}',
      '{"kwargs": {}, "arg": []}',
      '[{"args": [], "kwargs": {}}]',
      '{"args": [], "kwargs": {}} x',
      '{"args": [1,], "kwargs": {}}',
      '{"args": [01], "kwargs": {}}',
      '{"args": ["a\tb"], "kwargs": {}}',
      '{"args": [], "kwargs": {},}',
      "",
    ]) {
      expect(plain(text)).toBe(false);
    }
  });

  it("finds a control character anywhere in a long string", () => {
    const long = "y".repeat(1000);
    expect(plain(`{"args": ["${long}"], "kwargs": {}}`)).toBe(true);
    for (const at of [0, 1, 2, 3, 4, 5, 255, 256, 257, 500, 996, 997, 998, 999]) {
      for (const ch of ["\u0000", "\u0001", "\u001f"]) {
        const text = `{"args": ["${long.slice(0, at)}${ch}${long.slice(at + 1)}"], "kwargs": {}}`;
        expect(plain(text)).toBe(false);
        expect(plain(` ${text}`)).toBe(false); // another alignment
        expect(ok(text)).toBe(false);
      }
    }
    // Bytes from 0x20 up, UTF-8 included, are all allowed.
    const all = Array.from({ length: 0x7f - 0x20 }, (_, k) => String.fromCharCode(0x20 + k))
      .filter((c) => c !== '"' && c !== "\\")
      .join("");
    expect(plain(`{"args": ["${all.repeat(10)}é€😀"], "kwargs": {}}`)).toBe(true);
  });

  it("never says yes to a body requestEnvelope refuses, whatever bytes are changed", () => {
    const base = encodeRequest([1, "two", [3.5, { four: null }], true], { k: [false, "v"] });
    const alphabet = '{}[]",: 0123456789.eE+-tfnaluskwrgx\t';
    let seed = 17;
    const rnd = (k: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % k;
    };
    for (let trial = 0; trial < 20_000; trial++) {
      const chars = [...base];
      for (let edits = 1 + rnd(3); edits > 0; edits--) {
        const at = rnd(chars.length);
        const ch = alphabet[rnd(alphabet.length)];
        const op = rnd(3);
        if (op === 0) chars.splice(at, 1);
        else if (op === 1) chars.splice(at, 0, ch);
        else chars[at] = ch;
      }
      const text = chars.join("");
      if (plain(text)) expect({ text, accepted: ok(text) }).toEqual({ text, accepted: true });
    }
  });
});

describe("encodeReply / encodeErrorReply", () => {
  it("writes result then error", () => {
    expect(encodeReply({ ok: true })).toBe('{"result": {"ok": true}, "error": null}');
  });

  it("writes an undefined result as null", () => {
    expect(encodeReply(undefined)).toBe('{"result": null, "error": null}');
  });

  it("turns an unencodable result into Nameko's UnserializableValueError reply", () => {
    expect(encodeReply(Buffer.from("raw"))).toBe(
      '{"result": null, "error": {"exc_type": "UnserializableValueError", "exc_path": "nameko.exceptions.UnserializableValueError", "exc_args": [], "value": "Unserializable value: `b\'raw\'`"}}',
    );
  });

  it("turns a class instance without toJSON into the UnserializableValueError reply", () => {
    class Account {
      #balance = 10;
      get balance(): number {
        return this.#balance;
      }
    }
    expect(encodeReply(new Account())).toBe(
      '{"result": null, "error": {"exc_type": "UnserializableValueError", "exc_path": "nameko.exceptions.UnserializableValueError", "exc_args": [], "value": "Unserializable value: `<Account object>`"}}',
    );
  });

  it("writes a -0 result as -0.0", () => {
    expect(encodeReply(-0)).toBe('{"result": -0.0, "error": null}');
  });

  it("keeps the type of an error whose message cannot be read", () => {
    class Unprintable extends Error {}
    const err = Object.defineProperty(new Unprintable(), "message", {
      get(): string {
        throw new Error("no message");
      },
    });
    expect(encodeErrorReply(err)).toBe(
      '{"result": null, "error": {"exc_type": "Unprintable", "exc_path": "cliffracer.remote.Unprintable", "exc_args": [], "value": "[__unicode__ failed]"}}',
    );
  });

  it("turns a throwing toJSON into the UnserializableValueError reply", () => {
    const reply = encodeReply({
      toJSON() {
        throw new Error("x");
      },
    });
    expect(reply).toMatch(/"exc_type": "UnserializableValueError"/);
  });

  it("writes any thrown value as an error reply", () => {
    expect(encodeErrorReply(new ValueError("bad"))).toBe(
      '{"result": null, "error": {"exc_type": "ValueError", "exc_path": "builtins.ValueError", "exc_args": ["bad"], "value": "bad"}}',
    );
    expect(encodeErrorReply("boom")).toBe(
      '{"result": null, "error": {"exc_type": "Exception", "exc_path": "builtins.Exception", "exc_args": ["boom"], "value": "boom"}}',
    );
  });
});

describe("nesting: the bound counts the envelope, so whatever is written can be read back", () => {
  it("writes and reads a reply whose body nests MAX_NESTING levels, and refuses one level more", () => {
    const body = encodeReply(nestedList(MAX_NESTING - 1));
    expect(decodeReply(body)).toEqual({ result: nestedList(MAX_NESTING - 1), error: null });
    expect(decodeReply(encodeReply(nestedList(MAX_NESTING))).error).toMatchObject({
      exc_type: "UnserializableValueError",
    });
  });

  it("writes and reads a request whose body nests MAX_NESTING levels, and refuses one level more", () => {
    const body = encodeRequest([nestedList(MAX_NESTING - 2)], { k: nestedList(MAX_NESTING - 2) });
    expect(decodeRequest(body).args).toEqual([nestedList(MAX_NESTING - 2)]);
    expect(thrown(() => encodeRequest([nestedList(MAX_NESTING - 1)]))).toBeInstanceOf(UnserializableValueError);
    expect(thrown(() => encodeRequest([], { k: nestedList(MAX_NESTING - 1) }))).toBeInstanceOf(
      UnserializableValueError,
    );
  });
});

describe("decodeReply", () => {
  it("returns the result of a success reply", () => {
    expect(decodeReply('{"result": [1, 2], "error": null}')).toEqual({ result: [1, 2], error: null });
  });

  it("treats a missing error key as success", () => {
    expect(decodeReply('{"result": 1}')).toEqual({ result: 1, error: null });
  });

  it("reads a missing result as null", () => {
    expect(decodeReply('{"error": null}')).toEqual({ result: null, error: null });
  });

  it("treats an empty error object as success, as Python's truthiness test does", () => {
    expect(decodeReply('{"result": 7, "error": {}}')).toEqual({ result: 7, error: null });
  });

  it("returns the error object of an error reply", () => {
    const body =
      '{"result": null, "error": {"exc_type": "Boom", "exc_path": "x.Boom", "exc_args": ["a"], "value": "a"}}';
    expect(decodeReply(body)).toEqual({
      result: null,
      error: { exc_type: "Boom", exc_path: "x.Boom", exc_args: ["a"], value: "a" },
    });
  });

  it("fills missing error keys with Python's None", () => {
    expect(decodeReply('{"result": null, "error": {"value": "a"}}').error).toEqual({
      exc_type: "None",
      exc_path: "None",
      exc_args: [],
      value: "a",
    });
  });

  it("accepts a truthy non-object error as an error", () => {
    expect(decodeReply('{"result": null, "error": "boom"}').error).toEqual({
      exc_type: "None",
      exc_path: "None",
      exc_args: [],
      value: "boom",
    });
  });

  it("throws MalformedReply for a body that is not an object", () => {
    expect(thrown(() => decodeReply("[1]"))).toBeInstanceOf(MalformedReply);
  });

  it("throws JsonDecodeError for bad JSON", () => {
    expect(thrown(() => decodeReply("{"))).toBeInstanceOf(JsonDecodeError);
  });
});

describe("the JSON layer", () => {
  it("is part of codec's surface", async () => {
    const codec = await import("../../../compat/codec");
    const json = await import("../../../compat/json");
    expect(codec.encodeJson).toBe(json.encodeJson);
    expect(codec.decodeJson).toBe(json.decodeJson);
  });
});
