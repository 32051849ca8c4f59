/**
 * Differences between two JSON values, one per leaf, each named by its JSON path
 * (`reply.result.items[2].price`), for replay's report (docs/cassettes.md, Replay). A recorded
 * value that was masked matches anything, since the real value is not known.
 */
import { encodeJson, MASK } from "../compat";

/** One difference: where, and what was expected and what came. */
export interface Difference {
  /** The JSON path, e.g. `reply.result.items[2].price`, `events[0]`, `calls[1]`. */
  path: string;
  /** `changed`: both sides have a value; `missing`: only the recording; `extra`: only the replay. */
  kind: "changed" | "missing" | "extra";
  expected?: unknown;
  got?: unknown;
  /** Said instead of the values when they do not tell the story (a timeout, an unanswered call). */
  note?: string;
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** `path` with the key `key` added: `.key`, or `["odd key"]` when the key is not a plain name. */
export function keyPath(path: string, key: string): string {
  if (IDENTIFIER.test(key)) return path === "" ? key : `${path}.${key}`;
  return `${path}[${JSON.stringify(key)}]`;
}

/** `path` with the index `i` added: `[i]`. */
export function indexPath(path: string, i: number): string {
  return `${path}[${i}]`;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** Leaves compare as CPython's JSON writes them, so big integers, NaN and -0.0 compare by their text. */
function sameLeaf(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  try {
    return encodeJson(a) === encodeJson(b);
  } catch {
    return false;
  }
}

/** Every difference between `expected` (recorded) and `got` (replayed) below `path`. */
export function diffValues(expected: unknown, got: unknown, path = ""): Difference[] {
  const out: Difference[] = [];
  walk(expected, got, path, out);
  return out;
}

function walk(expected: unknown, got: unknown, path: string, out: Difference[]): void {
  if (expected === MASK) return;
  if (Array.isArray(expected) && Array.isArray(got)) {
    const n = Math.max(expected.length, got.length);
    for (let i = 0; i < n; i++) {
      const at = indexPath(path, i);
      if (i >= got.length) out.push({ path: at, kind: "missing", expected: expected[i] });
      else if (i >= expected.length) out.push({ path: at, kind: "extra", got: got[i] });
      else walk(expected[i], got[i], at, out);
    }
    return;
  }
  if (isObject(expected) && isObject(got)) {
    for (const key of Object.keys(expected)) {
      const at = keyPath(path, key);
      if (!Object.hasOwn(got, key)) out.push({ path: at, kind: "missing", expected: expected[key] });
      else walk(expected[key], got[key], at, out);
    }
    for (const key of Object.keys(got))
      if (!Object.hasOwn(expected, key)) out.push({ path: keyPath(path, key), kind: "extra", got: got[key] });
    return;
  }
  if (!sameLeaf(expected, got)) out.push({ path, kind: "changed", expected, got });
}

/** True when `got` matches `expected` (masked recorded values match anything). */
export function matches(expected: unknown, got: unknown): boolean {
  return diffValues(expected, got).length === 0;
}

const MAX_SHOWN = 200;

/** A value as one short line of JSON. */
export function showValue(value: unknown): string {
  let text: string;
  try {
    text = value === undefined ? "(nothing)" : encodeJson(value);
  } catch {
    text = String(value);
  }
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}…` : text;
}

/** One difference as one line: `path: expected X, got Y` (or what is missing, extra, or the note). */
export function formatDifference(d: Difference): string {
  const where = d.path === "" ? "(the value)" : d.path;
  if (d.note !== undefined) return `${where}: ${d.note}`;
  if (d.kind === "missing") return `${where}: missing, expected ${showValue(d.expected)}`;
  if (d.kind === "extra") return `${where}: extra, got ${showValue(d.got)}`;
  return `${where}: expected ${showValue(d.expected)}, got ${showValue(d.got)}`;
}
