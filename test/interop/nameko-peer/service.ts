/**
 * A Nameko 2.14-style RPC service on plain amqplib (docs/nameko-wire.md: Connections and channels,
 * RPC server, Argument binding, RPC replies, Error object).
 * It also checks what it receives the way a strict Nameko would: a request that would kill a
 * real 2.14 container (no reply_to, no content_type) is recorded in `fatal` and acked.
 */
import { randomUUID } from "node:crypto";
import type { Channel, ChannelModel, ConfirmChannel, ConsumeMessage, MessageProperties } from "amqplib";
import {
  PeerRemoteError,
  RPC_EXCHANGE,
  declareReplyQueue,
  declareServiceQueue,
  namekoException,
  peerConnect,
  pyContext,
  pyContextHeaders,
  pyDumps,
  type PyError,
} from "./wire";

/** What a method sees as `this`: its worker context and an in-service RpcProxy. */
export interface PeerWorker {
  callId: string;
  callIdStack: string[];
  data: Record<string, unknown>;
  /** In-service RPC through the service's reply queue, sending this worker's context. */
  call(service: string, method: string, args?: unknown[], kwargs?: Record<string, unknown>): Promise<unknown>;
}

/** A peer method: a function (parameter names parsed from its source) or explicit params. */
export type PeerMethod =
  | ((this: PeerWorker, ...args: never[]) => unknown)
  | { params: string[]; defaults?: Record<string, unknown>; fn: (this: PeerWorker, ...args: never[]) => unknown };

/** One delivery as the peer saw it. */
export interface PeerDelivery {
  routingKey: string;
  properties: MessageProperties;
  body: string;
  context: { data: Record<string, unknown>; parentStack: string[] };
  redelivered: boolean;
}

export interface PeerServiceOptions {
  uri: string;
  name: string;
  methods: Record<string, PeerMethod>;
  maxWorkers?: number;
  parentCallsTracked?: number;
}

export interface PeerService {
  name: string;
  deliveries: PeerDelivery[];
  /** Requests that would have killed a Nameko 2.14 container. Tests assert this stays empty. */
  fatal: string[];
  /** Requests Nameko would ack and drop without a reply (undecodable). */
  dropped: string[];
  /** Worker call ids, in order. */
  callIds: string[];
  stop(): Promise<void>;
}

function paramsOf(m: PeerMethod): {
  params: string[];
  defaults: Record<string, unknown>;
  fn: (...a: unknown[]) => unknown;
} {
  // Arguments come off the wire untyped; each method declares the types it expects.
  if (typeof m !== "function")
    return { params: m.params, defaults: m.defaults ?? {}, fn: m.fn as (...a: unknown[]) => unknown };
  const src = m.toString();
  const inside = src.slice(src.indexOf("(") + 1, src.indexOf(")"));
  const params = inside
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean);
  return { params, defaults: {}, fn: m as (...a: unknown[]) => unknown };
}

function quoteList(names: string[]): string {
  const q = names.map((n) => `'${n}'`);
  if (q.length === 1) return q[0];
  if (q.length === 2) return `${q[0]} and ${q[1]}`;
  return `${q.slice(0, -1).join(", ")}, and ${q[q.length - 1]}`;
}

/**
 * Python's binding of `method(self, *args, **kwargs)` with CPython 3.11 messages
 * (docs/nameko-wire.md, Argument binding).
 */
