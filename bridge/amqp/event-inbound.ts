/**
 * AMQP -> NATS events for one service that lives on RabbitMQ.
 *
 * The bridge keeps its own durable queue `cliffracer-bridge-evt-<service>`, bound to
 * `<service>.events` with `#`: every event the service dispatches is copied there by the broker,
 * whether or not a Nameko handler listens, and waits there while the bridge is down. (A catch-all
 * on an events exchange routes nothing that would otherwise fail, unlike one on `nameko-rpc`,
 * docs/nameko-wire.md, UnknownService.) Several bridges consume the queue as competing consumers.
 *
 * Each event is published into JetStream and the AMQP message is acked only after the PubAck
 * (docs/bridge-contract.md, Acks). While NATS is down nothing is published: the message waits
 * in the bridge (bounded by the prefetch) and the rest stays queued in RabbitMQ. A failed publish
 * is retried by requeueing the message after a backoff; nothing is ever dropped for a NATS failure.
 *
 * Refused, logged and acked (they would fail on every delivery, so requeueing would loop for
 * ever): a routing key that is not a single valid event-type token (wildcards, dots, empty), a
 * content type other than JSON, a body that is not JSON (the NATS contract carries the payload
 * JSON as Nameko sends it, and every runtime handler would drop it anyway, as Nameko's would), and
 * an event larger than the NATS server accepts. The bridge's own copies of NATS events are acked
 * silently (loop guard).
 */
import type { ConsumeMessage } from "amqplib";
import type { AmqpConnection, ConsumerChannel } from "../../amqp";
import { eventsExchange, InvalidHeader, QueueConsumer, type QueueDeclaration } from "../../amqp";
import { decodeJson, describeError, eventsExchangeName, type Logger, validateName } from "../../compat";
import { Backoff, Stopper, type EventBridgeMetrics, type EventDropReason, type NatsLink } from "../event-handover";
import { EventTooLarge, eventHeadersToNats, type NatsEventOutbound } from "../nats/event-outbound";
import { BRIDGED_HEADER, bridgedMark, isBridgedCopy } from "../routing/loop-guard";

/** Prefix of the bridge's own event queues. */
export const BRIDGE_EVENT_QUEUE_PREFIX = "cliffracer-bridge-evt-";

const DIRECTION = "amqp_to_nats";

/** The bridge's queue for `service`'s events: durable, shared by all bridges, bound with `#`. */
export function bridgeEventQueue(service: string): QueueDeclaration {
  return allEventsQueue(BRIDGE_EVENT_QUEUE_PREFIX, service);
}

/**
 * A durable queue named `<prefix><service>`, shared by every bridge, bound to `<service>.events`
 * with `#`: each of the service's events once, whichever bridge takes it.
 */
export function allEventsQueue(prefix: string, service: string): QueueDeclaration {
  return {
    queue: prefix + validateName("service", service),
    durable: true,
    autoDelete: false,
    exclusive: false,
    arguments: {},
    exchange: eventsExchangeName(service),
    bindingKey: "#",
  };
}

/** Options of {@link AmqpEventInbound}. */
export interface AmqpEventInboundOptions {
  connection: AmqpConnection;
  /** The AMQP-side service whose events are carried. */
  service: string;
  /** Unacked events in the bridge's hands for this service (basic.qos). */
  prefetch: number;
  nats: NatsEventOutbound;
  natsLink: NatsLink;
  retry: { initialMs: number; maxMs: number };
  /** How long retire() forwards what is left in the queue before giving up (and keeping it). */
  drainTimeoutMs: number;
  log: Logger;
  metrics: EventBridgeMetrics;
}

/** Carries one AMQP service's events into JetStream. */
export class AmqpEventInbound {
  readonly queue: QueueDeclaration;
  private readonly log: Logger;
  private readonly backoff: Backoff;
  /**
   * One per consumer channel: stopped when that channel closes (the broker has then requeued its
   * unacked messages, so a message still waiting for NATS must not be published after all) or
   * when the path stops.
   */
  private readonly channelStoppers = new Map<ConsumerChannel, Stopper>();
  private stopping = false;
  private readonly consumer: QueueConsumer;

  constructor(private readonly options: AmqpEventInboundOptions) {
    this.queue = bridgeEventQueue(options.service);
    this.log = options.log.child({ direction: DIRECTION, service: options.service });
    this.backoff = new Backoff(options.retry.initialMs, options.retry.maxMs);
    this.consumer = new QueueConsumer({
      connection: options.connection,
      log: this.log,
      // Declared as a Nameko handler declares its source's exchange, so the binding exists even
      // before the service first dispatched (docs/nameko-wire.md, Events exchange).
      exchange: eventsExchange(options.service),
      queue: this.queue,
      prefetch: options.prefetch,
      onChannel: (cc) => this.watchChannel(cc),
      handle: (cc, msg) => this.handle(cc, this.channelStoppers.get(cc) ?? stopped(), msg),
      onCancelled: (cc) => this.onCancelled(cc),
      onStopping: () => {
        this.stopping = true;
        for (const stopper of this.channelStoppers.values()) stopper.stop();
      },
    });
  }

  /** True while the consumer is established on the current connection. */
  get established(): boolean {
    return this.consumer.established;
  }

  /** Declares exchange, queue and binding, and consumes; again after every reconnect. */
  async start(): Promise<void> {
    this.stopping = false;
    await this.consumer.start();
  }

  /**
   * Stops consuming: waits for publishes under way (bounded by the PubAck timeout); messages
   * waiting for NATS or for a retry go back to the queue at once.
   */
  stop(): Promise<void> {
    return this.consumer.stop();
  }

