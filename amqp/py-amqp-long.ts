/**
 * Teaches amqplib's field-table decoder py-amqp's `L` tag.
 *
 * py-amqp (Nameko) writes integers beyond 32 bits in headers as `L` (signed 64, `>q`); amqplib 2.x
 * only knows RabbitMQ's `l` and throws `Unexpected type tag "L"` while parsing the frame, which
 * closes the whole connection. With automatic reconnects the message is redelivered and closes it
 * again: one Nameko context value above 2^31 would be a poison message. Both tags carry the same
 * 8 bytes, so the table is copied with each `L` tag byte rewritten to `l` before amqplib decodes it.
 *
 * amqplib binds `codec.decodeFields` when its protocol module loads, so this module must be
 * evaluated before amqplib is first required (connection.ts imports it first).
 * {@link pyAmqpLongTagSupported} checks whether the patch is in effect.
 */
import { dirname, join } from "node:path";

interface Codec {
  decodeFields(slice: Buffer): Record<string, unknown>;
  cliffracerLongTag?: boolean;
}
interface Defs {
  decode(id: number, buf: Buffer): { headers?: Record<string, unknown> };
}

const libDir = join(dirname(require.resolve("amqplib")), "lib");
// Loaded by absolute path: amqplib's package "exports" hide lib/.
const codec = require(join(libDir, "codec.js")) as Codec;

const FIXED: Record<string, number> = {
  b: 1,
  B: 1,
  t: 1,
  s: 2,
  u: 2,
  I: 4,
  i: 4,
  f: 4,
  l: 8,
  L: 8,
  d: 8,
  T: 8,
  D: 5,
  V: 0,
};

/** Walks one value at `offset` (its tag), rewriting `L` tags; returns the offset after it, or -1 if unknown. */
function walkValue(buf: Buffer, offset: number): number {
  const tag = String.fromCharCode(buf[offset]);
  if (tag === "L") buf[offset] = 0x6c; // 'l'
  const start = offset + 1;
  if (tag in FIXED) return start + FIXED[tag];
  if (tag === "S" || tag === "x") return start + 4 + buf.readUInt32BE(start);
  if (tag === "F" || tag === "A") {
    const len = buf.readUInt32BE(start);
    const end = start + 4 + len;
    let at = start + 4;
    while (at < end && at >= 0) {
      if (tag === "F") at += 1 + buf[at]; // key
      at = walkValue(buf, at);
    }
    return at < 0 ? -1 : end;
  }
  return -1;
}

function rewriteLongTags(slice: Buffer): Buffer {
  if (!slice.includes(0x4c)) return slice; // no 'L' byte at all: nothing to do, no copy
  const copy = Buffer.from(slice);
  let at = 0;
  while (at < copy.length && at >= 0) {
    at += 1 + copy[at];
    at = walkValue(copy, at);
  }
  return copy;
}

if (!codec.cliffracerLongTag) {
  const original = codec.decodeFields;
  codec.decodeFields = (slice: Buffer) => original(rewriteLongTags(slice));
  codec.cliffracerLongTag = true;
}

/** True when amqplib in this process decodes `L` header values (the patch ran before amqplib loaded). */
export function pyAmqpLongTagSupported(): boolean {
  const defs = require(join(libDir, "defs.js")) as Defs;
  // Basic properties with only the headers flag: { "n": L 5 }
  const table = Buffer.from([1, 0x6e, 0x4c, 0, 0, 0, 0, 0, 0, 0, 5]);
  const buf = Buffer.concat([Buffer.from([0x20, 0x00]), Buffer.from([0, 0, 0, table.length]), table]);
  try {
    return defs.decode(60, buf).headers?.n === 5;
  } catch {
    return false;
  }
}
