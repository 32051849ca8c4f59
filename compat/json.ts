// JSON as CPython's json.dumps writes it with kombu 5.2's extras, and a reader for everything Python
// may send (docs/nameko-wire.md, JSON bodies). Both sit on the path of every call, so common inputs
// take native fast paths.
import { UnserializableValueError } from "./errors";
import { isPlainObject, MAX_NESTING, pyNumber, pyTypeName } from "./python";

/** Text that is not JSON (Python's json.JSONDecodeError), with the offset where parsing failed. */
export class JsonDecodeError extends SyntaxError {
  readonly position: number;
  constructor(message: string, position: number) {
    super(message);
    this.name = "JsonDecodeError";
    this.position = position;
  }
}

// ---------------------------------------------------------------- encoding

/** Printable ASCII except `"` and `\`: such strings are written verbatim. */
const PLAIN_STRING = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;
const NON_ASCII = /[\u007f-\uffff]/g;

/** Raised inside the encoder; encodeJson turns it into UnserializableValueError of the whole value. */
class Unencodable extends Error {}

/** True when `s` is written as it is between quotes: printable ASCII without `"` or `\`. */
export function isPlainString(s: string): boolean {
  return PLAIN_STRING.test(s);
}

function escapeNonAscii(ch: string): string {
  return "\\u" + ch.charCodeAt(0).toString(16).padStart(4, "0");
}

function encodeString(s: string): string {
  if (PLAIN_STRING.test(s)) return '"' + s + '"';
  // JSON.stringify escapes exactly the characters Python escapes below 0x7f, in the same
  // (lower-case \u00xx) form, and escapes lone surrogates; ensure_ascii does the rest.
  return JSON.stringify(s).replace(NON_ASCII, escapeNonAscii);
}

// Keys repeat across calls (field names), so their encoded form is cached, within a bound.
const keyCache = new Map<string, string>();
const KEY_CACHE_LIMIT = 2048;

/** An object key, encoded and followed by Python's `": "` separator. */
function encodeKey(key: string): string {
  let encoded = keyCache.get(key);
  if (encoded === undefined) {
    encoded = encodeString(key) + ": ";
    if (keyCache.size < KEY_CACHE_LIMIT && key.length <= 64) keyCache.set(key, encoded);
  }
  return encoded;
}

function encodeNumber(n: number): string {
  const abs = n < 0 ? -n : n;
  // below 2^53 JavaScript prints what Python's repr prints (integral values without `.0`)
  if (abs >= 1e-4 && abs < 9007199254740992) return String(n);
  // Python has no negative integer zero: -0 can only have been the float -0.0
  if (n === 0) return 1 / n < 0 ? "-0.0" : "0";
  if (n !== n) return "NaN";
  if (abs === Infinity) return n > 0 ? "Infinity" : "-Infinity";
  return pyNumber(n);
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, "0");
}

/** kombu 5.2: `isoformat()` of an aware UTC datetime with `+00:00` written as `Z`. */
function encodeDate(d: Date): string {
  const t = d.getTime();
  if (t !== t) throw new Unencodable("Invalid Date");
  const ms = d.getUTCMilliseconds();
  return (
    '"' +
    pad(d.getUTCFullYear(), 4) +
    "-" +
    pad(d.getUTCMonth() + 1, 2) +
    "-" +
    pad(d.getUTCDate(), 2) +
    "T" +
    pad(d.getUTCHours(), 2) +
    ":" +
    pad(d.getUTCMinutes(), 2) +
    ":" +
    pad(d.getUTCSeconds(), 2) +
    (ms ? "." + pad(ms * 1000, 6) : "") +
    'Z"'
  );
}

/** A Map key as Python's json writes a dict key: str as is; int, float, bool and None as their JSON text. */
function keyText(key: unknown): string {
  switch (typeof key) {
    case "string":
      return key;
    case "number":
      return encodeNumber(key);
    case "bigint":
      return key.toString();
    case "boolean":
      return key ? "true" : "false";
    default:
      if (key === null || key === undefined) return "null";
      throw new Unencodable("keys must be str, int, float, bool or None");
  }
}

function encodeEntries(entries: Iterable<[unknown, unknown]>, depth: number): string {
  let out = "{";
  let first = true;
  for (const [k, v] of entries) {
    if (v === undefined) continue;
    out += (first ? "" : ", ") + encodeString(keyText(k)) + ": " + encodeValue(v, depth);
    first = false;
  }
  return out + "}";
}

