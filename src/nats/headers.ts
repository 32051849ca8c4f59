import { headers as natsHeaders, type MsgHdrs } from "@nats-io/transport-node";
import {
  contextFromHeaders,
  contextToHeaders,
  decodeHeaderValue,
  encodeHeaderValue,
  HEADER_PREFIX,
  type ContextData,
} from "../../compat";
import type { IncomingContext } from "../core/extension";
import { sealHeaders } from "./sealed-headers";

/**
 * Context data and call id stack as NATS headers
 * (docs/nats-contract.md, Headers: `nameko.<key>`, non-strings JSON).
 */
export function contextToNatsHeaders(data: ContextData, stack: readonly string[]): MsgHdrs {
  return maybeContextHeaders(data, stack) ?? natsHeaders();
}

/** Like contextToNatsHeaders, but undefined when there is nothing to send: a bare message stays a PUB, not an HPUB. */
export function maybeContextHeaders(data: ContextData, stack: readonly string[]): MsgHdrs | undefined {
  const record = contextToHeaders(data, stack);
  let h: MsgHdrs | undefined;
  for (const key in record) {
    // encodeHeaderValue JSON-quotes any text a header line could not carry (line breaks, edge spaces).
    (h ??= natsHeaders()).set(key, encodeHeaderValue(record[key]));
  }
  return h;
}

/**
 * The NATS headers a message sent on behalf of a worker carries, so whoever receives it continues
 * the worker's context: its context data as it is now and its call id stack (docs/nats-contract.md,
 * Headers). What `@RpcProxy` and `@EventDispatcher` send; for a provider's own NATS messages.
 */
export function contextHeaders(worker: OutgoingContext): MsgHdrs {
  return contextToNatsHeaders(worker.data, worker.callIdStack);
}

/**
 * `headers` with each of `entries` set as the context data key it names (`nameko.<key>`), or
 * removed where its value is undefined, in a copy, so a set that is built once and reused is never
 * changed. For the trace context of one call or event (docs/tracing.md, Interoperating with Nameko).
 */
export function withContextEntries(
  headers: MsgHdrs | undefined,
  entries: Readonly<Record<string, string | undefined>>,
): MsgHdrs | undefined {
  let out: MsgHdrs | undefined;
  if (headers)
    for (const [key, values] of headers) {
      if (key.startsWith(HEADER_PREFIX) && key.slice(HEADER_PREFIX.length) in entries) continue;
      for (const value of values) (out ??= natsHeaders()).append(key, value);
    }
  for (const key in entries) {
    const value = entries[key];
    if (value !== undefined) (out ??= natsHeaders()).set(HEADER_PREFIX + key, encodeHeaderValue(value));
  }
  return out;
}

/**
 * The same context as text headers by name (`nameko.user_id`, `nameko.call_id_stack`, ...), for a
 * provider whose calls go over another transport (HTTP headers, a queue's message attributes);
 * {@link contextFromHeaderRecord} reads them back.
 */
export function contextHeaderRecord(worker: OutgoingContext): Record<string, string> {
  const record = contextToHeaders(worker.data, worker.callIdStack);
  const out: Record<string, string> = {};
  for (const key in record) out[key] = encodeHeaderValue(record[key]);
  return out;
}

/**
 * The incoming context of a NATS message; empty when it has no headers. Only `nameko.*` headers
 * count (docs/nats-contract.md, Headers): unlike AMQP, where Nameko takes every header as context
 * (docs/nameko-wire.md, Context data), NATS carries transport headers (JetStream's `Nats-*`, the
 * bridge's marker) that must not spread through the call graph.
 */
export function contextFromNatsHeaders(h?: MsgHdrs): IncomingContext {
  if (!h) return { data: {}, parentStack: [] };
  const record: Record<string, unknown> = {};
  for (const [key, values] of h) {
    if (values.length > 0 && key.startsWith(HEADER_PREFIX)) record[key] = decodeHeaderValue(key, values[0]);
  }
  return contextFromHeaders(record);
}

/**
 * The incoming context of text headers such as {@link contextHeaderRecord} writes, for an entrypoint
 * on another transport; as on NATS, only `nameko.*` names count.
 */
export function contextFromHeaderRecord(headers: Readonly<Record<string, string | undefined>>): IncomingContext {
  const record: Record<string, unknown> = {};
  for (const key in headers) {
    const value = headers[key];
    if (value !== undefined && key.startsWith(HEADER_PREFIX)) record[key] = decodeHeaderValue(key, value);
  }
  return contextFromHeaders(record);
}

/** Anything carrying NATS headers that are decoded when read (a nats.js Msg, a services ServiceMsg). */
export interface HeaderSource {
  readonly headers?: MsgHdrs;
}

/**
 * The incoming context of a message, decoded on first read of `data` or `parentStack`: nats.js
 * parses a message's header block only when `msg.headers` is read, and most RPC workers never
 * read their context or make a call that carries it (decoding was about a tenth of a service's
 * time, BENCHMARKS.md profiles). Decoded at most once; the same objects on every read.
 */
export class LazyNatsContext implements IncomingContext {
  private decoded?: IncomingContext;

  constructor(private readonly source: HeaderSource) {}

  get data(): ContextData {
    return (this.decoded ??= contextFromNatsHeaders(this.source.headers)).data;
  }

  get parentStack(): string[] {
    return (this.decoded ??= contextFromNatsHeaders(this.source.headers)).parentStack;
  }
}

/** What outgoing calls of a worker carry: its context data, read at call time, and its call id stack. */
export interface OutgoingContext {
  readonly data: ContextData;
  readonly callIdStack: readonly string[];
}

/**
 * A worker's outgoing context headers, built on its first outgoing call and reused while its data
 * stays the same: Nameko sends the context as it is when the call is made
 * (docs/nameko-wire.md, Context data), so each call compares the data with a snapshot taken at the last build
 * (same keys in the same order, each value `===`). Data holding an object is rebuilt every call, since it may
 * have changed in place.
 */
export class OutgoingHeaders {
  private headers?: MsgHdrs;
  /** Key, value, key, value... of the data the headers were built from; undefined when not reusable. */
  private snapshot?: unknown[];

  constructor(private readonly context: OutgoingContext) {}

  /** The headers for a call made now; undefined when there is no context to send. */
  get(): MsgHdrs | undefined {
    const data = this.context.data;
    if (this.snapshot !== undefined && sameData(this.snapshot, data)) return this.headers;
    this.snapshot = snapshotOf(data);
    const built = maybeContextHeaders(data, this.context.callIdStack);
    // Encoded once when they will be reused; headers rebuilt for every call are not worth it.
    this.headers = built && this.snapshot !== undefined ? sealHeaders(built) : built;
    return this.headers;
  }
}

function snapshotOf(data: ContextData): unknown[] | undefined {
  const out: unknown[] = [];
  for (const key in data) {
    const value = data[key];
    if (value !== null && typeof value === "object") return undefined;
    out.push(key, value);
  }
  return out;
}

function sameData(snapshot: readonly unknown[], data: ContextData): boolean {
  let i = 0;
  for (const key in data) {
    if (snapshot[i] !== key || snapshot[i + 1] !== data[key]) return false;
    i += 2;
  }
  return i === snapshot.length;
}
