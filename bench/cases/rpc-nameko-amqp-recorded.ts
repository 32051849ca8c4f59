/**
 * (6c) Case 6b while `cliffracer record` records the service: RabbitMQ's firehose tracer on for the
 * vhost and a recorder consuming the trace queue (docs/cassettes.md, What the firehose costs).
 * Compared with 6b, it is the price of recording on the broker.
 */
import { measureRpc, type BenchCase } from "../lib/case";

export const namekoAmqpRecorded: BenchCase = {
  id: "rpc.nameko-amqp-recorded",
  title: "(6c) Nameko protocol while recorded (firehose)",
  kind: "rpc",
  floor: "rpc.nameko-amqp",
  limits:
    "RabbitMQ: every publish is also published to amq.rabbitmq.trace (body and properties copied) and " +
    "delivered to the recorder's queue, requests and replies alike; the recorder itself assembles calls.",
  needs: ["sidebyside/index:record"],
  async run(ctx) {
    const service = `bench_amqp_recorded_${ctx.token}`;
    const [, , caller] = await ctx.spawnAll([
      ["recorder", "recorder", { service }],
      ["echo service", "nameko-amqp-echo", { service }],
      ["caller", "nameko-amqp-caller", { service }],
    ]);
    return measureRpc(ctx, caller);
  },
};
