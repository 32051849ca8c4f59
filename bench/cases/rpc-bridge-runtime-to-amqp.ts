/** (5) Runtime client -> bridge -> a Nameko-protocol AMQP echo service (three processes). */
import { measureRpc, type BenchCase } from "../lib/case";
import { BRIDGE_NEEDS } from "./rpc-bridge-amqp-to-runtime";

export const bridgeRuntimeToAmqp: BenchCase = {
  id: "rpc.bridge-runtime-to-amqp",
  title: "(5) runtime -> bridge -> AMQP service",
  kind: "rpc",
  floor: "rpc.amqp-floor",
  limits: "",
  needs: ["src/client/standalone:ClusterRpcProxy", ...BRIDGE_NEEDS],
  async run(ctx) {
    const service = `bench_amqp_echo_${ctx.token}`;
    await ctx.spawn("AMQP service", "nameko-amqp-echo", { service });
    await ctx.spawn("bridge", "bridge", { amqpServices: [service] });
    const caller = await ctx.spawn("caller", "runtime-caller", { service });
    return measureRpc(ctx, caller);
  },
};
