/**
 * The bridge in its own process, configured as `cliffracer bridge --nats-service A --amqp-service B`
 * would be (no discovery, no ops HTTP server), ready once every route and event path is set up.
 * `name` tells two bridges of one case apart (default "bench").
 */
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { createBridge } from "../../bridge/bridge";
import { bridgeConfigFromObject } from "../../bridge/config";
import { AMQP_URI, NATS_URL, WRITE_BATCHING } from "../lib/env";
import type { StartRole } from "../lib/role";

const READY_TIMEOUT_MS = 30_000;

export const start: StartRole = async (options) => {
  const natsServices = (options.natsServices as string[] | undefined) ?? [];
  const amqpServices = (options.amqpServices as string[] | undefined) ?? [];
  const raw: Record<string, unknown> = {
    BRIDGE: {
      http_port: null,
      name: String(options.name ?? "bench"),
      DISCOVERY: { enabled: false },
      amqp_write_batching: WRITE_BATCHING,
    },
    NATS_OPTIONS: { write_batching: WRITE_BATCHING },
    ...(options.prefix ? { NATS_PREFIX: String(options.prefix) } : {}),
  };
  const config = bridgeConfigFromObject(raw, {
    amqpUri: AMQP_URI,
    natsUrl: NATS_URL,
    natsService: natsServices,
    amqpService: amqpServices,
  });
  // The record of handed-over requests (docs/at-most-once.md): a bucket of the run's own, removed at stop.
  config.atMostOnce.enabled = options.atMostOnce !== false;
  if (options.bucket) config.atMostOnce.bucket = String(options.bucket);
  if (options.storage === "memory") config.atMostOnce.storage = "memory";
  if (typeof options.maxReplyBytes === "number") config.atMostOnce.maxReplyBytes = options.maxReplyBytes;
  const bridge = createBridge(config);
  await bridge.start();
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!bridge.ready()) {
    if (Date.now() > deadline)
      throw new Error(`bridge not ready within ${READY_TIMEOUT_MS} ms: ${JSON.stringify(bridge.status())}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return {
    handle: (command) => Promise.reject(new Error(`unknown command ${command}`)),
    stop: async () => {
      await bridge.stop();
      if (!config.atMostOnce.enabled || !options.bucket) return;
      const nc = await connect({ servers: NATS_URL });
      await (await jetstreamManager(nc)).streams.delete(`KV_${config.atMostOnce.bucket}`).catch(() => undefined);
      await nc.close();
    },
  };
};
