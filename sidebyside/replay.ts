/**
 * `replay`: every recorded top-level call of a cassette sent to the port under test, on NATS or
 * RabbitMQ, and what it answered, dispatched and called compared with the recording
 * (docs/cassettes.md, Replay). Each call gets a parent call id of its own, so the port's outgoing
 * calls and events are tied to it by their call id stack; its outgoing calls are answered from the
 * cassette under the port's private prefix or vhost, so a replay never reaches a real dependency.
 * Handled events are dispatched to the port (on NATS) and what its handlers did is compared with
 * what the original's did (docs/cassettes.md, Replaying handled events).
 */
import { performance } from "node:perf_hooks";
import { randomUUID } from "node:crypto";
import {
  decodeJson,
  describeError,
  encodeErrorReply,
  encodeJson,
  RpcTimeout,
  UnknownService,
  type CassetteProblem,
  type HandledEvent,
  type Logger,
  type ParsedCassette,
  type RecordedCall,
  type RecordedReply,
} from "../compat";
import { connectAmqpTarget, type AmqpReplayTarget } from "./amqp-target";
import {
  diffOutcomes,
  handledKey,
  handledOutcome,
  noisyHandledPaths,
  noisyPaths,
  recordedOutcome,
  replyView,
  requestKey,
  type CallView,
  type EventView,
  type Outcome,
} from "./compare";
import { showValue, type Difference } from "./diff";
import { ReplayNoRecording } from "./errors";
import { IgnoreRules } from "./ignore";
import { connectNatsTarget, type NatsReplayTarget } from "./nats-target";
import {
  RecordedAnswers,
  type Observed,
  type DispatchedEvent,
  type PortHandler,
  type ReplayConnection,
  type ReplayHooks,
} from "./responders";

/** Default per-call timeout of a replay. */
export const DEFAULT_REPLAY_TIMEOUT_MS = 10_000;
/** Default wait, after the last reply, for events and calls the port sends late. */
export const DEFAULT_SETTLE_MS = 200;
/** The service name in a replayed call's parent call id: `cliffracer_replay.call.<uuid>`. */
export const REPLAY_CALLER = "cliffracer_replay";

/** Options of {@link replay}. */
export interface ReplayOptions {
  cassette: ParsedCassette;
  /** Where the port under test runs: a private prefix on NATS, or a private vhost on RabbitMQ. */
  target: NatsReplayTarget | AmqpReplayTarget;
  /** Replay only the calls to, and events handled by, these services (default: every one recorded). */
  services?: readonly string[];
  /** `--ignore` patterns (docs/cassettes.md, Ignoring noise). */
  ignore?: readonly string[];
  /** Per call; default {@link DEFAULT_REPLAY_TIMEOUT_MS}. */
  timeoutMs?: number;
  /** Default {@link DEFAULT_SETTLE_MS}. */
  settleMs?: number;
  log: Logger;
}

/** The verdict on one replayed call or handled event. */
export interface CallReport {
  /** 1-based, in cassette order. */
  number: number;
  /** Absent for a call; `handled` for an event handled by the port. */
  kind?: "handled";
  /** `service.method` (for a handled event, the handler's). */
  target: string;
  /** The call as one short line: `orders.place(3, card="***masked***")`; a handled event as `payments.paid({…}) -> notifications.on_paid`. */
  label: string;
  ok: boolean;
  /** The differences that count. */
  differences: Difference[];
  /** How many differences `--ignore` patterns and noise left out. */
  ignored: number;
  durationMs: number;
}

/** What a replay found. */
export interface ReplayReport {
  calls: CallReport[];
  /** Cassette lines that could not be read; each counts as a failure. */
  problems: CassetteProblem[];
  /** Event lines of the cassette: they are not replayed. */
  eventsNotReplayed: number;
  /** True when every call matched and every line was read. */
  ok: boolean;
}

/** A replayed call or handled event while it runs: what the port did under its parent call id. */
interface InFlightCall {
  call: RecordedCall | HandledEvent;
  used: Set<RecordedCall>;
  events: EventView[];
  calls: CallView[];
  /** Indexes into `calls` the cassette could not answer, with why. */
  unanswered: Map<number, string>;
  reply?: RecordedReply;
  failure?: string;
  /** For a handled event: what is wrong with the port's handler itself (missing, extra, no ack). */
  handlerDifference?: Difference;
  durationMs: number;
}

