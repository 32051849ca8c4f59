import { randomUUID } from "node:crypto";
import { jetstreamManager, type ConsumerInfo, type JetStreamManager, type JsMsg } from "@nats-io/jetstream";
import {
  ConfigurationError,
  decodeJson,
  describeError,
  durableConsumerName,
  type ErrorClass,
  eventQueueName,
  eventSubject,
  HandlerType,
  validateName,
} from "../../compat";
import type { ContainerHandle, Entrypoint, WorkerOutcome } from "../core/extension";
import { registerEntrypoint } from "../core/metadata";
import { ContainerBeingKilled } from "../errors";
import { contextFromNatsHeaders } from "../nats/headers";
import { eventConsumerSpan } from "../tracing/attributes";
import type { EntrypointSpan } from "../tracing/tracing";
import {
  deleteConsumer,
  deleteConsumerIfIdle,
  ensureEventConsumer,
  ensureEventsStream,
  eventsSettings,
  type EventConsumerSpec,
  type EventsSettings,
} from "../nats/jetstream";
import { PullLoop } from "../nats/pull-loop";

/** Options of @eventHandler; defaults are Nameko's. */
export interface EventHandlerOptions {
  /** Default SERVICE_POOL. */
  handlerType?: HandlerType;
  /** Keep events for this handler while its service is down (default true). */
  reliableDelivery?: boolean;
  /** Redeliver an event whose handler threw (default false: the event is acked and dropped). */
  requeueOnError?: boolean;
  /**
   * BROADCAST only: names this instance's consumer. The default, a fresh random id per start, cannot
   * survive a restart, so (as in Nameko) it is refused with reliableDelivery; give a stable one
   * (e.g. the host name) to keep events across restarts.
   */
  broadcastIdentifier?: string;
  /** Errors the handler is expected to throw: logged as warnings (Nameko's expected_exceptions). */
  expectedExceptions?: readonly ErrorClass[];
}

/** The @eventHandler entrypoint: one JetStream consumer, each event handled by one worker. */
export class EventHandler implements Entrypoint {
  readonly handlerType: HandlerType;
  readonly reliableDelivery: boolean;
  readonly requeueOnError: boolean;
  readonly expectedExceptions?: readonly ErrorClass[];
  traceSpan?: EntrypointSpan;
  private container?: ContainerHandle;
  private settings?: EventsSettings;
  private spec?: EventConsumerSpec;
  private jsm?: JetStreamManager;
  private loop?: PullLoop;
  /** The consumer as setup created or found it, for the pull loop's start. */
  private consumerInfo?: ConsumerInfo;

  constructor(
    readonly methodName: string,
    readonly sourceService: string,
    readonly eventType: string,
    private readonly options: EventHandlerOptions = {},
  ) {
    this.handlerType = options.handlerType ?? HandlerType.SERVICE_POOL;
    this.reliableDelivery = options.reliableDelivery ?? true;
    this.requeueOnError = options.requeueOnError ?? false;
    this.expectedExceptions = options.expectedExceptions;
  }

  /** The consumer's name (available after setup). */
  get consumerName(): string | undefined {
    return this.spec?.name;
  }

  /** The stream this handler consumes from (available after setup). */
  get streamName(): string | undefined {
    return this.spec?.stream;
  }

  async setup(container: ContainerHandle): Promise<void> {
    this.container = container;
    const where = `${container.serviceName}.${this.methodName}`;
    if (!Object.values(HandlerType).includes(this.handlerType)) {
      throw new ConfigurationError(`${where}: unknown handlerType ${JSON.stringify(this.handlerType)}`);
    }
    validateName("service", this.sourceService);
    validateName("event type", this.eventType);
    const broadcastId = this.broadcastId(where);
    this.settings = eventsSettings(container.config.prefix, container.config.events);
    const queueName = eventQueueName({
      source: this.sourceService,
      eventType: this.eventType,
      handlerType: this.handlerType,
      service: container.serviceName,
      method: this.methodName,
      broadcastId,
    });
    // Shared consumers stay while any instance pulls; a per-instance one whose id dies with the
    // instance, or any unreliable one, must not outlive its service (Nameko: auto_delete queues).
    const transient = !this.reliableDelivery;
    this.spec = {
      stream: this.settings.streamName,
      name: durableConsumerName(queueName),
      filterSubject: eventSubject(this.sourceService, this.eventType, container.config.prefix),
      ackWaitSeconds: this.settings.ackWaitSeconds,
      // The consumer is shared by every instance, so its cap on unacked events must leave each
      // instance its max_workers; per instance the pull loop bounds in-flight events to max_workers.
      maxAckPending: Math.max(this.settings.maxAckPending, container.maxWorkers),
      inactiveThresholdSeconds: transient ? this.settings.unreliableInactiveSeconds : undefined,
      description: `Nameko queue ${queueName}`,
    };
    this.traceSpan = eventConsumerSpan(
      this.sourceService,
      this.eventType,
      this.spec.filterSubject,
      queueName,
      this.handlerType,
    );
    await ensureEventsStream(container.nats, this.settings, { update: true, log: container.log });
    // ensureEventsStream's manager has checked that JetStream answers; checking again for every
    // handler would be one more request on nats-server's API queue per handler at start-up.
    this.jsm = await jetstreamManager(container.nats, { checkAPI: false });
    this.consumerInfo = await ensureEventConsumer(this.jsm, this.spec, container.log);
  }

