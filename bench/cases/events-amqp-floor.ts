/** amqplib confirmed publish -> consumer: the floor of the bridge's event directions. */
import { measureEvents, type BenchCase } from "../lib/case";

export const amqpEventsFloor: BenchCase = {
  id: "events.amqp-floor",
  title: "amqplib confirmed publish -> consumer (floor)",
  kind: "events",
  limits:
    "RabbitMQ persisting each message (delivery_mode 2, durable queue) before it confirms; manual ack per event, prefetch 256.",
  needs: [],
  async run(ctx) {
    const exchange = `bench_${ctx.token}.events`;
    const queue = `bench-${ctx.token}-events`;
    const routingKey = "bench_event";
    const consumer = await ctx.spawn("consumer", "amqp-event-consumer", { exchange, queue, routingKey });
    const publisher = await ctx.spawn("publisher", "amqp-event-publisher", { exchange, routingKey });
    return measureEvents(ctx, publisher, consumer);
  },
};
