/** (7) Moleculer 0.14 over the same NATS: the peer to beat. Caller and service in separate processes. */
import { measureRpc, type BenchCase } from "../lib/case";

export const moleculerPeer: BenchCase = {
  id: "rpc.moleculer",
  title: "(7) Moleculer 0.14 over NATS (peer)",
  kind: "rpc",
  floor: "rpc.nats-floor",
  limits:
    "Moleculer's own JSON packets on node-targeted subjects (nats@2 client, default options); " +
    "broker defaults with logger, metrics and tracing off.",
  needs: [],
  async run(ctx) {
    const namespace = `bench-${ctx.token}`;
    const [, caller] = await ctx.spawnAll([
      ["service", "moleculer-service", { namespace }],
      ["caller", "moleculer-caller", { namespace }],
    ]);
    return measureRpc(ctx, caller);
  },
};
