// Python's str()/repr() for JavaScript values, so error texts read exactly as a Nameko
// service would have written them (docs/nameko-wire.md, Error object: `value` is Python's `str(exc)`).

import { types } from "node:util";

const NON_PRINTABLE = /[\p{C}\p{Z}\\]/u;

/**
 * Whether a value is an error, including errors from another realm (Node's own errors seen
 * inside a jest or vm context fail `instanceof Error`).
 */
export function isError(value: unknown): value is Error {
  return value instanceof Error || types.isNativeError(value);
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
    default:
      if (Array.isArray(value)) return "list";
      if (value instanceof Uint8Array) return "bytes";
      if (value instanceof Set) return "set";
      return "dict";
  }
}

/** Python's `repr(float)` for a JavaScript number (integers in the safe range print as Python ints). */
export function pyNumber(n: number): string {
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

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function reprEntries(entries: Iterable<[unknown, unknown]>, depth: number): string {
  const parts: string[] = [];
  for (const [k, v] of entries) parts.push(`${repr(k, depth)}: ${repr(v, depth)}`);
  return `{${parts.join(", ")}}`;
}

function repr(value: unknown, depth: number): string {
  // Python prints a self-containing container as `[...]`; a depth bound gives the same safety.
  if (depth > 100) return "...";
  const next = depth + 1;
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
  if (Array.isArray(obj)) return `[${obj.map((v) => repr(v, next)).join(", ")}]`;
  if (obj instanceof Uint8Array) return pyReprBytes(obj);
  if (obj instanceof Date) return pyReprDate(obj);
  if (obj instanceof Map) return reprEntries(obj.entries(), next);
  if (obj instanceof Set) return obj.size ? `{${[...obj].map((v) => repr(v, next)).join(", ")}}` : "set()";
  if (isError(obj)) {
    const args = (obj as { excArgs?: unknown }).excArgs;
    const list = Array.isArray(args) ? args : obj.message ? [obj.message] : [];
    return `${obj.name}(${list.map((v) => repr(v, next)).join(", ")})`;
  }
  const custom = (obj as { __repr__?: unknown }).__repr__;
  if (typeof custom === "function") return String(custom.call(obj));
  if (isPlainObject(obj)) return reprEntries(Object.entries(obj), next);
  return `<${obj.constructor?.name || "object"} object>`;
}

/**
 * Python's `repr()` of a JavaScript value, reading arrays as lists and objects as dicts. An
 * object with a `__repr__()` method is shown by it, as in Python.
 */
export function pyRepr(value: unknown): string {
  return repr(value, 0);
}

/** Python's `str()`: as `repr()` except for strings, errors (their message) and dates. */
export function pyStr(value: unknown): string {
  if (typeof value === "string") return value;
  if (isError(value)) return value.message;
  if (value instanceof Date) return pyStrDate(value);
  return repr(value, 0);
}

/** Python's `str(exc)` for an exception built with `args`: '' / str(arg) / repr(tuple). */
export function pyStrArgs(args: readonly unknown[]): string {
  if (args.length === 0) return "";
  if (args.length === 1) return pyStr(args[0]);
  return `(${args.map((a) => repr(a, 1)).join(", ")})`;
}
