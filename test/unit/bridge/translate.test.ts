// AMQP <-> NATS translation of the bridge, without brokers: header types survive the round trip
// (docs/bridge-contract.md, Header translation), reply properties follow the request
// (docs/nameko-wire.md, RPC replies).
import { headers as natsHeaders } from "@nats-io/transport-node";
import type { MessageProperties } from "amqplib";
import { encodeAmqpHeaders } from "../../../amqp/headers";
import { InvalidHeader } from "../../../amqp/headers";
import { MAX_NESTING } from "../../../compat/python";
import {
  amqpHeadersFromNats,
  headerValueFromNats,
  errorReply,
  isErrorReply,
  natsHeadersFromAmqp,
  replyProperties,
  type SkippedHeader,
} from "../../../bridge/translate";
import { MethodNotFound } from "../../../compat/errors";

function record(h: ReturnType<typeof natsHeadersFromAmqp>): Record<string, string> {
  const out: Record<string, string> = {};
  if (h) for (const [k, v] of h) out[k] = v[0];
  return out;
}

describe("bridge translate: AMQP headers -> NATS headers", () => {
  it("leaves a message without headers without NATS headers", () => {
    expect(natsHeadersFromAmqp(undefined)).toBeUndefined();
    expect(natsHeadersFromAmqp({})).toBeUndefined();
  });

  it("carries context as nameko.* text, JSON for non-strings, the stack as a JSON array", () => {
    // As amqplib delivers a py-amqp table: typed values already decoded.
    const h = natsHeadersFromAmqp({
      "nameko.user_id": "u-1",
      "nameko.num": 5,
      "nameko.flag": true,
      "nameko.digits": "42",
      "nameko.call_id_stack": ["standalone_rpc_proxy.call.1", "a.b.2"],
      other: "kept",
    });
    expect(record(h)).toEqual({
      "nameko.user_id": "u-1",
      "nameko.num": "5",
      "nameko.flag": "true",
      "nameko.digits": '"42"',
      "nameko.call_id_stack": '["standalone_rpc_proxy.call.1", "a.b.2"]',
      "nameko.other": "kept",
    });
  });

  it("drops the bridge's own keys and reports keys NATS cannot carry", () => {
    const skipped: SkippedHeader[] = [];
    const h = natsHeadersFromAmqp(
      { "x-cliffracer-bridged": "amqp:a.b", "nameko.x-cliffracer-hop": "1", "bad key": "v", "nameko.ok": "yes" },
      skipped,
    );
    expect(record(h)).toEqual({ "nameko.ok": "yes" });
    expect(skipped.map((s) => s.key)).toEqual(["bad key"]);
  });
});

describe("bridge translate: NATS headers -> AMQP headers", () => {
  it("restores py-amqp types: the stack as an array, numbers and booleans typed", () => {
    const h = natsHeaders();
    h.set("nameko.user_id", "u-1");
    h.set("nameko.num", "5");
    h.set("nameko.big", String(2 ** 40));
    h.set("nameko.ratio", "0.5");
    h.set("nameko.flag", "true");
    h.set("nameko.digits", '"42"');
    h.set("nameko.call_id_stack", '["s.call.1", "a.b.2"]');
    const record = amqpHeadersFromNats(h)!;
    expect(record).toEqual({
      "nameko.user_id": "u-1",
      "nameko.num": 5,
      "nameko.big": 2 ** 40,
      "nameko.ratio": 0.5,
      "nameko.flag": true,
      "nameko.digits": "42",
      "nameko.call_id_stack": ["s.call.1", "a.b.2"],
    });
    // And amqp/ writes them with py-amqp's field types.
    expect(encodeAmqpHeaders(record)).toEqual({
      "nameko.user_id": "u-1",
      "nameko.num": { "!": "int32", value: 5 },
      "nameko.big": { "!": "int64", value: 2 ** 40 },
      "nameko.ratio": { "!": "double", value: 0.5 },
      "nameko.flag": true,
      "nameko.digits": "42",
      "nameko.call_id_stack": ["s.call.1", "a.b.2"],
    });
  });

  it("reads a single-id stack as a list and prefixes foreign keys", () => {
    const h = natsHeaders();
    h.set("nameko.call_id_stack", "s.call.1");
    h.set("trace", "t-1");
    expect(amqpHeadersFromNats(h)).toEqual({ "nameko.call_id_stack": ["s.call.1"], "nameko.trace": "t-1" });
    expect(amqpHeadersFromNats(undefined)).toBeUndefined();
  });
});

describe("bridge translate: replies", () => {
  const props = (p: Partial<MessageProperties>): MessageProperties => p as MessageProperties;

  it("copies content type and correlation id, omitting the id when the request had none", () => {
    expect(replyProperties(props({ contentType: "application/json", correlationId: "c-1", replyTo: "r" }))).toEqual({
      contentType: "application/json",
      contentEncoding: "utf-8",
      headers: {},
      deliveryMode: 2,
      priority: 0,
      correlationId: "c-1",
    });
    expect(replyProperties(props({ contentType: undefined }))).not.toHaveProperty("correlationId");
    expect(replyProperties(props({ contentType: undefined })).contentType).toBe("application/json");
  });

  it("tells error replies from results without parsing them", () => {
    expect(isErrorReply(Buffer.from('{"result": 3, "error": null}'))).toBe(false);
    expect(isErrorReply(Buffer.from('{"result":{"ok":true}}'))).toBe(false);
    expect(isErrorReply(errorReply(new MethodNotFound("x")))).toBe(true);
    expect(isErrorReply(Buffer.from('{"result": null, "error":{"exc_type": "E"}}'))).toBe(true);
  });
});

describe("bridge translate: NATS header values no reader can decode", () => {
  it("refuses a JSON list or object nested deeper than the JSON limit, naming the header", () => {
    const h = natsHeaders();
    h.set("nameko.ok", "[1]");
    h.set("nameko.deep", "[".repeat(MAX_NESTING + 1) + "]".repeat(MAX_NESTING + 1));
    expect(() => amqpHeadersFromNats(h)).toThrow(InvalidHeader);
    expect(() => amqpHeadersFromNats(h)).toThrow(/"nameko\.deep".*deeper than 900/);
  });

  it("keeps text that merely fails to parse as text, and brackets inside strings do not count", () => {
    expect(headerValueFromNats("nameko.t", "[not json")).toBe("[not json");
    const inString = JSON.stringify("[".repeat(MAX_NESTING + 5));
    expect(headerValueFromNats("nameko.s", inString)).toBe("[".repeat(MAX_NESTING + 5));
    const nested = "[".repeat(MAX_NESTING) + "]".repeat(MAX_NESTING);
    expect(Array.isArray(headerValueFromNats("nameko.n", nested))).toBe(true);
  });
});
