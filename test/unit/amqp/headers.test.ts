// The AMQP header encoder refuses, before anything is written, every value RabbitMQ or py-amqp
// cannot take (a non-finite double closes the connection with 541; py-amqp recurses per level),
// naming the header; and a received table amqplib could not decode is refused per message.
import { Buffer } from "node:buffer";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import {
  decodeAmqpHeaders,
  encodeAmqpHeaders,
  InvalidHeader,
  MAX_HEADER_DEPTH,
  MAX_HEADER_TABLE_BYTES,
} from "../../../amqp/headers";
import { MAX_DECODED_DEPTH, rewriteLongTags } from "../../../amqp/py-amqp-long";

// amqplib's lib/ by path (its package "exports" hide it): the encoder and decoder the wire uses.
const lib = join(dirname(require.resolve("amqplib")), "lib");
const requireLib = createRequire(__filename);
const codec = requireLib(join(lib, "codec.js")) as {
  encodeTable(buf: Buffer, val: unknown, offset: number): number;
};
const defs = requireLib(join(lib, "defs.js")) as {
  BasicProperties: number;
  encodeProperties(id: number, channel: number, size: number, fields: object): Buffer;
};
const frame = requireLib(join(lib, "frame.js")) as {
  parseFrame(bin: Buffer, max: number): { type: number; channel: number; payload: Buffer; rest: Buffer } | false;
  decodeFrame(f: object): { fields: { headers?: Record<string, unknown> } };
};

function refusal(headers: Record<string, unknown>): InvalidHeader {
  try {
    encodeAmqpHeaders(headers);
  } catch (err) {
    if (err instanceof InvalidHeader) return err;
    throw err;
  }
  throw new Error("encodeAmqpHeaders accepted the headers");
}

function nested(depth: number): unknown {
  let v: unknown = "leaf";
  for (let i = 0; i < depth; i++) v = i % 2 ? { a: v } : [v];
  return v;
}

/** The table as amqplib writes it into a frame (what the encoder's size accounting must match). */
function wireBytes(table: Record<string, unknown>): number {
  return codec.encodeTable(Buffer.alloc(MAX_HEADER_TABLE_BYTES * 2), table, 0);
}

describe("amqp headers: values AMQP cannot carry are refused, naming the header", () => {
  it.each([
    ["NaN", NaN],
    ["Infinity", Infinity],
    ["-Infinity", -Infinity],
  ])("refuses %s (RabbitMQ closes the connection on a non-finite double)", (_label, value) => {
    const err = refusal({ "nameko.ok": 1, "nameko.bad": value });
    expect(err.header).toBe("nameko.bad");
    expect(err.message).toContain('"nameko.bad"');
    expect(err.reason).toMatch(/not a finite number/);
  });

  it("refuses integers outside signed 64 bits and keeps those inside", () => {
    expect(refusal({ n: 2n ** 63n }).reason).toMatch(/signed 64-bit/);
    expect(refusal({ n: -(2n ** 63n) - 1n }).reason).toMatch(/signed 64-bit/);
    expect(encodeAmqpHeaders({ a: 2n ** 63n - 1n, b: -(2n ** 63n), c: 7n })).toEqual({
      a: { "!": "int64", value: 2n ** 63n - 1n },
      b: { "!": "int64", value: -(2n ** 63n) },
      c: { "!": "int32", value: 7 },
    });
  });

  it("names the path of a bad value nested in a list or table", () => {
    const err = refusal({ "nameko.ctx": { list: [1, { x: NaN }] } });
    expect(err.header).toBe("nameko.ctx");
    expect(err.reason).toBe("at .list[1].x: NaN is not a finite number (AMQP has no NaN or Infinity)");
  });

  it(`accepts ${MAX_HEADER_DEPTH} levels of nesting and refuses one more (and cycles)`, () => {
    expect(() => encodeAmqpHeaders({ deep: nested(MAX_HEADER_DEPTH) })).not.toThrow();
    expect(refusal({ deep: nested(MAX_HEADER_DEPTH + 1) }).reason).toMatch(/nested deeper than 100 levels/);
    expect(refusal({ deep: nested(50_000) }).header).toBe("deep");
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(refusal({ cycle }).reason).toMatch(/nested deeper/);
  });

  it("refuses lone surrogates in text and in keys (they have no UTF-8 form)", () => {
    expect(refusal({ s: "ok \ud800 no" }).reason).toMatch(/not valid Unicode/);
    expect(refusal({ t: { ["k\udc80"]: 1 } }).reason).toMatch(/key is not valid Unicode/);
    expect(refusal({ ["k\udfff"]: 1 }).header).toBe("k\udfff");
    // A surrogate pair is one character, and fine.
    expect(encodeAmqpHeaders({ s: "emoji \ud83d\ude00" })).toEqual({ s: "emoji \ud83d\ude00" });
  });

  it("refuses keys over 255 bytes of UTF-8 (an AMQP short string)", () => {
    expect(() => encodeAmqpHeaders({ ["k".repeat(255)]: 1 })).not.toThrow();
    expect(refusal({ ["k".repeat(256)]: 1 }).reason).toMatch(/256 bytes/);
    expect(refusal({ t: { ["é".repeat(128)]: 1 } }).reason).toMatch(/256 bytes/);
  });

  it(`refuses a table over ${MAX_HEADER_TABLE_BYTES} bytes, naming the header that crosses the limit`, () => {
    const err = refusal({ small: "x", big: "y".repeat(MAX_HEADER_TABLE_BYTES) });
    expect(err.header).toBe("big");
    expect(err.reason).toMatch(/exceed 65536 bytes/);
  });

  it("accounts sizes exactly as amqplib writes the table", () => {
    const headers = {
      s: "text é",
      i: 5,
      l: 2 ** 40,
      big: 2n ** 62n,
      d: 0.5,
      t: true,
      list: [1, "a", null, undefined, [2.5, { n: false }]],
      table: { k: "v", inner: { x: -1 } },
      bytes: Buffer.from([1, 2, 3]),
      when: new Date(1_700_000_000_000),
      typed: { "!": "float", value: 1.5 },
    };
    const encoded = encodeAmqpHeaders(headers);
    const exact = wireBytes(encoded);
    // A string that brings the table to exactly the limit passes; one byte more is refused.
    const pad = MAX_HEADER_TABLE_BYTES - exact - (1 + 3 + 5);
    expect(wireBytes(encodeAmqpHeaders({ ...headers, pad: "p".repeat(pad) }))).toBe(MAX_HEADER_TABLE_BYTES);
    expect(refusal({ ...headers, pad: "p".repeat(pad + 1) }).header).toBe("pad");
  });

  it("checks explicitly typed values against their type", () => {
    expect(refusal({ d: { "!": "double", value: NaN } }).reason).toMatch(/not a finite number/);
    expect(refusal({ i: { "!": "int32", value: 2 ** 31 } }).reason).toMatch(/does not fit int32/);
    expect(refusal({ l: { "!": "int64", value: 2n ** 64n } }).reason).toMatch(/signed 64-bit/);
    expect(refusal({ l: { "!": "int64", value: 1.5 } }).reason).toMatch(/not an integer/);
    expect(refusal({ x: { "!": "nonsense", value: 1 } }).reason).toMatch(/unknown AMQP field type/);
    expect(refusal({ m: { "!": "decimal", value: { places: 300, digits: 1 } } }).reason).toMatch(/decimal/);
    expect(encodeAmqpHeaders({ ok: { "!": "timestamp", value: 1 } })).toEqual({ ok: { "!": "timestamp", value: 1 } });
  });

  it("keeps py-amqp's types for what it accepts, dropping top-level None", () => {
    expect(
      encodeAmqpHeaders({ a: 5, b: 2 ** 40, c: 0.25, d: "s", e: true, f: null, g: undefined, h: [null, 1] }),
    ).toEqual({
      a: { "!": "int32", value: 5 },
      b: { "!": "int64", value: 2 ** 40 },
      c: { "!": "double", value: 0.25 },
      d: "s",
      e: true,
      h: [null, { "!": "int32", value: 1 }],
    });
  });
});

