/** (5) Runtime client -> bridge -> a Nameko-protocol AMQP echo service (three processes). */
import { measureRpc, type BenchCase } from "../lib/case";
import { DEFAULT_BODY_BYTES } from "../lib/payload";
import { BRIDGE_NEEDS } from "./rpc-bridge-amqp-to-runtime";

export const bridgeRuntimeToAmqp: BenchCase = {
  id: "rpc.bridge-runtime-to-amqp",
  title: "(5) runtime -> bridge -> AMQP service",
  kind: "rpc",
  payloadBytes: DEFAULT_BODY_BYTES,
  floor: "rpc.amqp-floor",
  limits:
    "RabbitMQ with Nameko's rules, as in (6b); the bridge is about half idle, its busy time mostly socket " +
    "writes and amqplib's header table encoding.",
  needs: ["src/index:ClusterRpcProxy", ...BRIDGE_NEEDS],
  async run(ctx) {
    const service = `bench_amqp_echo_${ctx.token}`;
    const [, , caller] = await ctx.spawnAll([
      ["AMQP service", "nameko-amqp-echo", { service }],
      ["bridge", "bridge", { amqpServices: [service] }],
      ["caller", "runtime-caller", { service, bodyBytes: ctx.bodyBytes }],
    ]);
    return measureRpc(ctx, caller);
  },
};
