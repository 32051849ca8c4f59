/**
 * `record`: live traffic of some services into a cassette (docs/cassettes.md). A source (the
 * RabbitMQ firehose or NATS subscriptions) feeds the assembler, which hands finished interactions
 * to the file; recording ends after a time, a number of interactions or an abort, whichever comes
 * first, and the source is always stopped, which switches tracing off again.
 */
import type { Credentials } from "./credentials";
import { createWriteStream, rmSync } from "node:fs";
import { performance } from "node:perf_hooks";
import {
  CASSETTE_FORMAT,
  CASSETTE_VERSION,
  cassetteLine,
  describeError,
  type CassetteEntry,
  type CassetteHeader,
  type CassetteSide,
  type Logger,
  type MaskSpec,
  validateName,
} from "../compat";
import { CassetteAssembler, type Observation } from "./assembler";
import { startAmqpTrace, type TraceSource } from "./amqp-source";
import { startNatsTrace } from "./nats-source";

/** How often open handled events are checked for being quiet. */
const SETTLE_EVERY_MS = 100;

/** Options of {@link record}. */
export interface RecordOptions {
  side: CassetteSide;
  services: string[];
  /** The cassette file, created or truncated. */
  out: string;
  amqpUri: string;
  /** Default: `http://<AMQP host>:15672` with the AMQP credentials. */
  managementUrl?: string;
  natsUrl: string;
  natsPrefix?: string;
  /** TLS and credentials for both sides (docs/security.md). */
  credentials?: Credentials;
  /** Stop after this many seconds. */
  seconds?: number;
  /** Stop after this many interactions. */
  max?: number;
  masks?: MaskSpec;
  /**
   * A handled event is written once nothing joined it for this long (default 500 ms); raise it when
   * a handler's worker may pause longer between its calls (a slow handler, a loaded machine).
   */
  handledQuietMs?: number;
  /** Aborting it ends the recording (the command aborts on SIGINT and SIGTERM). */
  signal?: AbortSignal;
  /** Called once the source listens, before any interaction is recorded. */
  onListening?(): void;
  log: Logger;
}

/** What a recording wrote. */
export interface RecordSummary {
  out: string;
  calls: number;
  events: number;
  /** Events handled by a recorded service (docs/cassettes.md, Interactions). */
  handled: number;
  /** Calls still waiting for their reply when recording ended; they are not in the cassette. */
  unfinished: number;
  /** Messages that could not be read (bodies that are not JSON, say). */
  skipped: number;
  /** Why it ended. */
  endedBy: "seconds" | "max" | "signal";
}

/** Records until `seconds`, `max` or `signal`, and resolves once the file is flushed and the source stopped. */
export async function record(options: RecordOptions): Promise<RecordSummary> {
  for (const name of options.services) validateName("service", name);
  const masks = options.masks ?? {};
  const summary: RecordSummary = {
    out: options.out,
    calls: 0,
    events: 0,
    handled: 0,
    unfinished: 0,
    skipped: 0,
    endedBy: "signal",
  };
  let finish = (_why: RecordSummary["endedBy"]): void => undefined;
  const ended = new Promise<void>((resolve) => {
    finish = (why) => {
      summary.endedBy = why;
      finish = () => undefined;
      resolve();
    };
  });
  const file = createWriteStream(options.out);
  const fileFailed = new Promise<never>((_, reject) => file.on("error", reject));
  fileFailed.catch(() => undefined);
  const header: CassetteHeader = {
    kind: "header",
    format: CASSETTE_FORMAT,
    version: CASSETTE_VERSION,
    recordedAt: new Date().toISOString(),
    side: options.side,
    services: options.services,
    masks,
  };
  file.write(cassetteLine(header));
  let recording = true;
  const onSkipped = (what: string, error: string): void => {
    summary.skipped++;
    options.log.warn("record: message left out", { what, error });
  };
  const assembler = new CassetteAssembler({
    services: options.services,
    masks,
    onEntry: (entry: CassetteEntry) => {
      if (!recording) return;
      try {
        file.write(cassetteLine(entry));
      } catch (err) {
        onSkipped(
          entry.kind === "call" ? `call to ${entry.service}.${entry.method}` : `event ${entry.source}.${entry.type}`,
          describeError(err),
        );
        return;
      }
      if (entry.kind === "call") summary.calls++;
      else if (entry.kind === "event") summary.events++;
      else summary.handled++;
      if (options.max !== undefined && summary.calls + summary.events + summary.handled >= options.max) {
        recording = false;
        finish("max");
      }
    },
    onSkipped,
  });
  const onObservation = (o: Observation): void => {
    if (recording) assembler.observe(o);
  };
  let source: TraceSource;
  try {
    source =
      options.side === "amqp"
        ? await startAmqpTrace({
            amqpUri: options.amqpUri,
            credentials: options.credentials,
            managementUrl: options.managementUrl,
            log: options.log,
            onObservation,
            onSkipped,
          })
        : await startNatsTrace({
            natsUrl: options.natsUrl,
            credentials: options.credentials,
            prefix: options.natsPrefix ?? "",
            services: options.services,
            log: options.log,
            onObservation,
          });
  } catch (err) {
    file.destroy();
    rmSync(options.out, { force: true });
    throw err;
  }
  const timer = options.seconds === undefined ? undefined : setTimeout(() => finish("seconds"), options.seconds * 1000);
  // Handled events have no reply to end them: they are written once quiet (docs/cassettes.md, Linking).
  const settler = setInterval(() => assembler.settle(performance.now(), options.handledQuietMs), SETTLE_EVERY_MS);
  const onAbort = (): void => finish("signal");
  if (options.signal?.aborted) onAbort();
  options.signal?.addEventListener("abort", onAbort, { once: true });
  options.onListening?.();
  try {
    if (options.max === 0) finish("max");
    await Promise.race([ended, fileFailed]);
  } finally {
    assembler.close();
    recording = false;
    if (timer) clearTimeout(timer);
    clearInterval(settler);
    options.signal?.removeEventListener("abort", onAbort);
    summary.unfinished = assembler.open;
    try {
      await source.stop();
    } finally {
      await new Promise<void>((resolve, reject) => file.end((err?: Error | null) => (err ? reject(err) : resolve())));
    }
  }
  options.log.info("recording finished", { ...summary });
  return summary;
}
