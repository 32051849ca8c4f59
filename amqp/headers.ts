/**
 * AMQP header tables <-> JS values, with py-amqp's field types (docs/nameko-wire.md, Header field types).
 *
 * amqplib guesses a field type from each JS number by magnitude: 5 becomes `b` (int8), 300 `s`
 * (int16), and only larger values `I`. py-amqp always writes `I` for integers in
 * [-2147483647, 2147483647] and `L` beyond. So every number is given an explicit type through
 * amqplib's `{ "!": type, value }` trapdoor: `I` for 32-bit integers, `l` (signed 64, RabbitMQ's own
 * choice; amqplib cannot write `L`, and py-amqp reads both) for larger integers and bigints, `d` for
 * non-integers. Arrays are `A`, plain objects `F`, strings `S`, booleans `t`; top-level
 * null/undefined values are dropped like Nameko drops None; a null nested in a list or table is `V`.
 *
 * Every value is checked before anything is written (see encodeAmqpHeaders): one header RabbitMQ
 * or py-amqp cannot take (a NaN double makes RabbitMQ close the whole connection with 541) must
 * fail its own message with InvalidHeader, never the connection other calls share.
 *
 * Decoding: amqplib returns `b s I i l u B` as numbers, `t` as boolean, `A` as array, `F` as object,
 * `V` as null, `x` as Buffer, and `T`/`D` as trapdoor objects; those two become a Date and a number.
 * Known limit: amqplib cannot decode py-amqp's `L` tag (integers beyond 32 bits in Nameko headers);
 * see the integration test `headers.test.ts`.
 */
import { contextFromHeaders, contextToHeaders, type ContextData } from "../compat";
import { UNDECODABLE_HEADER } from "./py-amqp-long";

/** An AMQP field value as amqplib encodes it (plain value or `{ "!": type, value }`). */
export type AmqpFieldValue = unknown;

/**
 * Deepest nesting of lists and tables inside one header value that is sent. py-amqp reads and
 * writes tables recursively (one to two Python frames per level, under Python's default limit of
 * 1000 frames), so a deeper value would crash a Nameko consumer; real context is a level or two.
 */
export const MAX_HEADER_DEPTH = 100;
/**
 * Largest encoded header table, in bytes: amqplib encodes it into a 64 KiB buffer, and the
 * content-header frame carrying it must fit the connection's frame_max (128 KiB by default).
 */
export const MAX_HEADER_TABLE_BYTES = 65_536;
/** A field-table key is an AMQP short string: at most 255 bytes of UTF-8. */
const MAX_KEY_BYTES = 255;

const INT32_MAX = 2147483647;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
/** A lone UTF-16 surrogate: text that has no UTF-8 form (Node would write U+FFFD instead). */
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * A header that cannot be sent over AMQP as it is (a non-finite number, an integer beyond 64
 * bits, text that is not Unicode, nesting or size beyond the limits above), or a received header
 * table that could not be decoded. Thrown before anything is written, so the connection and the
 * other messages on it are unaffected; the bridge answers it with MalformedRequest.
 */
export class InvalidHeader extends Error {
  /** The top-level header key (`nameko.<key>` for context), or `(headers)` for the whole table. */
  readonly header: string;
  /** What is wrong, with the path inside the value when it is nested. */
  readonly reason: string;

  constructor(header: string, reason: string) {
    super(`Header ${JSON.stringify(header)} cannot cross AMQP: ${reason}`);
    this.name = "InvalidHeader";
    this.header = header;
    this.reason = reason;
  }
}

/** The byte sizes of amqplib's typed field values (`{ "!": type, value }`), after the tag byte. */
const TYPED_SIZES: Record<string, number> = {
  byte: 1,
  int8: 1,
  unsignedbyte: 1,
  uint8: 1,
  short: 2,
  int16: 2,
  unsignedshort: 2,
  uint16: 2,
  int: 4,
  int32: 4,
  unsignedint: 4,
  uint32: 4,
  float: 4,
  long: 8,
  int64: 8,
  double: 8,
  float64: 8,
  timestamp: 8,
  decimal: 5,
};

/** Integer ranges of amqplib's typed integers; `int64`/`long` are checked as bigints. */
const TYPED_RANGES: Record<string, readonly [number, number]> = {
  byte: [-128, 127],
  int8: [-128, 127],
  unsignedbyte: [0, 255],
  uint8: [0, 255],
  short: [-32768, 32767],
  int16: [-32768, 32767],
  unsignedshort: [0, 65535],
  uint16: [0, 65535],
  int: [-2147483648, INT32_MAX],
  int32: [-2147483648, INT32_MAX],
  unsignedint: [0, 4294967295],
  uint32: [0, 4294967295],
  timestamp: [0, Number.MAX_SAFE_INTEGER],
};

