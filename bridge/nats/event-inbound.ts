/**
 * NATS -> AMQP events for one service that lives on NATS.
 *
 * One durable JetStream consumer per service, filter `[prefix.]events.<service>.>`, shared by
 * every bridge instance (they compete for its messages, as Nameko instances compete for a queue).
 * Being durable, it keeps the service's events while no bridge runs (the events stream has
 * interest retention, so the consumer's existence is what keeps them). Each bridge pulls at most
 * `maxInFlight` at a time; `maxAckPending` bounds what all bridges hold together, so a slow
 * RabbitMQ pushes back instead of filling memory.
 *
 * Each event goes to `<service>.events` (bridge/amqp/event-outbound.ts) and the JetStream message
 * is acked only after RabbitMQ confirmed; a failed publish is nak'ed with a backoff delay and comes
 * back. Refused, logged and acked: a subject tail that is not one valid event-type token, a
 * body that is not JSON (Nameko handlers drop what they cannot decode: docs/nameko-wire.md, Event
 * acknowledgement) and a header AMQP cannot carry (InvalidHeader: nothing is published, the log
 * line names the header and the event's call id; retrying could never succeed).
 * The bridge's own copies of AMQP events are acked silently (loop guard).
 */
import { JetStreamApiCodes, type JetStreamManager, type JsMsg } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { InvalidHeader } from "../../amqp";
import {
  CALL_ID_STACK_KEY,
  decodeHeaderValue,
  decodeJson,
  describeError,
  durableConsumerName,
  HEADER_PREFIX,
  InFlight,
  type Logger,
  validateName,
  validatePrefix,
} from "../../compat";
import { ensureEventConsumer, isApiError, PullLoop, type EventConsumerSpec } from "../../src/internal";
import { eventHeadersToAmqp, type AmqpEventOutbound } from "../amqp/event-outbound";
import { BRIDGE_EVENT_QUEUE_PREFIX } from "../amqp/event-inbound";
import { Backoff, Stopper, type EventBridgeMetrics, type EventDropReason } from "../event-handover";
import { BRIDGED_HEADER, bridgedMark, isBridgedCopy } from "../routing/loop-guard";

const DIRECTION = "nats_to_amqp";
const STACK_HEADER = HEADER_PREFIX + CALL_ID_STACK_KEY;
/** How long a stop lets publishes under way wait for RabbitMQ's confirm before giving them back. */
const STOP_GRACE_MS = 3000;
/**
 * Delay of the nak that gives a message back at stop: an immediate nak can be redelivered into
 * this bridge's closing pull (seen with nats-server 2.9) and then sits until ack_wait.
 */
const HAND_BACK_DELAY_MS = 250;

/** The durable consumer name the bridges share for `service`'s events. */
export function bridgeConsumerName(service: string): string {
  return durableConsumerName(BRIDGE_EVENT_QUEUE_PREFIX + validateName("service", service));
}

/** `[prefix.]events.<service>.`: every event subject of the service starts with it. */
function subjectBase(service: string, prefix: string): string {
  const base = `events.${validateName("service", service)}.`;
  return prefix === "" ? base : `${validatePrefix(prefix)}.${base}`;
}

/** Options of {@link NatsEventInbound}. */
export interface NatsEventInboundOptions {
  nc: NatsConnection;
  jsm: JetStreamManager;
  /** The events stream. */
  stream: string;
  prefix: string;
  /** The NATS-side service whose events are carried. */
  service: string;
  /** Events this bridge handles at once for this service (pulled ahead no further). */
  maxInFlight: number;
  /** Unacked events across all bridges for this service (the consumer's max_ack_pending). */
  maxAckPending: number;
  ackWaitSeconds: number;
  amqp: AmqpEventOutbound;
  retry: { initialMs: number; maxMs: number };
  log: Logger;
  metrics: EventBridgeMetrics;
}

/** Carries one NATS service's events to its Nameko exchange. */
export class NatsEventInbound {
  readonly spec: EventConsumerSpec;
  private readonly base: string;
  private readonly log: Logger;
  private readonly backoff: Backoff;
  private stopper = new Stopper();
  private readonly inFlight = new InFlight();
  private loop?: PullLoop;

  constructor(private readonly options: NatsEventInboundOptions) {
    this.base = subjectBase(options.service, options.prefix);
    this.log = options.log.child({ direction: DIRECTION, service: options.service });
    this.backoff = new Backoff(options.retry.initialMs, options.retry.maxMs);
    this.spec = {
      stream: options.stream,
      name: bridgeConsumerName(options.service),
      filterSubject: `${this.base}>`,
      ackWaitSeconds: options.ackWaitSeconds,
      maxAckPending: Math.max(options.maxAckPending, options.maxInFlight),
      description: `Cliffracer bridge: events of ${options.service} to ${options.service}.events on AMQP`,
    };
  }

  /** True while pulling. */
  get established(): boolean {
    return this.loop !== undefined;
  }

  /** Creates (or finds) the shared consumer and starts pulling. */
  async start(): Promise<void> {
    if (this.loop) return;
    this.stopper = new Stopper();
    const { nc, jsm, maxInFlight, ackWaitSeconds } = this.options;
    await ensureEventConsumer(jsm, this.spec, this.log);
    const loop = new PullLoop(
      nc,
      this.spec.stream,
      this.spec.name,
      (msg, ack) => this.inFlight.track(() => this.handle(msg, ack)),
      {
        maxInFlight,
        ackWaitSeconds,
        log: this.log,
        recreate: () => ensureEventConsumer(jsm, this.spec, this.log),
      },
    );
    await loop.start();
    this.loop = loop;
  }

