/**
 * AMQP message <-> NATS message for RPC: typed AMQP header tables <-> text-only NATS headers,
 * Nameko reply properties, and error replies. Bodies are never touched: a Nameko body crosses the
 * bridge byte for byte (docs/nats-contract.md, RPC requests and replies).
 *
 * Headers (docs/bridge-contract.md, Header translation): every header is context data, so each
 * crosses as `nameko.<key>` (an unprefixed key gains the prefix, as Nameko itself does on the next
 * hop); non-string values travel as JSON on NATS and are typed again for AMQP by amqp/'s
 * header encoder (integers `I`/`l`, floats `d`, booleans `t`, lists `A`, `call_id_stack` back to an
 * array of strings). The bridge's own `x-cliffracer-*` keys never cross. Known losses: a float with
 * an integral value (Python `5.0`) returns as an integer, and an AMQP timestamp as an ISO string.
 */
import { headers as natsHeaders, type MsgHdrs } from "@nats-io/transport-node";
import type { MessageProperties, Options } from "amqplib";
import { decodeAmqpHeaders, InvalidHeader } from "../amqp";
import {
  decodeHeaderValue,
  MAX_NESTING,
  describeError,
  encodeErrorReply,
  encodeHeaderValue,
  HEADER_PREFIX,
  PayloadTooLarge,
} from "../compat";
import { isBridgeKey } from "./routing/loop-guard";

/** The only content type the runtime speaks. */
export const JSON_CONTENT_TYPE = "application/json";

/** A header that could not cross, for a log line. */
export interface SkippedHeader {
  key: string;
  reason: string;
}

function prefixed(key: string): string {
  return key.startsWith(HEADER_PREFIX) ? key : HEADER_PREFIX + key;
}

function plain(value: unknown): unknown {
  return Buffer.isBuffer(value) ? value.toString("utf8") : value;
}

/**
 * The raw header table of an AMQP request (as amqplib delivers it) -> NATS headers; undefined when
 * there is nothing to carry, so the request goes out as a plain PUB. Keys NATS cannot carry are
 * reported in `skipped` (pass an array to collect them).
 */
export function natsHeadersFromAmqp(
  raw: Record<string, unknown> | undefined,
  skipped?: SkippedHeader[],
): MsgHdrs | undefined {
  if (raw === undefined) return undefined;
  let h: MsgHdrs | undefined;
  const table = decodeAmqpHeaders(raw);
  for (const key in table) {
    const value = table[key];
    if (value === null || value === undefined || isBridgeKey(key)) continue;
    try {
      (h ??= natsHeaders()).set(prefixed(key), encodeHeaderValue(plain(value)));
    } catch (err) {
      skipped?.push({ key, reason: describeError(err) });
    }
  }
  return h;
}

/** Whether JSON text opens more than `limit` lists or objects at once (strings skipped). */
function nestsDeeperThan(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

/**
 * One NATS header value, decoded for AMQP (compat's decodeHeaderValue). Text that does not parse
 * stays text, except a list or object nested deeper than any JSON reader here or in Python
 * accepts: crossing as a string would silently change its type, so it throws InvalidHeader.
 */
export function headerValueFromNats(key: string, text: string): unknown {
  const value = decodeHeaderValue(key, text);
  if (value === text && (text.startsWith("[") || text.startsWith("{")) && nestsDeeperThan(text, MAX_NESTING)) {
    throw new InvalidHeader(key, `the JSON value nests deeper than ${MAX_NESTING} levels`);
  }
  return value;
}

/**
 * NATS request headers -> a header record for an AMQP request (plain values; amqp/ types them
 * as py-amqp would). `call_id_stack` becomes a list again, JSON numbers and booleans typed values.
 * Throws InvalidHeader for a value no reader can decode (see headerValueFromNats).
 */
export function amqpHeadersFromNats(h: MsgHdrs | undefined): Record<string, unknown> | undefined {
  if (h === undefined) return undefined;
  let out: Record<string, unknown> | undefined;
  for (const [key, values] of h) {
    if (values.length === 0 || isBridgeKey(key)) continue;
    const name = prefixed(key);
    (out ??= {})[name] = headerValueFromNats(name, values[0]);
  }
  return out;
}

/**
 * Properties of a Nameko reply to `request` (docs/nameko-wire.md, Message properties, RPC replies): the
 * request's content type (application/json when it had none), utf-8, empty headers, delivery mode 2, priority
 * 0, and the request's correlation id only if it had one.
 */
export function replyProperties(request: MessageProperties): Options.Publish {
  const ct: unknown = request.contentType;
  const correlationId: unknown = request.correlationId;
  const props: Options.Publish = {
    contentType: typeof ct === "string" && ct !== "" ? ct : JSON_CONTENT_TYPE,
    contentEncoding: "utf-8",
    headers: {},
    deliveryMode: 2,
    priority: 0,
  };
  if (typeof correlationId === "string") props.correlationId = correlationId;
  return props;
}

/** Nameko's error reply body for `err` (docs/nameko-wire.md, RPC replies, Error object). */
export function errorReply(err: unknown): Buffer {
  return Buffer.from(encodeErrorReply(err), "utf8");
}

const SUCCESS_TAIL = /"error"\s*:\s*null\s*\}\s*$/;
const ERROR_KEY = /"error"\s*:\s*\{/;

/**
 * True when a reply body carries an error, without parsing it: Nameko and the runtime write
 * `error` last, so a success ends in `"error": null}`; only other bodies are scanned.
 */
export function isErrorReply(body: Uint8Array): boolean {
  const len = body.length;
  const tail = Buffer.from(body.buffer, body.byteOffset + Math.max(0, len - 24), Math.min(len, 24)).toString("latin1");
  if (SUCCESS_TAIL.test(tail)) return false;
  return ERROR_KEY.test(Buffer.from(body.buffer, body.byteOffset, len).toString("latin1"));
}

/** PayloadTooLarge for `what` of `size` bytes against RabbitMQ's `max_message_size`. */
export function amqpPayloadTooLarge(what: string, size: number, max: number): PayloadTooLarge {
  return new PayloadTooLarge(`${what} of ${size} bytes exceeds RabbitMQ's max_message_size of ${max} bytes`, size, max);
}
