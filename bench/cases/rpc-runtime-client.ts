/** (2) Runtime standalone client -> runtime service (each in its own process). */
import { measureRpc, type BenchCase } from "../lib/case";
import { DEFAULT_BODY_BYTES } from "../lib/payload";

/** What the runtime service role (roles/runtime-service.ts) runs on. */
export const RUNTIME_SERVICE_NEEDS = ["src/index:ServiceRunner", "src/index:rpc", "src/index:defaultConfig"];

export const runtimeClient: BenchCase = {
  id: "rpc.runtime-client",
  title: "(2) runtime client -> service",
  kind: "rpc",
  payloadBytes: DEFAULT_BODY_BYTES,
  floor: "rpc.nats-floor",
  limits:
    "Caller and service each spend 10-14 µs of CPU per call (reply mux instead of nc.request(), replies of a turn in " +
    "one write, context headers decoded only when read: 0.06 writes/call like the floor); nats-server's share of the 2 " +
    "cores is then the largest cost. At 1 in flight the latency is mostly three processes waking in turn on 2 shared " +
    "cores: p50 moves with the machine's load more than with either side's code.",
  needs: [...RUNTIME_SERVICE_NEEDS, "src/index:ClusterRpcProxy"],
  async run(ctx) {
    const name = `bench_echo_${ctx.token}`;
    const [, caller] = await ctx.spawnAll([
      ["service", "runtime-service", { name }],
      ["caller", "runtime-caller", { service: name, bodyBytes: ctx.bodyBytes }],
    ]);
    return measureRpc(ctx, caller);
  },
};
