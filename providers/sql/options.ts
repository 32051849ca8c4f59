// From Nameko's configuration (DB_URIS, DB_ENGINE_OPTIONS) to a node-postgres pool configuration
// (docs/providers.md, SQL configuration).
import type { PoolConfig } from "pg";
import { ConfigurationError } from "../../src/index";

/**
 * How long connecting (or waiting for a pooled connection) may take before it fails, in
 * milliseconds. node-postgres waits forever by default; a database that is down must give an
 * error, never a hang.
 */
export const DEFAULT_CONNECTION_TIMEOUT_MS = 5_000;

/** Pool options: node-postgres's own names, plus SQLAlchemy's `pool_*` names a Nameko config holds. */
export type EngineOptions = Omit<
  PoolConfig,
  "connectionString" | "Client" | "log" | "Promise" | "onConnect" | "verify"
> & {
  /** SQLAlchemy's pool size: with `max_overflow`, node-postgres's `max`. */
  pool_size?: number;
  /** SQLAlchemy's connections beyond `pool_size`: added to it for `max`. */
  max_overflow?: number;
  /** SQLAlchemy's wait for a connection, in seconds: node-postgres's `connectionTimeoutMillis`. */
  pool_timeout?: number;
  /** SQLAlchemy's connection lifetime, in seconds: node-postgres's `maxLifetimeSeconds`. */
  pool_recycle?: number;
};

type Kind = "number" | "string" | "boolean" | "ssl";

/** Every key DB_ENGINE_OPTIONS may hold, with what its value must be; anything else is refused by name. */
const KEYS: Record<string, Kind> = {
  max: "number",
  min: "number",
  idleTimeoutMillis: "number",
  connectionTimeoutMillis: "number",
  maxLifetimeSeconds: "number",
  maxUses: "number",
  allowExitOnIdle: "boolean",
  keepAlive: "boolean",
  keepAliveInitialDelayMillis: "number",
  application_name: "string",
  statement_timeout: "number",
  query_timeout: "number",
  lock_timeout: "number",
  idle_in_transaction_session_timeout: "number",
  options: "string",
  ssl: "ssl",
  pool_size: "number",
  max_overflow: "number",
  pool_timeout: "number",
  pool_recycle: "number",
};

/** `postgresql+psycopg2://…` (SQLAlchemy's dialect+driver form) as node-postgres reads it: `postgresql://…`. */
export function postgresUri(uri: string, key: string): string {
  const match = /^([a-z][a-z0-9+.-]*):\/\//i.exec(uri);
  const scheme = match?.[1]?.toLowerCase() ?? "";
  const dialect = scheme.split("+")[0];
  if (dialect !== "postgresql" && dialect !== "postgres")
    throw new ConfigurationError(
      `Config key DB_URIS["${key}"] must be a postgresql:// URI (the SQL provider speaks PostgreSQL), got scheme ${JSON.stringify(scheme)}`,
    );
  return `postgresql://${uri.slice(match![0].length)}`;
}

/**
 * The pool configuration for `connectionString`: the provider's own options, then DB_ENGINE_OPTIONS
 * (which wins, as in nameko-sqlalchemy; each of its keys checked); SQLAlchemy names translated.
 */
export function poolConfig(
  connectionString: string,
  applicationName: string,
  own: EngineOptions,
  configured: Record<string, unknown>,
): PoolConfig {
  for (const [key, value] of Object.entries(configured)) checkOption(key, value);
  const merged = { ...own, ...(configured as EngineOptions) };
  const { pool_size, max_overflow, pool_timeout, pool_recycle, ...pg } = merged;
  const config: PoolConfig = {
    application_name: applicationName,
    connectionTimeoutMillis: DEFAULT_CONNECTION_TIMEOUT_MS,
    ...pg,
    connectionString,
  };
  if (pool_size !== undefined || max_overflow !== undefined) config.max = (pool_size ?? 5) + (max_overflow ?? 10);
  if (pool_timeout !== undefined) config.connectionTimeoutMillis = pool_timeout * 1000;
  if (pool_recycle !== undefined) config.maxLifetimeSeconds = pool_recycle;
  return config;
}

function checkOption(key: string, value: unknown): void {
  const kind = KEYS[key];
  if (kind === undefined)
    throw new ConfigurationError(
      `Config key DB_ENGINE_OPTIONS.${key} is not a pool option (known: ${Object.keys(KEYS).join(", ")})`,
    );
  const ok =
    kind === "number"
      ? typeof value === "number" && Number.isFinite(value) && value >= 0
      : kind === "ssl"
        ? typeof value === "boolean" || (value !== null && typeof value === "object")
        : typeof value === kind;
  if (!ok) {
    const expected =
      kind === "number" ? "a non-negative number" : kind === "ssl" ? "true, false or a mapping" : `a ${kind}`;
    throw new ConfigurationError(
      `Config key DB_ENGINE_OPTIONS.${key} must be ${expected}, got ${JSON.stringify(value)}`,
    );
  }
}
