import { readFileSync, writeFileSync } from "node:fs";
import type { Command } from "commander";
import type { Credentials } from "./credentials";
import { addMaskOption, describeError, parseCassette, type MaskSpec } from "../compat";
import { vhostOf } from "../amqp";
import { CommandError, rootLogger } from "../src/cli";
import type { ReplayOptions } from "./replay";

/**
 * TLS and credentials from the config file (if any) and the environment, as services read them.
 * Loaded in the action, like the engine, so `cliffracer` starts without the runtime.
 */
async function credentialsFrom(file: string | undefined): Promise<Credentials> {
  const { credentialsOf } = await import("./credentials");
  const { loadConfig } = await import("../src");
  return credentialsOf(loadConfig({ file }));
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function collectMask(value: string, previous: MaskSpec): MaskSpec {
  return addMaskOption(value, { ...previous });
}

function positive(flag: string, integer: boolean): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < 0 || (integer && !Number.isInteger(n)))
      throw new Error(`${flag} must be a ${integer ? "whole " : ""}number >= 0, got ${JSON.stringify(value)}`);
    return n;
  };
}

interface RecordCommandOptions {
  config?: string;
  service: string[];
  out: string;
  side: string;
  amqpUri?: string;
  managementUrl?: string;
  natsUrl?: string;
  natsPrefix?: string;
  seconds?: number;
  max?: number;
  handledQuietMs?: number;
  mask: MaskSpec;
}

const SIGNALS: readonly NodeJS.Signals[] = ["SIGINT", "SIGTERM"];

/**
 * `cliffracer record --service NAME... --out FILE [--side amqp|nats] [--amqp-uri URI]
 * [--management-url URL] [--nats-url URL] [--nats-prefix P] [--seconds S] [--max N]
 * [--handled-quiet-ms MS] [--mask service.method:path,...]...`: live traffic of the services into a cassette
 * (docs/cassettes.md, The record command). Loaded only when the command runs.
 */
export function registerSideBySide(program: Command): void {
  program
    .command("record")
    .description("record live calls and events of services into a cassette (JSON Lines)")
    .option("-c, --config <file>", "YAML config file: NATS and AMQP TLS and credentials (docs/security.md)")
    .requiredOption("--service <name>", "a service to record (repeatable)", collect, [])
    .requiredOption("--out <file>", "the cassette to write")
    .option("--side <side>", "where the services live: amqp (RabbitMQ) or nats", "amqp")
    .option("--amqp-uri <uri>", "RabbitMQ URI (default: AMQP_URI, then amqp://guest:guest@localhost)")
    .option("--management-url <url>", "RabbitMQ management API (default: http://<AMQP host>:15672, AMQP credentials)")
    .option("--nats-url <url>", "NATS server(s) (default: NATS_URL, then nats://127.0.0.1:4222)")
    .option("--nats-prefix <prefix>", "subject prefix of the services (default: NATS_PREFIX)")
    .option("--seconds <s>", "stop after this many seconds", positive("--seconds", false))
    .option("--max <n>", "stop after this many interactions", positive("--max", true))
    .option(
      "--handled-quiet-ms <ms>",
      "write a handled event once nothing joined it for this long (default 500)",
      positive("--handled-quiet-ms", true),
    )
    .option(
      "--mask <service.method:paths>",
      "mask these argument paths (repeatable; docs/cassettes.md)",
      collectMask,
      {},
    )
    .action(async (opts: RecordCommandOptions) => {
      if (opts.side !== "amqp" && opts.side !== "nats")
        throw new Error(`--side must be amqp or nats, got ${JSON.stringify(opts.side)}`);
      if (opts.service.length === 0) throw new Error("give at least one --service");
      const { record } = await import("./recorder");
      const stop = new AbortController();
      const onSignal = (signal: NodeJS.Signals): void => {
        rootLogger.info("stopping the recording", { signal });
        stop.abort();
      };
      // Signals are handled from before the start, so tracing switched on is switched off again.
      for (const s of SIGNALS) process.on(s, onSignal);
      let code = 0;
      try {
        const summary = await record({
          credentials: await credentialsFrom(opts.config),
          side: opts.side,
          services: opts.service,
          out: opts.out,
          amqpUri: opts.amqpUri ?? process.env.AMQP_URI ?? "amqp://guest:guest@localhost",
          managementUrl: opts.managementUrl,
          natsUrl: opts.natsUrl ?? process.env.NATS_URL ?? "nats://127.0.0.1:4222",
          natsPrefix: opts.natsPrefix ?? process.env.NATS_PREFIX ?? "",
          seconds: opts.seconds,
          max: opts.max,
          handledQuietMs: opts.handledQuietMs,
          masks: opts.mask,
          signal: stop.signal,
          onListening: () => rootLogger.info("recording", { services: opts.service, side: opts.side, out: opts.out }),
          log: rootLogger,
        });
        process.stdout.write(
          `recorded ${summary.calls} calls, ${summary.events} events and ${summary.handled} handled events into ${summary.out}` +
            (summary.unfinished > 0 ? ` (${summary.unfinished} calls without a reply left out)` : "") +
            "\n",
        );
      } catch (err) {
        process.stderr.write(`${err instanceof Error ? err.name : "Error"}: ${describeError(err)}\n`);
        code = 1;
      } finally {
        for (const s of SIGNALS) process.off(s, onSignal);
      }
      // Exit explicitly, as `run` does: nothing left over may keep the process alive.
      process.exit(code);
    });
  registerReplay(program);
  registerCompare(program);
}

