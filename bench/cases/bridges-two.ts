/**
 * Two bridges against one on a shared broker, both directions: the same as (4) and (5) with a
 * second bridge process taking half the work (competing consumers on the AMQP queue, one NATS
 * queue group). Each case's floor is its one-bridge case, so the ratios are 2 bridges / 1 bridge
 * in the same round; the Processes table gives each bridge's CPU seconds.
 */
import { measureRpc, type BenchCase } from "../lib/case";
import { BRIDGE_NEEDS } from "./rpc-bridge-amqp-to-runtime";
import { RUNTIME_SERVICE_NEEDS } from "./rpc-runtime-client";

export const twoBridgesAmqpToRuntime: BenchCase = {
  id: "rpc.two-bridges-amqp-to-runtime",
  title: "(4x2) as (4), two bridges",
  kind: "rpc",
  floor: "rpc.bridge-amqp-to-runtime",
  limits:
    "As (4): RabbitMQ's CPU per call does not change with the number of bridges, and on 2 cores shared by the " +
    "broker, the caller, the service and the bridges a second bridge only splits the bridge's share.",
  needs: [...RUNTIME_SERVICE_NEEDS, ...BRIDGE_NEEDS],
  async run(ctx) {
    const service = `bench_echo_${ctx.token}`;
    const bucket = `bench_calls_${ctx.token}`;
    const [, , , caller] = await ctx.spawnAll([
      ["service", "runtime-service", { name: service }],
      ["bridge 1", "bridge", { natsServices: [service], bucket, name: "bench1" }],
      ["bridge 2", "bridge", { natsServices: [service], bucket, name: "bench2" }],
      ["caller", "nameko-amqp-caller", { service }],
    ]);
    return measureRpc(ctx, caller);
  },
};

export const twoBridgesRuntimeToAmqp: BenchCase = {
  id: "rpc.two-bridges-runtime-to-amqp",
  title: "(5x2) as (5), two bridges",
  kind: "rpc",
  floor: "rpc.bridge-runtime-to-amqp",
  limits: "As (5), the work of the bridge split over two processes.",
  needs: ["src/index:ClusterRpcProxy", ...BRIDGE_NEEDS],
  async run(ctx) {
    const service = `bench_amqp_echo_${ctx.token}`;
    const [, , , caller] = await ctx.spawnAll([
      ["AMQP service", "nameko-amqp-echo", { service }],
      ["bridge 1", "bridge", { amqpServices: [service], name: "bench1" }],
      ["bridge 2", "bridge", { amqpServices: [service], name: "bench2" }],
      ["caller", "runtime-caller", { service }],
    ]);
    return measureRpc(ctx, caller);
  },
};
