/**
 * Hosts bench services on the runtime in their own process, as `cliffracer run` would: one
 * ServiceRunner, one NATS connection, default config (max_workers 10) unless told otherwise.
 * With `count`, hosts that many echo services, `<name>_0` to `<name>_<count-1>` (scaleNames).
 */
import { defaultConfig, rpc, ServiceRunner, type RuntimeConfig } from "cliffracer";
import { NATS_URL, WRITE_BATCHING } from "../lib/env";
import type { StartRole } from "../lib/role";

/** The echo service: `<name>.echo(payload)` returns its argument. Built per run for a unique name. */
export function echoServiceClass(name: string) {
  class BenchEchoService {
    name = name;

    @rpc()
    async echo(payload: string): Promise<string> {
      return payload;
    }
  }
  return BenchEchoService;
}

/** Runtime config for bench processes: defaults, the bench's NATS and write batching, optional max_workers. */
export function benchConfig(maxWorkers?: number): RuntimeConfig {
  const config = defaultConfig();
  config.natsUrl = NATS_URL;
  config.nats.writeBatching = WRITE_BATCHING;
  if (maxWorkers !== undefined) config.maxWorkers = maxWorkers;
  return config;
}

/** The names of `count` services of a scale case: `<base>_0` ... (the caller spreads its calls over them). */
export function scaleNames(base: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${base}_${i}`);
}

export const start: StartRole = async (options) => {
  const runner = new ServiceRunner(benchConfig(options.maxWorkers as number | undefined));
  const count = options.count as number | undefined;
  const names = count === undefined ? [String(options.name)] : scaleNames(String(options.name), count);
  for (const name of names) runner.addService(echoServiceClass(name));
  await runner.start();
  return {
    handle: (command) => Promise.reject(new Error(`unknown command ${command}`)),
    stop: () => runner.stop(),
  };
};
