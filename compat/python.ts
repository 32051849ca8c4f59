// Python's str()/repr() for JavaScript values, so error texts read exactly as a Nameko
// service would have written them (docs/nameko-wire.md, Error object: `value` is Python's `str(exc)`).

import { types } from "node:util";

const NON_PRINTABLE = /[\p{C}\p{Z}\\]/u;

/**
 * The deepest nesting of lists and objects the codec writes, reads or prints (docs/nameko-wire.md,
 * Values). CPython 3.11 gives up at 1000 levels minus the frames already on its stack (json:
 * 995 from a bare script, about 970 inside kombu's consumer): deeper values are ones a Python
 * peer cannot decode, so they are refused. The bound also stops cycles without a seen-set.
 */
export const MAX_NESTING = 900;

/**
 * Whether a value is an error, including errors from another realm (Node's own errors seen
 * inside a jest or vm context fail `instanceof Error`).
 */
export function isError(value: unknown): value is Error {
  return value instanceof Error || types.isNativeError(value);
}

/**
 * Whether an object is what Python reads as a dict literal: its prototype is Object.prototype
 * (of any realm: jest and vm contexts have their own) or null. Class instances are not.
 */
export function isPlainObject(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto === Object.prototype || proto === null) return true;
  // another realm's Object.prototype: the root of its chain, with that realm's Object as constructor
  if (typeof proto !== "object" || Object.getPrototypeOf(proto) !== null) return false;
  const ctor = (proto as { constructor?: unknown }).constructor;
  return typeof ctor === "function" && ctor.name === "Object";
}

/** Python's name for the type a JSON-ish JavaScript value would have on the Python side. */
export function pyTypeName(value: unknown): string {
  if (value === null || value === undefined) return "NoneType";
  switch (typeof value) {
    case "string":
      return "str";
    case "boolean":
      return "bool";
    case "bigint":
      return "int";
    case "number":
      return Number.isInteger(value) ? "int" : "float";
    case "function":
      return "function";
    case "symbol":
      return "symbol";
    default:
      if (Array.isArray(value)) return "list";
      if (value instanceof Uint8Array) return "bytes";
      if (value instanceof Set) return "set";
      if (value instanceof Map || isPlainObject(value as object)) return "dict";
      return (value as object).constructor?.name || "object";
  }
}

/** Python's `repr(float)` for a JavaScript number (integers in the safe range print as Python ints). */
export function pyNumber(n: number): string {
  // -0 passes isSafeInteger, but Python has no negative integer zero: it was the float -0.0
  if (n === 0 && 1 / n < 0) return "-0.0";
  if (Number.isSafeInteger(n)) return String(n);
  if (Number.isNaN(n)) return "nan";
  if (n === Infinity) return "inf";
  if (n === -Infinity) return "-inf";
  // Python switches to exponent notation below 1e-4 and from 1e16 on; JavaScript at 1e-7 and 1e21.
  const abs = Math.abs(n);
  if (abs >= 1e-4 && abs < 1e16) {
    const s = String(n);
    return Number.isInteger(n) ? `${s}.0` : s;
  }
  const [mantissa, exp] = n.toExponential().split("e");
  const e = Number(exp);
  return `${mantissa}e${e < 0 ? "-" : "+"}${String(Math.abs(e)).padStart(2, "0")}`;
}

function escapeCodePoint(cp: number): string {
  if (cp < 0x100) return `\\x${cp.toString(16).padStart(2, "0")}`;
  if (cp < 0x10000) return `\\u${cp.toString(16).padStart(4, "0")}`;
  return `\\U${cp.toString(16).padStart(8, "0")}`;
}

/** Python's `repr(str)`: single quotes unless the text holds a single quote and no double quote. */
export function pyReprString(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  if (!NON_PRINTABLE.test(s) && !s.includes(quote)) return quote + s + quote;
  let out = quote;
  for (const ch of s) {
    const cp = ch.codePointAt(0) as number;
    if (ch === quote || ch === "\\") out += "\\" + ch;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (ch !== " " && NON_PRINTABLE.test(ch)) out += escapeCodePoint(cp);
    else out += ch;
  }
  return out + quote;
}

/** Python's `repr(bytes)`. */
export function pyReprBytes(bytes: Uint8Array): string {
  let hasSingle = false;
  let hasDouble = false;
  for (const b of bytes) {
    if (b === 0x27) hasSingle = true;
    else if (b === 0x22) hasDouble = true;
  }
  const quote = hasSingle && !hasDouble ? '"' : "'";
  let out = "b" + quote;
  for (const b of bytes) {
    const ch = String.fromCharCode(b);
    if (ch === quote || ch === "\\") out += "\\" + ch;
    else if (b === 0x0a) out += "\\n";
    else if (b === 0x0d) out += "\\r";
    else if (b === 0x09) out += "\\t";
    else if (b < 0x20 || b >= 0x7f) out += `\\x${b.toString(16).padStart(2, "0")}`;
    else out += ch;
  }
  return out + quote;
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, "0");
}

