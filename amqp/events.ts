/**
 * Nameko events over AMQP (docs/nameko-wire.md, Event dispatch, Event handler queues): dispatch to
 * `<source>.events` with confirms, and consume handler queues with Nameko's names and flags per handler type,
 * acking after the handler (also on failure, unless requeueOnError).
 */
import type { ConsumeMessage, MessageProperties } from "amqplib";
import { decodeJson, describeError, encodeJson, type Logger } from "../compat";
import type { ContextData } from "../compat";
import type { AmqpConnection, ConsumerChannel } from "./connection";
import { amqpHeadersFromContext, contextFromAmqpHeaders, decodeAmqpHeaders, encodeAmqpHeaders } from "./headers";
import { silentLogger } from "./logger";
import { QueueConsumer } from "./queue-consumer";
import {
  declareExchange,
  eventHandlerQueue,
  eventsExchange,
  type EventHandlerQueueOptions,
  type QueueDeclaration,
} from "./topology";

/** Options of {@link AmqpEventDispatcher}. */
export interface AmqpEventDispatcherOptions {
  connection: AmqpConnection;
  /**
   * True (default): declare `<source>.events` before the first dispatch, like an in-service
   * EventDispatcher. False: standalone parity, never declare; a missing exchange fails the
   * dispatch (checked passively on a side channel so the shared publisher channel survives).
   */
  declareExchange?: boolean;
  /** Nameko's AUTO_DELETE_EVENT_EXCHANGES. */
  autoDeleteExchange?: boolean;
  logger?: Logger;
}

/** Per-dispatch options. */
export interface DispatchOptions {
  /** Context data, sent as `nameko.*` headers (in-service style). */
  contextData?: ContextData;
  /** The dispatching worker's call id stack (in-service style). */
  callIdStack?: readonly string[];
  /** A raw header table (bridge passthrough); ignored when contextData or callIdStack is given. */
  headers?: Record<string, unknown>;
}

/** Exchanges known to exist, per connection (shared by all its dispatchers; forgotten on disconnect). */
const knownExchanges = new WeakMap<AmqpConnection, Set<string>>();

function knownOn(connection: AmqpConnection): Set<string> {
  let known = knownExchanges.get(connection);
  if (!known) {
    const set = new Set<string>();
    connection.on("disconnected", () => set.clear());
    knownExchanges.set(connection, set);
    known = set;
  }
  return known;
}

/**
 * Publishes Nameko events; resolves when RabbitMQ confirmed. Unroutable events are dropped by the broker
 * (docs/nameko-wire.md, Event dispatch).
 */
export class AmqpEventDispatcher {
  private readonly checked: Set<string>;

  constructor(private readonly options: AmqpEventDispatcherOptions) {
    this.checked = knownOn(options.connection);
  }

  /** Dispatches `payload` (JSON-encoded, no envelope). */
  dispatch(source: string, eventType: string, payload: unknown, opts: DispatchOptions = {}): Promise<void> {
    return this.dispatchRaw(source, eventType, encodeJson(payload), opts);
  }

  /**
   * Dispatches a body as is (must be JSON text; content type application/json). Rejects with
   * InvalidHeader, having sent nothing, when a header cannot be carried by AMQP.
   */
  async dispatchRaw(
    source: string,
    eventType: string,
    body: Buffer | string,
    opts: DispatchOptions = {},
  ): Promise<void> {
    // Encoded first: a header AMQP cannot carry throws InvalidHeader before any I/O.
    const inService = opts.contextData !== undefined || opts.callIdStack !== undefined;
    const headers = inService
      ? amqpHeadersFromContext(opts.contextData ?? {}, opts.callIdStack ?? [])
      : encodeAmqpHeaders(opts.headers ?? {});
    const exchange = eventsExchange(source, this.options.autoDeleteExchange ?? false);
    if (!this.checked.has(exchange.exchange)) {
      const declare = this.options.declareExchange ?? true;
      await this.options.connection.withChannel((ch) =>
        declare ? declareExchange(ch, exchange) : ch.checkExchange(exchange.exchange).then(() => undefined),
      );
      this.checked.add(exchange.exchange);
    }
    await this.options.connection.publish(
      exchange.exchange,
      eventType,
      typeof body === "string" ? Buffer.from(body, "utf8") : body,
      {
        contentType: "application/json",
        contentEncoding: "utf-8",
        headers,
        deliveryMode: 2,
        priority: 0,
      },
    );
  }
}

