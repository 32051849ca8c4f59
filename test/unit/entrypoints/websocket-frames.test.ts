import { MalformedRequest, UnserializableValueError, ValueError } from "../../../compat";
import { decodeWsFrame, encodeWsError, encodeWsEvent, encodeWsResult } from "../../../src/entrypoints/websocket-frames";

describe("websocket frames", () => {
  it("decodes method, data and correlation id; a falsy data is no arguments, a missing id null", () => {
    expect(decodeWsFrame('{"method": "m", "data": {"a": 1}, "correlation_id": [1]}')).toEqual({
      method: "m",
      data: { a: 1 },
      correlationId: [1],
    });
    for (const data of ["null", "0", '""', "[]", "{}", "false"]) {
      expect(decodeWsFrame(`{"method": "m", "data": ${data}}`)).toEqual({ method: "m", data: {}, correlationId: null });
    }
    // A truthy non-object is kept, for binding to refuse as Python's `**data` would.
    expect(decodeWsFrame(Buffer.from('{"method": 5, "data": [1]}'))).toEqual({
      method: 5,
      data: [1],
      correlationId: null,
    });
  });

  it.each(["not json", "", "[]", '"method"', "null", '{"data": {}}', '{"method": "m"'])(
    "refuses %j with MalformedRequest('Invalid JSON data')",
    (raw) => {
      const error = (() => {
        try {
          decodeWsFrame(raw);
        } catch (err) {
          return err;
        }
      })();
      expect(error).toBeInstanceOf(MalformedRequest);
      expect((error as MalformedRequest).excArgs).toEqual(["Invalid JSON data"]);
    },
  );

  it("writes results, errors and events as Python's json.dumps writes Nameko's dicts", () => {
    expect(encodeWsResult({ é: [1, 2.5] }, "c")).toBe(
      '{"type": "result", "success": true, "data": {"\\u00e9": [1, 2.5]}, "correlation_id": "c"}',
    );
    expect(encodeWsError(new ValueError("no"), null)).toBe(
      '{"type": "result", "success": false, "error": {"exc_type": "ValueError", "exc_path": "builtins.ValueError", "exc_args": ["no"], "value": "no"}, "correlation_id": null}',
    );
    expect(encodeWsEvent("connected", { socket_id: "s" })).toBe(
      '{"type": "event", "event": "connected", "data": {"socket_id": "s"}}',
    );
  });

  it("answers a result JSON cannot write with UnserializableValueError, and refuses such event data", () => {
    expect(encodeWsResult(new Set([1]), 1)).toMatch(
      /^\{"type": "result", "success": false, "error": \{"exc_type": "UnserializableValueError", .*"correlation_id": 1\}$/,
    );
    expect(() => encodeWsEvent("e", () => 1)).toThrow(UnserializableValueError);
  });
});