/** Handled events dispatched once to the port: the recorded handlers of one event, by handler name. */
interface DispatchGroup {
  event: HandledEvent;
  states: Map<string, InFlightCall>;
}

/**
 * A handler name as compared between the original and the port: case and underscores ignored, so
 * Python's `send_receipt` is the port's `sendReceipt` (docs/cassettes.md, Replaying handled events).
 */
export function handlerKey(service: string, method: string): string {
  return `${service}.${method.replace(/_/g, "").toLowerCase()}`;
}

/** `service.method` of a worker call id `service.method.<uuid>`. */
function workerMethod(workerId: string): { service: string; method: string } | undefined {
  const [service, method] = workerId.split(".");
  return service && method ? { service, method } : undefined;
}

const newState = (call: RecordedCall | HandledEvent): InFlightCall => ({
  call,
  used: new Set(),
  events: [],
  calls: [],
  unanswered: new Map(),
  durationMs: 0,
});

/** The same event delivered, to one or more handlers: one dispatch replays them all. */
function sameEvent(a: HandledEvent, b: HandledEvent): boolean {
  return (
    a.source === b.source &&
    a.type === b.type &&
    encodeJson([a.payload, a.context, a.callIdStack]) === encodeJson([b.payload, b.context, b.callIdStack])
  );
}

/**
 * Handled entries grouped by delivery, one group per dispatch: an entry joins the first group of
 * the same event that has no entry of its handler yet (a handler seen again means the event was
 * dispatched again, or redelivered).
 */
function dispatchGroups(handled: readonly HandledEvent[]): DispatchGroup[] {
  const groups: DispatchGroup[] = [];
  for (const h of handled) {
    const key = handlerKey(h.service, h.handler ?? "");
    const group = groups.find((g) => sameEvent(g.event, h) && !g.states.has(key));
    if (group) group.states.set(key, newState(h));
    else groups.push({ event: h, states: new Map([[key, newState(h)]]) });
  }
  return groups;
}

/** `payments.paid({"id": 1}) -> notifications.on_paid`, cut short. */
function handledLabel(h: HandledEvent): string {
  const text = `${h.source}.${h.type}(${showValue(h.payload)}) -> ${h.service}.${h.handler ?? "?"}`;
  return text.length > 160 ? `${text.slice(0, 159)}…` : text;
}

/** A handler the port has for the event that the original did not have (an entry expecting nothing). */
function unexpectedHandler(group: DispatchGroup, service: string, method: string): InFlightCall {
  const state = newState({ ...group.event, service, handler: method, events: [], calls: [] });
  state.handlerDifference = {
    path: "handler",
    kind: "extra",
    got: `${service}.${method}`,
    note: `the port's handler ${service}.${method} handled the event; the original has no such handler`,
  };
  return state;
}

/** `service.method(arg, key=value)`, each value as JSON, cut short. */
export function callLabel(c: CallView): string {
  const parts = [...c.args.map(showValue), ...Object.entries(c.kwargs).map(([k, v]) => `${k}=${showValue(v)}`)];
  const text = `${c.service}.${c.method}(${parts.join(", ")})`;
  return text.length > 160 ? `${text.slice(0, 159)}…` : text;
}

/** Finds what a message belongs to from the port's worker id. */
type Owner = (workerId: string) => InFlightCall | undefined;

/** What a message belongs to: its stack ends with a replayed parent id and the port's worker id. */
function ownerOf(stack: readonly string[], inFlight: ReadonlyMap<string, Owner>): InFlightCall | undefined {
  return stack.length >= 2 ? inFlight.get(stack[stack.length - 2]!)?.(stack[stack.length - 1]!) : undefined;
}

/**
 * The sources whose events a replay on RabbitMQ listens to: the replayed services and the source of
 * every event recorded under a replayed call or handled event.
 */
function eventSources(entries: ReadonlyArray<RecordedCall | HandledEvent>): Set<string> {
  const out = new Set(entries.map((c) => c.service));
  const add = (c: RecordedCall | HandledEvent): void => {
    for (const e of c.events) out.add(e.source);
    c.calls.forEach(add);
  };
  entries.forEach(add);
  return out;
}

