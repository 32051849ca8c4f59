/** (2) Runtime standalone client -> runtime service (each in its own process). */
import { measureRpc, type BenchCase } from "../lib/case";

/** What the runtime service role (roles/runtime-service.ts) runs on. */
export const RUNTIME_SERVICE_NEEDS = ["src/core/service-runner:ServiceRunner", "src/entrypoints/rpc:rpc", "src/config/defaults:defaultConfig"];

export const runtimeClient: BenchCase = {
  id: "rpc.runtime-client",
  title: "(2) runtime client -> service",
  kind: "rpc",
  floor: "rpc.nats-floor",
  limits: "",
  needs: [...RUNTIME_SERVICE_NEEDS, "src/client/standalone:ClusterRpcProxy"],
  async run(ctx) {
    const name = `bench_echo_${ctx.token}`;
    const [, caller] = await ctx.spawnAll([
      ["service", "runtime-service", { name }],
      ["caller", "runtime-caller", { service: name }],
    ]);
    return measureRpc(ctx, caller);
  },
};
