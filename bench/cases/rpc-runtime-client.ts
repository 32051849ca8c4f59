/** (2) Runtime standalone client -> runtime service (each in its own process). */
import { measureRpc, type BenchCase } from "../lib/case";

/** What the runtime service role (roles/runtime-service.ts) runs on. */
export const RUNTIME_SERVICE_NEEDS = ["src/index:ServiceRunner", "src/index:rpc", "src/index:defaultConfig"];

export const runtimeClient: BenchCase = {
  id: "rpc.runtime-client",
  title: "(2) runtime client -> service",
  kind: "rpc",
  floor: "rpc.nats-floor",
  limits:
    "Caller: nats.js request() (RpcClient.send) builds a RequestError for every call even with noAsyncTraces, about a quarter " +
    "of its busy CPU. Service: replies released one by one by the max_workers (10) semaphore leave nats.js's per-microtask " +
    "flush several socket writes per incoming chunk (0.15-0.19 writes/call vs 0.07 for the floor's echo); decoding the " +
    "call_id_stack header and the JSON body costs about 10% and 8% of its busy time. All of it shares 2 cores with nats-server.",
  needs: [...RUNTIME_SERVICE_NEEDS, "src/index:ClusterRpcProxy"],
  async run(ctx) {
    const name = `bench_echo_${ctx.token}`;
    const [, caller] = await ctx.spawnAll([
      ["service", "runtime-service", { name }],
      ["caller", "runtime-caller", { service: name }],
    ]);
    return measureRpc(ctx, caller);
  },
};
