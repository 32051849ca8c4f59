/**
 * sideBySide(): a port checked against its Nameko original in a test (docs/side-by-side.md). The
 * original runs live when NAMEKO_PYTHON names a Python that imports nameko; otherwise its cassette
 * stands in for it. Either way the recording of the calls and of the events its handlers got is
 * replayed against the port, started here on a private subject prefix, with its outgoing calls
 * answered from what the original's dependencies answered, and the verdict is the replay's.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstreamManager } from "@nats-io/jetstream";
import {
  encodeJson,
  eventsStreamName,
  parseCassette,
  type Logger,
  type HandledEvent,
  type ParsedCassette,
  type RecordedCall,
} from "../compat";
import { configFromObject, defaultConfig, ServiceRunner, type ServiceClass } from "../src";
import { silentLogger } from "../amqp";
import type { CallSpec, EventSpec } from "./calls-file";
import { requestKey } from "./compare";
import { recordOriginal, type StubServices } from "./live-recording";
import { namekoPython, NAMEKO_PYTHON_ENV, type NamekoOriginalOptions } from "./nameko-original";
import { formatReport } from "./report";
import { replay, type ReplayReport } from "./replay";

/** Options of {@link sideBySide}. */
export interface SideBySideOptions {
  /** The service compared: the name both the original and the port answer to. */
  service: string;
  /** The port: service classes run on NATS for the comparison (the service, and any it needs unstubbed). */
  port: ServiceClass[];
  /** The Nameko original, run live when NAMEKO_PYTHON is set. */
  original?: {
    module: string;
    classes: string[];
    config?: Record<string, unknown>;
    /** More PYTHONPATH entries (the original's package root, its libraries). */
    pythonPath?: string[];
    /** Other Nameko modules it calls that are run too rather than stubbed. */
    others?: Array<Pick<NamekoOriginalOptions, "module" | "classes" | "config" | "pythonPath">>;
  };
  /** The port's configuration keys (as a config file holds them: `REDIS_URIS`, `DB_URIS`, ...). */
  portConfig?: Record<string, unknown>;
  /** A cassette recorded from the original; used when it cannot run live. */
  cassette?: string;
  /**
   * The calls to compare. Against a cassette, without `calls` and `events` every recorded call and
   * handled event of the service is compared; with either, exactly the listed ones. Live, the
   * calls and events to send (at least one of them).
   */
  calls?: readonly CallSpec[];
  /** Events dispatched to the service's handlers, compared as the calls are (docs/side-by-side.md, Events). */
  events?: readonly EventSpec[];
  /** Answer for these dependencies on the original's side (live); the port gets the same answers. */
  stubs?: StubServices;
  /** Paths that may differ (docs/cassettes.md, Ignoring noise). */
  ignore?: readonly string[];
  /** Per call; default 10 s. */
  timeoutMs?: number;
  natsUrl?: string;
  /** RabbitMQ without a vhost, for the live original. */
  amqpBase?: string;
  log?: Logger;
}

/** How a comparison will run: against the live original, against its cassette, or not at all (and why). */
export type SideBySideMode =
  { mode: "live" } | { mode: "cassette"; cassette: string } | { mode: "skip"; reason: string };

/** What a comparison found. */
export interface SideBySideResult {
  mode: "live" | "cassette";
  report: ReplayReport;
  /** The report as text: one line per call that differs, one per difference. */
  text: string;
}

/** Neither a live original nor a cassette: nothing to compare with. */
export class SideBySideUnavailable extends Error {
  override readonly name = "SideBySideUnavailable";
}

/** The port did not answer like its original; the message is the readable diff. */
export class SideBySideMismatch extends Error {
  override readonly name = "SideBySideMismatch";
  constructor(readonly result: SideBySideResult) {
    super(result.text);
  }
}

/** A call the comparison wants that its cassette never recorded. */
export class NotInCassette extends Error {
  override readonly name = "NotInCassette";
}

/** Live when the original and NAMEKO_PYTHON are there, else the cassette, else skip with the reason. */
export function sideBySideMode(options: Pick<SideBySideOptions, "original" | "cassette">): SideBySideMode {
  if (options.original !== undefined && namekoPython() !== undefined) return { mode: "live" };
  if (options.cassette !== undefined) return { mode: "cassette", cassette: options.cassette };
  const why = options.original === undefined ? "no original is given" : `${NAMEKO_PYTHON_ENV} is not set`;
  return { mode: "skip", reason: `${why} and there is no cassette to compare with` };
}

/** The cassette's recorded calls of `service` for `calls` (all of them when undefined), in that order. */
function selectCalls(recorded: readonly RecordedCall[], service: string, calls?: readonly CallSpec[]): RecordedCall[] {
  if (calls === undefined) return [...recorded];
  const byRequest = new Map<string, RecordedCall[]>();
  for (const r of recorded) {
    const key = requestKey(r);
    byRequest.set(key, [...(byRequest.get(key) ?? []), r]);
  }
  return calls.map((c) => {
    const request = { service, method: c.method, args: c.args ?? [], kwargs: c.kwargs ?? {} };
    const found = byRequest.get(requestKey(request));
    if (found === undefined)
      throw new NotInCassette(`the cassette has no recording of ${service}.${c.method} ${encodeJson(request)}`);
    return found[0]!;
  });
}

