import { connect, type ConnectionOptions, type NatsConnection, type Status } from "@nats-io/transport-node";
import type { RuntimeConfig } from "../config/defaults";
import { rootLogger } from "../logging";
import { batchNatsWrites } from "./write-batching";
import { type Logger, maskUrlCredentials } from "../../compat";

/** Connection options from the runtime config (servers from natsUrl, comma-separated allowed). */
export function natsOptions(config: Pick<RuntimeConfig, "natsUrl" | "nats">, name?: string): ConnectionOptions {
  const { noAsyncTraces, user, pass, token } = config.nats;
  return {
    servers: config.natsUrl
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s !== ""),
    name: config.nats.name ?? name,
    noAsyncTraces,
    // A service should outlive a broker restart: keep reconnecting instead of giving up after 10 tries.
    maxReconnectAttempts: -1,
    ...(user !== undefined ? { user } : {}),
    ...(pass !== undefined ? { pass } : {}),
    ...(token !== undefined ? { token } : {}),
  };
}

/** Turn the connection's status stream into log lines, in this one place. */
async function logStatus(nc: NatsConnection, log: Logger): Promise<void> {
  for await (const s of nc.status()) logNatsStatus(s, log);
}

/** One NATS status change as a log line; the bridge uses it too, beside its own state changes. */
export function logNatsStatus(s: Status, log: Logger): void {
  switch (s.type) {
    case "disconnect":
      log.warn("nats disconnected", { server: maskUrlCredentials(s.server) });
      break;
    case "reconnect":
      log.info("nats reconnected", { server: maskUrlCredentials(s.server) });
      break;
    case "error":
      log.error("nats error", { error: s.error.message });
      break;
    case "slowConsumer":
      log.warn("nats slow consumer", { subject: s.sub.getSubject(), pending: s.pending });
      break;
    case "ldm":
      log.warn("nats server entering lame duck mode");
      break;
    case "staleConnection":
      log.warn("nats connection stale");
      break;
    default:
      log.debug("nats status", { status: s.type });
  }
}

/**
 * Connect to NATS as configured; status changes are logged on `log`. Unless the config turns it
 * off (`NATS_OPTIONS.write_batching`), the connection's writes are batched per event-loop turn
 * (docs/write-batching.md).
 */
export async function connectNats(
  config: Pick<RuntimeConfig, "natsUrl" | "nats">,
  options: { name?: string; log?: Logger } = {},
): Promise<NatsConnection> {
  const log = options.log ?? rootLogger;
  const nc = await connect(natsOptions(config, options.name));
  if (config.nats.writeBatching) batchNatsWrites(nc, log);
  logStatus(nc, log).catch(() => undefined);
  log.debug("nats connected", { server: maskUrlCredentials(nc.getServer()) });
  return nc;
}

/** Drain a connection (flushes pending replies and publishes), tolerating one already closed. */
export async function drainNats(nc: NatsConnection): Promise<void> {
  if (nc.isClosed()) return;
  try {
    await nc.drain();
  } catch {
    // Draining twice or draining a connection that dropped meanwhile is not an error at stop.
    if (!nc.isClosed()) await nc.close();
  }
}
