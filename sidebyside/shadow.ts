/**
 * Shadow traffic (docs/shadow.md): while the Nameko original serves every caller, each call to one
 * service is seen with its reply, outgoing calls and events through RabbitMQ's firehose (the
 * assembler links them by the call id stack), sent again with the same context to the port under a
 * private NATS prefix, and the port's reply, events and calls compared with what the original did.
 * The port's outgoing calls are answered from the original's own calls and its events are only
 * observed: under the private prefix nothing else listens, so the port reaches nobody.
 *
 * The entry through which the bridge starts it (docs/architecture.md, Layers). Nothing here may
 * affect a caller: every failure is logged and counted, and the firehose or NATS being away only
 * retries the start.
 */
import type { Credentials } from "./credentials";
import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import { Counter, type Registry } from "prom-client";
import {
  decodeJson,
  describeError,
  encodeErrorReply,
  encodeJson,
  RpcTimeout,
  UnknownService,
  type CassetteEntry,
  type Logger,
  type RecordedCall,
  type RecordedReply,
} from "../compat";
import { startAmqpTrace, TRACE_PUBLISH_BINDINGS, type AmqpTraceSource } from "./amqp-source";
import { CassetteAssembler } from "./assembler";
import { diffOutcomes, recordedOutcome, replyView, type CallView, type EventView } from "./compare";
import { formatDifference, showValue, type Difference } from "./diff";
import { ReplayNoRecording } from "./errors";
import { IgnoreRules } from "./ignore";
import { connectNatsTarget } from "./nats-target";
import { callLabel } from "./replay";
import { RecordedAnswers, type ReplayConnection, type ReplayHooks } from "./responders";

/** The service name in a shadowed call's parent call id: `cliffracer_shadow.call.<uuid>`. */
export const SHADOW_CALLER = "cliffracer_shadow";
/** Wait before starting again after the firehose or NATS could not be reached. */
export const DEFAULT_SHADOW_RETRY_MS = 5_000;
/** Trace messages the private queue holds before RabbitMQ drops the oldest: a shadow that falls behind costs no broker memory. */
export const SHADOW_TRACE_MAX_LENGTH = 100_000;
/** A call of the original whose reply the firehose has not shown after this long is forgotten (counted `unreplied`). */
export const SHADOW_UNREPLIED_AFTER_MS = 10 * 60_000;

/** What to shadow and how (`--shadow ...` flags, `BRIDGE.SHADOW` in the config file). */
export interface ShadowConfig {
  /** The Nameko service whose calls are shadowed. */
  service: string;
  /** The private NATS subject prefix the port runs under. */
  prefix: string;
  /** Share of the seen calls sent to the port, in (0, 1]. */
  rate: number;
  /** How long the port has to answer. */
  timeoutMs: number;
  /** Wait, after the port's reply, for its late events and calls. */
  settleMs: number;
  /** Last mismatches kept per method. */
  keep: number;
  /** Shadowed calls in flight at once; a call seen beyond it is skipped, so a slow port never piles up work. */
  maxInFlight: number;
  /** Paths not compared (docs/cassettes.md, Ignoring noise). */
  ignore: string[];
}

/** Options of {@link startShadow}. */
export interface ShadowOptions {
  config: ShadowConfig;
  /** The callers' vhost, whose firehose is read. */
  amqpUri: string;
  managementUrl: string;
  natsUrl: string;
  /** TLS and credentials for both sides: the bridge's own (docs/security.md). */
  credentials?: Credentials;
  /** Where the counters go (the bridge's /metrics). */
  registry: Registry;
  log: Logger;
  retryMs?: number;
  /** Sampling draw; default Math.random. */
  random?: () => number;
}

/** One mismatch kept for inspection. */
export interface ShadowMismatch {
  /** When it was judged (ISO 8601). */
  at: string;
  /** The call as one short line. */
  call: string;
  /** Each difference as one line. */
  text: string[];
  differences: Difference[];
}

