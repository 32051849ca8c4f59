/**
 * A runtime service with one SERVICE_POOL @eventHandler for the bench's events; each payload is
 * checked and timed by the collector. Runs under its own subject prefix, so its events stream is
 * the bench's alone; the stream is deleted on stop. With `services` and `handlers`, hosts that many
 * services of that many handlers each, every handler bound to an event type of its own
 * (scaleEventType: handler j of service i takes type i * handlers + j), all feeding one collector.
 */
import { connect } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { eventHandler, HandlerType, ServiceRunner } from "cliffracer";
import { eventsStreamName } from "../../compat/naming";
import { NATS_URL } from "../lib/env";
import { EventCollector } from "../lib/load";
import type { StartRole } from "../lib/role";
import { benchConfig } from "./runtime-service";

/** The event type every bench event case uses. */
export const BENCH_EVENT_TYPE = "bench_event";

/** The event type of binding `index` of a scale case (runtime-event-dispatcher spreads its events over them). */
export function scaleEventType(index: number): string {
  return `${BENCH_EVENT_TYPE}_${index}`;
}

/** A service of `handlers` @eventHandler methods, bound to the scale event types from `firstType` on. */
function scaleHandlerServiceClass(
  name: string,
  source: string,
  firstType: number,
  handlers: number,
  collector: EventCollector,
) {
  class BenchScaleHandlerService {
    name = name;
  }
  const proto = BenchScaleHandlerService.prototype as unknown as Record<string, unknown>;
  for (let j = 0; j < handlers; j++) {
    const method = `on_${j}`;
    proto[method] = async (payload: unknown): Promise<void> => collector.record(payload);
    // The decorator applied by hand: the methods are made in a loop.
    eventHandler(source, scaleEventType(firstType + j), { handlerType: HandlerType.SERVICE_POOL })(
      proto,
      method,
      Object.getOwnPropertyDescriptor(proto, method) as PropertyDescriptor,
    );
  }
  return BenchScaleHandlerService;
}

function handlerServiceClass(name: string, source: string, collector: EventCollector) {
  class BenchEventHandlerService {
    name = name;

    @eventHandler(source, BENCH_EVENT_TYPE, { handlerType: HandlerType.SERVICE_POOL })
    async onEvent(payload: unknown): Promise<void> {
      collector.record(payload);
    }
  }
  return BenchEventHandlerService;
}

/** Delete the events stream of a prefix (the bench's own). */
export async function deleteEventsStream(prefix: string): Promise<void> {
  const nc = await connect({ servers: NATS_URL });
  try {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.delete(eventsStreamName(prefix)).catch(() => false);
  } finally {
    await nc.close();
  }
}

export const start: StartRole = async (options) => {
  const prefix = String(options.prefix);
  const config = benchConfig();
  config.prefix = prefix;
  const collector = new EventCollector();
  const runner = new ServiceRunner(config);
  const name = String(options.name);
  const source = String(options.source);
  const services = options.services as number | undefined;
  const handlers = (options.handlers as number | undefined) ?? 1;
  if (services === undefined) runner.addService(handlerServiceClass(name, source, collector));
  else
    for (let i = 0; i < services; i++)
      runner.addService(scaleHandlerServiceClass(`${name}_${i}`, source, i * handlers, handlers, collector));
  await runner.start();
  return {
    handle: (command, arg) => collector.handle(command, arg),
    async stop() {
      await runner.stop();
      await deleteEventsStream(prefix);
    },
  };
};