interface Typed {
  "!": string;
  value: unknown;
}

function isTyped(v: unknown): v is Typed {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !Buffer.isBuffer(v) && Object.hasOwn(v, "!");
}

/** The problem with a number as an AMQP value, if any. */
function numberProblem(n: number): string | undefined {
  return Number.isFinite(n) ? undefined : `${String(n)} is not a finite number (AMQP has no NaN or Infinity)`;
}

function int64Problem(v: bigint): string | undefined {
  return v < INT64_MIN || v > INT64_MAX ? `${v} does not fit a signed 64-bit integer` : undefined;
}

/**
 * Encodes one header table, checking every value and adding up the encoded size; throws
 * InvalidHeader naming the top-level key on the first value AMQP (or py-amqp) cannot carry.
 */
class TableEncoder {
  bytes = 4;
  private header = "";

  encodeTop(table: Record<string, unknown>): Record<string, AmqpFieldValue> {
    const out: Record<string, AmqpFieldValue> = {};
    for (const key of Object.keys(table)) {
      const value = table[key];
      if (value === null || value === undefined) continue; // Nameko drops None (docs/nameko-wire.md, Context data)
      this.header = key;
      this.addKey(key, "");
      out[key] = this.value(value, 1, "");
      if (this.bytes > MAX_HEADER_TABLE_BYTES) {
        this.fail("", `the header table would exceed ${MAX_HEADER_TABLE_BYTES} bytes`);
      }
    }
    return out;
  }

  private fail(path: string, problem: string): never {
    throw new InvalidHeader(this.header, path === "" ? problem : `at ${path}: ${problem}`);
  }

  private addKey(key: string, path: string): void {
    if (LONE_SURROGATE.test(key)) this.fail(path, "the key is not valid Unicode (lone surrogate)");
    const len = Buffer.byteLength(key, "utf8");
    if (len > MAX_KEY_BYTES) this.fail(path, `the key is ${len} bytes long, more than ${MAX_KEY_BYTES}`);
    this.bytes += 1 + len;
  }

  private text(s: string, path: string): string {
    if (LONE_SURROGATE.test(s)) this.fail(path, "the text is not valid Unicode (lone surrogate)");
    this.bytes += 5 + Buffer.byteLength(s, "utf8");
    return s;
  }

  private value(v: unknown, depth: number, path: string): AmqpFieldValue {
    switch (typeof v) {
      case "number": {
        const problem = numberProblem(v);
        if (problem) this.fail(path, problem);
        this.bytes += 9;
        if (Number.isInteger(v) && Math.abs(v) < 2 ** 63) {
          if (Math.abs(v) <= INT32_MAX) {
            this.bytes -= 4;
            return { "!": "int32", value: v };
          }
          return { "!": "int64", value: v };
        }
        return { "!": "double", value: v };
      }
      case "bigint": {
        const problem = int64Problem(v);
        if (problem) this.fail(path, problem);
        if (v >= -INT32_MAX && v <= INT32_MAX) {
          this.bytes += 5;
          return { "!": "int32", value: Number(v) };
        }
        this.bytes += 9;
        return { "!": "int64", value: v };
      }
      case "string":
        return this.text(v, path);
      case "boolean":
        this.bytes += 2;
        return v;
      case "undefined":
        this.bytes += 1;
        return null;
      case "object":
        return this.object(v, depth, path);
      default:
        return this.text(String(v), path);
    }
  }

  private object(v: object | null, depth: number, path: string): AmqpFieldValue {
    if (v === null) {
      this.bytes += 1;
      return null;
    }
    if (Buffer.isBuffer(v)) {
      this.bytes += 5 + v.length;
      return v;
    }
    if (isTyped(v)) return this.typed(v, path);
    if (v instanceof Date) {
      const seconds = Math.floor(v.getTime() / 1000);
      if (!Number.isFinite(seconds) || seconds < 0)
        this.fail(path, "an invalid or pre-1970 date has no AMQP timestamp");
      this.bytes += 9;
      return { "!": "timestamp", value: seconds };
    }
    if (depth > MAX_HEADER_DEPTH) this.fail(path, `nested deeper than ${MAX_HEADER_DEPTH} levels`);
    this.bytes += 5;
    if (Array.isArray(v)) {
      const out: AmqpFieldValue[] = new Array<AmqpFieldValue>(v.length);
      for (let i = 0; i < v.length; i++) out[i] = this.value(v[i], depth + 1, `${path}[${i}]`);
      return out;
    }
    const table = v as Record<string, unknown>;
    const out: Record<string, AmqpFieldValue> = {};
    for (const key of Object.keys(table)) {
      const inner = table[key];
      if (inner === undefined) continue; // amqplib skips undefined table values
      const at = `${path}.${key}`;
      this.addKey(key, at);
      out[key] = this.value(inner, depth + 1, at);
    }
    return out;
  }