/** The numbers of one method; `seen = skipped + compared + failed + inFlight`, `compared = matched + mismatched`. */
export interface ShadowMethodReport {
  seen: number;
  skipped: number;
  compared: number;
  matched: number;
  mismatched: number;
  failed: number;
  inFlight: number;
  lastMismatches: ShadowMismatch[];
  lastFailure?: string;
}

/** What `/shadow` serves. */
export interface ShadowReport {
  service: string;
  prefix: string;
  rate: number;
  /** True while the firehose is read and the port's connection is open. */
  running: boolean;
  /**
   * Failures by kind: starting (firehose, nats), shadowed calls (timeout, port_unavailable, error),
   * and calls of the original whose reply never showed (unreplied).
   */
  failures: Record<string, number>;
  methods: Record<string, ShadowMethodReport>;
}

/** A running shadow. */
export interface Shadow {
  report(): ShadowReport;
  stop(): Promise<void>;
}

/** A shadowed call while the port works on it. */
interface InFlight {
  call: RecordedCall;
  answers: RecordedAnswers;
  used: Set<RecordedCall>;
  events: EventView[];
  calls: CallView[];
  unanswered: Map<number, string>;
}

/** The shadowed call a message of the port belongs to: its stack ends with the call's parent id and the port's worker id. */
function ownerOf(stack: readonly string[], inFlight: ReadonlyMap<string, InFlight>): InFlight | undefined {
  return stack.length >= 2 ? inFlight.get(stack[stack.length - 2]!) : undefined;
}

type Outcome = "matched" | "mismatched" | "failed" | "skipped";

function isReply(r: unknown): r is RecordedReply {
  return r !== null && typeof r === "object" && !Array.isArray(r) && "result" in r && "error" in r;
}

/** The kind of a failed shadowed call, as counted. */
function failureKind(err: unknown): string {
  if (err instanceof RpcTimeout) return "timeout";
  if (err instanceof UnknownService) return "port_unavailable";
  return "error";
}

/**
 * Starts shadowing `config.service`. Resolves at once with the running shadow: reading the firehose
 * and connecting to NATS happen in the background, retried until {@link Shadow.stop}.
 */
export function startShadow(options: ShadowOptions): Shadow {
  return new ShadowRunner(options);
}

class ShadowRunner implements Shadow {
  private readonly config: ShadowConfig;
  private readonly log: Logger;
  private readonly rules: IgnoreRules;
  private readonly methods = new Map<string, ShadowMethodReport>();
  private readonly failures = new Map<string, number>();
  private readonly inFlight = new Map<string, InFlight>();
  private readonly pending = new Set<Promise<void>>();
  private readonly seenTotal: Counter<"service" | "method">;
  private readonly callsTotal: Counter<"service" | "method" | "outcome">;
  private readonly failuresTotal: Counter<"service" | "kind">;
  private trace?: AmqpTraceSource;
  private port?: ReplayConnection;
  private retryTimer?: NodeJS.Timeout;
  private sweepTimer?: NodeJS.Timeout;
  private stopped = false;
  private starting: Promise<void>;

  constructor(private readonly options: ShadowOptions) {
    this.config = options.config;
    this.log = options.log.child({ component: "shadow", service: options.config.service });
    // Patterns are read first: a bad one is a configuration error, before anything starts.
    this.rules = new IgnoreRules(this.config.ignore);
    const registers = [options.registry];
    this.seenTotal = new Counter({
      name: "cliffracer_shadow_seen_total",
      help: "Calls to the shadowed service seen through the firehose",
      labelNames: ["service", "method"],
      registers,
    });
    this.callsTotal = new Counter({
      name: "cliffracer_shadow_calls_total",
      help: "Seen calls by outcome: matched, mismatched, failed (the port did not answer), skipped (not sampled)",
      labelNames: ["service", "method", "outcome"],
      registers,
    });
    this.failuresTotal = new Counter({
      name: "cliffracer_shadow_failures_total",
      help: "Shadow failures by kind: firehose, nats, timeout, port_unavailable, error, unreplied",
      labelNames: ["service", "kind"],
      registers,
    });
    this.starting = this.connect();
  }

