/**
 * (6b) The Nameko protocol over RabbitMQ with amqplib at both ends (a reference, no code of ours):
 * what Nameko's wire rules (confirms, mandatory, durable reply queue, ack after confirmed reply)
 * cost on RabbitMQ before any Python runs. The bridge's AMQP legs follow the same rules.
 */
import { measureRpc, type BenchCase } from "../lib/case";

export const namekoAmqp: BenchCase = {
  id: "rpc.nameko-amqp",
  title: "(6b) Nameko protocol, amqplib both ends",
  kind: "rpc",
  floor: "rpc.amqp-floor",
  limits:
    "RabbitMQ: publisher confirms on request and reply, persistent messages, topic exchange routing, " +
    "manual acks on both queues; the peers are trivial.",
  needs: [],
  async run(ctx) {
    const service = `bench_amqp_echo_${ctx.token}`;
    const [, caller] = await ctx.spawnAll([
      ["echo service", "nameko-amqp-echo", { service }],
      ["caller", "nameko-amqp-caller", { service }],
    ]);
    return measureRpc(ctx, caller);
  },
};
