/**
 * Serves `rpc-<service>` like Nameko 2.14's RpcConsumer + Responder (docs/nameko-wire.md, RPC server, RPC replies):
 * the handler gets the raw request and returns the reply body; the reply goes to `nameko-rpc` with
 * routing key = `reply_to`, the request's correlation id and content type, `utf-8`, empty headers,
 * delivery mode 2, priority 0, with confirms; only then is the request acked.
 *
 * Deliberate differences from Nameko, for robustness:
 * - a request without `reply_to` cannot be answered: it is acked and logged (Nameko's container
 *   dies on it and the message poisons the queue);
 * - a body that is not JSON, or a content type other than application/json (or none), gets a
 *   `MalformedRequest` error reply with content type application/json (Nameko acks and drops it,
 *   leaving the caller to its timeout); so does a header table amqp/ cannot decode (InvalidHeader).
 */
import type { ConsumeMessage, MessageProperties } from "amqplib";
import { decodeJson, describeError, encodeErrorReply, type Logger, MalformedRequest, RPC_EXCHANGE } from "../compat";
import type { ContextData } from "../compat";
import type { AmqpConnection, ConsumerChannel } from "./connection";
import { contextFromAmqpHeaders, decodeAmqpHeaders, InvalidHeader } from "./headers";
import { silentLogger } from "./logger";
import { QueueConsumer } from "./queue-consumer";
import { rpcExchange, serviceQueue } from "./topology";

/** One request as delivered. */
export interface IncomingRpcRequest {
  service: string;
  /** The routing key's text after `<service>.` (what Nameko matches methods against). */
  method: string;
  routingKey: string;
  /** Body bytes as received. */
  body: Buffer;
  properties: MessageProperties;
  /** Header table with plain JS values (see headers.ts). */
  headers: Record<string, unknown>;
  /** Context data and parent call id stack from the `nameko.*` headers (docs/nameko-wire.md, Context data). */
  context: { data: ContextData; parentStack: string[] };
  redelivered: boolean;
}

/**
 * Produces the reply body (`{"result": ..., "error": ...}` bytes). A thrown error is serialized
 * into a Nameko error reply.
 */
export type RpcRequestHandler = (request: IncomingRpcRequest) => Promise<Buffer | string>;

/** Options of {@link AmqpRpcServer}. */
export interface AmqpRpcServerOptions {
  connection: AmqpConnection;
  service: string;
  handler: RpcRequestHandler;
  /** Per-queue prefetch (Nameko: max_workers); default 10. */
  prefetch?: number;
  /** Nameko's `rpc_exchange`; default `nameko-rpc`. */
  exchange?: string;
  /** Reply MalformedRequest to bodies that are not JSON (default true; see the module comment). */
  validateJson?: boolean;
  logger?: Logger;
}

const JSON_TYPE = "application/json";

/** A Nameko-protocol RPC server for one service name. */
export class AmqpRpcServer {
  private readonly exchange: string;
  private readonly log: Logger;
  private readonly consumer: QueueConsumer;

  constructor(private readonly options: AmqpRpcServerOptions) {
    this.exchange = options.exchange ?? RPC_EXCHANGE;
    this.log = options.logger ?? silentLogger;
    this.consumer = new QueueConsumer({
      connection: options.connection,
      log: this.log,
      exchange: rpcExchange(this.exchange),
      queue: serviceQueue(options.service, this.exchange),
      prefetch: options.prefetch ?? 10,
      handle: (cc, msg) => this.onMessage(cc, msg),
    });
  }

  /** Requests being handled right now. */
  get inFlight(): number {
    return this.consumer.inFlight;
  }

  /** Declares `nameko-rpc`, `rpc-<service>` and its binding, and consumes (again after reconnects). */
  start(): Promise<void> {
    return this.consumer.start();
  }

  /** Stops taking requests (`basic.cancel`), lets in-flight ones reply and ack, then closes the channel. */
  stop(): Promise<void> {
    return this.consumer.stop();
  }