/** One event delivered to a handler. */
export interface IncomingEvent {
  source: string;
  eventType: string;
  /** The decoded JSON payload. */
  payload: unknown;
  /** Body bytes as received. */
  body: Buffer;
  routingKey: string;
  properties: MessageProperties;
  headers: Record<string, unknown>;
  context: { data: ContextData; parentStack: string[] };
  redelivered: boolean;
}

/** An `@event_handler`: queue identity (Nameko's arguments) plus behaviour. */
export interface AmqpEventHandlerOptions extends EventHandlerQueueOptions {
  connection: AmqpConnection;
  handler: (event: IncomingEvent) => Promise<void>;
  /**
   * Failure -> `basic.reject(requeue=1)` instead of ack (redelivered at once, forever;
   * docs/nameko-wire.md, Event acknowledgement).
   */
  requeueOnError?: boolean;
  /** Per-queue prefetch (Nameko: max_workers); default 10. */
  prefetch?: number;
  /** Nameko's AUTO_DELETE_EVENT_EXCHANGES for the source's exchange this handler declares. */
  autoDeleteExchange?: boolean;
  logger?: Logger;
}

/** Consumes one Nameko handler queue (declared, with its exchange and binding, on every (re)connect). */
export class AmqpEventConsumer {
  /** The queue with Nameko's name and flags (a BROADCAST default identifier is fixed per instance). */
  readonly queue: QueueDeclaration;
  private readonly log: Logger;
  private readonly consumer: QueueConsumer;

  constructor(private readonly options: AmqpEventHandlerOptions) {
    this.queue = eventHandlerQueue(options);
    this.log = options.logger ?? silentLogger;
    this.consumer = new QueueConsumer({
      connection: options.connection,
      log: this.log,
      exchange: eventsExchange(options.source, options.autoDeleteExchange ?? false),
      queue: this.queue,
      prefetch: options.prefetch ?? 10,
      handle: (cc, msg) => this.handle(cc, msg),
    });
  }

  /** Declares the handler's queue, exchange and binding, and consumes (again after reconnects). */
  start(): Promise<void> {
    return this.consumer.start();
  }

  /** Cancels the consumer, waits for running handlers (they still ack), closes the channel. */
  stop(): Promise<void> {
    return this.consumer.stop();
  }

  private async handle(cc: ConsumerChannel, msg: ConsumeMessage): Promise<void> {
    const meta = { queue: this.queue.queue, routingKey: msg.fields.routingKey };
    let event: IncomingEvent;
    try {
      if (msg.properties.contentType !== "application/json") {
        throw new Error(`content type ${String(msg.properties.contentType)} not accepted`);
      }
      const raw = (msg.properties.headers ?? {}) as Record<string, unknown>;
      event = {
        source: this.options.source,
        eventType: this.options.eventType,
        payload: decodeJson(msg.content),
        body: msg.content,
        routingKey: msg.fields.routingKey,
        properties: msg.properties,
        headers: decodeAmqpHeaders(raw),
        context: contextFromAmqpHeaders(raw),
        redelivered: msg.fields.redelivered,
      };
    } catch (err) {
      // Nameko acks and drops what it cannot decode (docs/nameko-wire.md, Event acknowledgement): never
      // redeliver a poison message.
      this.log.warn("amqp event undecodable; acked and dropped", { ...meta, error: describeError(err) });
      cc.ack(msg);
      return;
    }
    try {
      await this.options.handler(event);
      cc.ack(msg);
    } catch (err) {
      const requeue = this.options.requeueOnError ?? false;
      this.log.error("amqp event handler failed", { ...meta, requeue, error: describeError(err) });
      if (requeue) cc.reject(msg, true);
      else cc.ack(msg);
    }
  }
}
