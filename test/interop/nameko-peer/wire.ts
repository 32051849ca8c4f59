/**
 * Wire helpers of the independent Nameko 2.14 peer, written from the wire notes
 * (docs/nameko-wire.md) only.
 * This folder imports nothing from compat/, src/ or bridge/ (a test enforces it): it is the
 * yardstick the project's AMQP code is measured against.
 */
import * as amqp from "amqplib";
import type { Channel, ChannelModel } from "amqplib";

export const RPC_EXCHANGE = "nameko-rpc"; // docs/nameko-wire.md, Exchanges and queues
export const REPLY_TTL_MS = 300000; // x-expires (docs/nameko-wire.md, Exchanges and queues)
export const HEADER_PREFIX = "nameko."; // docs/nameko-wire.md, Context data

/** A serialized Nameko error object (docs/nameko-wire.md, Error object), keys in wire order. */
export interface PyError {
  exc_type: string;
  exc_path: string;
  exc_args: unknown[];
  value: string;
}

/** A Python exception raised by a peer method or re-raised by the peer caller. */
export class PeerRemoteError extends Error {
  constructor(
    readonly excType: string,
    readonly excPath: string,
    readonly excArgs: unknown[],
    readonly value: string,
  ) {
    super(`${excType} ${value}`);
    this.name = "PeerRemoteError";
  }
  toWire(): PyError {
    return { exc_type: this.excType, exc_path: this.excPath, exc_args: this.excArgs, value: this.value };
  }
}

/** nameko.exceptions.<name>(message) as a peer error. */
export function namekoException(name: string, message: string): PeerRemoteError {
  return new PeerRemoteError(name, `nameko.exceptions.${name}`, [message], message);
}

/**
 * CPython `json.dumps` defaults (docs/nameko-wire.md, JSON bodies): ", " and ": " separators, ensure_ascii,
 * insertion order.
 */
export function pyDumps(v: unknown): string {
  if (v === null || v === undefined) return "null";
  if (typeof v === "boolean") return v ? "true" : "false";
  if (typeof v === "number") {
    if (Object.is(v, -0)) return "-0.0"; // Python has no integer -0: it is the float -0.0
    if (Number.isNaN(v)) return "NaN";
    if (!Number.isFinite(v)) return v > 0 ? "Infinity" : "-Infinity";
    return String(v);
  }
  if (typeof v === "bigint") return v.toString();
  if (typeof v === "string") {
    return JSON.stringify(v).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
  }
  if (Array.isArray(v)) return `[${v.map(pyDumps).join(", ")}]`;
  if (typeof v === "object") {
    return `{${Object.entries(v as Record<string, unknown>)
      .map(([k, x]) => `${pyDumps(k)}: ${pyDumps(x)}`)
      .join(", ")}}`;
  }
  throw new TypeError(`Object of type ${typeof v} is not JSON serializable`);
}

/**
 * py-amqp's header typing (docs/nameko-wire.md, Header field types): ints `I`/`L`(written `l`), floats `d`,
 * lists `A`, dicts `F`; None dropped.
 */
export function pyHeaders(table: Record<string, unknown>): Record<string, unknown> {
  const enc = (v: unknown): unknown => {
    if (typeof v === "number") {
      if (!Number.isInteger(v)) return { "!": "double", value: v };
      return { "!": Math.abs(v) <= 2147483647 ? "int32" : "int64", value: v };
    }
    if (Array.isArray(v)) return v.map(enc);
    if (v && typeof v === "object" && !Object.hasOwn(v, "!")) return pyHeaders(v as Record<string, unknown>);
    return v;
  };
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(table)) if (v !== null && v !== undefined) out[k] = enc(v);
  return out;
}

/** Incoming headers -> context data and parent stack, as Nameko 2.14 does it (docs/nameko-wire.md, Context data). */
export function pyContext(headers: Record<string, unknown> | undefined): {
  data: Record<string, unknown>;
  parentStack: string[];
} {
  const data: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(headers ?? {})) {
    data[k.startsWith(HEADER_PREFIX) ? k.slice(HEADER_PREFIX.length) : k] = v;
  }
  const raw = data.call_id_stack;
  delete data.call_id_stack;
  // A string stack is split into characters by Nameko (docs/nameko-wire.md, Malformed requests); kept that
  // way so tests can see it.
  const parentStack = raw === undefined ? [] : typeof raw === "string" ? [...raw] : (raw as string[]);
  return { data, parentStack };
}

