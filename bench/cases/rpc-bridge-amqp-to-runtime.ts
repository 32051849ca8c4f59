/** (4) A Nameko-protocol AMQP caller -> bridge -> runtime service (three processes). */
import { measureRpc, type BenchCase } from "../lib/case";
import { DEFAULT_BODY_BYTES } from "../lib/payload";
import { RUNTIME_SERVICE_NEEDS } from "./rpc-runtime-client";

/** What the bridge role runs on. */
export const BRIDGE_NEEDS = ["bridge/bridge:createBridge", "bridge/config:bridgeConfigFromObject"];

export const bridgeAmqpToRuntime: BenchCase = {
  id: "rpc.bridge-amqp-to-runtime",
  title: "(4) AMQP caller -> bridge -> runtime",
  kind: "rpc",
  payloadBytes: DEFAULT_BODY_BYTES,
  floor: "rpc.amqp-floor",
  limits:
    "RabbitMQ: Nameko's rules (confirmed persistent request and reply, mandatory routing, manual acks) cost it about " +
    "3x the AMQP floor's CPU per call, as in (6b); the bridge is more than half idle. Its busy time: socket writes " +
    "(writeBuffer about 28%; amqplib corked by amqp/write-batching.ts, 0.5 writes/call) and amqplib frame encoding.",
  needs: [...RUNTIME_SERVICE_NEEDS, ...BRIDGE_NEEDS],
  async run(ctx) {
    const service = `bench_echo_${ctx.token}`;
    const [, , caller] = await ctx.spawnAll([
      ["service", "runtime-service", { name: service }],
      ["bridge", "bridge", { natsServices: [service], bucket: `bench_calls_${ctx.token}` }],
      ["caller", "nameko-amqp-caller", { service, bodyBytes: ctx.bodyBytes }],
    ]);
    return measureRpc(ctx, caller);
  },
};

/**
 * (4) without the record of handed-over requests (`BRIDGE.AT_MOST_ONCE.enabled: false`): what at
 * most once across a bridge crash costs per call is the difference with (4) (docs/at-most-once.md).
 */
export const bridgeAmqpToRuntimeAtLeastOnce: BenchCase = {
  ...bridgeAmqpToRuntime,
  // Not a row of the payload-size table: that row is (4) as users run it.
  payloadBytes: undefined,
  id: "rpc.bridge-amqp-to-runtime-at-least-once",
  title: "(4a) as (4), at least once (no record)",
  limits: "As (4); the bridge does not record the requests it hands over, so it skips one JetStream KV write per call.",
  async run(ctx) {
    const service = `bench_echo_${ctx.token}`;
    const [, , caller] = await ctx.spawnAll([
      ["service", "runtime-service", { name: service }],
      ["bridge", "bridge", { natsServices: [service], atMostOnce: false }],
      ["caller", "nameko-amqp-caller", { service, bodyBytes: ctx.bodyBytes }],
    ]);
    return measureRpc(ctx, caller);
  },
};

/**
 * (4) with the cheapest record: memory storage, replies not recorded (`storage: memory`,
 * `max_reply_bytes: 0`): one KV write per call, no file write on nats-server.
 */
export const bridgeAmqpToRuntimeLeanRecord: BenchCase = {
  ...bridgeAmqpToRuntime,
  payloadBytes: undefined,
  id: "rpc.bridge-amqp-to-runtime-lean-record",
  title: "(4b) as (4), record in memory, no replies",
  limits: "As (4); one KV create per call in a memory bucket, no reply recorded.",
  async run(ctx) {
    const service = `bench_echo_${ctx.token}`;
    const [, , caller] = await ctx.spawnAll([
      ["service", "runtime-service", { name: service }],
      [
        "bridge",
        "bridge",
        { natsServices: [service], bucket: `bench_calls_${ctx.token}`, storage: "memory", maxReplyBytes: 0 },
      ],
      ["caller", "nameko-amqp-caller", { service, bodyBytes: ctx.bodyBytes }],
    ]);
    return measureRpc(ctx, caller);
  },
};
