/**
 * AMQP -> JetStream through a minimal relay in plain amqplib and nats.js (a reference, no code of
 * ours), like (6b) for RPC: what carrying a RabbitMQ event into JetStream with an ack on each side
 * costs the two brokers before any bridge logic runs. The bridge's AMQP -> NATS path does this
 * plus header translation, the loop guard, validation and metrics.
 */
import { measureEvents, type BenchCase } from "../lib/case";

export const relayReference: BenchCase = {
  id: "events.relay-reference",
  title: "AMQP publish -> plain relay -> JetStream consumer (reference)",
  kind: "events",
  floor: "events.amqp-floor",
  limits:
    "Both brokers on 2 cores: RabbitMQ's confirmed persistent publish, delivery and ack, then JetStream's store, " +
    "PubAck, delivery and ack; the relay and the consumer are trivial.",
  needs: [],
  async run(ctx) {
    const source = `bench_relay_source_${ctx.token}`;
    const stream = `BENCH_RELAY_${ctx.token.toUpperCase()}`;
    const subject = `bench.${ctx.token}.relay.event`;
    const consumer = await ctx.spawn("consumer", "js-consumer", { stream, subject });
    await ctx.spawn("relay", "amqp-js-relay", { exchange: `${source}.events`, queue: `bench-relay-${ctx.token}`, subject });
    const publisher = await ctx.spawn("AMQP publisher", "amqp-event-publisher", {
      exchange: `${source}.events`,
      routingKey: "bench_event",
      declare: true,
    });
    return measureEvents(ctx, publisher, consumer);
  },
};