/** Replays the cassette's calls one after another and compares each with its recording. */
export async function replay(options: ReplayOptions): Promise<ReplayReport> {
  // Patterns are read first: a bad one is a usage error, found before anything is sent.
  const rules = new IgnoreRules(options.ignore);
  const { cassette, log } = options;
  const wanted = options.services === undefined ? undefined : new Set(options.services);
  const recorded = cassette.entries.filter(
    (e): e is RecordedCall => e.kind === "call" && (wanted === undefined || wanted.has(e.service)),
  );
  const handled = cassette.entries.filter(
    (e): e is HandledEvent => e.kind === "handled" && (wanted === undefined || wanted.has(e.service)),
  );
  const targets = new Set([...recorded, ...handled].map((c) => c.service));
  const answers = new RecordedAnswers([...recorded, ...handled.flatMap((h) => h.calls)]);
  const byParent = new Map<string, Owner>();
  const timeoutMs = options.timeoutMs ?? DEFAULT_REPLAY_TIMEOUT_MS;

  const states: InFlightCall[] = [];
  const hooks: ReplayHooks = {
    targets,
    onCall: (o: Observed<CallView>) => {
      const owner = ownerOf(o.callIdStack, byParent);
      owner?.calls.push(o.what);
      const found = answers.find(o.what, owner);
      if (found?.reply) return encodeJson(found.reply);
      const why = `no recording answers ${callLabel(o.what)}; the stub replied ReplayNoRecording`;
      owner?.unanswered.set(owner.calls.length - 1, why);
      log.warn("replay: a call the cassette cannot answer", { call: callLabel(o.what), callIdStack: o.callIdStack });
      return encodeErrorReply(new ReplayNoRecording(`no recording of ${callLabel(o.what)}`));
    },
    onEvent: (o: Observed<EventView>) => ownerOf(o.callIdStack, byParent)?.events.push(o.what),
  };
  const target = options.target;
  const connection: ReplayConnection =
    target.side === "nats"
      ? await connectNatsTarget(target, hooks, log)
      : await connectAmqpTarget(target, hooks, eventSources([...recorded, ...handled]), log);
  const groups = dispatchGroups(handled);
  const handledStates: InFlightCall[] = [];
  try {
    for (const call of recorded) {
      const parentId = `${REPLAY_CALLER}.call.${randomUUID()}`;
      const state = newState(call);
      byParent.set(parentId, () => state);
      states.push(state);
      const started = performance.now();
      try {
        state.reply = decodeJson(await connection.send(call, parentId, timeoutMs)) as RecordedReply;
      } catch (err) {
        state.failure =
          err instanceof RpcTimeout
            ? `no reply within ${timeoutMs} ms (RpcTimeout)`
            : err instanceof UnknownService
              ? `no service answers ${call.service}.${call.method} (UnknownService): is the port running?`
              : `the call failed: ${err instanceof Error ? err.name : "Error"}: ${describeError(err)}`;
      }
      state.durationMs = performance.now() - started;
    }
    for (const group of groups)
      handledStates.push(...(await replayHandled(connection, group, byParent, targets, timeoutMs)));
    // Events and calls sent after a reply still count: wait a moment for them.
    await connection.flush();
    await new Promise((resolve) => setTimeout(resolve, options.settleMs ?? DEFAULT_SETTLE_MS));
  } finally {
    await connection.stop();
  }

  const noise = noisyPaths(recorded);
  const handledNoise = noisyHandledPaths(handled);
  const calls = [...states, ...handledStates].map((s, i) =>
    judge(
      s,
      i + 1,
      rules,
      s.call.kind === "call" ? noise.get(requestKey(s.call)) : handledNoise.get(handledKey(s.call)),
    ),
  );
  const eventsNotReplayed = cassette.entries.filter((e) => e.kind === "event").length;
  return {
    calls,
    problems: cassette.problems,
    eventsNotReplayed,
    ok: cassette.problems.length === 0 && calls.every((c) => c.ok),
  };
}

/** How often a replay looks whether the port's handlers acknowledged an event. */
const ACK_POLL_MS = 20;

/**
 * Dispatches one event to the port and waits until every handler of it acknowledged it (or the
 * timeout): what the handlers sent on the way is attributed to the recorded handler of the same
 * name; handlers on one side only are reported as missing or extra.
 */
