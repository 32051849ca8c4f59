/**
 * The cassette: recorded Nameko traffic as JSON Lines (docs/cassettes.md). This module is the model
 * only, with no I/O: the entry types, one line per entry written and read back, a reader that
 * reports a bad line by its number and keeps the rest, and the masking of sensitive values.
 */
import { describeError } from "./errors";
import { decodeJson, encodeJson } from "./json";
import type { ContextData } from "./context";

/** The `format` of a cassette's header line. */
export const CASSETTE_FORMAT = "cliffracer-cassette";
/** The version of the format this code writes and reads (docs/cassettes.md, Header). */
export const CASSETTE_VERSION = 1;
/** What a masked value is replaced by (docs/cassettes.md, Masking). */
export const MASK = "***masked***";

/** The side a cassette was recorded on. */
export type CassetteSide = "amqp" | "nats";

/** The first line of a cassette. */
export interface CassetteHeader {
  kind: "header";
  format: typeof CASSETTE_FORMAT;
  version: number;
  /** ISO 8601, UTC. */
  recordedAt: string;
  side: CassetteSide;
  services: string[];
  /** The masks applied while recording: `service.method` (or `source.event_type`) -> paths. */
  masks: MaskSpec;
}

/** An RPC reply envelope as received, `{result, error}` (docs/nameko-wire.md, RPC replies). */
export interface RecordedReply {
  result: unknown;
  error: unknown;
}

/** An event as dispatched: by a recorded worker, or on its own line. */
export interface RecordedEvent {
  kind: "event";
  source: string;
  type: string;
  payload: unknown;
  /** Context data without the call id stack. */
  context: ContextData;
  callIdStack: string[];
}

/** An RPC call with its reply and, linked through the call id stack, what its worker did. */
export interface RecordedCall {
  kind: "call";
  service: string;
  method: string;
  args: unknown[];
  kwargs: Record<string, unknown>;
  /** Context data without the call id stack. */
  context: ContextData;
  /** The stack the request carried (its caller's). */
  callIdStack: string[];
  /** The reply as received; null when none came before recording stopped (a nested call only). */
  reply: RecordedReply | null;
  /** From the request to its reply, as the recorder saw them; null without a reply. */
  durationMs: number | null;
  /** The call id of the worker that ran the call, when its outgoing messages showed it. */
  workerCallId?: string;
  /**
   * True when another call to the same method with the same stack overlapped this one, so which of
   * them made the linked calls and events is a guess by order (docs/cassettes.md, Linking).
   */
  ambiguous?: boolean;
  /** Events the worker dispatched, in order. */
  events: RecordedEvent[];
  /** RPC calls the worker made, in order, each with its reply and its own worker's doings. */
  calls: RecordedCall[];
}

/**
 * An event a recorded service handled: the event as delivered to one of its handlers, and, linked
 * through the call id stack, what the handler's worker did (docs/cassettes.md, Interactions).
 */
export interface HandledEvent {
  kind: "handled";
  /** The handling service. */
  service: string;
  /** The handler method, when the queue or the worker's call id named it; null when neither did. */
  handler: string | null;
  source: string;
  type: string;
  payload: unknown;
  /** Context data of the event without the call id stack. */
  context: ContextData;
  /** The stack the event carried (its dispatcher's). */
  callIdStack: string[];
  /** Present and true when the broker delivered the event again (a handler that failed and requeued it). */
  redelivered?: boolean;
  /** The call id of the handler's worker, when its outgoing messages showed it. */
  workerCallId?: string;
  /** True when the link to `events` and `calls` is a guess by order (docs/cassettes.md, Linking). */
  ambiguous?: boolean;
  /** Events the handler's worker dispatched, in order. */
  events: RecordedEvent[];
  /** RPC calls the handler's worker made, in order, each with its reply and its own worker's doings. */
  calls: RecordedCall[];
}

/** One interaction line. */
export type CassetteEntry = RecordedCall | RecordedEvent | HandledEvent;

/** A line of a cassette that could not be read, by its 1-based number. */
export interface CassetteProblem {
  line: number;
  message: string;
}

/** What {@link parseCassette} returns: the good entries and the problems. */
export interface ParsedCassette {
  header?: CassetteHeader;
  entries: CassetteEntry[];
  problems: CassetteProblem[];
}