  async start(): Promise<void> {
    const container = this.required();
    const spec = this.spec!;
    this.loop = new PullLoop(container.nats, spec.stream, spec.name, (msg, ack) => this.handle(msg, ack), {
      maxInFlight: container.maxWorkers,
      ackWaitSeconds: spec.ackWaitSeconds,
      log: container.log,
      recreate: () => ensureEventConsumer(this.jsm!, spec, container.log),
    });
    const info = this.consumerInfo;
    // Only the first start uses it: a later one (after a stop) must see the consumer as it is then.
    this.consumerInfo = undefined;
    await this.loop.start(info);
  }

  async stop(): Promise<void> {
    await this.loop?.stop();
    await this.removeIfTransient();
  }

  async kill(): Promise<void> {
    this.loop?.kill();
  }

  private required(): ContainerHandle {
    if (!this.container) throw new Error(`event handler ${this.methodName} used before setup`);
    return this.container;
  }

  private broadcastId(where: string): string | undefined {
    if (this.handlerType !== HandlerType.BROADCAST) return undefined;
    const custom = this.options.broadcastIdentifier;
    if (custom === undefined) {
      if (this.reliableDelivery) {
        // Nameko raises EventHandlerConfigurationError here: a random id per start cannot be reliable.
        throw new ConfigurationError(
          `${where}: a BROADCAST handler with the default broadcast identifier (random per start) cannot have reliable ` +
            `delivery; set reliableDelivery: false, or give a stable broadcastIdentifier`,
        );
      }
      return randomUUID().replace(/-/g, "");
    }
    // Hostnames are the usual choice, so dots are fine here; the consumer name is sanitised anyway.
    if (custom === "" || /[\s*>]/.test(custom)) {
      throw new ConfigurationError(
        `${where}: broadcastIdentifier ${JSON.stringify(custom)} must be non-empty, without spaces or wildcards`,
      );
    }
    return custom;
  }

  /**
   * One event: decode, run the worker, then settle the message as Nameko acks
   * (docs/nameko-wire.md, Event acknowledgement); `ack` is the pull loop's batched ack.
   */
  private async handle(msg: JsMsg, ack: (msg: JsMsg) => void): Promise<void> {
    const container = this.required();
    let payload: unknown;
    try {
      payload = decodeJson(msg.data);
    } catch (err) {
      // Nameko acks and drops an undecodable message; term() is JetStream's "never redeliver".
      container.log.error("event body is not JSON; message terminated", {
        subject: msg.subject,
        consumer: this.spec?.name,
        error: describeError(err),
      });
      // No reason text: nats-server before 2.10 does not recognise "+TERM <reason>" and would
      // leave the message pending, to be redelivered after ack_wait.
      msg.term();
      return;
    }
    // Lag: how long the event waited for this handler since JetStream stored it (server and host clocks;
    // a skew that would make it negative counts as none).
    container.metrics?.eventLag(
      this,
      this.sourceService,
      this.eventType,
      Math.max(0, Date.now() / 1000 - Number(msg.info.timestampNanos) / 1e9),
    );
    // Settled from the result handler, as Nameko acks in handle_result (docs/extensions.md, The worker):
    // once the handler ended, before dependencies' workerResult and teardown, so a slow teardown does
    // not hold the ack. Resolves after teardown, so the pull loop's in-flight bound covers the whole
    // worker, like its max_workers slot.
    await container.spawnWorker(this, [payload], contextFromNatsHeaders(msg.headers), (_worker, outcome) =>
      this.settle(msg, ack, outcome),
    );
  }

  /** Ack, or nak for a redelivery (requeueOnError, or a worker refused because the container is being killed). */
  private settle(msg: JsMsg, ack: (msg: JsMsg) => void, outcome: WorkerOutcome): void {
    if (outcome.ok) {
      ack(msg);
    } else if (this.requeueOnError || outcome.error instanceof ContainerBeingKilled) {
      // Nameko redelivers at once and without limit; a short delay keeps an always-failing handler
      // from spinning the CPU while still redelivering every time.
      const delayMs = Math.round(this.settings!.requeueDelaySeconds * 1000);
      if (delayMs > 0) msg.nak(delayMs);
      else msg.nak();
    } else {
      ack(msg);
    }
  }

  private async removeIfTransient(): Promise<void> {
    const spec = this.spec;
    if (!spec || !this.jsm || spec.inactiveThresholdSeconds === undefined) return;
    try {
      // Make sure our acks reached the server before it is asked whether anything is unacked.
      await this.container?.nats.flush();
      if (this.handlerType === HandlerType.BROADCAST) await deleteConsumer(this.jsm, spec.stream, spec.name);
      else await deleteConsumerIfIdle(this.jsm, spec.stream, spec.name);
    } catch (err) {
      // The inactive_threshold removes it anyway.
      this.container?.log.warn("could not remove event consumer at stop", { consumer: spec.name, error: String(err) });
    }
  }
}

/**
 * Handle events `eventType` published by `sourceService` (Nameko's @event_handler). The method
 * receives the payload as its single argument.
 */
export function eventHandler(
  sourceService: string,
  eventType: string,
  options: EventHandlerOptions = {},
): MethodDecorator {
  return (target, propertyKey) => {
    const methodName = String(propertyKey);
    registerEntrypoint(target, () => new EventHandler(methodName, sourceService, eventType, options));
  };
}
