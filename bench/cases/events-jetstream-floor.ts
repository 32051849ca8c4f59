/** JetStream publish+ack -> durable consumer: the floor of the runtime's events. */
import { measureEvents, type BenchCase } from "../lib/case";

export const jetstreamFloor: BenchCase = {
  id: "events.jetstream-floor",
  title: "JetStream publish+ack -> durable consumer (floor)",
  kind: "events",
  limits:
    "nats-server's file-backed stream (one write per publish, acked to the publisher) and the pull " +
    "consumer's explicit ack per event; publisher, consumer and nats-server share 2 cores.",
  needs: [],
  async run(ctx) {
    const stream = `BENCH_${ctx.token.toUpperCase()}`;
    const subject = `bench.${ctx.token}.js.event`;
    const consumer = await ctx.spawn("consumer", "js-consumer", { stream, subject });
    const publisher = await ctx.spawn("publisher", "js-publisher", { stream, subject });
    return measureEvents(ctx, publisher, consumer);
  },
};