  /**
   * Stops pulling and lets publishes under way finish; those still waiting for RabbitMQ after a
   * short grace (it is away) are given back with a nak and come back to a bridge later.
   */
  async stop(): Promise<void> {
    const loop = this.loop;
    if (!loop) return;
    this.loop = undefined;
    const stopper = this.stopper;
    const grace = setTimeout(() => stopper.stop(), STOP_GRACE_MS);
    try {
      await loop.stop();
      await this.inFlight.idle();
    } finally {
      clearTimeout(grace);
      stopper.stop();
    }
  }

  /**
   * The service left the NATS side: stop, and delete the shared consumer when nothing is waiting
   * in it and no other bridge is pulling from it; otherwise keep it (the stream's max_age bounds it).
   */
  async retire(): Promise<void> {
    await this.stop();
    const { jsm, nc } = this.options;
    try {
      await nc.flush();
      const info = await jsm.consumers.info(this.spec.stream, this.spec.name);
      if (info.num_pending > 0 || info.num_ack_pending > 0 || info.num_waiting > 0) {
        this.log.warn("bridge event consumer still has events or other bridges; kept", {
          consumer: this.spec.name,
          pending: info.num_pending,
          ackPending: info.num_ack_pending,
        });
        return;
      }
      await jsm.consumers.delete(this.spec.stream, this.spec.name);
      this.log.info("bridge event consumer deleted", { consumer: this.spec.name });
    } catch (err) {
      if (isApiError(err, JetStreamApiCodes.ConsumerNotFound) || isApiError(err, JetStreamApiCodes.StreamNotFound))
        return;
      this.log.warn("could not retire bridge event consumer; kept", {
        consumer: this.spec.name,
        error: describeError(err),
      });
    }
  }

  private drop(msg: JsMsg, ack: (msg: JsMsg) => void, reason: EventDropReason, detail: Record<string, unknown>): void {
    ack(msg);
    this.options.metrics.dropped?.(DIRECTION, this.options.service, reason);
    if (reason === "loop") this.log.debug("own copy of an AMQP event; acked", detail);
    else this.log.warn("event refused; acked and dropped", { reason, ...detail });
  }

  /** One event to RabbitMQ; `ack` is the pull loop's (acks of one turn go out in one write). */
  private async handle(msg: JsMsg, ack: (msg: JsMsg) => void): Promise<void> {
    const { service, metrics } = this.options;
    const eventType = msg.subject.startsWith(this.base) ? msg.subject.slice(this.base.length) : "";
    const meta = { subject: msg.subject, seq: msg.info.streamSequence };
    if (msg.info.redelivered) metrics.redelivered?.(DIRECTION, service);
    try {
      validateName("event type", eventType);
    } catch (err) {
      return this.drop(msg, ack, "bad_event_type", { ...meta, error: describeError(err) });
    }
    if (isBridgedCopy(msg.headers?.get(BRIDGED_HEADER), "amqp", service, eventType))
      return this.drop(msg, ack, "loop", meta);
    try {
      decodeJson(msg.data);
    } catch (err) {
      return this.drop(msg, ack, "not_json", { ...meta, bytes: msg.data.length, error: describeError(err) });
    }
    if (!this.options.amqp.fits(msg.data)) {
      return this.drop(msg, ack, "too_large", {
        ...meta,
        bytes: msg.data.length,
        maxMessageSize: this.options.amqp.maxMessageBytes,
      });
    }
    let headers: Record<string, unknown>;
    try {
      headers = eventHeadersToAmqp(msg.headers, bridgedMark("nats", service, eventType));
    } catch (err) {
      if (!(err instanceof InvalidHeader)) throw err;
      return this.drop(msg, ack, "bad_header", { ...meta, callId: lastCallId(msg), error: err.message });
    }
    const started = process.hrtime.bigint();
    try {
      // While RabbitMQ is away the publish waits for the reconnect; the pull loop keeps the
      // message ours meanwhile (working()), and a stop gives it back.
      const done = await this.stopper.race(this.options.amqp.publish(service, eventType, msg.data, headers));
      if (!done) {
        msg.nak(HAND_BACK_DELAY_MS);
        return;
      }
    } catch (err) {
      if (err instanceof InvalidHeader) {
        return this.drop(msg, ack, "bad_header", { ...meta, callId: lastCallId(msg), error: err.message });
      }
      metrics.retried?.(DIRECTION, service);
      const delayMs = this.backoff.next();
      this.log.warn("publish to RabbitMQ failed; redelivery after backoff", {
        ...meta,
        delayMs,
        error: describeError(err),
      });
      msg.nak(delayMs);
      return;
    }
    this.backoff.reset();
    ack(msg);
    metrics.forwarded?.(DIRECTION, service, Number(process.hrtime.bigint() - started) / 1e9);
  }
}

/** The dispatching worker's call id (the last of the event's call id stack), for logs. */
function lastCallId(msg: JsMsg): string | undefined {
  const text = msg.headers?.get(STACK_HEADER);
  if (!text) return undefined;
  const stack = decodeHeaderValue(STACK_HEADER, text);
  return Array.isArray(stack) && stack.length > 0 ? String(stack[stack.length - 1]) : undefined;
}