interface ReplayCommandOptions {
  config?: string;
  target: string;
  prefix?: string;
  natsUrl?: string;
  amqpUri?: string;
  service: string[];
  ignore: string[];
  junit?: string;
  timeoutMs: number;
  settleMs: number;
}

/** Exit codes of `replay` (docs/cassettes.md, Replay): all matched, something differed, the command could not run. */
const REPLAY_MATCHED = 0;
const REPLAY_DIFFERED = 1;
const REPLAY_USAGE = 2;

/**
 * `cliffracer replay FILE --target nats|amqp [--prefix P] [--nats-url URL] [--amqp-uri URI]
 * [--service NAME]... [--ignore PATH]... [--junit FILE] [--timeout-ms N] [--settle-ms N]`: the
 * cassette's calls (and, on NATS, handled events) sent to the port under test, compared with the
 * recording (docs/cassettes.md, Replay).
 */
function registerReplay(program: Command): void {
  program
    .command("replay")
    .description("replay a cassette's calls and handled events against a port and compare with the recording")
    .option("-c, --config <file>", "YAML config file: NATS and AMQP TLS and credentials (docs/security.md)")
    .argument("<file>", "the cassette (JSON Lines)")
    .requiredOption("--target <side>", "where the port under test runs: nats or amqp (RabbitMQ)")
    .option("--prefix <prefix>", "nats: the private subject prefix the port runs with (required)")
    .option("--nats-url <url>", "nats: the server(s) (default: NATS_URL, then nats://127.0.0.1:4222)")
    .option("--amqp-uri <uri>", "amqp: the port's private vhost (default: AMQP_URI)")
    .option(
      "--service <name>",
      "replay only calls to, and events handled by, this service (repeatable; default: all)",
      collect,
      [],
    )
    .option("--ignore <path>", "do not count differences at [service.method:]path (repeatable)", collect, [])
    .option("--junit <file>", "also write the verdicts as JUnit XML")
    .option("--timeout-ms <n>", "per call, and per handled event", positive("--timeout-ms", true), 10_000)
    .option(
      "--settle-ms <n>",
      "wait after the last reply for late events and calls",
      positive("--settle-ms", true),
      200,
    )
    // Usage errors exit 2, so CI tells "the port differs" (1) from "the replay could not run".
    .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : REPLAY_USAGE))
    .action(async (file: string, opts: ReplayCommandOptions) => {
      const code = await runReplay(file, opts).catch((err: unknown) => {
        process.stderr.write(`${err instanceof Error ? err.name : "Error"}: ${describeError(err)}\n`);
        return REPLAY_USAGE;
      });
      process.exit(code);
    });
}

async function runReplay(file: string, opts: ReplayCommandOptions): Promise<number> {
  let target: ReplayOptions["target"];
  if (opts.target === "nats") {
    const prefix = opts.prefix ?? "";
    if (prefix === "")
      throw new CommandError("--target nats needs --prefix: the private subject prefix the port under test runs with");
    target = {
      side: "nats",
      natsUrl: opts.natsUrl ?? process.env.NATS_URL ?? "nats://127.0.0.1:4222",
      prefix,
      credentials: await credentialsFrom(opts.config),
    };
  } else if (opts.target === "amqp") {
    const amqpUri = opts.amqpUri ?? process.env.AMQP_URI;
    if (amqpUri === undefined || vhostOf(amqpUri) === "/")
      throw new CommandError(
        "--target amqp needs --amqp-uri naming a vhost of the port's own (not /): the replay's stubs bind to nameko-rpc there",
      );
    target = { side: "amqp", amqpUri, credentials: await credentialsFrom(opts.config) };
  } else throw new CommandError(`--target must be nats or amqp, got ${JSON.stringify(opts.target)}`);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new CommandError(`cannot read the cassette ${file}: ${describeError(err)}`);
  }
  const { replay } = await import("./replay");
  const { formatReport, junitXml } = await import("./report");
  const report = await replay({
    cassette: parseCassette(text),
    target,
    services: opts.service.length > 0 ? opts.service : undefined,
    ignore: opts.ignore,
    timeoutMs: opts.timeoutMs,
    settleMs: opts.settleMs,
    log: rootLogger,
  });
  process.stdout.write(formatReport(report, file));
  if (opts.junit !== undefined) writeFileSync(opts.junit, junitXml(report, file));
  return report.ok ? REPLAY_MATCHED : REPLAY_DIFFERED;
}