async function replayHandled(
  connection: ReplayConnection,
  group: DispatchGroup,
  byParent: Map<string, Owner>,
  targets: ReadonlySet<string>,
  timeoutMs: number,
): Promise<InFlightCall[]> {
  const parentId = `${REPLAY_CALLER}.dispatch.${randomUUID()}`;
  const states = group.states;
  byParent.set(parentId, (workerId) => {
    const w = workerMethod(workerId);
    if (w === undefined || !targets.has(w.service)) return undefined;
    const key = handlerKey(w.service, w.method);
    let state = states.get(key);
    if (state === undefined) {
      state = unexpectedHandler(group, w.service, w.method);
      states.set(key, state);
    }
    return state;
  });
  const started = performance.now();
  let dispatched: DispatchedEvent;
  try {
    dispatched = await connection.dispatch(
      [...states.values()].map((st) => st.call as HandledEvent),
      parentId,
    );
  } catch (err) {
    for (const s of states.values()) s.failure = `the event could not be dispatched: ${describeError(err)}`;
    return [...states.values()];
  }
  let handlers: PortHandler[] = [];
  const deadline = started + timeoutMs;
  do {
    handlers = await dispatched.handlers();
    if (handlers.every((h) => h.acked)) break;
    await new Promise((resolve) => setTimeout(resolve, ACK_POLL_MS));
  } while (performance.now() < deadline);
  const elapsed = performance.now() - started;
  const seen = new Set<string>();
  for (const h of handlers) {
    if (h.service === null || h.method === null || !targets.has(h.service)) continue;
    const key = handlerKey(h.service, h.method);
    seen.add(key);
    let state = states.get(key);
    if (state === undefined) {
      state = unexpectedHandler(group, h.service, h.method);
      states.set(key, state);
    }
    if (!h.acked && state.handlerDifference === undefined)
      state.handlerDifference = {
        path: "handler",
        kind: "changed",
        note: `the port's handler ${h.service}.${h.method} did not acknowledge the event within ${timeoutMs} ms`,
      };
  }
  for (const [key, state] of states) {
    state.durationMs = elapsed;
    const h = state.call as HandledEvent;
    if (!seen.has(key) && state.handlerDifference === undefined)
      state.handlerDifference = {
        path: "handler",
        kind: "missing",
        expected: `${h.service}.${h.handler ?? "?"}`,
        note: `the port has no handler ${h.service}.${h.handler ?? "?"} of ${h.source}.${h.type}`,
      };
  }
  return [...states.values()];
}

function judge(s: InFlightCall, number: number, rules: IgnoreRules, noise?: ReadonlySet<string>): CallReport {
  if (s.call.kind === "handled") return judgeHandled(s, s.call, number, rules, noise);
  const isReply = (r: unknown): r is RecordedReply =>
    r !== null && typeof r === "object" && !Array.isArray(r) && "result" in r && "error" in r;
  const got: Outcome = {
    reply: isReply(s.reply) ? replyView(s.reply) : undefined,
    events: s.events,
    calls: s.calls,
  };
  const all = diffOutcomes(recordedOutcome(s.call as RecordedCall), got);
  if (s.failure !== undefined) all.unshift({ path: "reply", kind: "missing", note: s.failure });
  else if (!isReply(s.reply))
    all.unshift({ path: "reply", kind: "changed", note: `not a {result, error} envelope: ${showValue(s.reply)}` });
  const call = s.call as RecordedCall;
  return verdict(s, all, `${call.service}.${call.method}`, callLabel(call), { number, rules, noise });
}

/** A handled event's verdict: the handler itself, then its events and calls as for a call (no reply). */
function judgeHandled(
  s: InFlightCall,
  h: HandledEvent,
  number: number,
  rules: IgnoreRules,
  noise?: ReadonlySet<string>,
): CallReport {
  const all = diffOutcomes(handledOutcome(h), { events: s.events, calls: s.calls });
  if (s.handlerDifference !== undefined) all.unshift(s.handlerDifference);
  if (s.failure !== undefined) all.unshift({ path: "handler", kind: "missing", note: s.failure });
  const report = verdict(s, all, `${h.service}.${h.handler ?? "?"}`, handledLabel(h), { number, rules, noise });
  return { ...report, kind: "handled" };
}

/**
 * The verdict on one replayed interaction, the same for calls and handled events: the outgoing
 * calls the cassette could not answer count as extra, then what the ignore rules and noise leave.
 */
function verdict(
  s: InFlightCall,
  all: Difference[],
  target: string,
  label: string,
  how: { number: number; rules: IgnoreRules; noise?: ReadonlySet<string> },
): CallReport {
  for (const [j, why] of s.unanswered) all.push({ path: `calls[${j}]`, kind: "extra", note: why });
  const differences = all.filter((d) => !how.rules.ignores(target, d.path, how.noise));
  return {
    number: how.number,
    target,
    label,
    ok: differences.length === 0,
    differences,
    ignored: all.length - differences.length,
    durationMs: s.durationMs,
  };
}
