import { readFileSync } from "node:fs";
import type * as YamlModule from "yaml";
import { ConfigurationError, describeError } from "../../compat";
import { parseAddress } from "./address";
import { defaultConfig, type NatsTlsConfig, type RuntimeConfig } from "./defaults";

let yamlModule: typeof YamlModule | undefined;

/** yaml, loaded with the first config file: a service run without one (`cliffracer run`'s default) never needs it. */
function yamlLib(): typeof YamlModule {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (yamlModule ??= require("yaml") as typeof YamlModule);
}

/** `${VAR}` or `${VAR:default}`, as Nameko's config loader matches them (no nesting). */
const ENV_VAR = /\$\{([^}{]+)\}/g;

/** Replace every `${VAR}` / `${VAR:default}` in `text`; an unset variable without default becomes "". */
export function substituteEnv(text: string, env: NodeJS.ProcessEnv = process.env): string {
  return text.replace(ENV_VAR, (_, spec: string) => {
    const colon = spec.indexOf(":");
    const name = (colon === -1 ? spec : spec.slice(0, colon)).trim();
    const fallback = colon === -1 ? "" : spec.slice(colon + 1);
    return env[name] ?? fallback;
  });
}

/**
 * Parse YAML config text with Nameko's substitution (docs/nameko-wire.md, Configuration keys): a plain scalar holding
 * `${...}` is expanded and then read as YAML, so `${MAX_WORKERS:10}` is the number 10; a quoted
 * scalar is expanded and stays a string.
 */
export function parseConfigText(text: string, env: NodeJS.ProcessEnv = process.env): Record<string, unknown> {
  const YAML = yamlLib();
  const doc = YAML.parseDocument(text);
  if (doc.errors.length > 0) throw new ConfigurationError(`Invalid YAML config: ${doc.errors[0].message}`);
  YAML.visit(doc, {
    Scalar(_key, node) {
      if (typeof node.value !== "string" || !node.value.includes("${")) return;
      const expanded = substituteEnv(node.value, env);
      node.value = node.type === "PLAIN" ? ((YAML.parse(expanded) as unknown) ?? null) : expanded;
    },
  });
  const value: unknown = doc.toJS();
  if (value === null || value === undefined) return {};
  if (typeof value !== "object" || Array.isArray(value)) throw new ConfigurationError("Config must be a YAML mapping");
  return value as Record<string, unknown>;
}

/** Where loadConfig reads from. */
export interface LoadConfigOptions {
  /** YAML file (Nameko's config.yaml with NATS keys). */
  file?: string;
  env?: NodeJS.ProcessEnv;
}

/**
 * Resolve the runtime config: file (after substitution), then environment (`NATS_URL`,
 * `NATS_PREFIX`, `NATS_RPC_INTAKE_PREFIX`, `METRICS_ADDRESS`, and the credentials and TLS variables of docs/security.md) for
 * keys the file leaves out, then defaults. Keys are documented in README.md.
 */
export function loadConfig(options: LoadConfigOptions = {}): RuntimeConfig {
  const env = options.env ?? process.env;
  return configFromObject(options.file ? readConfigFile(options.file, env) : {}, env);
}

/** Read and parse a YAML config file with Nameko's `${VAR}` substitution (see parseConfigText). */
export function readConfigFile(file: string, env: NodeJS.ProcessEnv = process.env): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new ConfigurationError(`Cannot read config file ${file}: ${describeError(err)}`);
  }
  return parseConfigText(text, env);
}