/** Python's `str(datetime)` of an aware UTC datetime. */
function pyStrDate(d: Date): string {
  if (Number.isNaN(d.getTime())) return "Invalid Date";
  const us = d.getUTCMilliseconds() * 1000;
  const base =
    `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  return `${base}${us ? "." + pad(us, 6) : ""}+00:00`;
}

function pyReprDate(d: Date): string {
  if (Number.isNaN(d.getTime())) return "<Invalid Date>";
  const parts = [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes()];
  const s = d.getUTCSeconds();
  const us = d.getUTCMilliseconds() * 1000;
  if (s || us) parts.push(s);
  if (us) parts.push(us);
  return `datetime.datetime(${parts.join(", ")}, tzinfo=datetime.timezone.utc)`;
}

/** The containers being printed: Python prints one met again inside itself as `[...]` / `{...}`. */
type Open = Set<object>;

function nested(obj: object, open: Open, cycle: string, print: () => string): string {
  if (open.has(obj)) return cycle;
  // Python's repr runs out of stack too (RecursionError); JavaScript's name for that is RangeError
  if (open.size >= MAX_NESTING)
    throw new RangeError("maximum recursion depth exceeded while getting the repr of an object");
  open.add(obj);
  try {
    return print();
  } finally {
    open.delete(obj);
  }
}

function reprEntries(entries: Iterable<[unknown, unknown]>, open: Open): string {
  const parts: string[] = [];
  for (const [k, v] of entries) parts.push(`${repr(k, open)}: ${repr(v, open)}`);
  return `{${parts.join(", ")}}`;
}

function repr(value: unknown, open: Open): string {
  if (value === null || value === undefined) return "None";
  switch (typeof value) {
    case "string":
      return pyReprString(value);
    case "number":
      return pyNumber(value);
    case "bigint":
      return value.toString();
    case "boolean":
      return value ? "True" : "False";
    case "symbol":
      return value.toString();
    case "function":
      return `<function ${value.name || "<anonymous>"}>`;
  }
  const obj = value as object;
  if (Array.isArray(obj)) return nested(obj, open, "[...]", () => `[${obj.map((v) => repr(v, open)).join(", ")}]`);
  if (obj instanceof Uint8Array) return pyReprBytes(obj);
  if (obj instanceof Date) return pyReprDate(obj);
  if (obj instanceof Map) return nested(obj, open, "{...}", () => reprEntries(obj.entries(), open));
  if (obj instanceof Set) {
    if (!obj.size) return "set()";
    return nested(obj, open, "set(...)", () => `{${[...obj].map((v) => repr(v, open)).join(", ")}}`);
  }
  if (isError(obj)) {
    const args = (obj as { excArgs?: unknown }).excArgs;
    const list = Array.isArray(args) ? args : obj.message ? [obj.message] : [];
    return nested(obj, open, "...", () => `${obj.name}(${list.map((v) => repr(v, open)).join(", ")})`);
  }
  const custom = (obj as { __repr__?: unknown }).__repr__;
  if (typeof custom === "function") return String(custom.call(obj));
  if (isPlainObject(obj)) return nested(obj, open, "{...}", () => reprEntries(Object.entries(obj), open));
  return `<${obj.constructor?.name || "object"} object>`;
}

/**
 * Python's `repr()` of a JavaScript value, reading arrays as lists and objects as dicts. An
 * object with a `__repr__()` method is shown by it, as in Python; a container inside itself is
 * `[...]`. Throws RangeError beyond {@link MAX_NESTING} levels, where Python's repr fails too.
 */
export function pyRepr(value: unknown): string {
  return repr(value, new Set());
}

/** Python's `str()`: as `repr()` except for strings, errors (their message) and dates. */
export function pyStr(value: unknown): string {
  if (typeof value === "string") return value;
  if (isError(value)) return value.message;
  if (value instanceof Date) return pyStrDate(value);
  return repr(value, new Set());
}

/** Python's `str(exc)` for an exception built with `args`: '' / str(arg) / repr(tuple). */
export function pyStrArgs(args: readonly unknown[]): string {
  if (args.length === 0) return "";
  if (args.length === 1) return pyStr(args[0]);
  const open: Open = new Set();
  return `(${args.map((a) => repr(a, open)).join(", ")})`;
}
