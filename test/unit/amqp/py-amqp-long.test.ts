// py-amqp's `L` header tag on our own sockets (amqp/py-amqp-long.ts): the bytes amqplib reads are cut
// into whole frames, whatever the chunks, and only the `L` tags of a message's headers become `l`,
// which amqplib's own decoder then reads. The frames are built with amqplib's encoder.
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { FrameCutter, rewriteLongTags } from "../../../amqp/py-amqp-long";

// amqplib's lib/ by path (its package "exports" hide it): the encoder and decoder the wire uses.
const lib = join(dirname(require.resolve("amqplib")), "lib");
const requireLib = createRequire(__filename);
const defs = requireLib(join(lib, "defs.js")) as {
  BasicProperties: number;
  BasicPublish: number;
  encodeMethod(id: number, channel: number, fields: object): Buffer;
  encodeProperties(id: number, channel: number, size: number, fields: object): Buffer;
};
const frame = requireLib(join(lib, "frame.js")) as {
  makeBodyFrame(channel: number, payload: Buffer): Buffer;
  parseFrame(bin: Buffer, max: number): ParsedFrame | false;
  decodeFrame(f: ParsedFrame): { fields?: { headers?: Record<string, unknown> } };
};
interface ParsedFrame {
  type: number;
  channel: number;
  payload: Buffer;
  rest: Buffer;
}

const big = (value: number) => ({ "!": "int64", value });
const HEADERS = {
  top: big(5_000_000_000),
  nested: { inner: [big(7), "L"] },
  text: "LLL",
};

/** A method frame, a content header whose int64 headers are re-tagged `L` as py-amqp writes them, a body frame. */
function pyAmqpMessage(): { wire: Buffer; header: Buffer } {
  const header = defs.encodeProperties(defs.BasicProperties, 1, 2, { headers: HEADERS });
  for (const key of ["top", "inner"]) {
    const at = header.indexOf(Buffer.from(key)) + key.length; // the value's tag follows the key
    const tagAt = key === "top" ? at : at + 1 + 4; // inner: "A" + length, then the item's tag
    expect(String.fromCharCode(header[tagAt])).toBe("l");
    header[tagAt] = 0x4c;
  }
  const method = defs.encodeMethod(defs.BasicPublish, 1, {
    exchange: "",
    routingKey: "q",
    mandatory: false,
    immediate: false,
  });
  return { wire: Buffer.concat([method, header, frame.makeBodyFrame(1, Buffer.from("{}"))]), header };
}

/** The frames in `bytes`, which must be whole. */
function framesOf(bytes: Buffer): ParsedFrame[] {
  const out: ParsedFrame[] = [];
  let rest = bytes;
  while (rest.length > 0) {
    const f = frame.parseFrame(rest, 1 << 20);
    if (!f) throw new Error(`not a whole frame: ${rest.toString("hex")}`);
    out.push(f);
    rest = f.rest;
  }
  return out;
}

describe("py-amqp's `L` header tag on our own sockets", () => {
  it("amqplib alone refuses the header py-amqp writes", () => {
    const { header } = pyAmqpMessage();
    expect(() => frame.decodeFrame(framesOf(header)[0])).toThrow(/Unexpected type tag "L"/);
  });

  it("hands out whole frames only, at any split of the bytes, with the header's `L` tags read as int64", () => {
    const { wire } = pyAmqpMessage();
    for (let split = 0; split <= wire.length; split++) {
      const cutter = new FrameCutter(Buffer.alloc(0));
      const handed: Buffer[] = [];
      for (const chunk of [wire.subarray(0, split), wire.subarray(split)]) {
        cutter.add(Buffer.from(chunk));
        const frames = cutter.take();
        if (frames) handed.push(frames);
      }
      const frames = framesOf(Buffer.concat(handed)); // throws on a partial frame
      expect(frames.map((f) => f.type)).toEqual([1, 2, 3]);
      expect(frame.decodeFrame(frames[1]).fields?.headers).toEqual({
        top: 5_000_000_000,
        nested: { inner: [7, "L"] },
        text: "LLL",
      });
    }
  });

  it("hands out a large message's frames whole, each once its last chunk came, however many chunks it spans", () => {
    const { wire } = pyAmqpMessage();
    const bodies = [0, 1, 2].map((i) => Buffer.alloc(128 * 1024 - 8, 0x61 + i)); // frame_max 128 KiB
    const all = Buffer.concat([wire, ...bodies.map((b) => frame.makeBodyFrame(1, b))]);
    const cutter = new FrameCutter(Buffer.alloc(0));
    const handed: Buffer[] = [];
    for (let at = 0; at < all.length; at += 20_000) {
      cutter.add(Buffer.from(all.subarray(at, at + 20_000)));
      const frames = cutter.take();
      if (frames) handed.push(frames);
      // Nothing past the bytes read so far, and only whole frames.
      const sofar = Buffer.concat(handed);
      expect(sofar.length).toBeLessThanOrEqual(Math.min(all.length, at + 20_000));
      framesOf(sofar);
    }
    const frames = framesOf(Buffer.concat(handed));
    expect(frames.map((f) => f.type)).toEqual([1, 2, 3, 3, 3, 3]);
    expect(frames.slice(3).map((f, i) => f.payload.equals(bodies[i]))).toEqual([true, true, true]);
  });

  it("does not hand out again what amqplib had already read when it was installed", () => {
    const { wire } = pyAmqpMessage();
    const alreadyRead = wire.subarray(0, 10); // amqplib holds the first 10 bytes of the method frame
    const cutter = new FrameCutter(alreadyRead);
    cutter.add(Buffer.from(wire.subarray(10)));
    const handed = cutter.take();
    expect(framesOf(Buffer.concat([alreadyRead, handed!])).map((f) => f.type)).toEqual([1, 2, 3]);
  });

  it("leaves a headers table that does not walk cleanly as it is, for amqplib to judge", () => {
    const { header } = pyAmqpMessage();
    const payload = Buffer.from(header.subarray(7, -1));
    const truncated = Buffer.from(payload);
    // class, weight, body size, flags (14 bytes), then the headers table's length: now cutting the last value.
    truncated.writeUInt32BE(truncated.readUInt32BE(14) - 3, 14);
    const copy = Buffer.from(truncated);
    rewriteLongTags(truncated, 0, truncated.length);
    expect(truncated).toEqual(copy);
  });

  it("leaves a header without an `L` byte untouched", () => {
    const header = defs.encodeProperties(defs.BasicProperties, 1, 2, { headers: { n: big(9) }, contentType: "x" });
    const copy = Buffer.from(header);
    rewriteLongTags(header, 7, header.length - 1);
    expect(header).toEqual(copy);
  });
});