/** The typed config for an already parsed mapping. */
export function configFromObject(raw: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env): RuntimeConfig {
  const config = defaultConfig();
  const read = new Reader(raw);
  config.raw = raw;
  config.natsUrl = read.string("NATS_URL") ?? nonEmpty(env.NATS_URL) ?? config.natsUrl;
  config.prefix = read.string("NATS_PREFIX") ?? env.NATS_PREFIX ?? config.prefix;
  config.rpcIntakePrefix = read.string("NATS_RPC_INTAKE_PREFIX") ?? env.NATS_RPC_INTAKE_PREFIX;
  // Nameko: lower-case keys; any falsy max_workers means the default (docs/nameko-wire.md, Configuration keys).
  config.maxWorkers = read.integer("max_workers", 0) || config.maxWorkers;
  config.parentCallsTracked = read.integer("parent_calls_tracked", 0) ?? config.parentCallsTracked;
  const rpcTimeout = read.number("RPC_TIMEOUT");
  if (rpcTimeout !== undefined) config.rpcTimeoutMs = rpcTimeout * 1000;
  const shutdownTimeout = read.number("SHUTDOWN_TIMEOUT");
  if (shutdownTimeout !== undefined) config.shutdownTimeoutMs = shutdownTimeout * 1000;
  config.announce = read.boolean("ANNOUNCE") ?? config.announce;
  config.webServerAddress = read.string("WEB_SERVER_ADDRESS") ?? config.webServerAddress;
  config.metricsAddress = read.string("METRICS_ADDRESS") ?? nonEmpty(env.METRICS_ADDRESS);
  // Checked here, so a bad address fails at start-up and not when the server is started.
  if (config.metricsAddress !== undefined) parseAddress(config.metricsAddress, "METRICS_ADDRESS");
  const nats = new Reader(read.mapping("NATS_OPTIONS"), "NATS_OPTIONS.");
  config.nats = {
    noAsyncTraces: nats.boolean("no_async_traces") ?? config.nats.noAsyncTraces,
    writeBatching: nats.boolean("write_batching") ?? config.nats.writeBatching,
    name: nats.string("name"),
    // The environment names are the `nats` command's own, so one shell setup serves both.
    user: nats.string("user") ?? nonEmpty(env.NATS_USER),
    pass: nats.string("pass") ?? nonEmpty(env.NATS_PASSWORD),
    token: nats.string("token") ?? nonEmpty(env.NATS_TOKEN),
    credsFile: nats.string("creds_file") ?? nonEmpty(env.NATS_CREDS),
    nkeyFile: nats.string("nkey_file") ?? nonEmpty(env.NATS_NKEY),
    tls: natsTls(new Reader(nats.mapping("tls"), "NATS_OPTIONS.tls."), env),
  };
  const events = new Reader(read.mapping("EVENTS"), "EVENTS.");
  const storage = events.string("storage") ?? config.events.storage;
  if (storage !== "file" && storage !== "memory")
    throw new ConfigurationError(`Config key EVENTS.storage must be file or memory, got ${JSON.stringify(storage)}`);
  config.events = {
    ...config.events,
    streamName: events.string("stream_name"),
    maxAgeSeconds: events.number("max_age") ?? config.events.maxAgeSeconds,
    storage,
    replicas: events.integer("replicas", 1) ?? config.events.replicas,
    ackWaitSeconds: events.number("ack_wait") ?? config.events.ackWaitSeconds,
    maxAckPending: events.integer("max_ack_pending", 1) ?? config.events.maxAckPending,
    requeueDelaySeconds: events.number("requeue_delay") ?? config.events.requeueDelaySeconds,
    unreliableInactiveSeconds: events.number("unreliable_inactive") ?? config.events.unreliableInactiveSeconds,
  };
  const large = new Reader(read.mapping("LARGE_BODIES"), "LARGE_BODIES.");
  const largeStorage = large.string("storage") ?? config.largeBodies.storage;
  if (largeStorage !== "file" && largeStorage !== "memory")
    throw new ConfigurationError(
      `Config key LARGE_BODIES.storage must be file or memory, got ${JSON.stringify(largeStorage)}`,
    );
  config.largeBodies = {
    enabled: large.boolean("enabled") ?? config.largeBodies.enabled,
    bucket: large.string("bucket"),
    ttlSeconds: large.number("ttl") ?? config.largeBodies.ttlSeconds,
    storage: largeStorage,
  };
  for (const [key, value] of [
    ["NATS_PREFIX", config.prefix],
    ["NATS_RPC_INTAKE_PREFIX", config.rpcIntakePrefix],
  ] as const) {
    if (value !== undefined && value !== "" && !/^[^\s*>]+$/.test(value)) {
      throw new ConfigurationError(
        `${key} must be subject tokens without wildcards or whitespace, got ${JSON.stringify(value)}`,
      );
    }
  }
  return config;
}

/** `NATS_OPTIONS.tls`, then `NATS_CA` / `NATS_CERT` / `NATS_KEY`; undefined when nothing asks for TLS options. */
function natsTls(tls: Reader, env: NodeJS.ProcessEnv): NatsTlsConfig | undefined {
  const config: NatsTlsConfig = {
    caFile: tls.string("ca_file") ?? nonEmpty(env.NATS_CA),
    certFile: tls.string("cert_file") ?? nonEmpty(env.NATS_CERT),
    keyFile: tls.string("key_file") ?? nonEmpty(env.NATS_KEY),
    handshakeFirst: tls.boolean("handshake_first"),
  };
  if ((config.certFile === undefined) !== (config.keyFile === undefined))
    throw new ConfigurationError(
      "NATS_OPTIONS.tls needs both cert_file and key_file (NATS_CERT and NATS_KEY), or neither",
    );
  const set = Object.values(config).some((v) => v !== undefined);
  return set ? config : undefined;
}

function nonEmpty(s: string | undefined): string | undefined {
  return s === undefined || s === "" ? undefined : s;
}

/** Typed access to one mapping of the config, with errors that name the key. */
class Reader {
  constructor(
    private readonly map: Record<string, unknown>,
    private readonly path = "",
  ) {}

  private fail(key: string, expected: string, v: unknown): never {
    throw new ConfigurationError(`Config key ${this.path}${key} must be ${expected}, got ${JSON.stringify(v)}`);
  }

  string(key: string): string | undefined {
    const v = this.map[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v === "string") return v;
    if (typeof v === "number" || typeof v === "boolean") return String(v);
    return this.fail(key, "a string", v);
  }

  number(key: string): number | undefined {
    const v = this.map[key];
    if (v === undefined || v === null) return undefined;
    const n = typeof v === "string" && v.trim() !== "" ? Number(v) : v;
    if (typeof n !== "number" || !Number.isFinite(n) || n < 0) return this.fail(key, "a non-negative number", v);
    return n;
  }

  integer(key: string, min: number): number | undefined {
    const n = this.number(key);
    if (n !== undefined && (!Number.isInteger(n) || n < min)) return this.fail(key, `an integer >= ${min}`, n);
    return n;
  }

  boolean(key: string): boolean | undefined {
    const v = this.map[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v === "boolean") return v;
    if (v === "true" || v === "false") return v === "true";
    return this.fail(key, "true or false", v);
  }

  mapping(key: string): Record<string, unknown> {
    const v = this.map[key];
    if (v === undefined || v === null) return {};
    if (typeof v !== "object" || Array.isArray(v)) return this.fail(key, "a mapping", v);
    return v as Record<string, unknown>;
  }
}