interface CompareCommandOptions {
  config?: string;
  service: string;
  calls?: string;
  events?: string;
  prefix: string;
  amqpUri?: string;
  managementUrl?: string;
  natsUrl?: string;
  ignore: string[];
  junit?: string;
  timeoutMs: number;
  settleMs: number;
}

/**
 * `cliffracer compare --service NAME (--calls FILE | --events FILE)... --prefix P [--amqp-uri URI]
 * [--management-url URL] [--nats-url URL] [--ignore PATH]... [--junit FILE] [--timeout-ms N]
 * [--settle-ms N]`: the calls and events at the original on RabbitMQ and at the port on NATS,
 * diffed (docs/side-by-side.md, Against running services). Exit codes as `replay`'s.
 */
function registerCompare(program: Command): void {
  program
    .command("compare")
    .description("send the same calls and events to the original on RabbitMQ and the port on NATS, and diff them")
    .option("-c, --config <file>", "YAML config file: NATS and AMQP TLS and credentials (docs/security.md)")
    .requiredOption("--service <name>", "the service both answer to")
    .option("--calls <file>", "the calls to send (a JSON list; docs/cassettes.md, Calls files)")
    .option("--events <file>", "the events to dispatch to its handlers (a JSON list; docs/cassettes.md, Calls files)")
    .requiredOption("--prefix <prefix>", "the private subject prefix the port runs with")
    .option("--amqp-uri <uri>", "RabbitMQ of the original (default: AMQP_URI, then amqp://guest:guest@localhost)")
    .option("--management-url <url>", "RabbitMQ management API (default: http://<AMQP host>:15672, AMQP credentials)")
    .option("--nats-url <url>", "NATS server(s) (default: NATS_URL, then nats://127.0.0.1:4222)")
    .option("--ignore <path>", "do not count differences at [service.method:]path (repeatable)", collect, [])
    .option("--junit <file>", "also write the verdicts as JUnit XML")
    .option("--timeout-ms <n>", "per call", positive("--timeout-ms", true), 10_000)
    .option("--settle-ms <n>", "wait after each reply for late events", positive("--settle-ms", true), 200)
    .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : REPLAY_USAGE))
    .action(async (opts: CompareCommandOptions) => {
      const code = await runCompare(opts).catch((err: unknown) => {
        process.stderr.write(`${err instanceof Error ? err.name : "Error"}: ${describeError(err)}\n`);
        return REPLAY_USAGE;
      });
      process.exit(code);
    });
}

/** A calls or events file's text; a file that cannot be read is a usage error. */
function readListFile(file: string, what: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (err) {
    throw new CommandError(`cannot read the ${what} file ${file}: ${describeError(err)}`);
  }
}

async function runCompare(opts: CompareCommandOptions): Promise<number> {
  if (opts.calls === undefined && opts.events === undefined)
    throw new CommandError("compare needs --calls FILE, --events FILE or both");
  const callsText = opts.calls === undefined ? undefined : readListFile(opts.calls, "calls");
  const eventsText = opts.events === undefined ? undefined : readListFile(opts.events, "events");
  const { parseCallsFile, parseEventsFile } = await import("./calls-file");
  const { compareLive } = await import("./compare-live");
  const { formatReport, junitXml } = await import("./report");
  const report = await compareLive({
    credentials: await credentialsFrom(opts.config),
    service: opts.service,
    calls: callsText === undefined ? [] : parseCallsFile(callsText),
    events: eventsText === undefined ? undefined : parseEventsFile(eventsText),
    amqpUri: opts.amqpUri ?? process.env.AMQP_URI ?? "amqp://guest:guest@localhost",
    managementUrl: opts.managementUrl,
    natsUrl: opts.natsUrl ?? process.env.NATS_URL ?? "nats://127.0.0.1:4222",
    prefix: opts.prefix,
    ignore: opts.ignore,
    timeoutMs: opts.timeoutMs,
    settleMs: opts.settleMs,
    log: rootLogger,
  });
  const source = `${opts.service} (original on RabbitMQ, port on NATS)`;
  process.stdout.write(formatReport(report, source));
  if (opts.junit !== undefined) writeFileSync(opts.junit, junitXml(report, source));
  return report.ok ? REPLAY_MATCHED : REPLAY_DIFFERED;
}
