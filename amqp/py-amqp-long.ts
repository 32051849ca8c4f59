/**
 * Teaches one amqplib connection of ours py-amqp's `L` header tag (docs/write-batching.md, "py-amqp's
 * `L` tag").
 *
 * py-amqp (Nameko) writes integers beyond 32 bits in headers as `L` (signed 64, `>q`); amqplib 2.x
 * only knows RabbitMQ's `l` and throws `Unexpected type tag "L"` while parsing the frame, which
 * closes the whole connection. With automatic reconnects the message is redelivered and closes it
 * again: one Nameko context value above 2^31 would be a poison message. Both tags carry the same 8
 * bytes, so each `L` tag byte of a message's headers is rewritten to `l` before amqplib parses the
 * frame.
 *
 * This happens on the socket of a connection {@link AmqpConnection} opened: its `read()`, through
 * which amqplib pulls bytes, hands amqplib whole frames only, with content-header frames rewritten.
 * amqplib's decoder and other connections of the process are untouched.
 *
 * The same pass keeps a header table amqplib cannot decode from closing the connection: RabbitMQ
 * relays tables nested thousands of levels deep, and amqplib's recursive decoder overflows the
 * stack on them (between 3,000 and 6,000 levels, measured), which drops the connection and, on
 * redelivery, drops it again. A table nested deeper than {@link MAX_DECODED_DEPTH}, or one that
 * does not walk cleanly, is overwritten in place (same length, so the frame stays valid) with the
 * single header {@link UNDECODABLE_HEADER} saying why; decodeAmqpHeaders (headers.ts) refuses
 * that one message with InvalidHeader.
 */
import type { Socket } from "node:net";
import type { ChannelModel } from "amqplib";
import { amqplibWireOf } from "./amqplib-wire";

/** type (1), channel (2), payload size (4). */
const FRAME_HEADER_BYTES = 7;
/** The frame-end octet after the payload. */
const FRAME_END_BYTES = 1;
/** Frame type of a content header (the message's properties). */
const CONTENT_HEADER_FRAME = 2;
/** Class id of `basic`, the only class with content. */
const BASIC_CLASS = 60;
/** Beyond amqplib's largest accepted frame (64 MiB): the bytes go on unframed, amqplib rejects them. */
const MAX_FRAME_BYTES = 64 * 1024 * 1024 + FRAME_HEADER_BYTES + FRAME_END_BYTES;

/**
 * Deepest nesting of a received header table that is decoded: beyond what py-amqp can write (its
 * recursion stops near 1,000 levels), well within what amqplib's recursive decoder survives.
 */
export const MAX_DECODED_DEPTH = 1000;
/** The one header of a table that could not be decoded; its value says why. */
export const UNDECODABLE_HEADER = "x-cliffracer-undecodable";
/** Every nesting level takes at least a tag and a 4-byte length: shorter tables cannot be too deep. */
const MIN_LEVEL_BYTES = 5;

const TAG_L = 0x4c; // 'L'
const TAG_LOWER_L = 0x6c; // 'l'
const ch = (c: string): number => c.charCodeAt(0);
/** Value sizes of the fixed-size field types amqplib knows, and py-amqp's `L`. */
const FIXED_SIZE = new Map<number, number>([
  [ch("b"), 1],
  [ch("B"), 1],
  [ch("t"), 1],
  [ch("s"), 2],
  [ch("u"), 2],
  [ch("I"), 4],
  [ch("i"), 4],
  [ch("f"), 4],
  [ch("D"), 5],
  [ch("l"), 8],
  [TAG_L, 8],
  [ch("d"), 8],
  [ch("T"), 8],
  [ch("V"), 0],
]);

/** Walks one field value at `at` (its tag) up to `end`, noting `L` tags; the offset after it, or -1 if malformed. */
function walkValue(buf: Buffer, at: number, end: number, longTags: number[]): number {
  if (at >= end) return -1;
  const tag = buf[at];
  const start = at + 1;
  const fixed = FIXED_SIZE.get(tag);
  if (fixed !== undefined) {
    if (tag === TAG_L) longTags.push(at);
    return start + fixed <= end ? start + fixed : -1;
  }
  if (start + 4 > end) return -1;
  const valueEnd = start + 4 + buf.readUInt32BE(start);
  if (valueEnd > end) return -1;
  if (tag === ch("S") || tag === ch("x")) return valueEnd;
  if (tag === ch("F")) return walkTable(buf, start + 4, valueEnd, longTags) ? valueEnd : -1;
  if (tag === ch("A")) {
    let item = start + 4;
    while (item >= 0 && item < valueEnd) item = walkValue(buf, item, valueEnd, longTags);
    return item === valueEnd ? valueEnd : -1;
  }
  return -1;
}

