/**
 * RabbitMQ test helpers: a fresh vhost per test, broker-side listings, and dropping connections.
 * The management plugin is not enabled on the test broker, so everything goes through
 * `rabbitmqctl` (fast here: ~0.3 s per command).
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { promisify } from "node:util";

const run = promisify(execFile);

/** Base URI of the test broker (override with TEST_AMQP_URI, no vhost path). */
export const AMQP_BASE = process.env.TEST_AMQP_URI ?? "amqp://guest:guest@127.0.0.1:5672";

async function ctl(...args: string[]): Promise<string> {
  const { stdout } = await run("rabbitmqctl", args, { env: { ...process.env, PATH: `${process.env.PATH}:/usr/sbin` } });
  return stdout;
}

async function ctlJson<T>(...args: string[]): Promise<T[]> {
  const out = await ctl(...args, "--formatter", "json", "-q");
  const text = out.trim();
  return text ? (JSON.parse(text) as T[]) : [];
}

/** A throwaway vhost; `uri` points at it. */
export interface TestVhost {
  name: string;
  uri: string;
  delete(): Promise<void>;
}

/** Creates a vhost with a unique name and full permissions for guest. */
export async function createVhost(prefix = "cliff-test"): Promise<TestVhost> {
  const name = `${prefix}-${randomBytes(4).toString("hex")}`;
  await ctl("add_vhost", name);
  await ctl("set_permissions", "-p", name, "guest", ".*", ".*", ".*");
  return {
    name,
    uri: `${AMQP_BASE}/${encodeURIComponent(name)}`,
    delete: async () => {
      await ctl("delete_vhost", name).catch(() => undefined);
    },
  };
}

/** A queue as the broker reports it; `arguments` as [name, type, value] triples (type e.g. "signedint"). */
export interface BrokerQueue {
  name: string;
  durable: boolean;
  auto_delete: boolean;
  exclusive: boolean;
  arguments: Array<[string, string, unknown]>;
  consumers: number;
  messages: number;
  messages_ready: number;
  messages_unacknowledged: number;
}

export function listQueues(vhost: string): Promise<BrokerQueue[]> {
  return ctlJson<BrokerQueue>(
    "list_queues",
    "-p",
    vhost,
    "name",
    "durable",
    "auto_delete",
    "exclusive",
    "arguments",
    "consumers",
    "messages",
    "messages_ready",
    "messages_unacknowledged",
  );
}

export interface BrokerExchange {
  name: string;
  type: string;
  durable: boolean;
  auto_delete: boolean;
  internal: boolean;
  arguments: unknown[];
}

export function listExchanges(vhost: string): Promise<BrokerExchange[]> {
  return ctlJson<BrokerExchange>(
    "list_exchanges",
    "-p",
    vhost,
    "name",
    "type",
    "durable",
    "auto_delete",
    "internal",
    "arguments",
  );
}

export interface BrokerBinding {
  source_name: string;
  destination_name: string;
  routing_key: string;
}

export function listBindings(vhost: string): Promise<BrokerBinding[]> {
  return ctlJson<BrokerBinding>("list_bindings", "-p", vhost, "source_name", "destination_name", "routing_key");
}

interface BrokerConnection {
  name: string;
  vhost: string;
  client_properties: Array<[string, string, unknown]>;
}

/** A client connection as the broker sees it. */
export interface BrokerClientConnection {
  /** The client's `connection_name` property ("" if none). */
  connectionName: string;
  /** When the broker accepted it (ms since the epoch): a reconnect shows as a new value. */
  connectedAt: number;
}

/** The client connections of `vhost`. */
export async function listConnections(vhost: string): Promise<BrokerClientConnection[]> {
  const conns = await ctlJson<BrokerConnection & { connected_at: number }>(
    "list_connections",
    "name",
    "vhost",
    "client_properties",
    "connected_at",
  );
  return conns
    .filter((c) => c.vhost === vhost)
    .map((c) => ({
      connectionName: String(c.client_properties.find(([k]) => k === "connection_name")?.[2] ?? ""),
      connectedAt: c.connected_at,
    }));
}

/**
 * Force-closes the connections of `vhost` (only those whose `connection_name` client property
 * equals `connectionName`, if given), as a broker-side failure would. Returns how many were closed.
 */
export async function killConnections(vhost: string, connectionName?: string): Promise<number> {
  const conns = await ctlJson<BrokerConnection>("list_connections", "name", "vhost", "client_properties");
  const victims = conns.filter(
    (c) =>
      c.vhost === vhost &&
      (connectionName === undefined ||
        c.client_properties.some(([k, , v]) => k === "connection_name" && v === connectionName)),
  );
  if (victims.length === 0) return 0;
  // close_connection wants the Erlang pid, which the JSON formatter prints in an unusable form.
  const pids = new Map(
    (await ctl("list_connections", "name", "pid", "-q", "--no-table-headers"))
      .split("\n")
      .filter(Boolean)
      .map((line) => line.split("\t") as [string, string]),
  );
  for (const c of victims) {
    const pid = pids.get(c.name);
    if (pid) await ctl("close_connection", pid, "test: forced close");
  }
  return victims.length;
}

/** Polls `check` (broker state is only observable by polling) until it returns true or `timeoutMs` passes. */
export async function eventually(
  check: () => Promise<boolean> | boolean,
  timeoutMs = 10000,
  intervalMs = 100,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
