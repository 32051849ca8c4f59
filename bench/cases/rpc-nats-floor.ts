/** (1) Raw NATS request/reply, the floor of every NATS RPC case. */
import { measureRpc, type BenchCase } from "../lib/case";
import { DEFAULT_BODY_BYTES } from "../lib/payload";

export const natsFloor: BenchCase = {
  id: "rpc.nats-floor",
  title: "(1) raw NATS req/reply (floor)",
  kind: "rpc",
  payloadBytes: DEFAULT_BODY_BYTES,
  limits:
    "nats.js request() (mux inbox, one timer per request) on both sides of nats-server; " +
    "on 2 cores the caller, the echo process and nats-server share the CPUs.",
  needs: [],
  async run(ctx) {
    const subject = `bench.${ctx.token}.echo`;
    const [, caller] = await ctx.spawnAll([
      ["echo server", "nats-echo", { subject }],
      ["caller", "nats-caller", { subject, bodyBytes: ctx.bodyBytes }],
    ]);
    return measureRpc(ctx, caller);
  },
};
