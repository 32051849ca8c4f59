// Context data <-> `nameko.*` headers and the call-id stack (docs/nameko-wire.md, Context data, Call id stack).
import { randomUUID } from "node:crypto";
import { decodeJson, encodeJson } from "./json";
import { hasControlCharacter } from "./naming";

/** A worker's context data: `user_id`, `language`, `auth_token`, `user_agent` and any other key. */
export type ContextData = Record<string, unknown>;

/** Prefix of every context header. */
export const HEADER_PREFIX = "nameko.";
/** Context key of the call-id stack. */
export const CALL_ID_STACK_KEY = "call_id_stack";
/** Nameko's default `parent_calls_tracked`. */
export const DEFAULT_PARENT_CALLS_TRACKED = 10;

const STACK_HEADER = HEADER_PREFIX + CALL_ID_STACK_KEY;

/** A worker's call id, `"{service}.{method}.{uuid4}"` (docs/nameko-wire.md, Call id stack). */
export function newCallId(service: string, method: string): string {
  return `${service}.${method}.${randomUUID()}`;
}

/**
 * Parent stack plus the worker's own id, keeping the last `parentCallsTracked + 1` entries
 * (docs/nameko-wire.md, Call id stack).
 */
export function extendCallIdStack(
  parent: readonly string[],
  callId: string,
  parentCallsTracked: number = DEFAULT_PARENT_CALLS_TRACKED,
): string[] {
  const stack = [...parent, callId];
  const keep = Math.max(0, parentCallsTracked) + 1;
  return stack.length > keep ? stack.slice(stack.length - keep) : stack;
}

function toStack(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String);
  // Nameko splits a string stack into characters (docs/nameko-wire.md, Malformed requests); one id is
  // the only useful reading.
  if (typeof value === "string") return value ? [value] : [];
  return [];
}

/**
 * Incoming headers to context data (docs/nameko-wire.md, Context data): a leading `nameko.` is stripped,
 * other keys are kept as they are, and `call_id_stack` is taken out as the parent stack. Values must already
 * be decoded (see decodeHeaderValue).
 */
export function contextFromHeaders(headers: Record<string, unknown>): { data: ContextData; parentStack: string[] } {
  const data: ContextData = {};
  let parentStack: string[] = [];
  for (const key of Object.keys(headers)) {
    const name = key.startsWith(HEADER_PREFIX) ? key.slice(HEADER_PREFIX.length) : key;
    if (name === CALL_ID_STACK_KEY) parentStack = toStack(headers[key]);
    else data[name] = headers[key];
  }
  return { data, parentStack };
}

/**
 * Context data to outgoing headers (docs/nameko-wire.md, Context data): every key as `nameko.<key>`, None
 * (null/undefined) dropped, the call-id stack last. An empty stack is left out, as the standalone dispatcher
 * does.
 */
export function contextToHeaders(data: ContextData, stack: readonly string[]): Record<string, unknown> {
  const headers: Record<string, unknown> = {};
  for (const key of Object.keys(data)) {
    const value = data[key];
    if (value === null || value === undefined || key === CALL_ID_STACK_KEY) continue;
    headers[HEADER_PREFIX + key] = value;
  }
  if (stack.length) headers[STACK_HEADER] = [...stack];
  return headers;
}

/** Text a header line cannot carry faithfully: control characters (hasControlCharacter), or whitespace at either end. */
const EDGE_WHITESPACE = /^\s|\s$/;
/** Text that may be JSON; only such text is parsed when decoding. */
const MAYBE_JSON = /^(?:[-0-9"[{]|(?:true|false|null|NaN|Infinity)$)/;

function parsesAsJson(text: string): boolean {
  if (!MAYBE_JSON.test(text)) return false;
  try {
    decodeJson(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * A context value as a NATS header value (headers carry text only; docs/nats-contract.md, Headers): a string as
 * is, unless it would read back as another type (`"5"`, `"true"`) or a header cannot carry it
 * (control characters, edge whitespace), then JSON-quoted; anything else as JSON.
 */
export function encodeHeaderValue(value: unknown): string {
  if (typeof value !== "string") return encodeJson(value);
  return hasControlCharacter(value) || EDGE_WHITESPACE.test(value) || parsesAsJson(value) ? encodeJson(value) : value;
}

/** Inverse of encodeHeaderValue; `call_id_stack` (with or without prefix) always reads as a list of ids. */
export function decodeHeaderValue(key: string, text: string): unknown {
  if (key === CALL_ID_STACK_KEY || key === STACK_HEADER) {
    if (text.startsWith("[")) {
      try {
        const parsed = decodeJson(text);
        if (Array.isArray(parsed)) return parsed.map(String);
      } catch {
        // not JSON: a bare id, below
      }
    }
    return toStack(text);
  }
  if (!MAYBE_JSON.test(text)) return text;
  try {
    return decodeJson(text);
  } catch {
    return text;
  }
}