/** Context data + stack -> outgoing `nameko.*` headers, stack last (docs/nameko-wire.md, Context data). */
export function pyContextHeaders(data: Record<string, unknown>, stack: string[]): Record<string, unknown> {
  const h: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(data)) h[`${HEADER_PREFIX}${k}`] = v;
  h[`${HEADER_PREFIX}call_id_stack`] = stack;
  return pyHeaders(h);
}

/**
 * Opens a connection like Nameko (noDelay for test speed; heartbeat per role;
 * docs/nameko-wire.md, Connections and channels).
 */
export async function peerConnect(uri: string, heartbeat: number): Promise<ChannelModel> {
  const url = new URL(uri);
  url.searchParams.set("heartbeat", String(heartbeat));
  const conn = await amqp.connect(url.toString(), {
    noDelay: true,
    clientProperties: { connection_name: "nameko-peer" },
  });
  conn.on("error", () => undefined);
  return conn;
}

/** `exchange.declare` topic, durable, auto_delete=0, internal=0, no arguments. */
export async function declareTopic(ch: Channel, name: string, autoDelete = false): Promise<void> {
  await ch.assertExchange(name, "topic", { durable: true, autoDelete, internal: false, arguments: {} });
}

/** `rpc-<service>` bound with `<service>.*` (docs/nameko-wire.md, Exchanges and queues). */
export async function declareServiceQueue(ch: Channel, service: string): Promise<string> {
  await declareTopic(ch, RPC_EXCHANGE);
  const q = `rpc-${service}`;
  await ch.assertQueue(q, { durable: true, autoDelete: false, exclusive: false, arguments: {} });
  await ch.bindQueue(q, RPC_EXCHANGE, `${service}.*`, {});
  return q;
}

/**
 * `rpc.reply-<owner>-<uuid>`, x-expires as `I`, bound with the bare uuid
 * (docs/nameko-wire.md, Exchanges and queues).
 */
export async function declareReplyQueue(ch: Channel, owner: string, uuid: string): Promise<string> {
  await declareTopic(ch, RPC_EXCHANGE);
  const q = `rpc.reply-${owner}-${uuid}`;
  await ch.assertQueue(q, {
    durable: true,
    autoDelete: false,
    exclusive: false,
    arguments: { "x-expires": { "!": "int32", value: REPLY_TTL_MS } },
  });
  await ch.bindQueue(q, RPC_EXCHANGE, uuid, {});
  return q;
}

/** An `@event_handler` declaration (docs/nameko-wire.md, Event handler queues). */
export interface PeerHandlerSpec {
  source: string;
  eventType: string;
  service: string;
  method: string;
  handlerType?: "service_pool" | "singleton" | "broadcast";
  reliableDelivery?: boolean;
  broadcastIdentifier?: string;
}

/** Declares `<source>.events` and the handler's queue with Nameko's name and flags; returns the queue name. */
export async function declareHandlerQueue(ch: Channel, spec: PeerHandlerSpec): Promise<string> {
  const type = spec.handlerType ?? "service_pool";
  const reliable = spec.reliableDelivery ?? true;
  const exchange = `${spec.source}.events`;
  await declareTopic(ch, exchange);
  let q = `evt-${spec.source}-${spec.eventType}`;
  if (type === "service_pool") q += `--${spec.service}.${spec.method}`;
  if (type === "broadcast") {
    if (reliable && !spec.broadcastIdentifier) throw new Error("EventHandlerConfigurationError");
    q += `--${spec.service}.${spec.method}-${spec.broadcastIdentifier ?? crypto.randomUUID().replace(/-/g, "")}`;
  }
  await ch.assertQueue(q, {
    durable: true,
    autoDelete: !reliable,
    exclusive: type === "broadcast" && !reliable,
    arguments: {},
  });
  await ch.bindQueue(q, exchange, spec.eventType, {});
  return q;
}
