/**
 * `replay`: every recorded top-level call of a cassette sent to the port under test, on NATS or
 * RabbitMQ, and what it answered, dispatched and called compared with the recording
 * (docs/cassettes.md, Replay). Each call gets a parent call id of its own, so the port's outgoing
 * calls and events are tied to it by their call id stack; its outgoing calls are answered from the
 * cassette under the port's private prefix or vhost, so a replay never reaches a real dependency.
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
  type Logger,
  type ParsedCassette,
  type RecordedCall,
  type RecordedReply,
} from "../compat";
import { connectAmqpTarget, type AmqpReplayTarget } from "./amqp-target";
import {
  diffOutcomes,
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
import { RecordedAnswers, type Observed, type ReplayConnection, type ReplayHooks } from "./responders";

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
  /** Replay only the calls to these services (default: every recorded call). */
  services?: readonly string[];
  /** `--ignore` patterns (docs/cassettes.md, Ignoring noise). */
  ignore?: readonly string[];
  /** Per call; default {@link DEFAULT_REPLAY_TIMEOUT_MS}. */
  timeoutMs?: number;
  /** Default {@link DEFAULT_SETTLE_MS}. */
  settleMs?: number;
  log: Logger;
}

/** The verdict on one replayed call. */
export interface CallReport {
  /** 1-based, in cassette order. */
  number: number;
  /** `service.method`. */
  target: string;
  /** The call as one short line: `orders.place(3, card="***masked***")`. */
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

/** A replayed call while it runs: what the port did under its parent call id. */
interface InFlightCall {
  call: RecordedCall;
  used: Set<RecordedCall>;
  events: EventView[];
  calls: CallView[];
  /** Indexes into `calls` the cassette could not answer, with why. */
  unanswered: Map<number, string>;
  reply?: RecordedReply;
  failure?: string;
  durationMs: number;
}

/** `service.method(arg, key=value)`, each value as JSON, cut short. */
export function callLabel(c: CallView): string {
  const parts = [...c.args.map(showValue), ...Object.entries(c.kwargs).map(([k, v]) => `${k}=${showValue(v)}`)];
  const text = `${c.service}.${c.method}(${parts.join(", ")})`;
  return text.length > 160 ? `${text.slice(0, 159)}…` : text;
}

/** The call a message belongs to: its stack ends with the replayed call's parent id and the port's worker id. */
function ownerOf(stack: readonly string[], inFlight: ReadonlyMap<string, InFlightCall>): InFlightCall | undefined {
  return stack.length >= 2 ? inFlight.get(stack[stack.length - 2]!) : undefined;
}

/** The sources whose events a replay on RabbitMQ listens to: the replayed services and every recorded event's. */
function eventSources(calls: readonly RecordedCall[]): Set<string> {
  const out = new Set(calls.map((c) => c.service));
  const add = (c: RecordedCall): void => {
    for (const e of c.events) out.add(e.source);
    c.calls.forEach(add);
  };
  calls.forEach(add);
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
  const targets = new Set(recorded.map((c) => c.service));
  const answers = new RecordedAnswers(recorded);
  const byParent = new Map<string, InFlightCall>();
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
      : await connectAmqpTarget(target, hooks, eventSources(recorded), log);
  try {
    for (const call of recorded) {
      const parentId = `${REPLAY_CALLER}.call.${randomUUID()}`;
      const state: InFlightCall = {
        call,
        used: new Set(),
        events: [],
        calls: [],
        unanswered: new Map(),
        durationMs: 0,
      };
      byParent.set(parentId, state);
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
    // Events and calls sent after a reply still count: wait a moment for them.
    await connection.flush();
    await new Promise((resolve) => setTimeout(resolve, options.settleMs ?? DEFAULT_SETTLE_MS));
  } finally {
    await connection.stop();
  }

  const noise = noisyPaths(recorded);
  const calls = states.map((s, i) => judge(s, i + 1, rules, noise.get(requestKey(s.call))));
  const eventsNotReplayed = cassette.entries.filter((e) => e.kind === "event").length;
  return {
    calls,
    problems: cassette.problems,
    eventsNotReplayed,
    ok: cassette.problems.length === 0 && calls.every((c) => c.ok),
  };
}

function judge(s: InFlightCall, number: number, rules: IgnoreRules, noise?: ReadonlySet<string>): CallReport {
  const isReply = (r: unknown): r is RecordedReply =>
    r !== null && typeof r === "object" && !Array.isArray(r) && "result" in r && "error" in r;
  const got: Outcome = {
    reply: isReply(s.reply) ? replyView(s.reply) : undefined,
    events: s.events,
    calls: s.calls,
  };
  const all = diffOutcomes(recordedOutcome(s.call), got);
  if (s.failure !== undefined) all.unshift({ path: "reply", kind: "missing", note: s.failure });
  else if (!isReply(s.reply))
    all.unshift({ path: "reply", kind: "changed", note: `not a {result, error} envelope: ${showValue(s.reply)}` });
  for (const [j, why] of s.unanswered) all.push({ path: `calls[${j}]`, kind: "extra", note: why });
  const target = `${s.call.service}.${s.call.method}`;
  const differences = all.filter((d) => !rules.ignores(target, d.path, noise));
  return {
    number,
    target,
    label: callLabel(s.call),
    ok: differences.length === 0,
    differences,
    ignored: all.length - differences.length,
    durationMs: s.durationMs,
  };
}
