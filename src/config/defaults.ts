/** Every runtime default in one place (STYLE.md §2.10). */

/** NATS server used when neither config nor NATS_URL name one. */
export const DEFAULT_NATS_URL = "nats://127.0.0.1:4222";
/** Subject prefix: none, so subjects are exactly DESIGN.md's `rpc.<service>.<method>`. */
export const DEFAULT_PREFIX = "";
/** Nameko's `max_workers` default (NAMEKO_PROTOCOL.md §9.3). */
export const DEFAULT_MAX_WORKERS = 10;
/** Nameko's `parent_calls_tracked` default (NAMEKO_PROTOCOL.md §8.3). */
export const DEFAULT_PARENT_CALLS_TRACKED = 10;
/** Timeout of a call made through a proxy or the CLI, in milliseconds. */
export const DEFAULT_RPC_TIMEOUT_MS = 30_000;
/** How long a graceful stop waits for in-flight workers before giving up, in milliseconds. */
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 30_000;
/** How long the events stream keeps a message (seconds): a week, like a long-lived Nameko queue backlog. */
export const DEFAULT_EVENTS_MAX_AGE_SECONDS = 7 * 24 * 3600;
/**
 * nats.js builds a stack trace for every request "in case" it fails; that cost a third of the
 * client's time in the bench (DESIGN.md, performance targets), so it is off unless asked for.
 */
export const DEFAULT_NO_ASYNC_TRACES = true;
/** Version reported to the NATS services protocol when a service declares none. */
export const DEFAULT_SERVICE_VERSION = "0.0.0";

/** Settings of the JetStream events transport (workstream E adds fields here). */
export interface EventsConfig {
  /** Stream name; default derived from the prefix by compat/naming eventsStreamName. */
  streamName?: string;
  maxAgeSeconds: number;
}

/** Options handed to the NATS client. */
export interface NatsConfig {
  /** Skip per-request async stack traces (see DEFAULT_NO_ASYNC_TRACES). */
  noAsyncTraces: boolean;
  /** Connection name shown by `nats server report connections`. */
  name?: string;
  user?: string;
  pass?: string;
  token?: string;
}

/** The typed, validated runtime configuration. */
export interface RuntimeConfig {
  natsUrl: string;
  prefix: string;
  /** Nameko's `max_workers`: concurrent workers per container. */
  maxWorkers: number;
  /** Nameko's `parent_calls_tracked`. */
  parentCallsTracked: number;
  /** Default timeout of outgoing RPC calls, in milliseconds. */
  rpcTimeoutMs: number;
  /** Upper bound on waiting for in-flight workers at graceful stop, in milliseconds. */
  shutdownTimeoutMs: number;
  /** Announce services with the NATS services protocol ($SRV.*). */
  announce: boolean;
  nats: NatsConfig;
  events: EventsConfig;
  /** The whole loaded file after substitution, for user keys (Nameko's `config` dict). */
  raw: Record<string, unknown>;
}

/** A complete configuration made of defaults only. */
export function defaultConfig(): RuntimeConfig {
  return {
    natsUrl: DEFAULT_NATS_URL,
    prefix: DEFAULT_PREFIX,
    maxWorkers: DEFAULT_MAX_WORKERS,
    parentCallsTracked: DEFAULT_PARENT_CALLS_TRACKED,
    rpcTimeoutMs: DEFAULT_RPC_TIMEOUT_MS,
    shutdownTimeoutMs: DEFAULT_SHUTDOWN_TIMEOUT_MS,
    announce: true,
    nats: { noAsyncTraces: DEFAULT_NO_ASYNC_TRACES },
    events: { maxAgeSeconds: DEFAULT_EVENTS_MAX_AGE_SECONDS },
    raw: {},
  };
}