function encodeValue(value: unknown, depth: number): string {
  switch (typeof value) {
    case "string":
      return encodeString(value);
    case "number":
      return encodeNumber(value);
    case "boolean":
      return value ? "true" : "false";
    case "undefined":
      return "null";
    case "bigint":
      return value.toString();
    case "object":
      break;
    default:
      // functions and symbols have no JSON form (Python: not JSON serializable)
      throw new Unencodable(`${typeof value} is not JSON serializable`);
  }
  if (value === null) return "null";
  if (depth >= MAX_NESTING) throw new Unencodable(`nesting deeper than ${MAX_NESTING} levels, or a cycle`);
  const next = depth + 1;
  if (Array.isArray(value)) {
    let out = "[";
    for (let i = 0; i < value.length; i++) out += (i ? ", " : "") + encodeValue(value[i], next);
    return out + "]";
  }
  if (value instanceof Date) return encodeDate(value);
  // Buffer has a toJSON; bytes must still be refused (kombu 5.2; docs/nameko-wire.md, JSON bodies)
  if (ArrayBuffer.isView(value)) throw new Unencodable("bytes are not JSON serializable");
  const obj = value as Record<string, unknown>;
  // toJSON() is the JavaScript form of kombu's __json__(): the object says what it is on the wire
  if (typeof obj.toJSON === "function") return encodeValue((obj.toJSON as (key: string) => unknown)(""), next);
  if (isPlainObject(obj)) {
    let out = "{";
    let first = true;
    for (const key in obj) {
      const v = obj[key];
      if (v === undefined) continue;
      out += (first ? "" : ", ") + encodeKey(key) + encodeValue(v, next);
      first = false;
    }
    return out + "}";
  }
  if (value instanceof Map) return encodeEntries(value, next);
  if (value instanceof Number || value instanceof String || value instanceof Boolean) {
    return encodeValue(value.valueOf(), next);
  }
  // Any other object is what Python's json refuses: a set, an error, a promise (a missing
  // `await`), a class instance whose state would be guessed from its fields (docs/nameko-wire.md, Values).
  throw new Unencodable(`Object of type ${pyTypeName(value)} is not JSON serializable`);
}

/**
 * CPython `json.dumps` with kombu 5.2's extras: `", "`/`": "` separators, ensure_ascii, bare
 * NaN/Infinity, bigint as digits, Date as UTC ISO with `Z`. Plain objects and Maps are written as
 * objects, arrays as lists, `toJSON()` is honoured; `undefined` is null in lists and omitted in
 * objects. Integral numbers print without `.0` (JavaScript cannot tell 1.0 from 1) except -0,
 * which is Python's -0.0. Throws UnserializableValueError for what Python's json refuses:
 * functions, symbols, binary data, Sets, errors, promises, class instances without `toJSON()`,
 * cycles and nesting deeper than {@link MAX_NESTING} (docs/nameko-wire.md, Values).
 */
export function encodeJson(value: unknown): string {
  return encodeJsonAt(value, 0);
}

/**
 * encodeJson for a value written `depth` lists/objects deep inside a message (an RPC envelope),
 * so the nesting bound applies to the whole message as a Python peer will read it.
 */
export function encodeJsonAt(value: unknown, depth: number): string {
  try {
    return encodeValue(value, depth);
  } catch (cause) {
    const err = new UnserializableValueError(value);
    err.cause = cause;
    throw err;
  }
}

// ---------------------------------------------------------------- decoding

const utf8 = new TextDecoder("utf-8");

/**
 * Whether JSON.parse's reading may differ from Python's: an integer beyond 2^53 (rounded), a -0
 * (Python reads `-0` as the integer 0, `-0.0` as the float), or nesting deeper than MAX_NESTING
 * (refused). The full parser then decides. Walking the parsed value is cheaper than scanning the
 * text for such tokens.
 */
