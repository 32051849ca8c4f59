/** Every runtime default, named, in one place. */
import { DEFAULT_PARENT_CALLS_TRACKED } from "../../compat";

/** NATS server used when neither config nor NATS_URL name one. */
export const DEFAULT_NATS_URL = "nats://127.0.0.1:4222";
/** Subject prefix: none, so subjects are exactly `rpc.<service>.<method>` (docs/nats-contract.md, Subjects). */
export const DEFAULT_PREFIX = "";
/** Nameko's `max_workers` default (docs/nameko-wire.md, Configuration keys). */
export const DEFAULT_MAX_WORKERS = 10;
/** Timeout of a call made through a proxy or the CLI, in milliseconds. */
export const DEFAULT_RPC_TIMEOUT_MS = 30_000;
/** How long a graceful stop waits for in-flight workers before giving up, in milliseconds. */
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 30_000;
/** How long the events stream keeps a message (seconds): a week, like a long-lived Nameko queue backlog. */
export const DEFAULT_EVENTS_MAX_AGE_SECONDS = 7 * 24 * 3600;
/** Events are kept on disk, like Nameko's durable queues with persistent messages. */
export const DEFAULT_EVENTS_STORAGE = "file";
/** One replica: a single server, as the tests and the demo run. */
export const DEFAULT_EVENTS_REPLICAS = 1;
/** JetStream redelivers an event unacked this long (seconds); running handlers keep it alive. */
export const DEFAULT_EVENTS_ACK_WAIT_SECONDS = 30;
/** Unacked events per consumer across all instances of a service. */
export const DEFAULT_EVENTS_MAX_ACK_PENDING = 1000;
/**
 * Delay (seconds) before a failed requeueOnError event comes back. Nameko redelivers at once, which
 * loops hot on a handler that always fails; a tenth of a second keeps every redelivery without that.
 */
export const DEFAULT_EVENTS_REQUEUE_DELAY_SECONDS = 0.1;
/** How long an unused reliableDelivery=false consumer survives a crashed service (seconds). */
export const DEFAULT_EVENTS_UNRELIABLE_INACTIVE_SECONDS = 30;
/**
 * nats.js builds a stack trace for every request "in case" it fails; that cost a third of the
 * client's time in the bench (BENCHMARKS.md, Profiles), so it is off unless asked for.
 */
export const DEFAULT_NO_ASYNC_TRACES = true;
/**
 * The runtime's NATS connections write what they send in one event-loop turn in one system call
 * (docs/write-batching.md).
 */
export const DEFAULT_NATS_WRITE_BATCHING = true;
/** Nameko's `WEB_SERVER_ADDRESS` default: where the shared @http server listens. */
export const DEFAULT_WEB_SERVER_ADDRESS = "0.0.0.0:8000";
/**
 * How long an unread large body stays in the object store (seconds). A body is deleted as soon as
 * it is read; this only bounds what a caller that timed out or crashed leaves behind.
 */
export const DEFAULT_LARGE_BODIES_TTL_SECONDS = 600;
/** Version reported to the NATS services protocol when a service declares none. */
export const DEFAULT_SERVICE_VERSION = "0.0.0";

/** Settings of the JetStream events transport (docs/nats-contract.md, Events on JetStream). */
export interface EventsConfig {
  /** Stream name; default derived from the prefix by compat/naming eventsStreamName. */
  streamName?: string;
  maxAgeSeconds: number;
  /** Where the stream keeps events: "file" survives a server restart, "memory" does not. */
  storage: "file" | "memory";
  /** Stream replicas in a cluster. */
  replicas: number;
  /** Seconds an event may stay unacked before JetStream redelivers it; running handlers extend it. */
  ackWaitSeconds: number;
  /** Cap on unacked events per consumer, shared by all instances of a service (never below max_workers). */
  maxAckPending: number;
  /** Delay before an event whose handler failed with requeueOnError is redelivered (0 = at once, like Nameko). */
  requeueDelaySeconds: number;
  /** Seconds after which the server removes an unused consumer of a reliableDelivery=false handler. */
  unreliableInactiveSeconds: number;
}

