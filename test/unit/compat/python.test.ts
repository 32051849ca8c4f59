import { runInNewContext } from "node:vm";
import {
  isPlainObject,
  MAX_NESTING,
  pyNumber,
  pyRepr,
  pyReprBytes,
  pyReprString,
  pyStr,
  pyStrArgs,
  pyTypeName,
} from "../../../compat/python";

// Expected texts are CPython 3.11's own output for the equivalent Python values.
describe("pyReprString", () => {
  it.each([
    ["plain", "'plain'"],
    ["it's", `"it's"`],
    ['say "hi"', `'say "hi"'`],
    [`both ' and "`, `'both \\' and "'`],
    ["a\\b", "'a\\\\b'"],
    ["tab\tnl\ncr\r", "'tab\\tnl\\ncr\\r'"],
    ["\u0000\u007f\u00a0é\u2028😀\u{e0001}", "'\\x00\\x7f\\xa0é\\u2028😀\\U000e0001'"],
    ["", "''"],
  ])("repr(%j) is %s", (input, expected) => {
    expect(pyReprString(input)).toBe(expected);
  });
});

describe("pyReprBytes", () => {
  it("writes bytes like Python, choosing quotes the same way", () => {
    expect(pyReprBytes(Buffer.from([...Buffer.from("it's "), 0, 0xff, 0x5c]))).toBe(`b"it's \\x00\\xff\\\\"`);
    expect(pyReprBytes(Buffer.from(`"'`))).toBe(`b'"\\''`);
    expect(pyReprBytes(Buffer.from("raw"))).toBe("b'raw'");
  });
});

describe("pyNumber", () => {
  it.each([
    [42, "42"],
    [1.5, "1.5"],
    [1e-5, "1e-05"],
    [0.0001, "0.0001"],
    [1e16, "1e+16"],
    [2 ** 53, "9007199254740992.0"],
    [1e300, "1e+300"],
    [NaN, "nan"],
    [Infinity, "inf"],
    [-Infinity, "-inf"],
  ])("repr(%p) is %s", (n, expected) => {
    expect(pyNumber(n)).toBe(expected);
  });
});

describe("pyRepr", () => {
  it("reads arrays as lists and objects as dicts", () => {
    expect(pyRepr([1, "a", null, true, { k: [1.5] }])).toBe("[1, 'a', None, True, {'k': [1.5]}]");
  });

  it("writes sets, maps, bigints and undefined", () => {
    expect(pyRepr(new Set())).toBe("set()");
    expect(pyRepr(new Set([1]))).toBe("{1}");
    expect(pyRepr(new Map([["k", 1]]))).toBe("{'k': 1}");
    expect(pyRepr(2n ** 70n)).toBe("1180591620717411303424");
    expect(pyRepr(undefined)).toBe("None");
  });

  it("writes errors as Python exception reprs", () => {
    expect(pyRepr(new TypeError("x"))).toBe("TypeError('x')");
  });

  it("writes dates as datetime reprs", () => {
    expect(pyRepr(new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 678)))).toBe(
      "datetime.datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=datetime.timezone.utc)",
    );
  });

  it("uses an object's __repr__ method, as Python does", () => {
    expect(pyRepr({ __repr__: () => "<Opaque>" })).toBe("<Opaque>");
  });

  it("names functions and class instances", () => {
    function handler(): void {}
    class Thing {}
    expect(pyRepr(handler)).toBe("<function handler>");
    expect(pyRepr(new Thing())).toBe("<Thing object>");
  });

  it("prints a container met again inside itself as Python does", () => {
    const a: unknown[] = [];
    a.push(a);
    expect(pyRepr(a)).toBe("[[...]]");
    const d: Record<string, unknown> = {};
    d.self = d;
    expect(pyRepr(d)).toBe("{'self': {...}}");
    expect(pyRepr([a, 1])).toBe("[[[...]], 1]");
    // the same list twice side by side is not a cycle
    const shared = [1];
    expect(pyRepr([shared, shared])).toBe("[[1], [1]]");
  });

  it("prints nesting up to MAX_NESTING levels and fails deeper, as Python's repr runs out of stack", () => {
    let v: unknown[] = [];
    for (let i = 1; i < MAX_NESTING; i++) v = [v];
    expect(pyRepr(v)).toBe("[".repeat(MAX_NESTING) + "]".repeat(MAX_NESTING));
    expect(() => pyRepr([v])).toThrow(RangeError);
  });

  it("writes -0 as -0.0", () => {
    expect(pyRepr(-0)).toBe("-0.0");
    expect(pyStr([-0, 0])).toBe("[-0.0, 0]");
  });
});

describe("pyStr and pyStrArgs", () => {
  it("returns strings unchanged and error messages", () => {
    expect(pyStr("it's")).toBe("it's");
    expect(pyStr(new Error("m"))).toBe("m");
  });

  it("writes a date like str(datetime)", () => {
    expect(pyStr(new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 678)))).toBe("2024-01-02 03:04:05.678000+00:00");
  });

  it("formats exception args like str(exc)", () => {
    expect(pyStrArgs([])).toBe("");
    expect(pyStrArgs(["x"])).toBe("x");
    expect(pyStrArgs(["x", 1])).toBe("('x', 1)");
  });
});

describe("pyTypeName", () => {
  it.each([
    [null, "NoneType"],
    [undefined, "NoneType"],
    ["s", "str"],
    [1, "int"],
    [1.5, "float"],
    [1n, "int"],
    [true, "bool"],
    [[], "list"],
    [{}, "dict"],
    [new Set(), "set"],
    [new Map(), "dict"],
    [Buffer.from(""), "bytes"],
    [new (class Point {})(), "Point"],
  ])("names %p as %s", (value, name) => {
    expect(pyTypeName(value)).toBe(name);
  });
});

describe("isPlainObject", () => {
  it("accepts object literals, prototype-less objects and plain objects of another realm", () => {
    expect(isPlainObject({})).toBe(true);
    expect(isPlainObject(Object.create(null) as object)).toBe(true);
    expect(isPlainObject(runInNewContext("({})") as object)).toBe(true);
  });

  it("refuses class instances, objects with another prototype and built-ins", () => {
    class Point {}
    expect(isPlainObject(new Point())).toBe(false);
    expect(isPlainObject(Object.create({}) as object)).toBe(false);
    expect(isPlainObject(new Map())).toBe(false);
    expect(isPlainObject(runInNewContext("new (class Foreign {})()") as object)).toBe(false);
  });
});
