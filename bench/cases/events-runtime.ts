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
    "Handler service: the pull loop acks each event with its own socket write (about 1.5 writes/event against 0.09 for the " +
    "floor's consumer) and pulls in batches of max_workers (10). Dispatcher: js.publish() goes through nats.js request() and " +
    "its per-request RequestError (about 20% of its busy time); a worker per event.",
  needs: RUNTIME_EVENTS_NEEDS,
  async run(ctx) {
    const prefix = `bench_${ctx.token}`;
    const source = `bench_source_${ctx.token}`;
    const consumer = await ctx.spawn("handler service", "runtime-event-handler", { prefix, source, name: `bench_handler_${ctx.token}` });
    const publisher = await ctx.spawn("dispatcher service", "runtime-event-dispatcher", { prefix, source });
    return measureEvents(ctx, publisher, consumer);
  },
};