/** Walks a field table's entries in `[from, end)`, noting `L` tags; false if malformed. */
function walkTable(buf: Buffer, from: number, end: number, longTags: number[]): boolean {
  let at = from;
  while (at >= 0 && at < end) at = walkValue(buf, at + 1 + buf[at], end, longTags); // key (shortstr), value
  return at === end;
}

/**
 * Rewrites the `L` tags of the headers table in the content-header payload `[start, end)` of `buf`,
 * in place. A table that does not walk cleanly is left as it is, for amqplib to judge.
 */
export function rewriteLongTags(buf: Buffer, start: number, end: number): void {
  // class-id (2), weight (2), body size (8), property flags (2), then the properties in flag order:
  // content-type (shortstr), content-encoding (shortstr), headers (table), ...
  if (end - start < 14 || buf.readUInt16BE(start) !== BASIC_CLASS) return;
  const flags = buf.readUInt16BE(start + 12);
  if (flags & 0x0001 || !(flags & 0x2000)) return; // a continued flag word is not basic's; no headers
  let at = start + 14;
  if (flags & 0x8000) at += 1 + (buf[at] ?? 0);
  if (flags & 0x4000) at += 1 + (buf[at] ?? 0);
  if (at + 4 > end) return;
  const tableStart = at + 4;
  const tableEnd = tableStart + buf.readUInt32BE(at);
  if (tableEnd > end) return;
  if (markUndecodable(buf, tableStart, tableEnd)) return;
  const firstL = buf.indexOf(TAG_L, tableStart);
  if (firstL < 0 || firstL >= tableEnd) return; // the common case: no 'L' byte at all
  const longTags: number[] = [];
  if (walkTable(buf, tableStart, tableEnd, longTags)) for (const tag of longTags) buf[tag] = TAG_LOWER_L;
}

/** What one pass over a table found: fine, nested too deep, or not a field table. */
type TableShape = "ok" | "too_deep" | "malformed";

/** The shape of the field table in `[from, end)`, in one pass without recursion. */
function tableShape(buf: Buffer, from: number, end: number, limit: number): TableShape {
  const open: Array<{ end: number; table: boolean }> = [];
  let scopeEnd = end;
  let table = true;
  let at = from;
  for (;;) {
    while (at === scopeEnd) {
      const outer = open.pop();
      if (!outer) return "ok";
      ({ end: scopeEnd, table } = outer);
    }
    if (at > scopeEnd) return "malformed";
    if (table) at += 1 + buf[at]; // key
    if (at >= scopeEnd) return "malformed";
    const tag = buf[at];
    const fixed = FIXED_SIZE.get(tag);
    at += 1;
    if (fixed !== undefined) {
      at += fixed;
      continue;
    }
    if (at + 4 > scopeEnd) return "malformed";
    const valueEnd = at + 4 + buf.readUInt32BE(at);
    if (valueEnd > scopeEnd) return "malformed";
    if (tag === ch("S") || tag === ch("x")) at = valueEnd;
    else if (tag === ch("F") || tag === ch("A")) {
      if (open.length >= limit) return "too_deep";
      open.push({ end: scopeEnd, table });
      scopeEnd = valueEnd;
      table = tag === ch("F");
      at += 4;
    } else return "malformed";
  }
}

/**
 * Overwrites the header table in `[start, end)` with {@link UNDECODABLE_HEADER} when amqplib could
 * not decode it (see the module comment); true if it did. Only a table long enough to nest past
 * the limit is walked, so the usual small table costs nothing.
 */
function markUndecodable(buf: Buffer, start: number, end: number): boolean {
  if (end - start < MAX_DECODED_DEPTH * MIN_LEVEL_BYTES) return false;
  const shape = tableShape(buf, start, end, MAX_DECODED_DEPTH);
  if (shape === "ok") return false;
  const reason =
    shape === "too_deep"
      ? `the header table nests deeper than ${MAX_DECODED_DEPTH} levels`
      : "the header table is not a valid AMQP field table";
  // One entry of exactly the table's length: key (shortstr), then 'S', a 4-byte length and text.
  let at = start;
  at = buf.writeUInt8(UNDECODABLE_HEADER.length, at);
  at += buf.write(UNDECODABLE_HEADER, at, "latin1");
  at = buf.writeUInt8(ch("S"), at);
  at = buf.writeUInt32BE(end - at - 4, at);
  buf.fill(0x20, at, end);
  buf.write(reason, at, "latin1");
  return true;
}

