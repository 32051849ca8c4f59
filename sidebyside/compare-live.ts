/**
 * `compare`: the same calls and events at a running original on RabbitMQ and at a running port on NATS
 * (docs/side-by-side.md, Against running services). The original's answers are recorded from the
 * firehose while the calls are sent to it, then the recording is replayed against the port under
 * its private prefix: the port's outgoing calls are answered with what the original's worker got,
 * so only the original touches real dependencies, and the verdict is the replay's.
 */
import type { Credentials } from "./credentials";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseCassette, type Logger } from "../compat";
import type { CallSpec, EventSpec } from "./calls-file";
import { recordCalls } from "./live-recording";
import { replay, type ReplayReport } from "./replay";

/** Options of {@link compareLive}. */
export interface LiveCompareOptions {
  service: string;
  calls: readonly CallSpec[];
  /** Dispatched to the original's handlers after the calls (docs/side-by-side.md, Events). */
  events?: readonly EventSpec[];
  /** RabbitMQ, with the vhost where the original runs. */
  amqpUri: string;
  managementUrl?: string;
  natsUrl: string;
  /** TLS and credentials for both sides (docs/security.md). */
  credentials?: Credentials;
  /** The private subject prefix the port runs with. */
  prefix: string;
  ignore?: readonly string[];
  timeoutMs?: number;
  settleMs?: number;
  log: Logger;
}

/** Sends `calls` and `events` to the original, then the same, as the original got them, to the port. */
export async function compareLive(options: LiveCompareOptions): Promise<ReplayReport> {
  const scratch = mkdtempSync(join(tmpdir(), "cliffracer-compare-"));
  try {
    const out = join(scratch, "original.cassette.jsonl");
    await recordCalls({ ...options, out });
    return await replay({
      cassette: parseCassette(readFileSync(out, "utf8")),
      target: { side: "nats", natsUrl: options.natsUrl, prefix: options.prefix, credentials: options.credentials },
      services: [options.service],
      ignore: options.ignore,
      timeoutMs: options.timeoutMs,
      settleMs: options.settleMs,
      log: options.log,
    });
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
