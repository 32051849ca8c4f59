/**
 * A runtime service with one SERVICE_POOL @eventHandler for the bench's events; each payload is
 * checked and timed by the collector. Runs under its own subject prefix, so its events stream is
 * the bench's alone; the stream is deleted on stop.
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
  runner.addService(handlerServiceClass(String(options.name), String(options.source), collector));
  await runner.start();
  return {
    handle: (command, arg) => collector.handle(command, arg),
    async stop() {
      await runner.stop();
      await deleteEventsStream(prefix);
    },
  };
};
