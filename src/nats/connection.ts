import { readFileSync } from "node:fs";
import {
  type Authenticator,
  connect,
  type ConnectionOptions,
  credsAuthenticator,
  nkeyAuthenticator,
  type NatsConnection,
  type Status,
  type TlsOptions,
} from "@nats-io/transport-node";
import type { NatsConfig, RuntimeConfig } from "../config/defaults";
import { rootLogger } from "../logging";
import { batchNatsWrites } from "./write-batching";
import {
  ConfigurationError,
  ConnectionFailed,
  describeError,
  type Logger,
  maskUrlCredentials,
  tlsFailureReason,
} from "../../compat";

/** Connection options from the runtime config (servers from natsUrl, comma-separated allowed). */
export function natsOptions(config: Pick<RuntimeConfig, "natsUrl" | "nats">, name?: string): ConnectionOptions {
  const { noAsyncTraces, user, pass, token } = config.nats;
  const tls = tlsOptions(config.nats);
  const authenticator = authenticators(config.nats);
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
    ...(tls !== undefined ? { tls } : {}),
    ...(authenticator.length > 0 ? { authenticator } : {}),
  };
}

/**
 * A file named by the config, read now so a wrong path fails at start-up naming its key.
 * The contents go to the client only, never to a log.
 */
function readConfigured(path: string, key: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    throw new ConfigurationError(`Cannot read ${key} ${path}: ${describeError(err)}`);
  }
}

/** nats.js TLS options with the PEM contents in, or undefined when no TLS option is configured. */
function tlsOptions(nats: NatsConfig): TlsOptions | undefined {
  const t = nats.tls;
  if (!t) return undefined;
  return {
    ...(t.caFile !== undefined ? { ca: readConfigured(t.caFile, "NATS_OPTIONS.tls.ca_file") } : {}),
    ...(t.certFile !== undefined ? { cert: readConfigured(t.certFile, "NATS_OPTIONS.tls.cert_file") } : {}),
    ...(t.keyFile !== undefined ? { key: readConfigured(t.keyFile, "NATS_OPTIONS.tls.key_file") } : {}),
    ...(t.handshakeFirst !== undefined ? { handshakeFirst: t.handshakeFirst } : {}),
  };
}

/** Creds-file and nkey authenticators (user/pass/token are plain options nats.js turns into its own). */
function authenticators(nats: NatsConfig): Authenticator[] {
  const out: Authenticator[] = [];
  const encode = (text: string): Uint8Array => new TextEncoder().encode(text.trim());
  if (nats.credsFile !== undefined)
    out.push(credsAuthenticator(encode(readConfigured(nats.credsFile, "NATS_OPTIONS.creds_file"))));
  if (nats.nkeyFile !== undefined)
    out.push(nkeyAuthenticator(encode(readConfigured(nats.nkeyFile, "NATS_OPTIONS.nkey_file"))));
  return out;
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
 * (docs/write-batching.md). A failed first connection rejects with ConnectionFailed.
 */
export async function connectNats(
  config: Pick<RuntimeConfig, "natsUrl" | "nats">,
  options: { name?: string; log?: Logger } = {},
): Promise<NatsConnection> {
  const log = options.log ?? rootLogger;
  const nc = await dialNats(natsOptions(config, options.name), { log });
  if (config.nats.writeBatching) batchNatsWrites(nc, log);
  logStatus(nc, log).catch(() => undefined);
  log.debug("nats connected", { server: maskUrlCredentials(nc.getServer()) });
  return nc;
}

/** How {@link dialNats} treats a server that cannot be reached yet. */
export interface DialNatsOptions {
  log: Logger;
  /**
   * Keep trying while the server is unreachable (the bridge waits for a broker that starts after
   * it). A certificate, TLS or authorization failure still rejects at once: no retry fixes it.
   */
  waitForServer?: boolean;
  /** Stops the waiting; the promise then rejects with the last failure. */
  signal?: AbortSignal;
}

const WAIT_MIN_MS = 250;
const WAIT_MAX_MS = 5_000;

/**
 * nats.js `connect` whose first-connection failure is a ConnectionFailed naming the server(s) and
 * the reason (docs/security.md, Failures at start-up). nats.js's own `waitOnFirstConnect` would
 * retry a wrong certificate forever and silently, so waiting is done here, for failures a retry
 * can fix only.
 */
export async function dialNats(opts: ConnectionOptions, options: DialNatsOptions): Promise<NatsConnection> {
  const servers = [opts.servers ?? []].flat().map(maskUrlCredentials).join(",") || "(default server)";
  for (let attempt = 1, delay = WAIT_MIN_MS; ; attempt++, delay = Math.min(delay * 2, WAIT_MAX_MS)) {
    try {
      return await connect({ ...opts, waitOnFirstConnect: false });
    } catch (err) {
      const tls = tlsFailureReason(err);
      const fatal = tls !== undefined || isAuthorizationError(err);
      const failure = new ConnectionFailed("nats", servers, tls ?? describeError(err), { cause: err });
      if (fatal || !options.waitForServer || options.signal?.aborted) throw failure;
      // The first miss is worth a warning; later ones repeat it at debug level only.
      (attempt === 1 ? options.log.warn : options.log.debug).call(options.log, "nats not reachable yet; retrying", {
        server: servers,
        error: failure.reason,
        attempt,
      });
      await pause(delay, options.signal);
      if (options.signal?.aborted) throw failure;
    }
  }
}

/** nats.js's errors for a refused user, nkey or creds file. */
function isAuthorizationError(err: unknown): boolean {
  return err instanceof Error && (err.name === "AuthorizationError" || err.name === "UserAuthenticationExpiredError");
}

function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
  });
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
