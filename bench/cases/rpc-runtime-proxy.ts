/** (3) Runtime -> runtime through @RpcProxy inside a service (caller service and echo service in two processes). */
import { measureRpc, type BenchCase } from "../lib/case";
import { RUNTIME_SERVICE_NEEDS } from "./rpc-runtime-client";

export const runtimeProxy: BenchCase = {
  id: "rpc.runtime-proxy",
  title: "(3) runtime -> runtime via @RpcProxy",
  kind: "rpc",
  floor: "rpc.nats-floor",
  limits:
    "As (2), plus a worker per call on the calling side (max_workers 256) whose context headers are built on its first " +
    "call and reused; the caller service spends about 3 µs/call more than the client of (2).",
  needs: [...RUNTIME_SERVICE_NEEDS, "src/index:RpcProxy"],
  async run(ctx) {
    const name = `bench_echo_${ctx.token}`;
    const [, caller] = await ctx.spawnAll([
      ["service", "runtime-service", { name }],
      ["caller service", "runtime-proxy-caller", { name: `bench_caller_${ctx.token}`, target: name }],
    ]);
    return measureRpc(ctx, caller);
  },
};