describe("amqp headers: received tables amqplib cannot decode are refused per message", () => {
  /** A content-header frame carrying `headers`, as it arrives from RabbitMQ. */
  function contentHeader(headers: Record<string, unknown>): Buffer {
    return defs.encodeProperties(defs.BasicProperties, 1, 2, { headers });
  }

  /** What amqplib reads from the frame once our socket pass has seen it. */
  function received(header: Buffer): Record<string, unknown> | undefined {
    const length = header.length;
    rewriteLongTags(header, 7, header.length - 1);
    expect(header.length).toBe(length);
    const parsed = frame.parseFrame(header, 1 << 20);
    if (!parsed) throw new Error("not a whole frame");
    return frame.decodeFrame(parsed).fields.headers;
  }

  function nestedLists(depth: number): unknown {
    let v: unknown = [];
    for (let i = 1; i < depth; i++) v = [v];
    return v;
  }

  it(`decodes a table nested ${MAX_DECODED_DEPTH} levels deep and marks a deeper one, frame length unchanged`, () => {
    const ok = received(contentHeader({ x: nestedLists(MAX_DECODED_DEPTH), y: "kept" }));
    expect(Object.keys(ok ?? {})).toEqual(["x", "y"]);
    expect(decodeAmqpHeaders(ok).y).toBe("kept");

    const deep = received(contentHeader({ x: nestedLists(MAX_DECODED_DEPTH + 1) }));
    expect(Object.keys(deep ?? {})).toEqual(["x-cliffracer-undecodable"]);
    expect(() => decodeAmqpHeaders(deep)).toThrow(InvalidHeader);
    expect(() => decodeAmqpHeaders(deep)).toThrow(/"\(headers\)".*nests deeper than 1000 levels$/);
  });

  it("marks a long table that is not a valid field table instead of leaving amqplib to throw", () => {
    const header = contentHeader({ a: "x".repeat(6_000), b: 1 });
    header[header.lastIndexOf(Buffer.from([1, 0x62])) + 2] = 0x5a; // key "b", then its tag -> 'Z', unknown to amqplib
    expect(() => decodeAmqpHeaders(received(header))).toThrow(/not a valid AMQP field table/);
  });

  it("leaves ordinary tables, large or small, to amqplib as they are", () => {
    const headers = { a: "x".repeat(6_000), list: [1, "two", { three: 3 }], n: 5 };
    expect(decodeAmqpHeaders(received(contentHeader(headers)))).toEqual(headers);
  });
});
