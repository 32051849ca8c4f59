// Nameko's RPC envelopes: requests `{args, kwargs}` and replies `{result, error}`
// (docs/nameko-wire.md, RPC server, RPC replies), written byte for byte as a Nameko 2.14.1 peer writes them.
import {
  IncorrectSignature,
  MalformedReply,
  MalformedRequest,
  type SerializedError,
  UnserializableValueError,
  serializeError,
} from "./errors";
import { decodeJson, encodeJson, encodeJsonAt, isPlainString, JsonDecodeError } from "./json";
import { pyStr, pyTypeName } from "./python";

// The JSON layer is part of this module's contract; it lives in json.ts to keep both readable.
export { decodeJson, encodeJson, JsonDecodeError };

/** A decoded RPC request body. */
export interface RpcRequest {
  args: unknown[];
  kwargs: Record<string, unknown>;
}

/** A decoded RPC reply body; `error` is null on success. */
export interface RpcReply {
  result: unknown;
  error: SerializedError | null;
}

// The envelope is one level of the message: values inside it may nest one level less (docs/nameko-wire.md, Values).

/** `{"args": [...], "kwargs": {...}}` as a Nameko client writes it; UnserializableValueError if an argument cannot be encoded. */
export function encodeRequest(args: unknown[], kwargs: Record<string, unknown> = {}): string {
  return '{"args": ' + encodeJsonAt(args, 1) + ', "kwargs": ' + encodeJsonAt(kwargs, 1) + "}";
}

/** `{"result": R, "error": null}`; a result that cannot be encoded becomes Nameko's UnserializableValueError reply. */
export function encodeReply(result: unknown): string {
  let body: string;
  try {
    body = encodeJsonAt(result, 1);
  } catch (err) {
    return encodeErrorReply(err instanceof UnserializableValueError ? err : new UnserializableValueError(result));
  }
  return '{"result": ' + body + ', "error": null}';
}

/**
 * The bytes of a body this module wrote (encodeRequest, encodeReply, encodeErrorReply), to send
 * instead of the text. The text is ASCII by construction: every other character is written as
 * `\uXXXX` (docs/nameko-wire.md, JSON bodies), so its latin1 form is its UTF-8 form, copied in one
 * pass. A transport given the string would encode it with TextEncoder and, to check a size limit,
 * measure it with Buffer.byteLength: two more passes over the text (BENCHMARKS.md, Payload size).
 */
export function asciiBytes(body: string): Buffer {
  return Buffer.from(body, "latin1");
}

/**
 * Strings from this length on are written into a body's bytes where they stand, not concatenated
 * into the envelope's text first: turning that concatenation into bytes flattens it, allocating
 * and copying the whole body once more (about 0.7 ms at 900 KiB; BENCHMARKS.md, Payload size).
 * Shorter ones cost less joined.
 */
const LONG_STRING = 16 * 1024;

/** A string long enough to be written in place, needing no escapes. */
function isLongPlain(value: unknown): value is string {
  return typeof value === "string" && value.length >= LONG_STRING && isPlainString(value);
}

/** ASCII pieces of a body, written one after another into its bytes. */
function joinAscii(pieces: readonly string[]): Buffer {
  let length = 0;
  for (const piece of pieces) length += piece.length;
  const out = Buffer.allocUnsafe(length);
  let at = 0;
  for (const piece of pieces) at += out.write(piece, at, "latin1");
  return out;
}

/** The bytes of {@link encodeRequest}'s body, with long string arguments written in place; throws as it does. */
export function encodeRequestBytes(args: unknown[], kwargs: Record<string, unknown> = {}): Buffer {
  const long = Array.isArray(args) ? args.map(isLongPlain) : [];
  if (!long.includes(true)) return asciiBytes(encodeRequest(args, kwargs));
  const pieces = ['{"args": ['];
  try {
    for (let i = 0; i < args.length; i++) {
      if (i > 0) pieces.push(", ");
      // One level inside the envelope's list, as encodeRequest writes it.
      pieces.push(...(long[i] ? ['"', args[i] as string, '"'] : [encodeJsonAt(args[i], 2)]));
    }
    pieces.push('], "kwargs": ', encodeJsonAt(kwargs, 1), "}");
  } catch {
    // The error of the whole request, as encodeRequest reports it.
    return asciiBytes(encodeRequest(args, kwargs));
  }
  return joinAscii(pieces);
}

/** The bytes of {@link encodeReply}'s body, with a long string result written in place. */
export function encodeReplyBytes(result: unknown): Buffer {
  if (isLongPlain(result)) return joinAscii(['{"result": "', result, '", "error": null}']);
  return asciiBytes(encodeReply(result));
}

/** `{"result": null, "error": {...}}` for anything thrown (docs/nameko-wire.md, Error object). */
export function encodeErrorReply(error: unknown): string {
  return '{"result": null, "error": ' + encodeJsonAt(serializeError(error), 1) + "}";
}

