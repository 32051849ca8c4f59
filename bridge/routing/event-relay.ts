/**
 * The events of a service cut over by weight, relayed between its original's vhost and the callers'
 * (docs/routing.md, Events of a routed service):
 *
 * - out: the bridge's queue `cliffracer-bridge-relay-<service>` on the original's vhost, bound to
 *   `<service>.events` with `#`, gets every event the original dispatches; each is republished to
 *   `<service>.events` on the callers' vhost with the same routing key, properties and headers, where
 *   Nameko handlers and the bridge's AMQP -> NATS path take it as before the move.
 * - in: each handler queue of the original left on the callers' vhost
 *   (`evt-<source>-<type>--<service>.<method>`, still bound to `<source>.events` there) is consumed,
 *   and each event is delivered into the queue of the same name on the original's vhost (through the
 *   default exchange, so it reaches that one handler: republished to `<source>.events` it would also
 *   reach the original's other handlers of that event, each of which gets its own copy already).
 *
 * Each message is acked only after the publisher confirm on the other vhost, so a bridge killed at
 * any moment loses nothing: RabbitMQ redelivers it (events reach handlers at least once). Several
 * bridges consume the same queues as competing consumers.
 *
 * The out relay marks its copies with the bare header `x-cliffracer-relayed: out:<original vhost>`.
 * An event the original dispatches and handles itself reaches its own queue on its vhost directly,
 * and its copy on the callers' vhost reaches the old queue of that handler there; the in relay drops
 * the marked copy instead of delivering it twice. Only the bare header counts: Nameko passes
 * unprefixed headers on as `nameko.*` context (bridge/routing/loop-guard.ts explains why).
 */
import type { ConsumeMessage, MessageProperties, Options } from "amqplib";
import {
  decodeAmqpHeaders,
  declareExchange,
  encodeAmqpHeaders,
  eventsExchange,
  InvalidHeader,
  QueueConsumer,
  type AmqpConnection,
  type ConsumerChannel,
  type ManagementApi,
  type QueueDeclaration,
} from "../../amqp";
import { describeError, eventsExchangeName, handlerOfEventQueue, type Logger } from "../../compat";
import type { FlowInstruments } from "../../src/internal";
import { allEventsQueue } from "../amqp/event-inbound";
import { Backoff, Stopper } from "../event-handover";
import { WarnThrottle } from "../warn-throttle";
import { withoutBridgeKeys } from "./loop-guard";

/** Prefix of the out relay's queue: not `rpc-` or `evt-`, so neither discovery nor Nameko takes it for theirs. */
export const RELAY_QUEUE_PREFIX = "cliffracer-bridge-relay-";

/** The bare header marking the out relay's copies (see the module comment). */
export const RELAYED_HEADER = "x-cliffracer-relayed";

/** Which way a relay carries events, as in metrics and logs. */
export type RelayDirection = "original_out" | "original_in";

/** The out relay's queue on the original's vhost: durable, bound to `<service>.events` with `#`. */
export function relayQueue(service: string): QueueDeclaration {
  return allEventsQueue(RELAY_QUEUE_PREFIX, service);
}

/** The out relay's mark for copies of events dispatched on the original's vhost `vhost`. */
export function relayMark(vhost: string): string {
  return `out:${vhost}`;
}

/**
 * True for a durable handler queue of `service` that another connection may consume: a service_pool
 * queue or a reliable broadcast queue. (A singleton queue names no service; an exclusive or
 * auto-delete queue belongs to one running instance and goes with it.)
 */
export function isRelayableHandlerQueue(
  service: string,
  q: { name: string; durable: boolean; auto_delete: boolean; exclusive: boolean },
): boolean {
  return q.durable && !q.auto_delete && !q.exclusive && handlerOfEventQueue(q.name)?.service === service;
}

/** Options of {@link EventRelay}. */
export interface EventRelayOptions {
  direction: RelayDirection;
  /** The routed service. */
  service: string;
  /** Where the queue is consumed. */
  source: AmqpConnection;
  /** Where each event is published (with confirms). */
  target: AmqpConnection;
  /** The out relay: its own queue, declared. The in relay: the name of an existing handler queue. */
  queue: QueueDeclaration | string;
  /** The mark written on each copy (out relay). */
  mark?: string;
  /** Copies bearing this mark are acked and dropped (in relay). */
  skipMark?: string;
  prefetch: number;
  /**
   * RabbitMQ's `max_message_size` on the target (`BRIDGE.amqp_max_message_size`): a larger event
   * would close the publishing channel on every attempt, so it is dropped and counted instead.
   */
  maxMessageBytes: number;
  retry: { initialMs: number; maxMs: number };
  log: Logger;
  /** The bridge's event metrics of this relay (`cliffracer_bridge_events_*`, direction `original_out`/`original_in`). */
  instruments: FlowInstruments;
}

