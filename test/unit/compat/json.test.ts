import { runInNewContext } from "node:vm";
import { decodeJson, encodeJson, JsonDecodeError } from "../../../compat/json";
import { MAX_NESTING } from "../../../compat/python";
import { UnserializableValueError } from "../../../compat/errors";

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error("expected a throw");
}

describe("encodeJson", () => {
  it("uses Python's separators: a space after every comma and colon", () => {
    expect(encodeJson({ a: [1, 2, { b: null }], c: true })).toBe('{"a": [1, 2, {"b": null}], "c": true}');
  });

  it("writes empty containers without spaces", () => {
    expect(encodeJson({ a: [], b: {} })).toBe('{"a": [], "b": {}}');
  });

  it("keeps object keys in insertion order", () => {
    expect(encodeJson({ z: 1, a: 2 })).toBe('{"z": 1, "a": 2}');
  });

  it("escapes non-ASCII as lower-case \\uXXXX (ensure_ascii)", () => {
    expect(encodeJson("café ☃")).toBe('"caf\\u00e9 \\u2603"');
  });

  it("escapes astral characters as surrogate pairs", () => {
    expect(encodeJson("😀")).toBe('"\\ud83d\\ude00"');
  });

  it("escapes a lone surrogate", () => {
    expect(encodeJson("\ud800x")).toBe('"\\ud800x"');
  });

  it("escapes quotes, backslashes and control characters like Python", () => {
    expect(encodeJson('a"b\\c\n\r\t\b\f\u0001\u001f\u007f')).toBe('"a\\"b\\\\c\\n\\r\\t\\b\\f\\u0001\\u001f\\u007f"');
  });

  it("escapes non-ASCII in object keys too", () => {
    expect(encodeJson({ é: 1 })).toBe('{"\\u00e9": 1}');
  });

  it("writes NaN and the infinities as Python's bare tokens", () => {
    expect(encodeJson([NaN, Infinity, -Infinity])).toBe("[NaN, Infinity, -Infinity]");
  });

  it("writes floats like Python's repr", () => {
    expect(encodeJson([0.1, 1.5, 1e-5, 1.5e-7, 1e16, 1e300, 123.456])).toBe(
      "[0.1, 1.5, 1e-05, 1.5e-07, 1e+16, 1e+300, 123.456]",
    );
  });

  it("writes integral numbers without a fractional part (JavaScript cannot tell 1.0 from 1)", () => {
    expect(encodeJson([1, 0, 9007199254740991])).toBe("[1, 0, 9007199254740991]");
  });

  it("writes -0 as Python's float -0.0 (Python has no negative integer zero)", () => {
    expect(encodeJson([-0, 0, { z: -0 }])).toBe('[-0.0, 0, {"z": -0.0}]');
  });

  it("writes bigints as their digits", () => {
    expect(encodeJson({ big: 2n ** 70n, neg: -(2n ** 64n) })).toBe(
      '{"big": 1180591620717411303424, "neg": -18446744073709551616}',
    );
  });

  it("writes a Date as kombu 5.2 does: UTC ISO with Z, microseconds only when non-zero", () => {
    expect(encodeJson(new Date(Date.UTC(2024, 0, 2, 3, 4, 5)))).toBe('"2024-01-02T03:04:05Z"');
    expect(encodeJson(new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 678)))).toBe('"2024-01-02T03:04:05.678000Z"');
  });

  it("omits undefined object members and writes undefined list items as null", () => {
    expect(encodeJson({ a: undefined, b: [undefined], c: 1 })).toBe('{"b": [null], "c": 1}');
  });

  it("writes a top-level undefined as null (a method that returns nothing)", () => {
    expect(encodeJson(undefined)).toBe("null");
  });

  it("uses toJSON() when an object has one", () => {
    const money = { toJSON: () => "1.10" };
    expect(encodeJson({ amount: money })).toBe('{"amount": "1.10"}');
  });

  it("writes a Map as an object", () => {
    expect(
      encodeJson(
        new Map<unknown, unknown>([
          ["a", 1],
          [2, "b"],
        ]),
      ),
    ).toBe('{"a": 1, "2": "b"}');
  });

  it("refuses a Set, as Python's json refuses a set", () => {
    const err = thrown(() => encodeJson({ tags: new Set([1, 2]) }));
    expect(err).toBeInstanceOf(UnserializableValueError);
    expect(err.message).toBe("Unserializable value: `{'tags': {1, 2}}`");
  });

  it("writes Map keys as Python writes dict keys", () => {
    expect(
      encodeJson(
        new Map<unknown, unknown>([
          [1.5, "f"],
          [true, "b"],
          [null, "n"],
          [10n, "i"],
        ]),
      ),
    ).toBe('{"1.5": "f", "true": "b", "null": "n", "10": "i"}');
    expect(thrown(() => encodeJson(new Map([[{}, 1]])))).toBeInstanceOf(UnserializableValueError);
  });

  describe("class instances (docs/nameko-wire.md, Values: Python's json refuses any object it does not know)", () => {
    class Point {
      constructor(
        public x: number,
        public y: number,
      ) {}
    }
    class Account {
      #balance = 10;
      get balance(): number {
        return this.#balance;
      }
    }
    class Money {
      constructor(private readonly cents: number) {}
      toJSON(): string {
        return (this.cents / 100).toFixed(2);
      }
    }

    it.each([
      ["with public fields", new Point(1, 2)],
      ["whose state sits behind a getter and a #private field", new Account()],
      ["made with Object.create", Object.create({ kind: "proto" }) as object],
    ])("refuses an instance %s with UnserializableValueError", (_what, value) => {
      const err = thrown(() => encodeJson({ value }));
      expect(err).toBeInstanceOf(UnserializableValueError);
    });

    it("names the class in the UnserializableValueError, as Python's repr does", () => {
      expect(thrown(() => encodeJson(new Point(1, 2))).message).toBe("Unserializable value: `<Point object>`");
    });

    it("writes an instance with toJSON() as what toJSON() returns (kombu's __json__)", () => {
      expect(encodeJson({ price: new Money(110) })).toBe('{"price": "1.10"}');
    });

    it("writes a plain object made in another realm (a vm context) as a dict", () => {
      const foreign = runInNewContext('({ a: [1, { b: "c" }] })') as object;
      expect(Object.getPrototypeOf(foreign)).not.toBe(Object.prototype);
      expect(encodeJson(foreign)).toBe('{"a": [1, {"b": "c"}]}');
    });
  });

  it("writes objects without a prototype", () => {
    const o = Object.create(null) as Record<string, unknown>;
    o.k = "v";
    expect(encodeJson(o)).toBe('{"k": "v"}');
  });

  it("unwraps boxed primitives", () => {
    expect(encodeJson([Object("s"), Object(1), Object(true)])).toBe('["s", 1, true]');
  });

  it.each([
    ["a function", () => 1],
    ["a symbol", Symbol("s")],
    ["a Buffer (bytes are not serializable in kombu 5.2)", Buffer.from("raw")],
    ["a Uint8Array", new Uint8Array([1])],
    ["an ArrayBuffer", new ArrayBuffer(2)],
    ["an Error", new Error("x")],
    ["a Promise (a missing await)", Promise.resolve(1)],
    ["a RegExp", /x/],
  ])("refuses %s with UnserializableValueError", (_what, value) => {
    const err = thrown(() => encodeJson({ nested: [value] }));
    expect(err).toBeInstanceOf(UnserializableValueError);
  });

  it("reports the whole value in the UnserializableValueError, as Nameko does", () => {
    const err = thrown(() => encodeJson([Buffer.from("raw")]));
    expect(err.message).toBe("Unserializable value: `[b'raw']`");
  });

  it("refuses circular structures", () => {
    const a: Record<string, unknown> = {};
    a.self = a;
    expect(thrown(() => encodeJson(a))).toBeInstanceOf(UnserializableValueError);
  });

  it("wraps an exception thrown by toJSON", () => {
    const bad = {
      toJSON() {
        throw new Error("nope");
      },
    };
    const err = thrown(() => encodeJson(bad));
    expect(err).toBeInstanceOf(UnserializableValueError);
    expect(err.cause).toBeInstanceOf(Error);
  });

  it("writes nesting up to MAX_NESTING levels", () => {
    expect(MAX_NESTING).toBe(900);
    expect(encodeJson(nestedList(MAX_NESTING))).toBe("[".repeat(MAX_NESTING) + "]".repeat(MAX_NESTING));
    expect(encodeJson({ a: nestedList(MAX_NESTING - 1) })).toBe(
      '{"a": ' + "[".repeat(MAX_NESTING - 1) + "]".repeat(MAX_NESTING - 1) + "}",
    );
  });

  it("refuses deeper nesting, which a Python peer could not decode, as Nameko refuses it", () => {
    const err = thrown(() => encodeJson(nestedList(MAX_NESTING + 1)));
    expect(err).toBeInstanceOf(UnserializableValueError);
    // Python's repr of such a value fails too: Nameko's placeholder
    expect(err.message).toBe("Unserializable value: `[__repr__ failed]`");
    expect(thrown(() => encodeJson(nestedList(1000)))).toBeInstanceOf(UnserializableValueError);
  });
});