function isDict(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

const hasOwn = (obj: object, key: string): boolean => Object.prototype.hasOwnProperty.call(obj, key);

/**
 * The positional arguments of a request as Python's `*args` reads them: a list as is, a string
 * as its characters, a dict as its keys (docs/nameko-wire.md, Argument binding); anything else is Python's
 * IncorrectSignature.
 */
export function requestArgs(args: unknown): unknown[] {
  if (Array.isArray(args)) return args;
  if (typeof args === "string") return Array.from(args);
  if (isDict(args)) return Object.keys(args);
  // CPython 3.11 words the `*` case without the function name, unlike the `**` case below
  throw new IncorrectSignature(`Value after * must be an iterable, not ${pyTypeName(args)}`);
}

/**
 * The keyword arguments of a request as Python's `**kwargs` reads them; a non-dict is IncorrectSignature
 * (docs/nameko-wire.md, Argument binding).
 */
export function requestKwargs(kwargs: unknown): Record<string, unknown> {
  if (isDict(kwargs)) return kwargs;
  throw new IncorrectSignature(`inspect.getcallargs() argument after ** must be a mapping, not ${pyTypeName(kwargs)}`);
}

/**
 * Parse an RPC request body and check its envelope: a JSON object with `args` and `kwargs`.
 * Throws MalformedRequest for text that is not JSON (or nested deeper than Python reads), a
 * non-object body (where Nameko's own indexing would fail with a TypeError) and a missing key.
 * Does not look inside `args`/`kwargs`: that is the callee's binding (docs/nameko-wire.md, Values).
 */
export function requestEnvelope(body: string | Uint8Array): Record<string, unknown> {
  let data: unknown;
  try {
    data = decodeJson(body);
  } catch (err) {
    throw new MalformedRequest(`Message body is not valid JSON: ${(err as Error).message}`);
  }
  if (!isDict(data)) throw new MalformedRequest(`Message body must be a JSON object, not ${pyTypeName(data)}`);
  if (!hasOwn(data, "args") || !hasOwn(data, "kwargs"))
    throw new MalformedRequest("Message missing `args` or `kwargs`");
  return data;
}

/** Containers open deeper than this are left to {@link requestEnvelope}. */
const SCAN_DEPTH = 64;

/**
 * True when `bytes` is certainly a request {@link requestEnvelope} accepts, read as they are
 * (no text, no values built); false when not known, and requestEnvelope decides.
 * Only plain JSON says yes: no backslash anywhere (escapes, Python's `\uXXXX`), no NaN or
 * Infinity token, no nesting beyond SCAN_DEPTH, and a top-level object with `args` and `kwargs`.
 * For a body that passes through unchanged (the bridge) this is the check without the decoding:
 * about 1.4-2 ms less CPU per 900 KiB body, 0.26 ms left (BENCHMARKS.md, Payload size).
 */
export function isPlainRequestEnvelope(bytes: Uint8Array): boolean {
  const n = bytes.length;
  const body = Buffer.from(bytes.buffer, bytes.byteOffset, n);
  if (n === 0 || body.indexOf(0x5c) !== -1) return false;
  // Per open container: true for an object. Top-level keys seen: 1 args, 2 kwargs.
  const objects: boolean[] = [];
  let seen = 0;
  let i = skipSpace(body, 0);
  if (body[i] !== 0x7b) return false;
  // What the scanner expects next.
  let expect: "value" | "key" | "after" = "key";
  objects.push(true);
  i++;
  let first = true;
  for (;;) {
    i = skipSpace(body, i);
    if (i >= n) return false;
    const c = body[i];
    if (expect === "key") {
      if (c === 0x7d && first) {
        objects.pop();
        i++;
        expect = "after";
        continue;
      }
      if (c !== 0x22) return false;
      const end = stringEnd(body, i);
      if (end < 0) return false;
      if (objects.length === 1) seen |= topKey(body, i + 1, end);
      i = skipSpace(body, end + 1);
      if (body[i] !== 0x3a) return false;
      i++;
      expect = "value";
      continue;
    }
    if (expect === "after") {
      if (objects.length === 0) return i === n && seen === 3;
      if (c === 0x2c) {
        i++;
        first = false;
        expect = objects[objects.length - 1] ? "key" : "value";
        continue;
      }
      if (c !== (objects[objects.length - 1] ? 0x7d : 0x5d)) return false;
      objects.pop();
      i++;
      if (objects.length === 0) {
        i = skipSpace(body, i);
        return i === n && seen === 3;
      }
      continue;
    }
    // A value.
    first = true;
    if (c === 0x7b || c === 0x5b) {
      if (objects.length >= SCAN_DEPTH) return false;
      objects.push(c === 0x7b);
      i++;
      const next = skipSpace(body, i);
      if (c === 0x5b && body[next] === 0x5d) {
        objects.pop();
        i = next + 1;
        expect = "after";
      } else expect = c === 0x7b ? "key" : "value";
      continue;
    }
    first = false;
    if (c === 0x22) {
      const end = stringEnd(body, i);
      if (end < 0) return false;
      i = end + 1;
    } else if (c === 0x74) i = literal(body, i, "true");
    else if (c === 0x66) i = literal(body, i, "false");
    else if (c === 0x6e) i = literal(body, i, "null");
    else i = numberEnd(body, i);
    if (i < 0) return false;
    expect = "after";
  }
}

function skipSpace(b: Uint8Array, i: number): number {
  for (;;) {
    const c = b[i];
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
    else return i;
  }
}

/** Index of the quote closing the string opened at `open` (no backslash in the body), or -1 at a control character or the end. */
function stringEnd(b: Buffer, open: number): number {
  const close = b.indexOf(0x22, open + 1);
  return close < 0 || hasControl(b, open + 1, close) ? -1 : close;
}

/** Strings from this length on are scanned four bytes at a time. */
const WORD_SCAN = 256;

/** True when a byte in [from, to) is below 0x20: a control character, which JSON strings may not hold. */
function hasControl(b: Uint8Array, from: number, to: number): boolean {
  let i = from;
  if (to - from >= WORD_SCAN) {
    for (const aligned = i + ((4 - ((b.byteOffset + i) & 3)) & 3); i < aligned; i++) if (b[i] < 0x20) return true;
    const count = (to - i) >>> 2;
    const words = new Uint32Array(b.buffer, b.byteOffset + i, count);
    // Some byte of x is below 0x20 exactly when this is not zero (bit tricks: "hasless(x, n)").
    for (let k = 0; k < count; k++) {
      const x = words[k];
      if (((x - 0x20202020) & ~x & 0x80808080) !== 0) return true;
    }
    i += count * 4;
  }
  for (; i < to; i++) if (b[i] < 0x20) return true;
  return false;
}

/** 1 for `args`, 2 for `kwargs`, 0 otherwise: the key's bytes in [from, to). */
function topKey(b: Uint8Array, from: number, to: number): number {
  const len = to - from;
  if (len === 4 && b[from] === 0x61 && b[from + 1] === 0x72 && b[from + 2] === 0x67 && b[from + 3] === 0x73) return 1;
  if (
    len === 6 &&
    b[from] === 0x6b &&
    b[from + 1] === 0x77 &&
    b[from + 2] === 0x61 &&
    b[from + 3] === 0x72 &&
    b[from + 4] === 0x67 &&
    b[from + 5] === 0x73
  )
    return 2;
  return 0;
}

function literal(b: Uint8Array, i: number, word: string): number {
  for (let k = 0; k < word.length; k++) if (b[i + k] !== word.charCodeAt(k)) return -1;
  return i + word.length;
}

const isDigitByte = (c: number): boolean => c >= 0x30 && c <= 0x39;

/** End of the JSON number at `i` (RFC 8259's grammar), or -1. */
function numberEnd(b: Uint8Array, i: number): number {
  if (b[i] === 0x2d) i++;
  if (b[i] === 0x30) i++;
  else if (b[i] >= 0x31 && b[i] <= 0x39) while (isDigitByte(b[i])) i++;
  else return -1;
  if (b[i] === 0x2e) {
    i++;
    if (!isDigitByte(b[i])) return -1;
    while (isDigitByte(b[i])) i++;
  }
  if (b[i] === 0x65 || b[i] === 0x45) {
    i++;
    if (b[i] === 0x2b || b[i] === 0x2d) i++;
    if (!isDigitByte(b[i])) return -1;
    while (isDigitByte(b[i])) i++;
  }
  return i;
}

/**
 * Decode an RPC request body. Throws MalformedRequest as {@link requestEnvelope} does, and
 * IncorrectSignature where Nameko does (non-iterable args, non-dict kwargs).
 */
export function decodeRequest(body: string | Uint8Array): RpcRequest {
  const data = requestEnvelope(body);
  return { args: requestArgs(data.args), kwargs: requestKwargs(data.kwargs) };
}

function pyTruthy(v: unknown): boolean {
  if (Array.isArray(v)) return v.length > 0;
  if (isDict(v)) return Object.keys(v).length > 0;
  return Boolean(v);
}

function field(v: unknown): string {
  return typeof v === "string" ? v : v === undefined || v === null ? "None" : pyStr(v);
}

function normalizeError(e: unknown): SerializedError | null {
  // Nameko only checks that `error` is truthy, so `{}` and `[]` count as success
  // (docs/nameko-wire.md, Error deserialisation).
  if (!pyTruthy(e)) return null;
  if (!isDict(e)) return { exc_type: "None", exc_path: "None", exc_args: [], value: pyStr(e) };
  return {
    exc_type: field(e.exc_type),
    exc_path: field(e.exc_path),
    exc_args: Array.isArray(e.exc_args) ? e.exc_args : [],
    value: field(e.value),
  };
}

/**
 * Decode an RPC reply body. A missing `error` means success (docs/nameko-wire.md, RPC client); missing error keys read
 * as Python's None. Throws JsonDecodeError for bad JSON and MalformedReply for a non-object.
 */
export function decodeReply(body: string | Uint8Array): RpcReply {
  const data = decodeJson(body);
  if (!isDict(data)) throw new MalformedReply(`Reply body must be a JSON object, not ${pyTypeName(data)}`);
  const error = normalizeError(data.error);
  return { result: error || data.result === undefined ? null : data.result, error };
}
