/**
 * The payload-size family (issue 17): an echo of 10 KiB, 100 KiB and 900 KiB request bodies through
 * the runtime and through the bridge, each size against the raw floors at the same size; the
 * 100-byte row is the main table's cases (1), (2), (4), (5) and (6), which echo exactly that.
 * 900 KiB plus headers stays under nats-server's default max_payload (1 MiB), so every body travels
 * inline, never through the large-body store (docs/large-payloads.md).
 */
import { measureRpc, type BenchCase, type Timing } from "../lib/case";
import { fmtBytes } from "../lib/report";
import { BRIDGE_NEEDS } from "./rpc-bridge-amqp-to-runtime";
import { RUNTIME_SERVICE_NEEDS } from "./rpc-runtime-client";

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

function sized(bytes: number, path: Omit<BenchCase, "id" | "kind" | "payloadBytes" | "timing">, id: string): BenchCase {
  return {
    ...path,
    id: `payload.${id}.${sizeId(bytes)}`,
    title: `${path.title}, ${fmtBytes(bytes)}`,
    floor: path.floor ? `payload.${path.floor}.${sizeId(bytes)}` : undefined,
    kind: "rpc",
    payloadBytes: bytes,
    timing: familyTiming(bytes),
  };
}

/** The five paths at one size, floors first. */
function casesOf(bytes: number): BenchCase[] {
  return [
    sized(
      bytes,
      {
        title: "raw NATS req/reply (floor)",
        limits: "As (1); the echo returns the request's bytes, no JSON on either side.",
        needs: [],
        async run(ctx) {
          const subject = `bench.${ctx.token}.echo`;
          const [, caller] = await ctx.spawnAll([
            ["echo server", "nats-echo", { subject }],
            ["caller", "nats-caller", { subject, bodyBytes: bytes }],
          ]);
          return measureRpc(ctx, caller);
        },
      },
      "nats-floor",
    ),
    sized(
      bytes,
      {
        title: "runtime client -> service",
        floor: "nats-floor",
        limits: "As (2); the caller encodes the request and decodes the reply, the service the reverse (JSON text).",
        needs: [...RUNTIME_SERVICE_NEEDS, "src/index:ClusterRpcProxy"],
        async run(ctx) {
          const name = `bench_echo_${ctx.token}`;
          const [, caller] = await ctx.spawnAll([
            ["service", "runtime-service", { name }],
            ["caller", "runtime-caller", { service: name, bodyBytes: bytes }],
          ]);
          return measureRpc(ctx, caller);
        },
      },
      "runtime",
    ),
    sized(
      bytes,
      {
        title: "raw amqplib RPC (AMQP floor)",
        limits: "As (6); the echo returns the request's bytes.",
        needs: [],
        async run(ctx) {
          const queue = `bench-${ctx.token}-rpc`;
          const [, caller] = await ctx.spawnAll([
            ["echo server", "amqp-echo", { queue }],
            ["caller", "amqp-caller", { queue, bodyBytes: bytes }],
          ]);
          return measureRpc(ctx, caller);
        },
      },
      "amqp-floor",
    ),
    sized(
      bytes,
      {
        title: "AMQP caller -> bridge -> runtime",
        floor: "amqp-floor",
        limits: "As (4), with the record of handed-over requests (replies up to 64 KiB recorded).",
        needs: [...RUNTIME_SERVICE_NEEDS, ...BRIDGE_NEEDS],
        async run(ctx) {
          const service = `bench_echo_${ctx.token}`;
          const [, , caller] = await ctx.spawnAll([
            ["service", "runtime-service", { name: service }],
            ["bridge", "bridge", { natsServices: [service], bucket: `bench_calls_${ctx.token}` }],
            ["caller", "nameko-amqp-caller", { service, bodyBytes: bytes }],
          ]);
          return measureRpc(ctx, caller);
        },
      },
      "bridge-amqp-to-runtime",
    ),
    sized(
      bytes,
      {
        title: "runtime -> bridge -> AMQP service",
        floor: "amqp-floor",
        limits: "As (5); the Nameko-protocol echo service (plain amqplib) parses the request and writes its reply.",
        needs: ["src/index:ClusterRpcProxy", ...BRIDGE_NEEDS],
        async run(ctx) {
          const service = `bench_amqp_echo_${ctx.token}`;
          const [, , caller] = await ctx.spawnAll([
            ["AMQP service", "nameko-amqp-echo", { service }],
            ["bridge", "bridge", { amqpServices: [service] }],
            ["caller", "runtime-caller", { service, bodyBytes: bytes }],
          ]);
          return measureRpc(ctx, caller);
        },
      },
      "bridge-runtime-to-amqp",
    ),
  ];
}

/** Every payload-size case, size by size. */
export const PAYLOAD_CASES: BenchCase[] = PAYLOAD_SIZES.flatMap(casesOf);