function needsFullParser(value: unknown, depth: number): boolean {
  if (typeof value === "number") {
    if (value > Number.MAX_SAFE_INTEGER || value < -Number.MAX_SAFE_INTEGER) return Number.isInteger(value);
    return value === 0 && 1 / value < 0;
  }
  if (typeof value !== "object" || value === null) return false;
  if (depth >= MAX_NESTING) return true;
  const next = depth + 1;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (needsFullParser(value[i], next)) return true;
    return false;
  }
  const obj = value as Record<string, unknown>;
  for (const key in obj) if (needsFullParser(obj[key], next)) return true;
  return false;
}

function toText(input: string | Uint8Array): string {
  return typeof input === "string" ? input : utf8.decode(input);
}

function canonicalUuid(hex: string): string {
  const h = hex.replace(/-/g, "").toLowerCase();
  if (!/^[0-9a-f]{32}$/.test(h)) return hex;
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/**
 * kombu >= 5.3 tagged values (docs/nameko-wire.md, JSON bodies) read back as the plain strings kombu 5.2
 * would have sent.
 */
function untag(type: unknown, value: unknown): { ok: true; value: unknown } | { ok: false } {
  switch (type) {
    case "datetime":
    case "date":
    case "time":
    case "decimal":
    case "bytes":
      return { ok: true, value };
    case "uuid": {
      const hex = value !== null && typeof value === "object" ? (value as { hex?: unknown }).hex : value;
      return typeof hex === "string" ? { ok: true, value: canonicalUuid(hex) } : { ok: false };
    }
    case "base64":
      return typeof value === "string"
        ? { ok: true, value: Buffer.from(value, "base64").toString("utf8") }
        : { ok: false };
    default:
      // unknown tags are left as objects: dropping the message (kombu's choice) helps nobody
      return { ok: false };
  }
}

/** A JSON parser for what Python writes: NaN/Infinity tokens, arbitrary-size integers, tagged objects. */
class PythonJsonParser {
  private pos = 0;
  /** Lists and objects open at `pos`. */
  private depth = 0;
  constructor(private readonly text: string) {}

  parseDocument(): unknown {
    const value = this.parseValue();
    this.skipWhitespace();
    if (this.pos < this.text.length) this.fail("Extra data");
    return value;
  }

  private fail(what: string, at = this.pos): never {
    const before = this.text.slice(0, at);
    const line = before.split("\n").length;
    const column = at - before.lastIndexOf("\n");
    throw new JsonDecodeError(`${what}: line ${line} column ${column} (char ${at})`, at);
  }

  private skipWhitespace(): void {
    const t = this.text;
    let p = this.pos;
    for (;;) {
      const c = t.charCodeAt(p);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) p++;
      else break;
    }
    this.pos = p;
  }

  private literal(word: string, value: unknown): unknown {
    if (!this.text.startsWith(word, this.pos)) this.fail("Expecting value");
    this.pos += word.length;
    return value;
  }

  private parseValue(): unknown {
    this.skipWhitespace();
    const c = this.text.charCodeAt(this.pos);
    switch (c) {
      case 0x22: // "
        return this.parseString();
      case 0x7b: // {
        this.enter();
        return this.parseObject();
      case 0x5b: // [
        this.enter();
        return this.parseArray();
      case 0x74: // t
        return this.literal("true", true);
      case 0x66: // f
        return this.literal("false", false);
      case 0x6e: // n
        return this.literal("null", null);
      case 0x4e: // N
        return this.literal("NaN", NaN);
      case 0x49: // I
        return this.literal("Infinity", Infinity);
      case 0x2d: // -
        if (this.text.startsWith("-Infinity", this.pos)) return this.literal("-Infinity", -Infinity);
        return this.parseNumber();
      default:
        if (c >= 0x30 && c <= 0x39) return this.parseNumber();
        return this.fail("Expecting value");
    }
  }

  /** Python's decoder runs out of stack here (RecursionError); refusing is what a peer would do. */
  private enter(): void {
    if (this.depth >= MAX_NESTING) this.fail(`Nesting deeper than ${MAX_NESTING} levels`);
    this.depth++;
  }

  private parseNumber(): number | bigint {
    const t = this.text;
    const start = this.pos;
    let p = start;
    if (t.charCodeAt(p) === 0x2d) p++;
    const digitsStart = p;
    if (t.charCodeAt(p) === 0x30) p++;
    else while (isDigit(t.charCodeAt(p))) p++;
    if (p === digitsStart) this.fail("Expecting value", start);
    let integral = true;
    if (t.charCodeAt(p) === 0x2e && isDigit(t.charCodeAt(p + 1))) {
      integral = false;
      p += 2;
      while (isDigit(t.charCodeAt(p))) p++;
    }
    const e = t.charCodeAt(p);
    if (e === 0x65 || e === 0x45) {
      let q = p + 1;
      const sign = t.charCodeAt(q);
      if (sign === 0x2b || sign === 0x2d) q++;
      if (isDigit(t.charCodeAt(q))) {
        integral = false;
        p = q;
        while (isDigit(t.charCodeAt(p))) p++;
      }
    }
    this.pos = p;
    const token = t.slice(start, p);
    const n = Number(token);
    if (integral && p - digitsStart > 15 && !Number.isSafeInteger(n)) return BigInt(token);
    // `-0` is Python's integer 0; only `-0.0` (or `-0e0`) is the float -0.0
    if (integral && n === 0) return 0;
    return n;
  }

  private parseString(): string {
    const t = this.text;
    const start = this.pos;
    let p = start + 1;
    let escaped = false;
    for (;;) {
      const c = t.charCodeAt(p);
      if (c === 0x22) break;
      if (c === 0x5c) {
        escaped = true;
        p += 2;
      } else if (c < 0x20 || p >= t.length) {
        // control characters are invalid inside strings (Python's strict mode); NaN = end of text
        this.fail("Unterminated string starting at", start);
      } else p++;
    }
    this.pos = p + 1;
    if (!escaped) return t.slice(start + 1, p);
    try {
      return JSON.parse(t.slice(start, p + 1)) as string;
    } catch {
      return this.fail("Invalid \\escape", start);
    }
  }

  private parseArray(): unknown[] {
    this.pos++;
    const out: unknown[] = [];
    this.skipWhitespace();
    if (this.text.charCodeAt(this.pos) === 0x5d) {
      this.pos++;
      this.depth--;
      return out;
    }
    for (;;) {
      out.push(this.parseValue());
      this.skipWhitespace();
      const c = this.text.charCodeAt(this.pos++);
      if (c === 0x5d) {
        this.depth--;
        return out;
      }
      if (c !== 0x2c) this.fail("Expecting ',' delimiter", this.pos - 1);
    }
  }

  private parseObject(): unknown {
    this.pos++;
    const out: Record<string, unknown> = {};
    let count = 0;
    this.skipWhitespace();
    if (this.text.charCodeAt(this.pos) === 0x7d) {
      this.pos++;
      this.depth--;
      return out;
    }
    for (;;) {
      this.skipWhitespace();
      if (this.text.charCodeAt(this.pos) !== 0x22) this.fail("Expecting property name enclosed in double quotes");
      const key = this.parseString();
      this.skipWhitespace();
      if (this.text.charCodeAt(this.pos) !== 0x3a) this.fail("Expecting ':' delimiter");
      this.pos++;
      const value = this.parseValue();
      if (key === "__proto__") {
        Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
      } else {
        if (!Object.prototype.hasOwnProperty.call(out, key)) count++;
        out[key] = value;
      }
      this.skipWhitespace();
      const c = this.text.charCodeAt(this.pos++);
      if (c === 0x7d) break;
      if (c !== 0x2c) this.fail("Expecting ',' delimiter", this.pos - 1);
    }
    this.depth--;
    if (count === 2 && "__type__" in out && "__value__" in out) {
      const tagged = untag(out.__type__, out.__value__);
      if (tagged.ok) return tagged.value;
    }
    return out;
  }
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/**
 * Parse JSON as Python reads it: NaN/Infinity/-Infinity tokens, integers beyond 2^53 as bigint,
 * `-0` as 0 and `-0.0` as -0, kombu >= 5.3 `{"__type__", "__value__"}` objects as plain strings
 * (UUIDs canonical). Throws JsonDecodeError on bad JSON and on nesting deeper than
 * {@link MAX_NESTING}, which a Python peer could not decode either.
 */
export function decodeJson(input: string | Uint8Array): unknown {
  const text = toText(input);
  if (!text.includes("__type__")) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      // NaN/Infinity tokens, or really bad JSON: the full parser decides and reports where
      return new PythonJsonParser(text).parseDocument();
    }
    if (!needsFullParser(value, 0)) return value;
  }
  return new PythonJsonParser(text).parseDocument();
}
