import { decodeJson, encodeJson, JsonDecodeError } from "../../../compat/json";
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
    expect(encodeJson([1, -0, 9007199254740991])).toBe("[1, 0, 9007199254740991]");
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

  it("writes a Map as an object and a Set as a list", () => {
    expect(
      encodeJson(
        new Map<unknown, unknown>([
          ["a", 1],
          [2, "b"],
        ]),
      ),
    ).toBe('{"a": 1, "2": "b"}');
    expect(encodeJson(new Set([1, "x"]))).toBe('[1, "x"]');
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

  it("writes class instances as their own enumerable fields", () => {
    class Point {
      constructor(
        public x: number,
        public y: number,
      ) {}
      norm(): number {
        return Math.hypot(this.x, this.y);
      }
    }
    expect(encodeJson(new Point(1, 2))).toBe('{"x": 1, "y": 2}');
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

  it("handles deep but acyclic nesting", () => {
    let v: unknown = 1;
    for (let i = 0; i < 500; i++) v = [v];
    expect(encodeJson(v)).toBe("[".repeat(500) + "1" + "]".repeat(500));
  });
});

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

  it("reports Python-style positions", () => {
    expect(thrown(() => decodeJson("[1,\n x]")).message).toBe("Expecting value: line 2 column 2 (char 5)");
  });

  it("round-trips what encodeJson writes", () => {
    const value = { s: "café ☃ 😀", n: [1, 0.1, -2], big: 2n ** 80n, nested: { t: true, f: false, z: null } };
    expect(decodeJson(encodeJson(value))).toEqual(value);
  });
});
