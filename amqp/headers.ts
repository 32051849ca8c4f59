/**
 * AMQP header tables <-> JS values, with py-amqp's field types (docs/nameko-wire.md, Header field types).
 *
 * amqplib guesses a field type from each JS number by magnitude: 5 becomes `b` (int8), 300 `s`
 * (int16), and only larger values `I`. py-amqp always writes `I` for integers in
 * [-2147483647, 2147483647] and `L` beyond. So every number is given an explicit type through
 * amqplib's `{ "!": type, value }` trapdoor: `I` for 32-bit integers, `l` (signed 64, RabbitMQ's own
 * choice; amqplib cannot write `L`, and py-amqp reads both) for larger integers and bigints, `d` for
 * non-integers. Arrays are `A`, plain objects `F`, strings `S`, booleans `t`; top-level
 * null/undefined values are dropped like Nameko drops None; a null inside an array is `V`.
 *
 * Decoding: amqplib returns `b s I i l u B` as numbers, `t` as boolean, `A` as array, `F` as object,
 * `V` as null, `x` as Buffer, and `T`/`D` as trapdoor objects; those two become a Date and a number.
 * Known limit: amqplib cannot decode py-amqp's `L` tag (integers beyond 32 bits in Nameko headers);
 * see the integration test `headers.test.ts`.
 */
import { contextFromHeaders, contextToHeaders, type ContextData } from "../compat";

/** An AMQP field value as amqplib encodes it (plain value or `{ "!": type, value }`). */
export type AmqpFieldValue = unknown;

const INT32_MAX = 2147483647;

interface Typed {
  "!": string;
  value: unknown;
}

function isTyped(v: unknown): v is Typed {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !Buffer.isBuffer(v) && Object.hasOwn(v, "!");
}

function encodeValue(v: unknown): AmqpFieldValue {
  switch (typeof v) {
    case "number":
      if (Number.isInteger(v) && Math.abs(v) < 2 ** 63) {
        return { "!": Math.abs(v) <= INT32_MAX ? "int32" : "int64", value: v };
      }
      return { "!": "double", value: v };
    case "bigint":
      return v >= -INT32_MAX && v <= INT32_MAX ? { "!": "int32", value: Number(v) } : { "!": "int64", value: v };
    case "string":
    case "boolean":
      return v;
    case "undefined":
      return null;
    case "object":
      if (v === null || Buffer.isBuffer(v) || isTyped(v)) return v;
      if (v instanceof Date) return { "!": "timestamp", value: Math.floor(v.getTime() / 1000) };
      if (Array.isArray(v)) return v.map(encodeValue);
      return encodeTable(v as Record<string, unknown>);
    default:
      return String(v);
  }
}

function encodeTable(table: Record<string, unknown>): Record<string, AmqpFieldValue> {
  const out: Record<string, AmqpFieldValue> = {};
  for (const [key, value] of Object.entries(table)) {
    if (value === null || value === undefined) continue;
    out[key] = encodeValue(value);
  }
  return out;
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

/** JS values -> an amqplib header table with py-amqp's field types (see the module comment). */
export function encodeAmqpHeaders(headers: Record<string, unknown>): Record<string, AmqpFieldValue> {
  return encodeTable(headers);
}

/** An amqplib-decoded header table -> plain JS values (timestamps as Date, decimals as number). */
export function decodeAmqpHeaders(headers: Record<string, unknown> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!headers) return out;
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