  report(): ShadowReport {
    return {
      service: this.config.service,
      prefix: this.config.prefix,
      rate: this.config.rate,
      running: this.trace !== undefined && this.port !== undefined,
      failures: Object.fromEntries(this.failures),
      methods: Object.fromEntries(
        [...this.methods].map(([name, m]) => [name, { ...m, lastMismatches: [...m.lastMismatches] }]),
      ),
    };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    await this.starting;
    await Promise.allSettled([...this.pending]);
    await this.close();
  }

  private async close(): Promise<void> {
    const { trace, port } = this;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.trace = undefined;
    this.port = undefined;
    await Promise.all([
      trace
        ?.stop()
        .catch((err: unknown) => this.log.error("shadow: firehose not stopped", { error: describeError(err) })),
      port?.stop(),
    ]);
  }

  private failed(kind: string, error: unknown, n = 1): void {
    this.failures.set(kind, (this.failures.get(kind) ?? 0) + n);
    this.failuresTotal.inc({ service: this.config.service, kind }, n);
    this.log.warn("shadow failure", { kind, error: describeError(error) });
  }

  private async connect(): Promise<void> {
    const { config, options } = this;
    let kind = "nats";
    try {
      this.port = await connectNatsTarget(
        { side: "nats", natsUrl: options.natsUrl, prefix: config.prefix, credentials: options.credentials },
        this.hooks(),
        this.log,
      );
      kind = "firehose";
      const assembler = new CassetteAssembler({
        services: [config.service],
        masks: {},
        onEntry: (e) => this.onEntry(e),
        onSkipped: (what, error) => this.log.warn("shadow: a message could not be read", { what, error }),
      });
      this.trace = await startAmqpTrace({
        amqpUri: options.amqpUri,
        credentials: options.credentials,
        managementUrl: options.managementUrl,
        // Handled events are not shadowed: the deliveries would only add to the broker's cost.
        bindings: TRACE_PUBLISH_BINDINGS,
        maxLength: SHADOW_TRACE_MAX_LENGTH,
        log: this.log,
        onObservation: (o) => assembler.observe(o),
        onSkipped: (what, error) => this.log.warn("shadow: a message could not be read", { what, error }),
      });
      this.sweepTimer = setInterval(() => {
        // Messages held for a worker that never showed itself (a timer's, say) are taken as they are.
        assembler.settle(performance.now());
        const n = assembler.discardOpenBefore(performance.now() - SHADOW_UNREPLIED_AFTER_MS);
        if (n > 0) this.failed("unreplied", `${n} calls of the original had no reply in sight`, n);
      }, SHADOW_UNREPLIED_AFTER_MS / 10);
      this.sweepTimer.unref();
      this.log.info("shadowing", { service: config.service, prefix: config.prefix, rate: config.rate });
    } catch (err) {
      this.failed(kind, err);
      await this.close();
      if (!this.stopped)
        this.retryTimer = setTimeout(() => {
          this.starting = this.connect();
        }, options.retryMs ?? DEFAULT_SHADOW_RETRY_MS);
    }
    if (this.stopped) await this.close();
  }

  /** The stubs under the private prefix: the port's calls answered from the original's, its events kept. */
  private hooks(): ReplayHooks {
    return {
      targets: new Set([this.config.service]),
      onCall: (o) => {
        const owner = ownerOf(o.callIdStack, this.inFlight);
        const label = callLabel(o.what);
        if (owner === undefined) {
          this.log.warn("shadow: a call of the port outside any shadowed call", { call: label });
          return encodeErrorReply(new ReplayNoRecording(`no shadowed call made ${label}`));
        }
        owner.calls.push(o.what);
        const found = owner.answers.find(o.what, owner);
        if (found?.reply) return encodeJson(found.reply);
        owner.unanswered.set(
          owner.calls.length - 1,
          `the original made no call ${label}; the stub replied ReplayNoRecording`,
        );
        return encodeErrorReply(new ReplayNoRecording(`the original made no call ${label}`));
      },
      onEvent: (o) => ownerOf(o.callIdStack, this.inFlight)?.events.push(o.what),
    };
  }

