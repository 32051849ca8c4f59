/** Runtime dispatch (@EventDispatcher in a service) -> runtime SERVICE_POOL @eventHandler, two processes. */
import { measureEvents, type BenchCase } from "../lib/case";
import { RUNTIME_SERVICE_NEEDS } from "./rpc-runtime-client";

/** What the runtime event roles run on. */
export const RUNTIME_EVENTS_NEEDS = [
  ...RUNTIME_SERVICE_NEEDS,
  "src/index:eventHandler",
  "src/index:HandlerType",
  "src/index:EventDispatcher",
  "compat/naming:eventsStreamName",
];

export const runtimeEvents: BenchCase = {
  id: "events.runtime",
  title: "runtime dispatch -> runtime handler (SERVICE_POOL)",
  kind: "events",
  floor: "events.jetstream-floor",
  limits:
    "nats-server (the stream write, the PubAck, pull requests every half window at max_workers 10, and acks) is the " +
    "largest cost, on the same 2 cores; the handler's acks and pulls of a turn leave in one write (0.15 writes/event, " +
    "socket corked per turn); the dispatcher publishes through the reply mux, a worker per event.",
  needs: RUNTIME_EVENTS_NEEDS,
  async run(ctx) {
    const prefix = `bench_${ctx.token}`;
    const source = `bench_source_${ctx.token}`;
    const consumer = await ctx.spawn("handler service", "runtime-event-handler", {
      prefix,
      source,
      name: `bench_handler_${ctx.token}`,
    });
    const publisher = await ctx.spawn("dispatcher service", "runtime-event-dispatcher", { prefix, source });
    return measureEvents(ctx, publisher, consumer);
  },
};
