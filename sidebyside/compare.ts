/**
 * What a replay compares of a call (docs/cassettes.md, What is compared): the reply envelope, with
 * an error reduced to `exc_type`, `exc_path` and `value`; the events its worker dispatched (source,
 * type, payload); the calls its worker made (service, method, args, kwargs). Lists are paired
 * before they are diffed, so one missing event is reported as missing, not as every later one
 * being different.
 */
import { encodeJson, type HandledEvent, type RecordedCall, type RecordedEvent, type RecordedReply } from "../compat";
import { diffValues, indexPath, matches, type Difference } from "./diff";

/** A reply as compared: Nameko's error object without its arguments (docs/nameko-wire.md, Error object). */
export interface ReplyView {
  result: unknown;
  error: { exc_type: unknown; exc_path: unknown; value: unknown } | null;
}

/** An event as compared. */
export interface EventView {
  source: string;
  type: string;
  payload: unknown;
}

/** An outgoing call as compared. */
export interface CallView {
  service: string;
  method: string;
  args: unknown[];
  kwargs: Record<string, unknown>;
}

/** Everything compared of one call; `reply` is undefined when none came. */
export interface Outcome {
  reply?: ReplyView;
  events: EventView[];
  calls: CallView[];
}

function truthy(v: unknown): boolean {
  if (Array.isArray(v)) return v.length > 0;
  if (v !== null && typeof v === "object") return Object.keys(v).length > 0;
  return Boolean(v);
}

/** A reply envelope as compared; only a truthy `error` counts (docs/nameko-wire.md, Error deserialisation). */
export function replyView(reply: RecordedReply): ReplyView {
  const e = reply.error;
  if (!truthy(e)) return { result: reply.result, error: null };
  const o = (e !== null && typeof e === "object" && !Array.isArray(e) ? e : { value: e }) as Record<string, unknown>;
  return { result: reply.result, error: { exc_type: o.exc_type, exc_path: o.exc_path, value: o.value } };
}

export const eventView = (e: Pick<RecordedEvent, "source" | "type" | "payload">): EventView => ({
  source: e.source,
  type: e.type,
  payload: e.payload,
});

export const callView = (c: Pick<RecordedCall, "service" | "method" | "args" | "kwargs">): CallView => ({
  service: c.service,
  method: c.method,
  args: c.args,
  kwargs: c.kwargs,
});

/** What the recording says a handler did: no reply, its events and calls. */
export function handledOutcome(h: HandledEvent): Outcome {
  return { events: h.events.map(eventView), calls: h.calls.map(callView) };
}

/** What the recording says a call did. */
export function recordedOutcome(call: RecordedCall): Outcome {
  return {
    reply: call.reply === null ? undefined : replyView(call.reply),
    events: call.events.map(eventView),
    calls: call.calls.map(callView),
  };
}

/**
 * Pairs two lists: equal items first, then items of the same kind (`keyOf`) in order; the rest are
 * missing (only expected) or extra (only got). Indexes are each list's own.
 */
function pairUp<T>(
  expected: readonly T[],
  got: readonly T[],
  keyOf: (t: T) => string,
): { pairs: Array<[number, number]>; missing: number[]; extra: number[] } {
  const usedGot = new Set<number>();
  const pairOf = new Map<number, number>();
  const pass = (same: (e: T, g: T) => boolean): void => {
    expected.forEach((e, i) => {
      if (pairOf.has(i)) return;
      const j = got.findIndex((g, k) => !usedGot.has(k) && same(e, g));
      if (j >= 0) {
        pairOf.set(i, j);
        usedGot.add(j);
      }
    });
  };
  pass((e, g) => matches(e, g));
  pass((e, g) => keyOf(e) === keyOf(g));
  const pairs = [...pairOf.entries()].sort((a, b) => a[0] - b[0]);
  const missing = expected.map((_, i) => i).filter((i) => !pairOf.has(i));
  const extra = got.map((_, j) => j).filter((j) => !usedGot.has(j));
  return { pairs, missing, extra };
}

function diffList<T>(name: string, expected: readonly T[], got: readonly T[], keyOf: (t: T) => string): Difference[] {
  const { pairs, missing, extra } = pairUp(expected, got, keyOf);
  const out: Difference[] = [];
  for (const [i, j] of pairs) out.push(...diffValues(expected[i], got[j], indexPath(name, i)));
  for (const i of missing) out.push({ path: indexPath(name, i), kind: "missing", expected: expected[i] });
  for (const j of extra) out.push({ path: indexPath(name, j), kind: "extra", got: got[j] });
  return out;
}

/** Every difference between what was recorded and what the replay got. */
export function diffOutcomes(expected: Outcome, got: Outcome): Difference[] {
  const out: Difference[] = [];
  if (expected.reply !== undefined && got.reply !== undefined)
    out.push(...diffValues(expected.reply, got.reply, "reply"));
  out.push(...diffList("events", expected.events, got.events, (e) => `${e.source}.${e.type}`));
  out.push(...diffList("calls", expected.calls, got.calls, (c) => `${c.service}.${c.method}`));
  return out;
}

/** The request of a call as one text, equal for equal requests (object keys sorted). */
export function requestKey(call: Pick<RecordedCall, "service" | "method" | "args" | "kwargs">): string {
  return encodeJson(sortKeys([call.service, call.method, call.args, call.kwargs]));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v !== null && typeof v === "object") {
    const o = v as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(o)
        .sort()
        .map((k) => [k, sortKeys(o[k])]),
    );
  }
  return v;
}

/** The delivery of a handled event as one text, equal for the same event to the same handler (object keys sorted). */
export function handledKey(h: Pick<HandledEvent, "service" | "handler" | "source" | "type" | "payload">): string {
  return encodeJson(sortKeys([h.service, h.handler, h.source, h.type, h.payload]));
}

/** Every path where a later recording of the same input differs from the first, per input key. */
function noisy<T>(
  items: readonly T[],
  keyOf: (t: T) => string,
  outcomeOf: (t: T) => Outcome,
): Map<string, Set<string>> {
  const byKey = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const group = byKey.get(key);
    if (group === undefined) byKey.set(key, [item]);
    else group.push(item);
  }
  const out = new Map<string, Set<string>>();
  for (const [key, group] of byKey) {
    if (group.length < 2) continue;
    const first = outcomeOf(group[0]!);
    const paths = new Set<string>();
    for (const other of group.slice(1)) {
      const next = outcomeOf(other);
      for (const d of diffOutcomes(first, next)) paths.add(d.path);
      // A reply on one side only: the whole reply is noise.
      if ((first.reply === undefined) !== (next.reply === undefined)) paths.add("reply");
    }
    if (paths.size > 0) out.set(key, paths);
  }
  return out;
}

/**
 * The noisy paths of each request recorded more than once: every path where a later recording of
 * the same request differs from the first (docs/cassettes.md, Ignoring noise). Keyed by {@link requestKey}.
 */
export function noisyPaths(calls: readonly RecordedCall[]): Map<string, Set<string>> {
  return noisy(calls, requestKey, recordedOutcome);
}

/** The same for handled events: the same event recorded more than once at the same handler. Keyed by {@link handledKey}. */
export function noisyHandledPaths(handled: readonly HandledEvent[]): Map<string, Set<string>> {
  return noisy(handled, handledKey, handledOutcome);
}