/** `[[...[]...]]` with `depth` lists. */
function nestedList(depth: number): unknown[] {
  let v: unknown[] = [];
  for (let i = 1; i < depth; i++) v = [v];
  return v;
}

describe("decodeJson", () => {
  it("parses ordinary JSON", () => {
    expect(decodeJson('{"a": [1, 2.5, "x", true, null]}')).toEqual({ a: [1, 2.5, "x", true, null] });
  });

  it("accepts a Uint8Array body", () => {
    expect(decodeJson(new TextEncoder().encode('{"u": "caf\\u00e9", "v": "é"}'))).toEqual({ u: "café", v: "é" });
  });

  it("accepts Python's NaN, Infinity and -Infinity tokens", () => {
    const v = decodeJson('{"a": NaN, "b": Infinity, "c": -Infinity, "d": [NaN]}') as Record<string, unknown>;
    expect(v.a).toBeNaN();
    expect(v.b).toBe(Infinity);
    expect(v.c).toBe(-Infinity);
    expect(v.d).toEqual([NaN]);
  });

  it("returns integers beyond 2^53 as bigint", () => {
    expect(decodeJson('{"big": 1180591620717411303424, "neg": -9007199254740993}')).toEqual({
      big: 1180591620717411303424n,
      neg: -9007199254740993n,
    });
  });

  it("finds long integers nested anywhere", () => {
    expect(decodeJson('{"a": [{"b": [1, 12345678901234567890]}]}')).toEqual({ a: [{ b: [1, 12345678901234567890n] }] });
  });

  it("keeps long integers that are still safe as numbers", () => {
    expect(decodeJson("[9007199254740991, 1234567890123456, -9007199254740991]")).toEqual([
      9007199254740991, 1234567890123456, -9007199254740991,
    ]);
  });

  it("keeps long floats as numbers", () => {
    expect(decodeJson("[0.30000000000000004, 12345678901234567890.5, 1e400]")).toEqual([
      0.30000000000000004,
      Number("12345678901234567890.5"),
      Infinity,
    ]);
  });

  it("keeps digits inside strings as strings", () => {
    expect(decodeJson('{"id": "12345678901234567890"}')).toEqual({ id: "12345678901234567890" });
  });

  it("decodes escapes in the slow path", () => {
    expect(decodeJson('{"s": "caf\\u00e9 \\ud83d\\ude00 \\"q\\" \\\\ \\n", "n": NaN}')).toMatchObject({
      s: 'café 😀 "q" \\ \n',
    });
  });

  it.each([
    ["datetime", '"2024-01-02T03:04:05.678000"', "2024-01-02T03:04:05.678000"],
    ["date", '"2024-01-02"', "2024-01-02"],
    ["time", '"03:04:05"', "03:04:05"],
    ["decimal", '"1.10"', "1.10"],
    ["uuid", '{"hex": "12345678123456781234567812345678", "version": 4}', "12345678-1234-5678-1234-567812345678"],
    ["bytes", '"raw text"', "raw text"],
    ["base64", '"aGVsbG8="', "hello"],
  ])("reads kombu>=5.3 tagged %s values as plain strings", (type, value, expected) => {
    expect(decodeJson(`{"v": {"__type__": "${type}", "__value__": ${value}}}`)).toEqual({ v: expected });
  });

  it("leaves tagged objects with an unknown type or extra keys alone", () => {
    expect(decodeJson('{"__type__": "frob", "__value__": 1}')).toEqual({ __type__: "frob", __value__: 1 });
    expect(decodeJson('{"__type__": "decimal", "__value__": "1", "x": 2}')).toEqual({
      __type__: "decimal",
      __value__: "1",
      x: 2,
    });
  });

  it("makes a __proto__ key an own property, never the prototype", () => {
    const v = decodeJson('{"__proto__": {"polluted": true}, "n": NaN}') as Record<string, unknown>;
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(Object.prototype.hasOwnProperty.call(v, "__proto__")).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("keeps the last of duplicate keys, as Python does", () => {
    expect(decodeJson('{"a": 1, "a": 2, "b": NaN}')).toMatchObject({ a: 2 });
  });

  it.each([
    ["empty text", ""],
    ["a bare word", "nope"],
    ["trailing data", '{"a": 1} x'],
    ["an unterminated string", '{"a": "b'],
    ["a missing comma", "[1 2]"],
    ["a missing colon", '{"a" 1}'],
    ["an unquoted key", "{a: 1}"],
    ["a raw control character in a string", '"a\u0001b"'],
  ])("throws JsonDecodeError for %s", (_what, text) => {
    const err = thrown(() => decodeJson(text));
    expect(err).toBeInstanceOf(JsonDecodeError);
    expect(err).toBeInstanceOf(SyntaxError);
    expect(typeof (err as JsonDecodeError).position).toBe("number");
  });

  it("reads -0.0 as -0 and -0 as Python's integer 0", () => {
    expect(Object.is(decodeJson("-0.0"), -0)).toBe(true);
    expect(Object.is(decodeJson("-0"), 0)).toBe(true);
    const fast = decodeJson('{"f": -0.0, "i": -0, "e": -0e0}') as Record<string, number>;
    expect([Object.is(fast.f, -0), Object.is(fast.i, 0), Object.is(fast.e, -0)]).toEqual([true, true, true]);
    // the same inside a document only the full parser reads (a NaN token)
    const slow = decodeJson("[NaN, -0.0, -0]") as number[];
    expect([Object.is(slow[1], -0), Object.is(slow[2], 0)]).toEqual([true, true]);
  });

  it("round-trips -0 through encodeJson", () => {
    expect(Object.is(decodeJson(encodeJson(-0)), -0)).toBe(true);
  });

  it("reads nesting up to MAX_NESTING levels", () => {
    const text = "[".repeat(MAX_NESTING) + "]".repeat(MAX_NESTING);
    expect(encodeJson(decodeJson(text))).toBe(text);
    const tagged = '{"a": ' + "[".repeat(MAX_NESTING - 1) + "NaN" + "]".repeat(MAX_NESTING - 1) + "}";
    expect(decodeJson(tagged)).toBeDefined();
  });

  it.each([
    ["a list", "[".repeat(MAX_NESTING + 1) + "]".repeat(MAX_NESTING + 1)],
    ["objects", '{"a": '.repeat(MAX_NESTING + 1) + "1" + "}".repeat(MAX_NESTING + 1)],
    ["a list the full parser reads (NaN)", "[".repeat(MAX_NESTING + 1) + "NaN" + "]".repeat(MAX_NESTING + 1)],
    ["100,000 levels", "[".repeat(100_000) + "]".repeat(100_000)],
  ])("refuses deeper nesting (Python's json raises RecursionError): %s", (_what, text) => {
    const err = thrown(() => decodeJson(text));
    expect(err).toBeInstanceOf(JsonDecodeError);
    expect(err.message).toMatch(/^Nesting deeper than 900 levels: line 1 column \d+ \(char \d+\)$/);
  });

  it("reports Python-style positions", () => {
    expect(thrown(() => decodeJson("[1,\n x]")).message).toBe("Expecting value: line 2 column 2 (char 5)");
  });

  it("round-trips what encodeJson writes", () => {
    const value = { s: "café ☃ 😀", n: [1, 0.1, -2], big: 2n ** 80n, nested: { t: true, f: false, z: null } };
    expect(decodeJson(encodeJson(value))).toEqual(value);
  });
});