  /** An explicitly typed value (amqplib's trapdoor): its value must fit its type. */
  private typed(v: Typed, path: string): AmqpFieldValue {
    const type = v["!"];
    const size = TYPED_SIZES[type];
    if (size === undefined) this.fail(path, `unknown AMQP field type ${JSON.stringify(type)}`);
    const value = v.value;
    let problem: string | undefined;
    if (type === "int64" || type === "long") {
      if (typeof value === "bigint") problem = int64Problem(value);
      else if (typeof value !== "number" || !Number.isInteger(value)) problem = `${String(value)} is not an integer`;
      else if (Math.abs(value) >= 2 ** 63) problem = `${value} does not fit a signed 64-bit integer`;
    } else if (type === "decimal") {
      const d = value as { places?: unknown; digits?: unknown } | null;
      const ok =
        typeof d === "object" &&
        d !== null &&
        Number.isInteger(d.places) &&
        (d.places as number) >= 0 &&
        (d.places as number) < 256 &&
        Number.isInteger(d.digits) &&
        (d.digits as number) >= 0 &&
        (d.digits as number) <= 4294967295;
      if (!ok) problem = "a decimal must be { places: 0..255, digits: uint32 }";
    } else if (typeof value !== "number") {
      problem = `${String(value)} is not a number`;
    } else {
      const range = TYPED_RANGES[type];
      problem = numberProblem(value);
      if (!problem && range && !(Number.isInteger(value) && value >= range[0] && value <= range[1]))
        problem = `${value} does not fit ${type}`;
    }
    if (problem) this.fail(path, problem);
    this.bytes += 1 + size;
    return v;
  }
}

function decodeValue(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(decodeValue);
  if (isTyped(v)) {
    if (v["!"] === "timestamp") return new Date(Number(v.value) * 1000);
    if (v["!"] === "decimal") {
      const d = v.value as { places: number; digits: number };
      return d.digits / 10 ** d.places;
    }
    return v.value;
  }
  if (typeof v === "object" && v !== null && !Buffer.isBuffer(v))
    return decodeAmqpHeaders(v as Record<string, unknown>);
  return v;
}

/**
 * JS values -> an amqplib header table with py-amqp's field types (see the module comment).
 * Throws {@link InvalidHeader} for a value AMQP or py-amqp cannot carry, before anything is sent:
 * non-finite numbers, integers beyond signed 64 bits, lone surrogates in text or keys, keys over
 * 255 bytes, nesting deeper than {@link MAX_HEADER_DEPTH}, a table over
 * {@link MAX_HEADER_TABLE_BYTES}, or a typed value that does not fit its type.
 */
export function encodeAmqpHeaders(headers: Record<string, unknown>): Record<string, AmqpFieldValue> {
  return new TableEncoder().encodeTop(headers);
}

/**
 * An amqplib-decoded header table -> plain JS values (timestamps as Date, decimals as number).
 * Throws {@link InvalidHeader} for a table amqp/ could not decode (see py-amqp-long.ts): the
 * message must be refused on its own.
 */
export function decodeAmqpHeaders(headers: Record<string, unknown> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!headers) return out;
  const undecodable = headers[UNDECODABLE_HEADER];
  if (typeof undecodable === "string") throw new InvalidHeader("(headers)", undecodable.trimEnd());
  for (const [key, value] of Object.entries(headers)) out[key] = decodeValue(value);
  return out;
}

/** Context data and call id stack -> the `nameko.*` header table of an outgoing request or event. */
export function amqpHeadersFromContext(data: ContextData, stack: readonly string[]): Record<string, AmqpFieldValue> {
  return encodeAmqpHeaders(contextToHeaders(data, stack));
}

/** Headers of an incoming message -> context data and the parent call id stack (docs/nameko-wire.md, Context data). */
export function contextFromAmqpHeaders(headers: Record<string, unknown> | undefined): {
  data: ContextData;
  parentStack: string[];
} {
  return contextFromHeaders(decodeAmqpHeaders(headers));
}