/** Bodies over the server's max_payload, carried through a JetStream object store (docs/large-payloads.md). */
export interface LargeBodiesConfig {
  /** Carry RPC requests and replies over max_payload through the store; when false they get PayloadTooLarge. */
  enabled: boolean;
  /** Bucket name; default derived from the prefix by compat/naming largeBodiesBucketName. */
  bucket?: string;
  /** Seconds an unread body is kept. */
  ttlSeconds: number;
  /** "file" (default) or "memory" (faster, held in the server's memory). */
  storage: "file" | "memory";
}

/** Options handed to the NATS client. */
export interface NatsConfig {
  /** Skip per-request async stack traces (see DEFAULT_NO_ASYNC_TRACES). */
  noAsyncTraces: boolean;
  /** Batch this connection's socket writes per event-loop turn (see DEFAULT_NATS_WRITE_BATCHING). */
  writeBatching: boolean;
  /** Connection name shown by `nats server report connections`. */
  name?: string;
  user?: string;
  pass?: string;
  token?: string;
  /** TLS to the server (docs/security.md, NATS). */
  tls?: NatsTlsConfig;
  /** A `.creds` file (user JWT and nkey seed), as `nats` and nsc write it. */
  credsFile?: string;
  /** A file holding an nkey seed (`SU...`), for nkey authentication. */
  nkeyFile?: string;
}

/** TLS settings of the NATS connection; file paths, read when connecting. */
export interface NatsTlsConfig {
  /** PEM file of the CA(s) the server's certificate must chain to; default: the system's CAs. */
  caFile?: string;
  /** PEM client certificate, for a server that verifies clients (`verify: true`). */
  certFile?: string;
  /** PEM private key of the client certificate. */
  keyFile?: string;
  /** Start TLS before the server's INFO (nats-server `handshake_first`, 2.10.4 and later). */
  handshakeFirst?: boolean;
}

/** The typed, validated runtime configuration. */
export interface RuntimeConfig {
  natsUrl: string;
  prefix: string;
  /**
   * `NATS_RPC_INTAKE_PREFIX`: the prefix of the subjects and queue group the service's RPC methods are
   * served under (and of its `$SRV` endpoints); its own calls and events keep `prefix`. Unset: `prefix`
   * (optional, so a config built by spreading another with a new `prefix` keeps serving under it).
   * A port cut over by the bridge serves under a private one (docs/routing.md, The shape: the bridge in front of both).
   */
  rpcIntakePrefix?: string;
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
  largeBodies: LargeBodiesConfig;
  /** Nameko's `WEB_SERVER_ADDRESS` (`[host:]port`) of the @http server. */
  webServerAddress: string;
  /**
   * `METRICS_ADDRESS` (`[host:]port`): where `cliffracer run` serves /metrics, /health and /ready
   * (docs/metrics.md). Unset (the default): not served.
   */
  metricsAddress?: string;
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
    nats: { noAsyncTraces: DEFAULT_NO_ASYNC_TRACES, writeBatching: DEFAULT_NATS_WRITE_BATCHING },
    events: {
      maxAgeSeconds: DEFAULT_EVENTS_MAX_AGE_SECONDS,
      storage: DEFAULT_EVENTS_STORAGE,
      replicas: DEFAULT_EVENTS_REPLICAS,
      ackWaitSeconds: DEFAULT_EVENTS_ACK_WAIT_SECONDS,
      maxAckPending: DEFAULT_EVENTS_MAX_ACK_PENDING,
      requeueDelaySeconds: DEFAULT_EVENTS_REQUEUE_DELAY_SECONDS,
      unreliableInactiveSeconds: DEFAULT_EVENTS_UNRELIABLE_INACTIVE_SECONDS,
    },
    largeBodies: { enabled: true, ttlSeconds: DEFAULT_LARGE_BODIES_TTL_SECONDS, storage: "file" },
    webServerAddress: DEFAULT_WEB_SERVER_ADDRESS,
    raw: {},
  };
}

/** The prefix a service's RPC methods are served under: `NATS_RPC_INTAKE_PREFIX`, else `NATS_PREFIX`. */
export function rpcIntakePrefixOf(config: Pick<RuntimeConfig, "prefix" | "rpcIntakePrefix">): string {
  return config.rpcIntakePrefix ?? config.prefix;
}
