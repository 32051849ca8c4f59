import {
  CALL_ID_STACK_KEY,
  contextFromHeaders,
  contextToHeaders,
  decodeHeaderValue,
  DEFAULT_PARENT_CALLS_TRACKED,
  encodeHeaderValue,
  extendCallIdStack,
  HEADER_PREFIX,
  newCallId,
} from "../../../compat/context";

describe("constants", () => {
  it("match Nameko's", () => {
    expect(HEADER_PREFIX).toBe("nameko.");
    expect(CALL_ID_STACK_KEY).toBe("call_id_stack");
    expect(DEFAULT_PARENT_CALLS_TRACKED).toBe(10);
  });
});

describe("newCallId", () => {
  it("is service.method.uuid4", () => {
    expect(newCallId("calc", "add")).toMatch(
      /^calc\.add\.[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });

  it("is new on every call", () => {
    expect(newCallId("a", "b")).not.toBe(newCallId("a", "b"));
  });
});

describe("extendCallIdStack", () => {
  it("appends the worker's own id", () => {
    expect(extendCallIdStack(["p.q.1"], "calc.add.2")).toEqual(["p.q.1", "calc.add.2"]);
  });

  it("keeps the last parent_calls_tracked + 1 entries", () => {
    const parent = ["a.b.1", "a.b.2", "a.b.3", "a.b.4", "a.b.5"];
    expect(extendCallIdStack(parent, "calc.context.x", 2)).toEqual(["a.b.4", "a.b.5", "calc.context.x"]);
  });

  it("keeps 11 entries by default", () => {
    const parent = Array.from({ length: 20 }, (_, i) => `s.m.${i}`);
    const stack = extendCallIdStack(parent, "me");
    expect(stack).toHaveLength(11);
    expect(stack[10]).toBe("me");
    expect(stack[0]).toBe("s.m.10");
  });

  it("keeps only the own id when no parents are tracked", () => {
    expect(extendCallIdStack(["a", "b"], "me", 0)).toEqual(["me"]);
  });

  it("does not modify the parent stack", () => {
    const parent = ["a"];
    extendCallIdStack(parent, "me");
    expect(parent).toEqual(["a"]);
  });
});

describe("contextFromHeaders", () => {
  it("strips the nameko. prefix and takes the stack out of the data", () => {
    expect(contextFromHeaders({ "nameko.user_id": "u-1", "nameko.num": 5, "nameko.call_id_stack": ["a.b.1"] })).toEqual(
      {
        data: { user_id: "u-1", num: 5 },
        parentStack: ["a.b.1"],
      },
    );
  });

  it("keeps headers without the prefix under their own key", () => {
    expect(contextFromHeaders({ other: "x" }).data).toEqual({ other: "x" });
  });

  it("reads an unprefixed call_id_stack too", () => {
    expect(contextFromHeaders({ call_id_stack: ["a"] }).parentStack).toEqual(["a"]);
  });

  it("reads a string stack as one id, not as characters", () => {
    expect(contextFromHeaders({ "nameko.call_id_stack": "a.b.1" }).parentStack).toEqual(["a.b.1"]);
  });

  it("has an empty parent stack without the header", () => {
    expect(contextFromHeaders({}).parentStack).toEqual([]);
  });
});

describe("contextToHeaders", () => {
  it("prefixes every key, drops None values and puts the stack last", () => {
    const headers = contextToHeaders({ user_id: "u-1", gone: null, undef: undefined, other: "x", num: 5 }, [
      "a.b.1",
      "c.d.2",
    ]);
    expect(headers).toEqual({
      "nameko.user_id": "u-1",
      "nameko.other": "x",
      "nameko.num": 5,
      "nameko.call_id_stack": ["a.b.1", "c.d.2"],
    });
    expect(Object.keys(headers)).toEqual(["nameko.user_id", "nameko.other", "nameko.num", "nameko.call_id_stack"]);
  });

  it("leaves out an empty stack", () => {
    expect(contextToHeaders({ a: 1 }, [])).toEqual({ "nameko.a": 1 });
  });

  it("ignores a call_id_stack inside the data in favour of the given stack", () => {
    expect(contextToHeaders({ call_id_stack: ["old"] }, ["new"])).toEqual({ "nameko.call_id_stack": ["new"] });
  });

  it("copies the stack", () => {
    const stack = ["a"];
    const headers = contextToHeaders({}, stack);
    expect(headers["nameko.call_id_stack"]).not.toBe(stack);
  });
});

describe("encodeHeaderValue / decodeHeaderValue", () => {
  it("sends ordinary strings as they are", () => {
    expect(encodeHeaderValue("u-1")).toBe("u-1");
    expect(encodeHeaderValue("en-gb")).toBe("en-gb");
    expect(encodeHeaderValue("spec-client/1.0")).toBe("spec-client/1.0");
    expect(encodeHeaderValue("2024-01-02")).toBe("2024-01-02");
  });

  it("sends non-strings as JSON", () => {
    expect(encodeHeaderValue(5)).toBe("5");
    expect(encodeHeaderValue(true)).toBe("true");
    expect(encodeHeaderValue(["a.b.1", "c.d.2"])).toBe('["a.b.1", "c.d.2"]');
    expect(encodeHeaderValue({ k: 1 })).toBe('{"k": 1}');
    expect(encodeHeaderValue(2n ** 64n)).toBe("18446744073709551616");
  });

  it("quotes strings that would read back as another type", () => {
    expect(encodeHeaderValue("5")).toBe('"5"');
    expect(encodeHeaderValue("true")).toBe('"true"');
    expect(encodeHeaderValue("null")).toBe('"null"');
    expect(encodeHeaderValue("[1]")).toBe('"[1]"');
    expect(encodeHeaderValue('"q"')).toBe('"\\"q\\""');
  });

  it("quotes strings a header line cannot carry", () => {
    expect(encodeHeaderValue("a\r\nb")).toBe('"a\\r\\nb"');
    expect(encodeHeaderValue(" padded ")).toBe('" padded "');
  });

  it.each([
    "u-1",
    "5",
    "-1",
    "true",
    "null",
    "NaN",
    "[x",
    "{",
    '"q"',
    "a\r\nb",
    " padded",
    "café ☃",
    "",
    5,
    -2.5,
    true,
    false,
    null,
    ["a.b.1"],
    { k: [1, "x"] },
    2n ** 64n,
  ])("round-trips %p", (value) => {
    expect(decodeHeaderValue("nameko.x", encodeHeaderValue(value))).toEqual(value);
  });

  it("reads call_id_stack as a list of ids", () => {
    expect(decodeHeaderValue("call_id_stack", '["a.b.1", "c.d.2"]')).toEqual(["a.b.1", "c.d.2"]);
    expect(decodeHeaderValue("nameko.call_id_stack", '["a.b.1"]')).toEqual(["a.b.1"]);
  });

  it("reads a bare call_id_stack value as one id", () => {
    expect(decodeHeaderValue("nameko.call_id_stack", "a.b.1")).toEqual(["a.b.1"]);
    expect(decodeHeaderValue("nameko.call_id_stack", "[broken")).toEqual(["[broken"]);
  });

  it("reads text that merely looks like JSON as text", () => {
    expect(decodeHeaderValue("k", "-abc")).toBe("-abc");
    expect(decodeHeaderValue("k", "{nope")).toBe("{nope");
  });
});