  /**
   * The service left the AMQP side: unbind the queue so nothing new arrives, forward what is
   * still queued (up to the drain timeout), then delete the queue if it is empty. A queue that does
   * not drain in time is kept, with its events, for when the service comes back.
   */
  async retire(): Promise<void> {
    const { connection } = this.options;
    const q = this.queue;
    try {
      await connection.withChannel((ch) => ch.unbindQueue(q.queue, q.exchange, q.bindingKey, {}));
      const deadline = Date.now() + this.options.drainTimeoutMs;
      for (;;) {
        const { messageCount } = await connection.withChannel((ch) => ch.checkQueue(q.queue));
        if (messageCount === 0 && this.consumer.inFlight === 0) break;
        if (Date.now() > deadline || !this.established) {
          this.log.warn("bridge event queue not drained; kept for the service's return", {
            queue: q.queue,
            messages: messageCount,
          });
          await this.stop();
          return;
        }
        // Queue depth is only observable by asking the broker.
        await new Promise((r) => setTimeout(r, 100));
      }
      await this.stop();
      await connection.withChannel((ch) => ch.deleteQueue(q.queue, { ifEmpty: true }));
      this.log.info("bridge event queue drained and deleted", { queue: q.queue });
    } catch (err) {
      this.log.warn("could not retire bridge event queue; kept", { queue: q.queue, error: describeError(err) });
      await this.stop();
    }
  }

  /** A new consumer channel's stopper, stopped when the channel closes. */
  private watchChannel(cc: ConsumerChannel): void {
    const stopper = new Stopper();
    this.channelStoppers.set(cc, stopper);
    cc.channel.once("close", () => {
      stopper.stop();
      this.channelStoppers.delete(cc);
    });
  }

  /** The broker cancelled the consumer (queue deleted, e.g. by another bridge): reopen the channel, which declares it again. */
  private onCancelled(cc: ConsumerChannel): void {
    if (this.stopping) return;
    this.log.warn("bridge event consumer cancelled by the broker; re-establishing", { queue: this.queue.queue });
    void cc.channel.close().catch(() => undefined);
  }

  private drop(
    cc: ConsumerChannel,
    msg: ConsumeMessage,
    reason: EventDropReason,
    detail: Record<string, unknown>,
  ): void {
    cc.ack(msg);
    this.options.metrics.dropped?.(DIRECTION, this.options.service, reason);
    if (reason === "loop") this.log.debug("own copy of a NATS event; acked", detail);
    else this.log.warn("event refused; acked and dropped", { reason, ...detail });
  }

  private async handle(cc: ConsumerChannel, stopper: Stopper, msg: ConsumeMessage): Promise<void> {
    const { service, metrics } = this.options;
    const eventType = msg.fields.routingKey;
    const meta = { queue: this.queue.queue, exchange: msg.fields.exchange, routingKey: eventType };
    if (msg.fields.redelivered) metrics.redelivered?.(DIRECTION, service);
    try {
      validateName("event type", eventType);
    } catch (err) {
      return this.drop(cc, msg, "bad_event_type", { ...meta, error: describeError(err) });
    }
    const raw = msg.properties.headers as Record<string, unknown> | undefined;
    if (isBridgedCopy(raw?.[BRIDGED_HEADER], "nats", service, eventType)) return this.drop(cc, msg, "loop", meta);
    const contentType: unknown = msg.properties.contentType;
    // No content type reads as raw data in kombu (a Nameko handler would get the bytes); JSON
    // bodies without one are carried, any other serializer is not readable on NATS.
    if (contentType !== undefined && !(typeof contentType === "string" && contentType.startsWith("application/json"))) {
      return this.drop(cc, msg, "content_type", { ...meta, contentType: String(contentType) });
    }
    try {
      decodeJson(msg.content);
    } catch (err) {
      return this.drop(cc, msg, "not_json", { ...meta, bytes: msg.content.length, error: describeError(err) });
    }
    let translated: ReturnType<typeof eventHeadersToNats>;
    try {
      translated = eventHeadersToNats(raw, bridgedMark("amqp", service, eventType));
    } catch (err) {
      // A header table amqp/ could not decode (too deep, unknown tag): this event only.
      if (err instanceof InvalidHeader) return this.drop(cc, msg, "bad_header", { ...meta, error: err.message });
      throw err;
    }
    const { headers, skipped } = translated;
    if (skipped.length > 0) this.log.warn("headers NATS cannot carry were left out", { ...meta, skipped });
    try {
      this.options.nats.checkSize(msg.content, headers);
    } catch (err) {
      if (err instanceof EventTooLarge) return this.drop(cc, msg, "too_large", { ...meta, error: err.message });
      throw err;
    }
    const started = process.hrtime.bigint();
    if (!(await this.options.natsLink.whenUp(stopper))) {
      cc.reject(msg, true);
      return;
    }
    try {
      await this.options.nats.publish(service, eventType, msg.content, headers);
    } catch (err) {
      metrics.retried?.(DIRECTION, service);
      const delayMs = this.backoff.next();
      this.log.warn("publish to JetStream failed; requeueing after backoff", {
        ...meta,
        delayMs,
        error: describeError(err),
      });
      await stopper.sleep(delayMs);
      cc.reject(msg, true);
      return;
    }
    this.backoff.reset();
    cc.ack(msg);
    metrics.forwarded?.(DIRECTION, service, Number(process.hrtime.bigint() - started) / 1e9);
  }
}

/** A stopper already stopped: a delivery on a channel already gone goes straight back to the queue. */
function stopped(): Stopper {
  const stopper = new Stopper();
  stopper.stop();
  return stopper;
}