  private async onMessage(cc: ConsumerChannel, msg: ConsumeMessage): Promise<void> {
    try {
      await this.handle(cc, msg);
    } catch (err) {
      // Never let one message take the consumer down.
      this.log.error("amqp rpc request handling failed", { service: this.options.service, error: describeError(err) });
    }
  }

  private async handle(cc: ConsumerChannel, msg: ConsumeMessage): Promise<void> {
    const { properties, fields } = msg;
    const replyTo: unknown = properties.replyTo;
    if (typeof replyTo !== "string" || replyTo === "") {
      this.log.error("amqp rpc request without reply_to acked and dropped (no reply possible)", {
        service: this.options.service,
        routingKey: fields.routingKey,
        correlationId: properties.correlationId as unknown,
      });
      cc.ack(msg);
      return;
    }
    const requestType: unknown = properties.contentType;
    let replyBody: Buffer;
    const request = this.read(msg);
    const malformed = request instanceof MalformedRequest;
    if (request instanceof MalformedRequest) {
      this.log.warn("amqp rpc request malformed", {
        service: this.options.service,
        routingKey: fields.routingKey,
        error: request.message,
      });
      replyBody = Buffer.from(encodeErrorReply(request), "utf8");
    } else {
      try {
        const out = await this.options.handler(request);
        replyBody = typeof out === "string" ? Buffer.from(out, "utf8") : out;
      } catch (err) {
        replyBody = Buffer.from(encodeErrorReply(err), "utf8");
      }
    }
    const correlationId: unknown = properties.correlationId;
    try {
      await this.options.connection.publish(this.exchange, replyTo, replyBody, {
        contentType: malformed || typeof requestType !== "string" ? JSON_TYPE : requestType,
        contentEncoding: "utf-8",
        headers: {},
        deliveryMode: 2,
        priority: 0,
        ...(typeof correlationId === "string" ? { correlationId } : {}),
      });
    } catch (err) {
      // Not acked, so not lost: requeued now, or by the broker when the channel is gone.
      this.log.error("amqp rpc reply publish failed; request requeued", {
        service: this.options.service,
        error: describeError(err),
      });
      cc.reject(msg, true);
      return;
    }
    cc.ack(msg);
  }

  /** The request, or the MalformedRequest it gets as its reply. */
  private read(msg: ConsumeMessage): IncomingRpcRequest | MalformedRequest {
    const malformed = this.precheck(msg);
    if (malformed) return malformed;
    try {
      return this.toRequest(msg);
    } catch (err) {
      return new MalformedRequest(
        err instanceof InvalidHeader ? err.message : `Request could not be read: ${describeError(err)}`,
      );
    }
  }

  private precheck(msg: ConsumeMessage): MalformedRequest | undefined {
    const ct: unknown = msg.properties.contentType;
    if (ct !== JSON_TYPE)
      return new MalformedRequest(`Unsupported content type: ${ct === undefined ? "none" : String(ct)}`);
    if (this.options.validateJson ?? true) {
      try {
        decodeJson(msg.content);
      } catch (err) {
        return new MalformedRequest(`Invalid JSON body: ${describeError(err)}`);
      }
    }
    return undefined;
  }

  private toRequest(msg: ConsumeMessage): IncomingRpcRequest {
    const routingKey = msg.fields.routingKey;
    const prefix = `${this.options.service}.`;
    const method = routingKey.startsWith(prefix)
      ? routingKey.slice(prefix.length)
      : routingKey.slice(routingKey.lastIndexOf(".") + 1);
    const raw = (msg.properties.headers ?? {}) as Record<string, unknown>;
    return {
      service: this.options.service,
      method,
      routingKey,
      body: msg.content,
      properties: msg.properties,
      headers: decodeAmqpHeaders(raw),
      context: contextFromAmqpHeaders(raw),
      redelivered: msg.fields.redelivered,
    };
  }
}
