/**
 * Events through a minimal relay in plain amqplib and nats.js, each way (references, no code of
 * ours), like (6b) for RPC: what carrying an event from one broker to the other with an ack on
 * each side costs the two brokers before any bridge logic runs. The bridge does this plus header
 * translation, the loop guard, validation and metrics.
 */
import { measureEvents, type BenchCase } from "../lib/case";

export const relayAmqpToJetStream: BenchCase = {
  id: "events.relay-amqp-to-nats",
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
    await ctx.spawn("relay", "amqp-js-relay", {
      exchange: `${source}.events`,
      queue: `bench-relay-${ctx.token}`,
      subject,
    });
    const publisher = await ctx.spawn("AMQP publisher", "amqp-event-publisher", {
      exchange: `${source}.events`,
      routingKey: "bench_event",
      declare: true,
    });
    return measureEvents(ctx, publisher, consumer);
  },
};

export const relayJetStreamToAmqp: BenchCase = {
  id: "events.relay-nats-to-amqp",
  title: "JetStream publish -> plain relay -> AMQP consumer (reference)",
  kind: "events",
  floor: "events.amqp-floor",
  limits:
    "Both brokers on 2 cores: JetStream's store, PubAck, delivery and ack, then RabbitMQ's confirmed persistent publish, " +
    "delivery and ack; the relay holds 128 events at once, the publisher and consumer are the floors'.",
  needs: [],
  async run(ctx) {
    const source = `bench_relay_source_${ctx.token}`;
    const stream = `BENCH_RELAY_${ctx.token.toUpperCase()}`;
    const subject = `bench.${ctx.token}.relay.event`;
    const consumer = await ctx.spawn("AMQP consumer", "amqp-event-consumer", {
      exchange: `${source}.events`,
      queue: `bench-relay-${ctx.token}`,
      routingKey: "bench_event",
    });
    await ctx.spawn("relay", "js-amqp-relay", {
      stream,
      subject,
      exchange: `${source}.events`,
      routingKey: "bench_event",
    });
    const publisher = await ctx.spawn("publisher", "js-publisher", { stream, subject });
    return measureEvents(ctx, publisher, consumer);
  },
};