/** Writes one entry (or the header) as one line, newline included, in CPython's JSON. */
export function cassetteLine(entry: CassetteHeader | CassetteEntry): string {
  return `${encodeJson(entry)}\n`;
}

/** A cassette's text -> its header, its entries and the lines that could not be read. */
export function parseCassette(text: string): ParsedCassette {
  const out: ParsedCassette = { entries: [], problems: [] };
  const lines = text.split("\n");
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === "") return;
    try {
      const value = decodeJson(line);
      if (out.header === undefined && out.entries.length === 0 && isObject(value) && value.kind === "header") {
        out.header = checkHeader(value);
      } else {
        if (out.header === undefined && out.entries.length === 0 && out.problems.length === 0)
          out.problems.push({ line: i + 1, message: "the first line is not a cassette header" });
        out.entries.push(checkEntry(value, "line"));
      }
    } catch (err) {
      out.problems.push({ line: i + 1, message: describeError(err) });
    }
  });
  if (out.header === undefined && out.problems.length === 0)
    out.problems.push({ line: 1, message: "the cassette is empty: no header line" });
  return out;
}

/** A line that is not a cassette entry. */
export class InvalidCassetteLine extends Error {
  override readonly name = "InvalidCassetteLine";
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function need(ok: boolean, what: string): void {
  if (!ok) throw new InvalidCassetteLine(what);
}

const isStringList = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === "string");

function checkHeader(v: Record<string, unknown>): CassetteHeader {
  need(v.format === CASSETTE_FORMAT, `header: format must be "${CASSETTE_FORMAT}"`);
  need(
    v.version === CASSETTE_VERSION,
    `header: version ${String(v.version)} is not supported (${CASSETTE_VERSION} is)`,
  );
  need(typeof v.recordedAt === "string", "header: recordedAt must be a string");
  need(v.side === "amqp" || v.side === "nats", 'header: side must be "amqp" or "nats"');
  need(isStringList(v.services), "header: services must be a list of names");
  need(isObject(v.masks), "header: masks must be an object");
  return v as unknown as CassetteHeader;
}

function checkEvent(v: Record<string, unknown>, at: string): RecordedEvent {
  need(typeof v.source === "string" && typeof v.type === "string", `${at}: an event needs source and type`);
  need("payload" in v, `${at}: an event needs a payload`);
  need(isObject(v.context), `${at}: context must be an object`);
  need(isStringList(v.callIdStack), `${at}: callIdStack must be a list of strings`);
  return v as unknown as RecordedEvent;
}

/** The `events` and `calls` lists of a call or a handled event, each item checked. */
function checkDoings(v: Record<string, unknown>, at: string, what: string): void {
  need(Array.isArray(v.events) && Array.isArray(v.calls), `${at}: ${what} needs events and calls lists`);
  (v.events as unknown[]).forEach((e, i) => {
    need(isObject(e) && e.kind === "event", `${at}.events[${i}]: not an event`);
    checkEvent(e as Record<string, unknown>, `${at}.events[${i}]`);
  });
  (v.calls as unknown[]).forEach((c, i) => checkEntry(c, `${at}.calls[${i}]`, "call"));
}

function checkHandled(v: Record<string, unknown>, at: string): HandledEvent {
  checkEvent(v, at);
  need(typeof v.service === "string", `${at}: a handled event needs the handling service`);
  need(v.handler === null || typeof v.handler === "string", `${at}: handler must be a method name or null`);
  checkDoings(v, at, "a handled event");
  return v as unknown as HandledEvent;
}

function checkCall(v: Record<string, unknown>, at: string): RecordedCall {
  need(typeof v.service === "string" && typeof v.method === "string", `${at}: a call needs service and method`);
  need(Array.isArray(v.args) && isObject(v.kwargs), `${at}: a call needs args (a list) and kwargs (an object)`);
  need(isObject(v.context), `${at}: context must be an object`);
  need(isStringList(v.callIdStack), `${at}: callIdStack must be a list of strings`);
  need(
    v.reply === null || (isObject(v.reply) && "result" in v.reply && "error" in v.reply),
    `${at}: reply must be {result, error} or null`,
  );
  need(v.durationMs === null || typeof v.durationMs === "number", `${at}: durationMs must be a number or null`);
  checkDoings(v, at, "a call");
  return v as unknown as RecordedCall;
}

