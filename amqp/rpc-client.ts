/**
 * Calls Nameko services over AMQP exactly like Nameko 2.14's RPC proxies (docs/nameko-wire.md, RPC client,
 * UnknownService, Standalone clients):
 * a private reply queue `rpc.reply-<owner>-<uuid>` bound to `nameko-rpc` with the uuid, requests
 * published mandatory with confirms (a `basic.return` before the confirm means UnknownService),
 * replies matched by correlation id and acked.
 */
import { randomUUID } from "node:crypto";
import type { MessageProperties } from "amqplib";
import {
  decodeReply,
  describeError,
  deserializeError,
  encodeRequest,
  type Logger,
  MalformedReply,
  RPC_EXCHANGE,
  RpcTimeout,
  UnknownService,
} from "../compat";
import type { ContextData } from "../compat";
import type { AmqpConnection, ConsumerHandle } from "./connection";
import { amqpHeadersFromContext, encodeAmqpHeaders } from "./headers";
import { silentLogger } from "./logger";
import { declareConsumerTopology, replyQueue, rpcExchange, type QueueDeclaration } from "./topology";

/** The owner part of a standalone client's reply queue name (Nameko 2.14's ClusterRpcProxy). */
export const STANDALONE_OWNER = "standalone_rpc_proxy";

/** Options of {@link AmqpRpcClient}. */
export interface AmqpRpcClientOptions {
  connection: AmqpConnection;
  /** Reply queue owner: a service name for in-service proxies; default `standalone_rpc_proxy`. */
  owner?: string;
  /** Nameko's `rpc_exchange`; default `nameko-rpc`. */
  exchange?: string;
  /** Prefetch of the reply consumer; default none (standalone proxies send no basic.qos). */
  prefetch?: number;
  /** Default call timeout; default none (Nameko's in-service proxy waits forever). */
  timeoutMs?: number;
  logger?: Logger;
}

/** Options of a raw {@link AmqpRpcClient.request}. */
export interface RawRequestOptions {
  /** Header table; plain JS values are typed as py-amqp would (see headers.ts). */
  headers?: Record<string, unknown>;
  /** Default `application/json`; a Nameko service dies on a request without one, so it is never omitted. */
  contentType?: string;
  timeoutMs?: number;
}

/** A reply as received: body bytes untouched, properties as decoded by amqplib. */
export interface RawReply {
  body: Buffer;
  properties: MessageProperties;
  correlationId: string;
}

/** Options of {@link AmqpRpcClient.call}. */
export interface CallOptions {
  timeoutMs?: number;
  /** Context data sent as `nameko.<key>` headers. */
  contextData?: ContextData;
  /**
   * The call id stack to send, as is: a calling worker's stack already ends with its own call id
   * (it is the callee's parent stack). Default: `["<owner>.call.<uuid>"]`, fixed per client like
   * Nameko 2.14's standalone proxy.
   */
  parentStack?: readonly string[];
}

interface Pending {
  resolve(reply: RawReply): void;
  reject(err: Error): void;
  timer?: NodeJS.Timeout;
}

/** A Nameko-protocol RPC client on one {@link AmqpConnection}. */
export class AmqpRpcClient {
  /** The reply routing key (`reply_to` of every request). */
  readonly uuid = randomUUID();
  readonly owner: string;
  readonly queue: QueueDeclaration;
  private readonly exchange: string;
  private readonly log: Logger;
  private readonly standaloneStack: string[];
  private readonly pending = new Map<string, Pending>();
  private consumer?: ConsumerHandle;

  constructor(private readonly options: AmqpRpcClientOptions) {
    this.owner = options.owner ?? STANDALONE_OWNER;
    this.exchange = options.exchange ?? RPC_EXCHANGE;
    this.queue = replyQueue(this.owner, this.uuid, this.exchange);
    this.log = options.logger ?? silentLogger;
    this.standaloneStack = [`${this.owner}.call.${randomUUID()}`];
  }

  /** The reply queue's name (`rpc.reply-<owner>-<uuid>`). */
  get replyQueueName(): string {
    return this.queue.queue;
  }

  /** Number of calls waiting for a reply. */
  get inFlight(): number {
    return this.pending.size;
  }

