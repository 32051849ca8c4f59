/**
 * The bridge's configuration: command-line flags over the YAML file over the environment
 * (`AMQP_URI`, `NATS_URL`, read as Nameko reads them) over defaults
 * (docs/bridge-contract.md, Command and configuration). The runtime part (NATS_URL, NATS_PREFIX,
 * NATS_OPTIONS, EVENTS, parent_calls_tracked) is read by the runtime's own loader, so a service and the
 * bridge can share one config file.
 */
import {
  ConfigurationError,
  handlerOfEventQueue,
  maskUrlCredentials,
  RPC_EXCHANGE,
  validateName,
  validatePrefix,
} from "../compat";
import { type AmqpSsl, amqpSslFromConfig, defaultManagementUrl, vhostOf } from "../amqp";
import type { RuntimeConfig } from "../src/internal";
import { configFromObject, readConfigFile } from "../src/internal";
import type { EventBridgeOptions } from "./events";
import { parseServiceRoutes, type ServiceRoutes } from "./routing/route-table";
// Type only: the shadow itself is loaded by the bridge when asked for (docs/architecture.md, Layers).
import type { ShadowConfig } from "../sidebyside/shadow";

/** Nameko's CLI default broker. */
export const DEFAULT_AMQP_URI = "amqp://guest:guest@localhost";
/** Unacked AMQP requests per bridged service: enough to keep a NATS service busy, bounded so a slow side pushes back. */
export const DEFAULT_BRIDGE_PREFETCH = 128;
/** Port of /health, /ready, /metrics. */
export const DEFAULT_BRIDGE_HTTP_PORT = 9400;
/** How often discovery looks for services on both sides. */
export const DEFAULT_DISCOVERY_INTERVAL_MS = 5_000;
/** How long one discovery round waits for `$SRV.INFO` answers. */
export const DEFAULT_DISCOVERY_NATS_WAIT_MS = 500;
/** Consecutive rounds a discovered service must be missing before the bridge stops serving it. */
export const DEFAULT_DISCOVERY_MISSES = 2;
/**
 * Reply subjects of the bridge's NATS requests start with this: a bridge that receives a request
 * whose reply subject has it knows the request came from a bridge and never sends it back to AMQP.
 * Shared by every bridge, so it works across bridge processes.
 */
export const DEFAULT_BRIDGE_INBOX_PREFIX = "_INBOX_CLIFFRACER_BRIDGE";
/**
 * RabbitMQ's `max_message_size` default from 3.8 to 3.13 (134217728 bytes; RabbitMQ 4.0 lowered its
 * default to 16 MiB): a larger publish closes the channel, so the bridge refuses it first with
 * PayloadTooLarge (docs/large-payloads.md).
 */
export const DEFAULT_AMQP_MAX_MESSAGE_BYTES = 128 * 1024 * 1024;
/** RabbitMQ shows this (plus the bridge's name) as the connection name; discovery ignores such consumers. */
export const BRIDGE_CONNECTION_NAME_PREFIX = "cliffracer-bridge";

/** How the bridge finds out which side each service lives on. */
export interface DiscoveryConfig {
  /** Default: on when no service is named by flags or config. */
  enabled: boolean;
  intervalMs: number;
  natsWaitMs: number;
  missesBeforeRemoval: number;
  /** RabbitMQ management API base URL; default `http://<amqp host>:15672` with the AMQP credentials. */
  managementUrl: string;
  /** Set false to skip the management API (AMQP services then come from flags/config only). */
  management: boolean;
}

/** Replies up to this size are kept in the record of handed-over requests. */
export const DEFAULT_AT_MOST_ONCE_MAX_REPLY_BYTES = 64 * 1024;
/** How much longer than the call timeout a record of a handed-over request is kept. */
export const DEFAULT_AT_MOST_ONCE_TTL_MARGIN_MS = 5 * 60_000;

/** The record of AMQP requests handed over to NATS (`BRIDGE.AT_MOST_ONCE`, docs/at-most-once.md). */
export interface AtMostOnceConfig {
  /** Default on; off, a request redelivered after a bridge crash is forwarded again (at least once). */
  enabled: boolean;
  /** The JetStream KV bucket; every bridge carrying the same services must use the same one. */
  bucket: string;
  /** Max age of a record in milliseconds; default the call timeout plus five minutes. */
  ttlMs: number;
  storage: "file" | "memory";
  replicas: number;
  maxReplyBytes: number;
}

/** The default bucket: one per subject prefix, so bridges of different prefixes never share records. */
export function defaultAtMostOnceBucket(prefix: string): string {
  return prefix === "" ? "cliffracer_bridge_calls" : `${prefix.replace(/[^A-Za-z0-9_-]/g, "_")}_bridge_calls`;
}