function checkEntry(v: unknown, at: string, only?: "call"): CassetteEntry {
  need(isObject(v), `${at}: not a JSON object`);
  const o = v as Record<string, unknown>;
  if (o.kind === "call") return checkCall(o, at);
  if (o.kind === "event" && only === undefined) return checkEvent(o, at);
  if (o.kind === "handled" && only === undefined) return checkHandled(o, at);
  throw new InvalidCassetteLine(
    `${at}: kind must be ${only === undefined ? '"call", "event" or "handled"' : '"call"'}`,
  );
}

// ---------------------------------------------------------------- masking

/**
 * What to mask: `service.method` (or `source.event_type`) -> paths. A path is `args.<index>`,
 * `kwargs.<name>`, `context.<key>` or `payload` (for events), each optionally followed by
 * `.<key>` or `.<index>` steps into the value; a bare name means `kwargs.<name>`
 * (docs/cassettes.md, Masking).
 */
export type MaskSpec = Record<string, string[]>;

/** A mask option that cannot be read. */
export class InvalidMaskSpec extends Error {
  override readonly name = "InvalidMaskSpec";
}

const ROOTS = new Set(["args", "kwargs", "context", "payload"]);

function pathSteps(path: string): string[] {
  const steps = path.split(".");
  if (steps.some((s) => s === "")) throw new InvalidMaskSpec(`mask path ${JSON.stringify(path)} has an empty step`);
  return ROOTS.has(steps[0] ?? "") ? steps : ["kwargs", ...steps];
}

/**
 * One `--mask` option, `service.method:path[,path]...`, added to `into` (returned). Throws
 * {@link InvalidMaskSpec} for a malformed option.
 */
export function addMaskOption(option: string, into: MaskSpec = {}): MaskSpec {
  const colon = option.indexOf(":");
  const key = colon < 0 ? "" : option.slice(0, colon).trim();
  if (!/^[^.\s:]+\.[^.\s:]+$/.test(key))
    throw new InvalidMaskSpec(`--mask ${JSON.stringify(option)}: expected service.method:path[,path]...`);
  const paths = option
    .slice(colon + 1)
    .split(",")
    .map((p) => p.trim())
    .filter((p) => p !== "");
  if (paths.length === 0) throw new InvalidMaskSpec(`--mask ${JSON.stringify(option)}: no path given`);
  paths.forEach(pathSteps);
  into[key] = [...(into[key] ?? []), ...paths];
  return into;
}

/** `value` with the thing at `steps` replaced by {@link MASK}; unchanged where the path leads nowhere. */
function maskAt(value: unknown, steps: readonly string[]): unknown {
  if (steps.length === 0) return value === undefined ? value : MASK;
  const [step, ...rest] = steps as [string, ...string[]];
  if (Array.isArray(value)) {
    const i = Number(step);
    if (!Number.isInteger(i) || i < 0 || i >= value.length) return value;
    const copy = [...value];
    copy[i] = maskAt(value[i], rest);
    return copy;
  }
  if (isObject(value) && Object.hasOwn(value, step)) return { ...value, [step]: maskAt(value[step], rest) };
  return value;
}

function maskParts<T extends Record<string, unknown>>(parts: T, paths: readonly string[] | undefined): T {
  let out = parts;
  for (const path of paths ?? []) out = maskAt(out, pathSteps(path)) as T;
  return out;
}

/** A call's args, kwargs and context with the paths `spec` lists for its `service.method` masked. */
export function maskCall<T extends Pick<RecordedCall, "service" | "method" | "args" | "kwargs" | "context">>(
  call: T,
  spec: MaskSpec,
): T {
  const masked = maskParts(
    { args: call.args, kwargs: call.kwargs, context: call.context },
    spec[`${call.service}.${call.method}`],
  );
  return { ...call, ...masked };
}

/** An event's payload and context with the paths `spec` lists for its `source.event_type` masked. */
export function maskEvent<T extends Pick<RecordedEvent, "source" | "type" | "payload" | "context">>(
  event: T,
  spec: MaskSpec,
): T {
  const masked = maskParts({ payload: event.payload, context: event.context }, spec[`${event.source}.${event.type}`]);
  return { ...event, ...masked };
}