function bind(
  name: string,
  params: string[],
  defaults: Record<string, unknown>,
  args: unknown,
  kwargs: unknown,
): unknown[] {
  if (kwargs === null || typeof kwargs !== "object" || Array.isArray(kwargs)) {
    throw namekoException(
      "IncorrectSignature",
      `inspect.getcallargs() argument after ** must be a mapping, not ${kwargs === null ? "NoneType" : Array.isArray(kwargs) ? "list" : typeof kwargs}`,
    );
  }
  const pos = typeof args === "string" ? [...args] : (args as unknown[]);
  if (pos.length > params.length) {
    throw namekoException(
      "IncorrectSignature",
      `${name}() takes ${params.length + 1} positional arguments but ${pos.length + 1} were given`,
    );
  }
  const bound = new Map<string, unknown>();
  pos.forEach((v, i) => bound.set(params[i], v));
  for (const [k, v] of Object.entries(kwargs as Record<string, unknown>)) {
    if (!params.includes(k))
      throw namekoException("IncorrectSignature", `${name}() got an unexpected keyword argument '${k}'`);
    if (bound.has(k)) throw namekoException("IncorrectSignature", `${name}() got multiple values for argument '${k}'`);
    bound.set(k, v);
  }
  const missing = params.filter((p) => !bound.has(p) && !(p in defaults));
  if (missing.length) {
    const s = missing.length === 1 ? "" : "s";
    throw namekoException(
      "IncorrectSignature",
      `${name}() missing ${missing.length} required positional argument${s}: ${quoteList(missing)}`,
    );
  }
  return params.map((p) => (bound.has(p) ? bound.get(p) : defaults[p]));
}

function toPyError(err: unknown): PyError {
  if (err instanceof PeerRemoteError) return err.toWire();
  const message = err instanceof Error ? err.message : String(err);
  return { exc_type: "Exception", exc_path: "builtins.Exception", exc_args: [message], value: message };
}