  /** Declares the reply queue and consumes it (again after every reconnect; replies kept meanwhile). */
  async start(): Promise<void> {
    if (this.consumer) return;
    this.consumer = await this.options.connection.addConsumer({
      name: this.queue.queue,
      prefetch: this.options.prefetch,
      setup: async (cc) => {
        await declareConsumerTopology(cc.channel, rpcExchange(this.exchange), this.queue);
        await cc.channel.consume(
          this.queue.queue,
          (msg) => {
            if (!msg) return; // server-side cancel: the connection re-establishes the consumer
            cc.ack(msg);
            this.onReply(msg.content, msg.properties);
          },
          { noAck: false, exclusive: false },
        );
      },
    });
  }

  /** Stops consuming replies; calls still waiting are rejected. The reply queue expires by itself. */
  async stop(): Promise<void> {
    const consumer = this.consumer;
    this.consumer = undefined;
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      if (p.timer) clearTimeout(p.timer);
      p.reject(new Error("RPC client stopped"));
    }
    await consumer?.close();
  }

  /**
   * Publishes `body` to `<service>.<method>` and resolves with the raw reply. Rejects with
   * UnknownService when nothing is bound for the routing key, RpcTimeout on timeout, InvalidHeader
   * (nothing sent) for a header AMQP cannot carry, or the publish error. The body is sent
   * unchanged (bridge passthrough).
   */
  request(service: string, method: string, body: Buffer | string, options: RawRequestOptions = {}): Promise<RawReply> {
    if (!this.consumer) return Promise.reject(new Error("RPC client not started"));
    let headers: Record<string, unknown>;
    try {
      // Checked before anything is registered or written: a bad header fails this call only.
      headers = encodeAmqpHeaders(options.headers ?? {});
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(describeError(err)));
    }
    const correlationId = randomUUID();
    const timeoutMs = options.timeoutMs ?? this.options.timeoutMs;
    const content = typeof body === "string" ? Buffer.from(body, "utf8") : body;
    return new Promise<RawReply>((resolve, reject) => {
      const pending: Pending = { resolve, reject };
      if (timeoutMs !== undefined) {
        pending.timer = setTimeout(() => {
          this.pending.delete(correlationId);
          reject(new RpcTimeout(timeoutMs / 1000));
        }, timeoutMs);
      }
      // Registered before publishing: the reply can arrive before the confirm.
      this.pending.set(correlationId, pending);
      const fail = (err: Error): void => {
        if (!this.pending.delete(correlationId)) return;
        if (pending.timer) clearTimeout(pending.timer);
        reject(err);
      };
      this.options.connection
        .publish(this.exchange, `${service}.${method}`, content, {
          mandatory: true,
          contentType: options.contentType ?? "application/json",
          contentEncoding: "utf-8",
          headers,
          deliveryMode: 2,
          priority: 0,
          correlationId,
          replyTo: this.uuid,
        })
        .then(
          ({ returned }) => {
            if (returned) fail(new UnknownService(service));
          },
          (err: unknown) => fail(err instanceof Error ? err : new Error(describeError(err))),
        );
    });
  }

  /** Calls `service.method(*args, **kwargs)`; returns the result or throws the deserialized error. */
  async call(
    service: string,
    method: string,
    args: unknown[] = [],
    kwargs: Record<string, unknown> = {},
    options: CallOptions = {},
  ): Promise<unknown> {
    const headers = amqpHeadersFromContext(options.contextData ?? {}, options.parentStack ?? this.standaloneStack);
    const reply = await this.request(service, method, encodeRequest(args, kwargs), {
      headers,
      timeoutMs: options.timeoutMs,
    });
    const ct: unknown = reply.properties.contentType;
    if (ct !== undefined && ct !== "application/json") {
      throw new MalformedReply(`cannot decode a reply of content type ${String(ct)}`);
    }
    const decoded = decodeReply(reply.body);
    if (decoded.error) throw deserializeError(decoded.error);
    return decoded.result;
  }

  private onReply(body: Buffer, properties: MessageProperties): void {
    const id: unknown = properties.correlationId;
    const p = typeof id === "string" ? this.pending.get(id) : undefined;
    if (!p || typeof id !== "string") {
      this.log.debug("amqp rpc reply for an unknown correlation id dropped", { correlationId: String(id) });
      return;
    }
    this.pending.delete(id);
    if (p.timer) clearTimeout(p.timer);
    p.resolve({ body, properties, correlationId: id });
  }
}