/** The subject prefix a shadowed service's port runs under when none is given (docs/shadow.md). */
export const DEFAULT_SHADOW_PREFIX = "shadow";
/** Share of the seen calls sent to the port. */
export const DEFAULT_SHADOW_RATE = 1;
export const DEFAULT_SHADOW_TIMEOUT_MS = 10_000;
export const DEFAULT_SHADOW_SETTLE_MS = 100;
/** Mismatches kept per method for /shadow. */
export const DEFAULT_SHADOW_KEEP = 20;
export const DEFAULT_SHADOW_MAX_IN_FLIGHT = 1_000;

/** The subject prefix a routed service's port serves its RPC methods under when none is given (docs/routing.md). */
export const DEFAULT_ROUTED_PORT_PREFIX = "port";
/** Revisions of each service's route table kept for rollback. */
export const DEFAULT_ROUTES_HISTORY = 20;

/** The default route-table bucket: one per subject prefix, as the at-most-once records. */
export function defaultRoutesBucket(prefix: string): string {
  return prefix === "" ? "CLIFFRACER_ROUTES" : `${prefix.replace(/[^A-Za-z0-9_-]/g, "_")}_CLIFFRACER_ROUTES`;
}

/** One service cut over by weight (`BRIDGE.ROUTING.services.<name>`, docs/routing.md). */
export interface RoutedServiceConfig {
  /** The Nameko original's own broker URI: the callers' broker with a vhost of its own. */
  originalAmqpUri: string;
  /** The private subject prefix the port serves its RPC methods under (`NATS_RPC_INTAKE_PREFIX` of the port). */
  portPrefix: string;
  /** Methods the service has, besides those the port announces on `$SRV`; a route naming another is refused. */
  methods: string[];
  /** The table used when the route bucket has no entry for the service yet. */
  initialRoutes: ServiceRoutes | undefined;
  /**
   * Handler queues of the original on the callers' vhost (`evt-<source>-<type>--<service>.<method>`)
   * whose events are relayed to it, besides those the management API lists (docs/routing.md, Events of a routed service).
   */
  eventHandlerQueues: string[];
}

/** Weighted routing (`BRIDGE.ROUTING`); no services when off. */
export interface RoutingConfig {
  /** The JetStream KV bucket of route tables, watched by every bridge. */
  bucket: string;
  /** Revisions kept per service, so a change can be rolled back. */
  history: number;
  services: Record<string, RoutedServiceConfig>;
}

/** The typed, validated bridge configuration. */
export interface BridgeConfig {
  amqpUri: string;
  /** Nameko's `AMQP_SSL` (docs/security.md, AMQP over TLS); undefined: TLS only for an `amqps://` URI. */
  amqpSsl?: AmqpSsl;
  /** The runtime config (NATS URL and options, subject prefix, events settings). */
  runtime: RuntimeConfig;
  /** Services that live on NATS: the bridge consumes their `rpc-<name>` queue. */
  natsServices: string[];
  /** Services that live on RabbitMQ: the bridge serves `rpc.<name>.*` for NATS callers. */
  amqpServices: string[];
  discovery: DiscoveryConfig;
  /** Nameko's `rpc_exchange`. */
  rpcExchange: string;
  /** Unacked requests per bridged AMQP queue. */
  prefetch: number;
  /** How long a bridged call may take before its caller gets RpcTimeout, in milliseconds. */
  rpcTimeoutMs: number;
  /** The broker's `max_message_size`: larger messages are answered with PayloadTooLarge, never published. */
  amqpMaxMessageBytes: number;
  /** AMQP heartbeat in seconds (Nameko's HEARTBEAT). */
  heartbeatSeconds: number;
  /** Batch each AMQP connection's socket writes (`BRIDGE.amqp_write_batching`, docs/write-batching.md). */
  amqpWriteBatching: boolean;
  /** Ops HTTP server; `port: null` disables it, 0 picks a free port. */
  http: { port: number | null; host: string };
  inboxPrefix: string;
  /** Tuning of the event paths (`BRIDGE.EVENTS`); unset fields take the event bridge's defaults. */
  events: Partial<EventBridgeOptions>;
  /** At most once across a bridge crash (`BRIDGE.AT_MOST_ONCE`). */
  atMostOnce: AtMostOnceConfig;
  /** Shadow traffic to a port (`--shadow`, `BRIDGE.SHADOW`, docs/shadow.md); undefined when off. */
  shadow: ShadowConfig | undefined;
  /** Weighted routing of services being cut over (`BRIDGE.ROUTING`, docs/routing.md). */
  routing: RoutingConfig;
  /** This bridge's name, in its connection names and logs. */
  name: string;
  /** The whole file after substitution. */
  raw: Record<string, unknown>;
}