  private method(name: string): ShadowMethodReport {
    let m = this.methods.get(name);
    if (m === undefined) {
      m = { seen: 0, skipped: 0, compared: 0, matched: 0, mismatched: 0, failed: 0, inFlight: 0, lastMismatches: [] };
      this.methods.set(name, m);
    }
    return m;
  }

  private count(name: string, outcome: Outcome): void {
    this.callsTotal.inc({ service: this.config.service, method: name, outcome });
  }

  private onEntry(entry: CassetteEntry): void {
    if (entry.kind !== "call" || entry.service !== this.config.service) return;
    const m = this.method(entry.method);
    m.seen++;
    this.seenTotal.inc({ service: entry.service, method: entry.method });
    // A call that asked for no reply has nothing to compare; beyond the in-flight bound the port is too slow.
    const draw = (this.options.random ?? Math.random)();
    if (
      entry.reply === null ||
      this.port === undefined ||
      this.inFlight.size >= this.config.maxInFlight ||
      draw >= this.config.rate
    ) {
      m.skipped++;
      this.count(entry.method, "skipped");
      return;
    }
    const running = this.shadow(entry, this.port, m);
    this.pending.add(running);
    void running.finally(() => this.pending.delete(running));
  }

  private async shadow(call: RecordedCall, port: ReplayConnection, m: ShadowMethodReport): Promise<void> {
    const parentId = `${SHADOW_CALLER}.call.${randomUUID()}`;
    const state: InFlight = {
      call,
      answers: new RecordedAnswers([call]),
      used: new Set(),
      events: [],
      calls: [],
      unanswered: new Map(),
    };
    this.inFlight.set(parentId, state);
    m.inFlight++;
    let reply: unknown;
    try {
      reply = decodeJson(await port.send(call, parentId, this.config.timeoutMs));
      // Events and calls sent just before or after the reply still count.
      await port.flush();
      await new Promise((resolve) => setTimeout(resolve, this.config.settleMs));
    } catch (err) {
      m.failed++;
      m.lastFailure = `${callLabel(call)}: ${err instanceof Error ? err.name : "Error"}: ${describeError(err)}`;
      this.count(call.method, "failed");
      this.failed(failureKind(err), err);
      return;
    } finally {
      this.inFlight.delete(parentId);
      m.inFlight--;
    }
    const differences = this.judge(state, reply);
    m.compared++;
    if (differences.length === 0) {
      m.matched++;
      this.count(call.method, "matched");
      return;
    }
    m.mismatched++;
    this.count(call.method, "mismatched");
    m.lastMismatches.push({
      at: new Date().toISOString(),
      call: callLabel(call),
      text: differences.map(formatDifference),
      differences,
    });
    if (m.lastMismatches.length > this.config.keep) m.lastMismatches.shift();
  }

  private judge(s: InFlight, reply: unknown): Difference[] {
    const all = diffOutcomes(recordedOutcome(s.call), {
      reply: isReply(reply) ? replyView(reply) : undefined,
      events: s.events,
      calls: s.calls,
    });
    if (!isReply(reply))
      all.unshift({ path: "reply", kind: "changed", note: `not a {result, error} envelope: ${showValue(reply)}` });
    for (const [j, why] of s.unanswered) all.push({ path: `calls[${j}]`, kind: "extra", note: why });
    const target = `${s.call.service}.${s.call.method}`;
    return all.filter((d) => !this.rules.ignores(target, d.path));
  }
}
