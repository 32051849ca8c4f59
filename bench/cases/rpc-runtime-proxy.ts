/** (3) Runtime -> runtime through @RpcProxy inside a service (caller service and echo service in two processes). */
import { measureRpc, type BenchCase } from "../lib/case";
import { RUNTIME_SERVICE_NEEDS } from "./rpc-runtime-client";

export const runtimeProxy: BenchCase = {
  id: "rpc.runtime-proxy",
  title: "(3) runtime -> runtime via @RpcProxy",
  kind: "rpc",
  floor: "rpc.nats-floor",
  limits: "",
  needs: [...RUNTIME_SERVICE_NEEDS, "src/dependencies/rpc-proxy:RpcProxy"],
  async run(ctx) {
    const name = `bench_echo_${ctx.token}`;
    const [, caller] = await ctx.spawnAll([
      ["service", "runtime-service", { name }],
      ["caller service", "runtime-proxy-caller", { name: `bench_caller_${ctx.token}`, target: name }],
    ]);
    return measureRpc(ctx, caller);
  },
};
