/** (6) Raw amqplib RPC over RabbitMQ, the floor of the AMQP (bridge) RPC cases. */
import { measureRpc, type BenchCase } from "../lib/case";
import { DEFAULT_BODY_BYTES } from "../lib/payload";

export const amqpFloor: BenchCase = {
  id: "rpc.amqp-floor",
  title: "(6) raw amqplib RPC (AMQP floor)",
  kind: "rpc",
  payloadBytes: DEFAULT_BODY_BYTES,
  limits:
    "RabbitMQ (Erlang, one queue process) is the bottleneck; direct reply-to, no confirms, transient messages, " +
    "server prefetch 256 with manual acks; noDelay on every socket.",
  needs: [],
  async run(ctx) {
    const queue = `bench-${ctx.token}-rpc`;
    const [, caller] = await ctx.spawnAll([
      ["echo server", "amqp-echo", { queue }],
      ["caller", "amqp-caller", { queue, bodyBytes: ctx.bodyBytes }],
    ]);
    return measureRpc(ctx, caller);
  },
};