/**
 * Cuts the bytes read from a socket into whole AMQP frames. It starts at a frame boundary: the
 * first `delivered` bytes (what amqplib had already read when it was installed) are framed but not
 * handed out again.
 */
export class FrameCutter {
  /** Bytes from a frame boundary on (the first `delivered` of them already handed out). */
  private pending: Buffer;
  /**
   * Chunks read after `pending`, joined to it once they complete its first frame: joined as each
   * one came, a frame of 128 KiB read in 64 KiB chunks was copied two or three times over, most
   * of a large message's receive cost (BENCHMARKS.md, Payload size).
   */
  private queued: Buffer[] = [];
  private queuedBytes = 0;
  /** Bytes `pending` must hold before its first frame is whole (0: not known, look). */
  private needed = 0;
  private delivered: number;
  /** Set when a frame claims more than amqplib accepts: from then on bytes pass unframed. */
  unframed = false;

  constructor(alreadyRead: Buffer) {
    this.pending = Buffer.from(alreadyRead);
    this.delivered = alreadyRead.length;
  }

  add(chunk: Buffer): void {
    if (this.pending.length === 0 && this.queued.length === 0) this.pending = chunk;
    else {
      this.queued.push(chunk);
      this.queuedBytes += chunk.length;
    }
  }

  /** The whole frames not yet handed out, content headers rewritten; null when none is complete. */
  take(): Buffer | null {
    if (this.queued.length > 0) {
      const length = this.pending.length + this.queuedBytes;
      if (length < this.needed) return null;
      this.pending = Buffer.concat([this.pending, ...this.queued], length);
      this.queued = [];
      this.queuedBytes = 0;
    }
    const buf = this.pending;
    let at = 0;
    let needed = FRAME_HEADER_BYTES;
    while (buf.length - at >= FRAME_HEADER_BYTES) {
      const total = FRAME_HEADER_BYTES + buf.readUInt32BE(at + 3) + FRAME_END_BYTES;
      if (total > MAX_FRAME_BYTES) {
        this.unframed = true;
        at = buf.length;
        break;
      }
      if (buf.length - at < total) {
        needed = total;
        break;
      }
      if (buf[at] === CONTENT_HEADER_FRAME && at >= this.delivered)
        rewriteLongTags(buf, at + FRAME_HEADER_BYTES, at + total - FRAME_END_BYTES);
      at += total;
    }
    this.needed = needed;
    if (at === 0) return null;
    const from = this.delivered;
    this.pending = buf.subarray(at);
    this.delivered = Math.max(0, from - at);
    return at > from ? buf.subarray(from, at) : null;
  }
}

/**
 * Makes `socket.read()` return whole frames with py-amqp's `L` header tags rewritten to `l`.
 * amqplib calls `read()` without a size whenever its own buffer holds no whole frame.
 */
function readWholeFrames(socket: Socket, alreadyRead: Buffer): void {
  const read = socket.read;
  const cutter = new FrameCutter(alreadyRead);
  const framedRead = function (this: Socket, size?: number): unknown {
    if (cutter.unframed || size !== undefined) return read.call(this, size) as unknown;
    for (;;) {
      const frames = cutter.take();
      if (frames !== null || cutter.unframed) return frames;
      // Reading until the socket has nothing left also re-arms its 'readable' event.
      const chunk: unknown = read.call(this);
      if (chunk === null) return null;
      if (!Buffer.isBuffer(chunk)) return chunk; // an encoding was set: not amqplib's use
      cutter.add(chunk);
    }
  };
  Object.defineProperty(socket, "read", { value: framedRead, writable: true, configurable: true });
}

const installed = new WeakSet<Socket>();

/**
 * Makes the connection of `model` accept py-amqp's `L` header tag. Returns false when its socket
 * cannot be found or amqplib no longer pulls from it with `read()` (the connection then works as
 * plain amqplib: an `L` header closes it).
 */
export function decodePyAmqpLongTags(model: ChannelModel): boolean {
  const wire = amqplibWireOf(model);
  // A flowing socket hands its bytes to 'data' listeners, past read(): amqplib 2.x never does that.
  if (!wire || wire.socket.readableFlowing === true) return false;
  if (!installed.has(wire.socket)) {
    installed.add(wire.socket);
    readWholeFrames(wire.socket, wire.unparsed);
  }
  return true;
}

/** True when the connection of `model` accepts py-amqp's `L` header tag. */
export function pyAmqpLongTagsDecoded(model: ChannelModel): boolean {
  const wire = amqplibWireOf(model);
  return wire !== undefined && installed.has(wire.socket);
}
