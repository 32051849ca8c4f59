import { pyNumber, pyRepr, pyReprBytes, pyReprString, pyStr, pyStrArgs, pyTypeName } from "../../../compat/python";

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

  it("stops at self-containing structures", () => {
    const a: unknown[] = [];
    a.push(a);
    expect(pyRepr(a)).toContain("...");
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
    [Buffer.from(""), "bytes"],
  ])("names %p as %s", (value, name) => {
    expect(pyTypeName(value)).toBe(name);
  });
});