/** Starts a Nameko-style service `name` serving `methods` on `rpc-<name>`. */
export async function startPeerService(opts: PeerServiceOptions): Promise<PeerService> {
  const maxWorkers = opts.maxWorkers ?? 10;
  const tracked = opts.parentCallsTracked ?? 10;
  const consumerConn: ChannelModel = await peerConnect(opts.uri, 60);
  const publisherConn: ChannelModel = await peerConnect(opts.uri, 0);
  const ch: Channel = await consumerConn.createChannel();
  const pub: ConfirmChannel = await publisherConn.createConfirmChannel();
  ch.on("error", () => undefined);
  pub.on("error", () => undefined);
  const svc: PeerService = {
    name: opts.name,
    deliveries: [],
    fatal: [],
    dropped: [],
    callIds: [],
    stop: async () => undefined,
  };

  // In-service RpcProxy: one reply queue per container, consumed on the same channel (docs/nameko-wire.md, RPC client).
  const replyUuid = randomUUID();
  const waiting = new Map<string, (body: string) => void>();
  const queue = await declareServiceQueue(ch, opts.name);
  const replyQueue = await declareReplyQueue(ch, opts.name, replyUuid);
  await ch.prefetch(maxWorkers, false);
  const { consumerTag: replyTag } = await ch.consume(replyQueue, (msg) => {
    if (!msg) return;
    ch.ack(msg);
    waiting.get(msg.properties.correlationId)?.(msg.content.toString("utf8"));
  });

  const publish = (rk: string, body: string, props: object): Promise<void> =>
    new Promise((resolve, reject) =>
      pub.publish(RPC_EXCHANGE, rk, Buffer.from(body), props, (err: unknown) => (err ? reject(err) : resolve())),
    );

  const makeWorker = (method: string, ctx: { data: Record<string, unknown>; parentStack: string[] }): PeerWorker => {
    const callId = `${opts.name}.${method}.${randomUUID()}`;
    svc.callIds.push(callId);
    const callIdStack = [...ctx.parentStack, callId].slice(-(tracked + 1));
    return {
      callId,
      callIdStack,
      data: ctx.data,
      call: async (service, m, args = [], kwargs = {}) => {
        const correlationId = randomUUID();
        const reply = new Promise<string>((resolve) => waiting.set(correlationId, resolve));
        await publish(`${service}.${m}`, pyDumps({ args, kwargs }), {
          mandatory: true,
          contentType: "application/json",
          contentEncoding: "utf-8",
          headers: pyContextHeaders(ctx.data, callIdStack),
          deliveryMode: 2,
          priority: 0,
          correlationId,
          replyTo: replyUuid,
        });
        const parsed = JSON.parse(await reply) as { result: unknown; error?: PyError | null };
        waiting.delete(correlationId);
        if (parsed.error) {
          const e = parsed.error;
          throw new PeerRemoteError(e.exc_type, e.exc_path, e.exc_args, e.value);
        }
        return parsed.result;
      },
    };
  };

  const handle = async (msg: ConsumeMessage): Promise<void> => {
    const { properties: p, fields } = msg;
    const body = msg.content.toString("utf8");
    const context = pyContext(p.headers);
    svc.deliveries.push({
      routingKey: fields.routingKey,
      properties: p,
      body,
      context,
      redelivered: fields.redelivered,
    });
    if (!p.replyTo || !p.contentType) {
      // A real 2.14 container dies here and the message poisons the queue (docs/nameko-wire.md, Malformed requests).
      svc.fatal.push(`${fields.routingKey}: missing ${!p.replyTo ? "reply_to" : "content_type"}`);
      ch.ack(msg);
      return;
    }
    let payload: unknown;
    try {
      if (p.contentType !== "application/json") throw new Error(`content type ${p.contentType} not accepted`);
      payload = JSON.parse(body);
    } catch (err) {
      // Acked, never answered (docs/nameko-wire.md, RPC server).
      svc.dropped.push(`${fields.routingKey}: ${(err as Error).message}`);
      ch.ack(msg);
      return;
    }
    const methodName = fields.routingKey.slice(fields.routingKey.lastIndexOf(".") + 1);
    let reply: { result: unknown; error: PyError | null };
    try {
      const spec = fields.routingKey === `${opts.name}.${methodName}` ? opts.methods[methodName] : undefined;
      if (!spec || !Object.hasOwn(opts.methods, methodName)) throw namekoException("MethodNotFound", methodName);
      if (Array.isArray(payload) || payload === null || typeof payload !== "object") {
        const t = Array.isArray(payload)
          ? "list"
          : payload === null
            ? "NoneType"
            : typeof payload === "string"
              ? "str"
              : "int";
        throw new PeerRemoteError(
          "TypeError",
          "builtins.TypeError",
          [`${t} indices must be integers or slices, not str`],
          `${t} indices must be integers or slices, not str`,
        );
      }
      const req = payload as Record<string, unknown>;
      if (!("args" in req) || !("kwargs" in req))
        throw namekoException("MalformedRequest", "Message missing `args` or `kwargs`");
      const { params, defaults, fn } = paramsOf(spec);
      const bound = bind(methodName, params, defaults, req.args, req.kwargs);
      const result = await fn.apply(makeWorker(methodName, context), bound);
      try {
        pyDumps(result);
        reply = { result: result === undefined ? null : result, error: null };
      } catch {
        reply = {
          result: null,
          error: {
            exc_type: "UnserializableValueError",
            exc_path: "nameko.exceptions.UnserializableValueError",
            exc_args: [],
            value: `Unserializable value: \`${String(result)}\``,
          },
        };
      }
    } catch (err) {
      reply = { result: null, error: toPyError(err) };
    }
    await publish(p.replyTo, pyDumps(reply), {
      contentType: p.contentType,
      contentEncoding: "utf-8",
      headers: {},
      deliveryMode: 2,
      priority: 0,
      ...(p.correlationId !== undefined ? { correlationId: p.correlationId } : {}),
    });
    ch.ack(msg); // only after the reply's confirm (docs/nameko-wire.md, RPC server)
  };

  const inflight = new Set<Promise<void>>();
  const { consumerTag } = await ch.consume(
    queue,
    (msg) => {
      if (!msg) return;
      const t = handle(msg).catch((err) => {
        svc.fatal.push(`handler crashed: ${(err as Error).message}`);
      });
      inflight.add(t);
      void t.finally(() => inflight.delete(t));
    },
    { noAck: false },
  );

  svc.stop = async () => {
    await ch.cancel(consumerTag).catch(() => undefined);
    await ch.cancel(replyTag).catch(() => undefined);
    await Promise.all(inflight);
    await consumerConn.close().catch(() => undefined);
    await publisherConn.close().catch(() => undefined);
  };
  return svc;
}