/** One queue relayed to the other vhost. */
export class EventRelay {
  private readonly consumer: QueueConsumer;
  private readonly log: Logger;
  private readonly backoff: Backoff;
  private readonly stoppers = new Map<ConsumerChannel, Stopper>();
  /** Exchanges declared and queues found on the target (forgotten after a failure, which may be a reconnect). */
  private readonly declared = new Set<string>();
  /** While the original's queue is missing every delivery fails alike: one line per interval. */
  private readonly warnings: WarnThrottle;

  constructor(private readonly options: EventRelayOptions) {
    const { queue, source } = options;
    const own = typeof queue !== "string";
    this.log = options.log.child({ direction: options.direction, queue: own ? queue.queue : queue });
    this.backoff = new Backoff(options.retry.initialMs, options.retry.maxMs);
    this.warnings = new WarnThrottle(this.log);
    this.consumer = new QueueConsumer({
      connection: source,
      log: this.log,
      exchange: own ? eventsExchange(options.service) : undefined,
      // Every queue is bound to the default exchange by its name, so that is the declaration of a queue only checked.
      queue: own ? queue : { ...relayQueue(options.service), queue, exchange: "", bindingKey: queue },
      prefetch: options.prefetch,
      onChannel: (cc) => {
        const stopper = new Stopper();
        this.stoppers.set(cc, stopper);
        cc.channel.once("close", () => {
          stopper.stop();
          this.stoppers.delete(cc);
        });
      },
      handle: (cc, msg) => this.handle(cc, msg),
      onCancelled: (cc) => {
        // The queue was deleted (the handler is gone for good, or an operator): the channel is
        // reopened, which checks it again and retries with backoff until it is back or the relay stops.
        this.log.warn("relayed queue's consumer cancelled by the broker; re-establishing");
        void cc.channel.close().catch(() => undefined);
      },
      onStopping: () => {
        for (const stopper of this.stoppers.values()) stopper.stop();
      },
    });
  }

  /** True while consuming on the current connection. */
  get established(): boolean {
    return this.consumer.established;
  }

  start(): Promise<void> {
    return this.consumer.start();
  }

  /** Stops consuming; events being published are confirmed and acked first. */
  stop(): Promise<void> {
    return this.consumer.stop();
  }

  private drop(cc: ConsumerChannel, msg: ConsumeMessage, why: "own_copy" | "bad_header" | "too_large"): void {
    cc.ack(msg);
    this.options.instruments.failed(`dropped_${why}`);
    this.log.debug("event not relayed; acked", { why, routingKey: msg.fields.routingKey });
  }

