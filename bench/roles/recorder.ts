/**
 * `cliffracer record` in its own process: the firehose of the bench's vhost switched on and a
 * private trace queue consumed (docs/cassettes.md, Recording from RabbitMQ), recording one service
 * into a temporary cassette until the role is stopped.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { record } from "../../sidebyside";
import { createLogger } from "../../src/index";
import { AMQP_URI } from "../lib/env";
import type { StartRole } from "../lib/role";

export const start: StartRole = async (options) => {
  const dir = mkdtempSync(join(tmpdir(), "bench-record-"));
  const stop = new AbortController();
  let listening = (): void => undefined;
  const started = new Promise<void>((resolve) => (listening = resolve));
  const recording = record({
    side: "amqp",
    services: [String(options.service)],
    out: join(dir, "bench.jsonl"),
    amqpUri: AMQP_URI,
    natsUrl: "",
    signal: stop.signal,
    onListening: () => listening(),
    log: createLogger({ level: "warn" }),
  });
  await Promise.race([started, recording]);
  return {
    handle: (command) => Promise.reject(new Error(`unknown command ${command}`)),
    async stop() {
      stop.abort();
      await recording;
      rmSync(dir, { recursive: true, force: true });
    },
  };
};