/** What the command line can set. */
export interface BridgeFlags {
  config?: string;
  amqpUri?: string;
  natsUrl?: string;
  natsService?: string[];
  amqpService?: string[];
  httpPort?: number;
  /** `--shadow NAME`. */
  shadow?: string;
  shadowPrefix?: string;
  shadowRate?: number;
}

function fail(key: string, expected: string, value: unknown): never {
  throw new ConfigurationError(`Config key ${key} must be ${expected}, got ${JSON.stringify(value)}`);
}

function str(map: Record<string, unknown>, key: string, path: string): string | undefined {
  const v = map[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return fail(path + key, "a string", v);
}

function num(map: Record<string, unknown>, key: string, path: string, min = 0): number | undefined {
  const v = map[key];
  if (v === undefined || v === null) return undefined;
  const n = typeof v === "string" && v.trim() !== "" ? Number(v) : v;
  if (typeof n !== "number" || !Number.isFinite(n) || n < min) return fail(path + key, `a number >= ${min}`, v);
  return n;
}

function bool(map: Record<string, unknown>, key: string, path: string): boolean | undefined {
  const v = map[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v === "boolean") return v;
  if (v === "true" || v === "false") return v === "true";
  return fail(path + key, "true or false", v);
}

function names(map: Record<string, unknown>, key: string, path: string): string[] {
  const v = map[key];
  if (v === undefined || v === null) return [];
  const list =
    typeof v === "string"
      ? v
          .split(",")
          .map((s) => s.trim())
          .filter((s) => s !== "")
      : v;
  if (!Array.isArray(list) || list.some((s) => typeof s !== "string"))
    return fail(path + key, "a list of service names", v);
  return list as string[];
}

function mapping(map: Record<string, unknown>, key: string): Record<string, unknown> {
  const v = map[key];
  if (v === undefined || v === null) return {};
  if (typeof v !== "object" || Array.isArray(v)) return fail(key, "a mapping", v);
  return v as Record<string, unknown>;
}

function unique(list: string[]): string[] {
  return [...new Set(list.map((n) => validateName("service", n)))];
}

/** `BRIDGE.SHADOW` with the `--shadow*` flags over it; undefined when no service is shadowed. */
function shadowConfig(b: Record<string, unknown>, flags: BridgeFlags, runtimePrefix: string): ShadowConfig | undefined {
  const s = mapping(b, "SHADOW");
  const p = "BRIDGE.SHADOW.";
  const service = flags.shadow ?? str(s, "service", p);
  if (service === undefined) return undefined;
  const prefix = validatePrefix(flags.shadowPrefix ?? str(s, "prefix", p) ?? DEFAULT_SHADOW_PREFIX);
  // Under the callers' own prefix the port's calls and events would reach real services.
  if (prefix === "" || prefix === runtimePrefix)
    fail(`${p}prefix`, "a private subject prefix, not empty and not the bridge's NATS_PREFIX", prefix);
  const rate = flags.shadowRate ?? num(s, "rate", p) ?? DEFAULT_SHADOW_RATE;
  if (!(rate > 0 && rate <= 1)) fail(`${p}rate`, "a share greater than 0 and at most 1", rate);
  const timeout = num(s, "timeout", p);
  const settle = num(s, "settle", p);
  const keep = num(s, "keep", p) ?? DEFAULT_SHADOW_KEEP;
  const maxInFlight = num(s, "max_in_flight", p, 1) ?? DEFAULT_SHADOW_MAX_IN_FLIGHT;
  return {
    service: validateName("service", service),
    prefix,
    rate,
    timeoutMs: timeout !== undefined ? timeout * 1000 : DEFAULT_SHADOW_TIMEOUT_MS,
    settleMs: settle !== undefined ? settle * 1000 : DEFAULT_SHADOW_SETTLE_MS,
    keep: Math.floor(keep),
    maxInFlight: Math.floor(maxInFlight),
    ignore: names(s, "ignore", p),
  };
}

/** `BRIDGE.ROUTING`: the services cut over by weight, each with its original's vhost and its port's prefix. */
function routingConfig(b: Record<string, unknown>, amqpUri: string, runtimePrefix: string): RoutingConfig {
  const r = mapping(b, "ROUTING");
  const p = "BRIDGE.ROUTING.";
  const bucket = str(r, "bucket", p) ?? defaultRoutesBucket(runtimePrefix);
  if (!/^[A-Za-z0-9_-]+$/.test(bucket)) fail(`${p}bucket`, "a KV bucket name (letters, digits, _ and -)", bucket);
  const history = num(r, "history", p, 2) ?? DEFAULT_ROUTES_HISTORY;
  if (!Number.isInteger(history) || history > 64) fail(`${p}history`, "an integer from 2 to 64", history);
  const services: Record<string, RoutedServiceConfig> = {};
  for (const [name, value] of Object.entries(mapping(r, "services"))) {
    const sp = `${p}services.${name}.`;
    validateName("service", name);
    if (value === null || typeof value !== "object" || Array.isArray(value)) fail(sp.slice(0, -1), "a mapping", value);
    const s = value as Record<string, unknown>;
    const originalAmqpUri = str(s, "original_amqp_uri", sp);
    if (originalAmqpUri === undefined)
      fail(`${sp}original_amqp_uri`, "the original's AMQP URI (its own vhost)", undefined);
    let originalHost: string;
    try {
      originalHost = new URL(originalAmqpUri).host;
    } catch {
      throw new ConfigurationError(`${sp}original_amqp_uri is not a valid URI`);
    }
    // On the callers' vhost the bridge and the original would both consume rpc-<service>.
    if (vhostOf(originalAmqpUri) === vhostOf(amqpUri) && originalHost === new URL(amqpUri).host)
      fail(`${sp}original_amqp_uri`, "a vhost other than the callers' (AMQP_URI)", maskUrlCredentials(originalAmqpUri));
    const portPrefix = validatePrefix(str(s, "port_prefix", sp) ?? DEFAULT_ROUTED_PORT_PREFIX);
    // Under the callers' own prefix the port would answer NATS callers directly, around the bridge.
    if (portPrefix === "" || portPrefix === runtimePrefix)
      fail(`${sp}port_prefix`, "a private subject prefix, not empty and not the bridge's NATS_PREFIX", portPrefix);
    const methods = names(s, "methods", sp).map((m) => validateName("method", m));
    const routes = s.routes;
    const eventHandlerQueues = names(s, "event_handler_queues", sp);
    for (const queue of eventHandlerQueues)
      if (handlerOfEventQueue(queue)?.service !== name)
        fail(`${sp}event_handler_queues`, `handler queues of ${name} (evt-<source>-<type>--${name}.<method>)`, queue);
    services[name] = {
      originalAmqpUri,
      portPrefix,
      methods,
      eventHandlerQueues,
      initialRoutes:
        routes === undefined || routes === null
          ? undefined
          : parseServiceRoutes(name, routes, methods.length > 0 ? new Set(methods) : undefined),
    };
  }
  return { bucket, history, services };
}

/** The bridge config of an already parsed file mapping, with flags applied over it. */
export function bridgeConfigFromObject(
  raw: Record<string, unknown>,
  flags: BridgeFlags = {},
  env: NodeJS.ProcessEnv = process.env,
): BridgeConfig {
  const runtime = configFromObject(raw, env);
  if (flags.natsUrl !== undefined) runtime.natsUrl = flags.natsUrl;
  const b = mapping(raw, "BRIDGE");
  const p = "BRIDGE.";
  const amqpUri = flags.amqpUri ?? str(raw, "AMQP_URI", "") ?? (env.AMQP_URI || undefined) ?? DEFAULT_AMQP_URI;
  try {
    new URL(amqpUri);
  } catch {
    throw new ConfigurationError("AMQP_URI is not a valid URI");
  }
  const natsServices = unique([...names(b, "nats_services", p), ...(flags.natsService ?? [])]);
  const amqpServices = unique([...names(b, "amqp_services", p), ...(flags.amqpService ?? [])]);
  const d = mapping(b, "DISCOVERY");
  const dp = `${p}DISCOVERY.`;
  const httpPortFile = b.http_port === null ? null : num(b, "http_port", p);
  const httpPort = flags.httpPort ?? (httpPortFile === undefined ? DEFAULT_BRIDGE_HTTP_PORT : httpPortFile);
  if (httpPort !== null && (!Number.isInteger(httpPort) || httpPort > 65535))
    fail(`${p}http_port`, "a port number", httpPort);
  const prefetch = num(b, "prefetch", p, 1) ?? DEFAULT_BRIDGE_PREFETCH;
  if (!Number.isInteger(prefetch) || prefetch > 65535) fail(`${p}prefetch`, "an integer between 1 and 65535", prefetch);
  const rpcTimeout = num(b, "rpc_timeout", p);
  const e = mapping(b, "EVENTS");
  const ep = `${p}EVENTS.`;
  const events: Partial<EventBridgeOptions> = {};
  const eventPrefetch = num(e, "prefetch", ep, 1);
  if (eventPrefetch !== undefined) events.amqpPrefetch = eventPrefetch;
  const maxInFlight = num(e, "max_in_flight", ep, 1);
  if (maxInFlight !== undefined) events.natsMaxInFlight = maxInFlight;
  const maxAckPending = num(e, "max_ack_pending", ep, 1);
  if (maxAckPending !== undefined) events.maxAckPending = maxAckPending;
  const publishTimeout = num(e, "publish_timeout", ep);
  if (publishTimeout !== undefined) events.publishTimeoutMs = publishTimeout * 1000;
  const drainTimeout = num(e, "drain_timeout", ep);
  if (drainTimeout !== undefined) events.drainTimeoutMs = drainTimeout * 1000;
  const rpcTimeoutMs = rpcTimeout !== undefined ? rpcTimeout * 1000 : runtime.rpcTimeoutMs;
  const a = mapping(b, "AT_MOST_ONCE");
  const ap = `${p}AT_MOST_ONCE.`;
  const bucket = str(a, "bucket", ap) ?? defaultAtMostOnceBucket(runtime.prefix);
  if (!/^[A-Za-z0-9_-]+$/.test(bucket)) fail(`${ap}bucket`, "a KV bucket name (letters, digits, _ and -)", bucket);
  const storage = str(a, "storage", ap) ?? "file";
  if (storage !== "file" && storage !== "memory") fail(`${ap}storage`, "file or memory", storage);
  const ttl = num(a, "ttl", ap);
  if (ttl === 0) fail(`${ap}ttl`, "a number > 0", ttl);
  const atMostOnce: AtMostOnceConfig = {
    enabled: bool(a, "enabled", ap) ?? true,
    bucket,
    ttlMs: ttl !== undefined ? ttl * 1000 : rpcTimeoutMs + DEFAULT_AT_MOST_ONCE_TTL_MARGIN_MS,
    storage,
    // One knob for a cluster: the records are replicated as the events stream is (docs/cluster.md).
    replicas: num(a, "replicas", ap, 1) ?? runtime.events.replicas,
    maxReplyBytes: num(a, "max_reply_bytes", ap) ?? DEFAULT_AT_MOST_ONCE_MAX_REPLY_BYTES,
  };
  return {
    amqpUri,
    amqpSsl: amqpSslFromConfig(raw.AMQP_SSL, env),
    runtime,
    natsServices,
    amqpServices,
    discovery: {
      enabled: bool(d, "enabled", dp) ?? (natsServices.length === 0 && amqpServices.length === 0),
      intervalMs: (num(d, "interval", dp) ?? DEFAULT_DISCOVERY_INTERVAL_MS / 1000) * 1000,
      natsWaitMs: (num(d, "nats_wait", dp) ?? DEFAULT_DISCOVERY_NATS_WAIT_MS / 1000) * 1000,
      missesBeforeRemoval: num(d, "misses", dp, 1) ?? DEFAULT_DISCOVERY_MISSES,
      managementUrl: str(d, "management_url", dp) ?? defaultManagementUrl(amqpUri),
      management: bool(d, "management", dp) ?? true,
    },
    rpcExchange: str(raw, "rpc_exchange", "") ?? RPC_EXCHANGE,
    prefetch,
    rpcTimeoutMs,
    amqpMaxMessageBytes: num(b, "amqp_max_message_size", p, 1) ?? DEFAULT_AMQP_MAX_MESSAGE_BYTES,
    heartbeatSeconds: num(raw, "HEARTBEAT", "") ?? 60,
    amqpWriteBatching: bool(b, "amqp_write_batching", p) ?? true,
    http: { port: httpPort, host: str(b, "http_host", p) ?? "0.0.0.0" },
    inboxPrefix: str(b, "inbox_prefix", p) ?? DEFAULT_BRIDGE_INBOX_PREFIX,
    events,
    atMostOnce,
    shadow: shadowConfig(b, flags, runtime.prefix),
    routing: routingConfig(b, amqpUri, runtime.prefix),
    name: str(b, "name", p) ?? `${process.pid}`,
    raw,
  };
}

/** Resolve the bridge config: flags over the file (`--config`) over the environment over defaults. */
export function loadBridgeConfig(flags: BridgeFlags = {}, env: NodeJS.ProcessEnv = process.env): BridgeConfig {
  const raw = flags.config ? readConfigFile(flags.config, env) : {};
  return bridgeConfigFromObject(raw, flags, env);
}