  private async handle(cc: ConsumerChannel, msg: ConsumeMessage): Promise<void> {
    const { direction, skipMark, mark, target, instruments } = this.options;
    if (msg.fields.redelivered) instruments.redelivered();
    const raw = msg.properties.headers as Record<string, unknown> | undefined;
    const seen: unknown = raw?.[RELAYED_HEADER];
    if (skipMark !== undefined && (Buffer.isBuffer(seen) ? seen.toString("utf8") : seen) === skipMark)
      return this.drop(cc, msg, "own_copy");
    if (msg.content.length > this.options.maxMessageBytes) {
      this.log.error("event too large for the other vhost's broker; acked and dropped", {
        bytes: msg.content.length,
        limit: this.options.maxMessageBytes,
      });
      return this.drop(cc, msg, "too_large");
    }
    let headers: ReturnType<typeof encodeAmqpHeaders>;
    try {
      const plain = withoutBridgeKeys(decodeAmqpHeaders(raw));
      if (mark !== undefined) plain[RELAYED_HEADER] = mark;
      headers = encodeAmqpHeaders(plain);
    } catch (err) {
      // A header table amqp/ cannot decode would fail on every delivery: refused, never looped.
      if (err instanceof InvalidHeader) {
        this.log.warn("event with a header that cannot be carried; acked and dropped", { error: err.message });
        return this.drop(cc, msg, "bad_header");
      }
      throw err;
    }
    const [exchange, routingKey] =
      direction === "original_out"
        ? [eventsExchangeName(this.options.service), msg.fields.routingKey]
        : ["", this.queueName];
    const stopper = this.stoppers.get(cc);
    const started = process.hrtime.bigint();
    try {
      if (exchange !== "" && !this.declared.has(exchange)) {
        // Declared as an in-service Nameko dispatcher declares it, so handlers bound before it existed get the event.
        await target.withChannel((ch) => declareExchange(ch, eventsExchange(this.options.service)));
        this.declared.add(exchange);
      } else if (exchange === "" && !this.declared.has(routingKey)) {
        // Published to a queue the original has not declared yet, the event would be dropped as
        // unroutable: it waits in its old queue (retried with backoff) until the original's is there.
        await target.withChannel((ch) => ch.checkQueue(routingKey));
        this.declared.add(routingKey);
      }
      await target.publish(exchange, routingKey, msg.content, { ...publishProperties(msg.properties), headers });
    } catch (err) {
      instruments.failed("retried");
      this.declared.clear();
      const delayMs = this.backoff.next();
      this.warnings.warn("relay_failed", "relaying an event failed; requeued after backoff", {
        delayMs,
        error: describeError(err),
      });
      await stopper?.sleep(delayMs);
      cc.reject(msg, true);
      return;
    }
    this.backoff.reset();
    cc.ack(msg);
    instruments.observed(Number(process.hrtime.bigint() - started) / 1e9);
  }

  private get queueName(): string {
    const { queue } = this.options;
    return typeof queue === "string" ? queue : queue.queue;
  }
}

/**
 * The properties of a received message to publish it again with: all of them but `headers` (encoded
 * apart) and `userId`, which RabbitMQ checks against the publishing connection's user.
 */
function publishProperties(p: MessageProperties): Options.Publish {
  const out: Options.Publish = {};
  const copy = <K extends keyof Options.Publish & keyof MessageProperties>(key: K): void => {
    const value = p[key] as Options.Publish[K] | undefined;
    if (value !== undefined) out[key] = value;
  };
  copy("contentType");
  copy("contentEncoding");
  copy("deliveryMode");
  copy("priority");
  copy("correlationId");
  copy("replyTo");
  copy("expiration");
  copy("messageId");
  copy("timestamp");
  copy("type");
  copy("appId");
  return out;
}

/** A queue as the management API lists it (the fields read here). */
interface MgmtQueue {
  name: string;
  durable: boolean;
  auto_delete: boolean;
  exclusive: boolean;
}

/** A binding as the management API lists it (the fields read here). */
interface MgmtBinding {
  source: string;
  routing_key: string;
}

/**
 * Declares on the callers' vhost, through `callers`, a handler queue the original declared only on
 * its own vhost `originalVhost` (a handler it gained after the move): the same name, Nameko's flags
 * for a durable handler queue, and the same bindings (from the management API), each exchange
 * declared first as a Nameko handler declares its source's. From then on the queue collects the
 * events dispatched on the callers' vhost for the in relay, as the old queues do.
 */
export async function declareOnCallers(
  api: ManagementApi,
  originalVhost: string,
  queue: string,
  callers: AmqpConnection,
): Promise<void> {
  const bindings = await api.getJson<MgmtBinding[]>(
    `/api/queues/${encodeURIComponent(originalVhost)}/${encodeURIComponent(queue)}/bindings`,
  );
  await callers.withChannel(async (ch) => {
    await ch.assertQueue(queue, { durable: true, autoDelete: false, exclusive: false, arguments: {} });
    for (const b of bindings) {
      // The default exchange's binding comes with the queue.
      if (b.source === "") continue;
      await declareExchange(ch, { exchange: b.source, autoDelete: false });
      await ch.bindQueue(queue, b.source, b.routing_key, {});
    }
  });
}

/**
 * The names of `service`'s handler queues on `vhost` that the in relay consumes (see
 * {@link isRelayableHandlerQueue}), from the RabbitMQ management API.
 */
export async function findHandlerQueues(api: ManagementApi, vhost: string, service: string): Promise<string[]> {
  const queues = await api.getJson<MgmtQueue[]>(
    `/api/queues/${encodeURIComponent(vhost)}?columns=name,durable,auto_delete,exclusive`,
  );
  return queues.filter((q) => isRelayableHandlerQueue(service, q)).map((q) => q.name);
}
