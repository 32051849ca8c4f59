/**
 * The payload-size family (issue 17): an echo of 10 KiB, 100 KiB and 900 KiB request bodies through
 * the runtime and through the bridge, each size against the raw floors at the same size; the
 * 100-byte row is the main table's cases (1), (2), (4), (5) and (6), which echo exactly that.
 * 900 KiB plus headers stays under nats-server's default max_payload (1 MiB), so every body travels
 * inline, never through the large-body store (docs/large-payloads.md).
 */
import type { BenchCase, Timing } from "../lib/case";
import { fmtBytes } from "../lib/report";
import { amqpFloor } from "./rpc-amqp-floor";
import { bridgeAmqpToRuntime } from "./rpc-bridge-amqp-to-runtime";
import { bridgeRuntimeToAmqp } from "./rpc-bridge-runtime-to-amqp";
import { natsFloor } from "./rpc-nats-floor";
import { runtimeClient } from "./rpc-runtime-client";

/** The request body sizes of the family's own cases, in bytes. */
export const PAYLOAD_SIZES = [10 * 1024, 100 * 1024, 900 * 1024];

/**
 * Fifteen cases: levels 1 (latency) and 16 only, a third of the run's warm-up, half its window
 * (the run's whole window at 900 KiB: a call through the bridge can then take over a second at 16
 * in flight on a loaded machine, and a call counts only if it completes inside the window).
 * Windows are timed, so a large body simply makes fewer calls. About 80 s a round on a quiet machine.
 */
function familyTiming(bytes: number): (run: Timing) => Timing {
  return (run) => ({
    ...run,
    warmupMs: run.warmupMs / 3,
    phaseMs: bytes >= 900 * 1024 ? run.phaseMs : run.phaseMs / 2,
    concurrencies: [1, 16],
  });
}

/** "10k", "100k", "900k": the id suffix of a size. */
function sizeId(bytes: number): string {
  return `${bytes / 1024}k`;
}

/** `rpc.nats-floor` -> `payload.nats-floor.10k`. */
function payloadId(baseId: string, bytes: number): string {
  return `payload.${baseId.replace(/^rpc\./, "")}.${sizeId(bytes)}`;
}

/**
 * A main-table case run with request bodies of `bytes` (the runner hands the size to the case's
 * caller, CaseContext.bodyBytes): same processes, its floor at the same size.
 */
function sized(base: BenchCase, bytes: number, limits: string): BenchCase {
  return {
    ...base,
    id: payloadId(base.id, bytes),
    // "(1) raw NATS req/reply (floor)" -> "raw NATS req/reply (floor), 10 KiB"
    title: `${base.title.replace(/^\(\w+\) /, "")}, ${fmtBytes(bytes)}`,
    floor: base.floor ? payloadId(base.floor, bytes) : undefined,
    limits,
    payloadBytes: bytes,
    timing: familyTiming(bytes),
  };
}

/** The five paths at one size, floors first. */
function casesOf(bytes: number): BenchCase[] {
  return [
    sized(natsFloor, bytes, "As (1); the echo returns the request's bytes, no JSON on either side."),
    sized(
      runtimeClient,
      bytes,
      "As (2); the caller encodes the request and decodes the reply, the service the reverse (JSON text).",
    ),
    sized(amqpFloor, bytes, "As (6); the echo returns the request's bytes."),
    sized(
      bridgeAmqpToRuntime,
      bytes,
      "As (4), with the record of handed-over requests (replies up to 64 KiB recorded).",
    ),
    sized(
      bridgeRuntimeToAmqp,
      bytes,
      "As (5); the Nameko-protocol echo service (plain amqplib) parses the request and writes its reply.",
    ),
  ];
}

/** Every payload-size case, size by size. */
export const PAYLOAD_CASES: BenchCase[] = PAYLOAD_SIZES.flatMap(casesOf);
