/**
 * Runtime event dispatch from inside a service: this process runs service `<source>` with an
 * @EventDispatcher; each bench operation is one worker that dispatches one event and returns once
 * the stream stored it (spawnWorker, as in runtime-proxy-caller). max_workers 256, so the in-flight
 * level is what the bench sets. With `deleteStream` it deletes its prefix's events stream on stop
 * (when no runtime handler in the case does). With `types`, event i has type scaleEventType(i mod types).
 */
import { EventDispatcher, rpc, ServiceRunner, type Dispatch } from "cliffracer";
import { loadRole } from "../lib/load";
import { eventObject } from "../lib/payload";
import type { StartRole } from "../lib/role";
import { BENCH_EVENT_TYPE, deleteEventsStream, scaleEventType } from "./runtime-event-handler";
import { benchConfig } from "./runtime-service";

function dispatcherServiceClass(name: string) {
  class BenchDispatcherService {
    name = name;

    @EventDispatcher()
    dispatch!: Dispatch;

    @rpc()
    async emit(payload: unknown, eventType: string = BENCH_EVENT_TYPE): Promise<void> {
      await this.dispatch(eventType, payload);
    }
  }
  return BenchDispatcherService;
}

export const start: StartRole = async (options) => {
  const config = benchConfig(256);
  config.prefix = String(options.prefix);
  const runner = new ServiceRunner(config);
  const container = runner.addService(dispatcherServiceClass(String(options.source)));
  await runner.start();
  const emit = container.entrypoints.find((e) => e.methodName === "emit");
  if (!emit) throw new Error("emit entrypoint missing");
  const types = options.types as number | undefined;
  const typeNames =
    types === undefined ? [BENCH_EVENT_TYPE] : Array.from({ length: types }, (_, i) => scaleEventType(i));
  return loadRole(
    async (seq, phase) => {
      const args = [eventObject(phase, seq), typeNames[seq % typeNames.length]];
      const outcome = await container.spawnWorker(emit, args, { data: {}, parentStack: [] });
      if (!outcome.ok) throw outcome.error;
    },
    async () => {
      await runner.stop();
      if (options.deleteStream) await deleteEventsStream(config.prefix);
    },
  );
};
