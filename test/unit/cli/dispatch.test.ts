import { parsePayload } from "../../../src/cli/dispatch";
import { CommandError } from "../../../src/errors";

describe("cliffracer dispatch payload", () => {
  it("is null when absent, like dispatch(type) without a payload in Python", () => {
    expect(parsePayload(undefined)).toBeNull();
    expect(parsePayload("  ")).toBeNull();
  });

  it("is any JSON value", () => {
    expect(parsePayload('{"n": [1, 2]}')).toEqual({ n: [1, 2] });
    expect(parsePayload('"plain string payload"')).toBe("plain string payload");
    expect(parsePayload("42")).toBe(42);
  });

  it("refuses text that is not JSON", () => {
    expect(() => parsePayload("{oops")).toThrow(CommandError);
  });
});