/**
 * The cassette's handled entries of `service` for `events` (all when undefined): for each event, the
 * first recorded delivery of an equal event (source, type, payload, and context when given) to
 * each of the service's handlers.
 */
function selectHandled(
  handled: readonly HandledEvent[],
  service: string,
  events?: readonly EventSpec[],
): HandledEvent[] {
  if (events === undefined) return [...handled];
  return events.flatMap((e) => {
    const same = (h: HandledEvent): boolean =>
      h.source === e.source &&
      h.type === e.type &&
      encodeJson(h.payload) === encodeJson(e.payload) &&
      (e.context === undefined || encodeJson(h.context) === encodeJson(e.context));
    const first = handled.find(same);
    if (first === undefined)
      throw new NotInCassette(
        `the cassette has no recording of ${service} handling ${e.source}.${e.type} ${encodeJson(e.payload)}`,
      );
    // The first delivery of that event to each handler, as one dispatch replays them together.
    const byHandler = new Map<string, HandledEvent>();
    for (const h of handled)
      if (same(h) && encodeJson(h.callIdStack) === encodeJson(first.callIdStack) && !byHandler.has(h.handler ?? ""))
        byHandler.set(h.handler ?? "", h);
    return [...byHandler.values()];
  });
}

/** The cassette's entries of `service` the comparison replays: the calls, then the handled events. */
function selectEntries(
  cassette: ParsedCassette,
  service: string,
  wanted?: Pick<SideBySideOptions, "calls" | "events">,
): ParsedCassette {
  const recorded = cassette.entries.filter((e): e is RecordedCall => e.kind === "call" && e.service === service);
  const handled = cassette.entries.filter((e): e is HandledEvent => e.kind === "handled" && e.service === service);
  const listed = wanted !== undefined && (wanted.calls !== undefined || wanted.events !== undefined);
  const entries = [
    ...selectCalls(recorded, service, listed ? (wanted.calls ?? []) : undefined),
    ...selectHandled(handled, service, listed ? (wanted.events ?? []) : undefined),
  ];
  return { ...cassette, entries };
}

/** Runs the port under `prefix` until the returned stop() is called; stop() also drops its events stream. */
async function startPort(
  options: SideBySideOptions,
  prefix: string,
  natsUrl: string,
  log: Logger,
): Promise<() => Promise<void>> {
  const config = { ...configFromObject(options.portConfig ?? {}), natsUrl, prefix, announce: false };
  const runner = new ServiceRunner(config, { log });
  for (const cls of options.port) runner.addService(cls);
  await runner.start();
  return async () => {
    await runner.stop();
    const nc = runner.containers[0]?.nats;
    if (nc !== undefined && !nc.isClosed()) {
      const jsm = await jetstreamManager(nc);
      await jsm.streams.delete(eventsStreamName(prefix)).catch(() => undefined);
    }
  };
}

/**
 * Compares the port with its original: records the calls from the live original (or takes them
 * from its cassette), replays them against the port and returns the verdict. Throws
 * {@link SideBySideUnavailable} when there is neither.
 */
export async function sideBySide(options: SideBySideOptions): Promise<SideBySideResult> {
  const how = sideBySideMode(options);
  if (how.mode === "skip") throw new SideBySideUnavailable(how.reason);
  const log = options.log ?? silentLogger;
  const natsUrl = options.natsUrl ?? process.env.NATS_URL ?? defaultConfig().natsUrl;
  const scratch = mkdtempSync(join(tmpdir(), "cliffracer-side-by-side-"));
  try {
    let file: string;
    if (how.mode === "live") {
      const { original } = options;
      if (original === undefined || (options.calls === undefined && options.events === undefined))
        throw new SideBySideUnavailable("a live comparison needs the original and the calls or events to send");
      file = join(scratch, "original.cassette.jsonl");
      await recordOriginal({
        originals: [
          {
            module: original.module,
            classes: original.classes,
            config: original.config,
            pythonPath: original.pythonPath,
          },
          ...(original.others ?? []),
        ],
        service: options.service,
        calls: options.calls ?? [],
        events: options.events,
        out: file,
        stubs: options.stubs,
        amqpBase: options.amqpBase,
        log,
      });
    } else {
      file = how.cassette;
    }
    const parsed = parseCassette(readFileSync(file, "utf8"));
    const cassette = selectEntries(parsed, options.service, how.mode === "live" ? undefined : options);
    const prefix = `sbs${randomBytes(4).toString("hex")}`;
    const stopPort = await startPort(options, prefix, natsUrl, log);
    try {
      const report = await replay({
        cassette,
        target: { side: "nats", natsUrl, prefix },
        services: [options.service],
        ignore: options.ignore,
        timeoutMs: options.timeoutMs,
        log,
      });
      const source = how.mode === "live" ? `${options.service} (live original)` : file;
      return { mode: how.mode, report, text: formatReport(report, source) };
    } finally {
      await stopPort();
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** Throws {@link SideBySideMismatch}, whose message is the readable diff, unless every call and handled event matched. */
export function expectSameAsOriginal(result: SideBySideResult): void {
  if (!result.report.ok || result.report.calls.length === 0) throw new SideBySideMismatch(result);
}
