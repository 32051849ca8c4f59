/**
 * Events across the bridge, both ways (docs/bridge-contract.md, Events):
 *
 * - a service on RabbitMQ: its events (`<service>.events`) appear in JetStream as
 *   `[prefix.]events.<service>.<type>` (bridge/amqp/event-inbound.ts -> bridge/nats/event-outbound.ts);
 * - a service on NATS: its events go to `<service>.events` for Nameko handlers
 *   (bridge/nats/event-inbound.ts -> bridge/amqp/event-outbound.ts);
 * - a service on both sides during a migration: both, and the loop guard keeps each copy from
 *   crossing back (bridge/routing/loop-guard.ts).
 *
 * Each message is acked on its side only after the other side took it (PubAck / publisher
 * confirm), so a bridge killed at any moment loses nothing and may redeliver; events reach each
 * handler at least once. The set of services comes from the directory and is re-read by refresh().
 */
import { jetstreamManager, JetStreamApiCodes, type JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { AmqpConnection } from "../amqp";
import { describeError, type Logger, validateName } from "../compat";
import type { EventsConfig } from "../src/internal";
import {
  ensureEventsStream,
  eventsSettings,
  eventsStreamConfig,
  isApiError,
  type EventsSettings,
} from "../src/internal";
import { AmqpEventInbound } from "./amqp/event-inbound";
import { AmqpEventOutbound } from "./amqp/event-outbound";
import { NatsLink, type EventBridgeMetrics } from "./event-handover";
import { NatsEventInbound } from "./nats/event-inbound";
import { NatsEventOutbound } from "./nats/event-outbound";
import { DEFAULT_AMQP_MAX_MESSAGE_BYTES } from "./config";

export type { EventBridgeMetrics, EventDirection, EventDropReason } from "./event-handover";

/** Unacked AMQP events in one bridge per AMQP-side service (basic.qos). */
export const DEFAULT_EVENT_PREFETCH = 128;
/** JetStream events one bridge forwards at once per NATS-side service. */
export const DEFAULT_EVENT_MAX_IN_FLIGHT = 128;
/** How long to wait for a JetStream PubAck before requeueing the AMQP message. */
export const DEFAULT_EVENT_PUBLISH_TIMEOUT_MS = 5_000;
/** First delay before retrying a failed hand-over; doubles per consecutive failure. */
export const DEFAULT_EVENT_RETRY_INITIAL_MS = 100;
/** Longest delay between retries of a failed hand-over. */
export const DEFAULT_EVENT_RETRY_MAX_MS = 5_000;
/** How long a service that left the AMQP side may take to forward what is still in its bridge queue. */
export const DEFAULT_EVENT_DRAIN_TIMEOUT_MS = 30_000;

/** Tuning of the event paths; every field has a default above. */
export interface EventBridgeOptions {
  amqpPrefetch: number;
  natsMaxInFlight: number;
  /** max_ack_pending of each shared bridge consumer (default: the events config's maxAckPending). */
  maxAckPending: number;
  publishTimeoutMs: number;
  retryInitialMs: number;
  retryMaxMs: number;
  drainTimeoutMs: number;
  /** RabbitMQ's `max_message_size`: a larger NATS event is refused (dropped and counted), never published. */
  amqpMaxMessageBytes: number;
}

/** What createEventBridge needs; the connections are owned (started and closed) by the caller. */
export interface EventBridgeDeps {
  /** Consumes the bridge's event queues, and publishes unless `amqpPublisher` is given. */
  amqp: AmqpConnection;
  /** A separate connection for confirmed event publishes, if the caller keeps one. */
  amqpPublisher?: AmqpConnection;
  nats: NatsConnection;
  /** Subject prefix (RuntimeConfig.prefix). */
  prefix?: string;
  /** Events stream settings (RuntimeConfig.events): stream name, max_age, ack_wait, max_ack_pending. */
  events?: Partial<EventsConfig>;
  /** Services that live on NATS now: their events are carried to AMQP. */
  natsServices: () => Iterable<string>;
  /** Services that live on RabbitMQ now: their events are carried to NATS. */
  amqpServices: () => Iterable<string>;
  logger: Logger;
  metrics?: EventBridgeMetrics;
  /** This bridge's name, in logs. */
  bridgeId: string;
  options?: Partial<EventBridgeOptions>;
}

/** Which services are bridged right now, per direction. */
export interface EventBridgeStatus {
  amqpToNats: string[];
  natsToAmqp: string[];
  /** Services whose path could not be established yet (retried). */
  failing: string[];
  natsConnected: boolean;
}

/** The event paths of one bridge. */
export interface EventBridge {
  /** Makes sure the events stream exists, then establishes a path per service of the directory. */
  start(): Promise<void>;
  /** Stops every path; messages in the bridge's hands go back to their queue / consumer. */
  stop(): Promise<void>;
  /** True while started, NATS is connected and every wanted path is established. */
  ready(): boolean;
  /** Re-reads the directory: new services get a path, services gone are drained and retired. */
  refresh(): Promise<void>;
  status(): EventBridgeStatus;
}

interface Path {
  start(): Promise<void>;
  stop(): Promise<void>;
  retire(): Promise<void>;
  readonly established: boolean;
}

/** Both directions, each a map of service -> path; one code path for both. */
class PathSet {
  readonly paths = new Map<string, Path>();
  readonly failing = new Set<string>();
  private readonly retiring = new Map<string, Promise<void>>();

  constructor(
    private readonly label: string,
    private readonly make: (service: string) => Path,
    private readonly log: Logger,
  ) {}

  /** Brings the set in line with `wanted`; resolves when every new path started or failed. */
  async reconcile(wanted: Set<string>): Promise<void> {
    for (const [service, path] of this.paths) {
      if (wanted.has(service)) continue;
      this.paths.delete(service);
      this.failing.delete(service);
      this.log.info("service left; retiring its event path", { path: this.label, service });
      const done = path
        .retire()
        .catch((err: unknown) => {
          this.log.warn("retiring event path failed", { path: this.label, service, error: describeError(err) });
        })
        .finally(() => this.retiring.delete(service));
      this.retiring.set(service, done);
    }
    const starting: Array<Promise<void>> = [];
    for (const service of wanted) {
      if (this.paths.has(service) && !this.failing.has(service)) continue;
      starting.push(this.startOne(service));
    }
    await Promise.all(starting);
  }

  private async startOne(service: string): Promise<void> {
    await this.retiring.get(service);
    const path = this.paths.get(service) ?? this.make(service);
    this.paths.set(service, path);
    try {
      await path.start();
      if (this.failing.delete(service)) this.log.info("event path established", { path: this.label, service });
      else this.log.info("event path started", { path: this.label, service });
    } catch (err) {
      this.failing.add(service);
      this.log.error("event path could not start; will retry", {
        path: this.label,
        service,
        error: describeError(err),
      });
    }
  }

  get established(): boolean {
    return this.failing.size === 0 && [...this.paths.values()].every((p) => p.established);
  }

  async stopAll(): Promise<void> {
    const paths = [...this.paths.values()];
    this.paths.clear();
    await Promise.allSettled(paths.map((p) => p.stop()));
    await Promise.allSettled([...this.retiring.values()]);
  }
}

/** Valid, distinct service names from the directory; an invalid one is logged and skipped. */
function validNames(names: Iterable<string>, log: Logger): Set<string> {
  const out = new Set<string>();
  for (const name of names) {
    try {
      out.add(validateName("service", name));
    } catch (err) {
      log.error("service name refused for event bridging", { service: name, error: describeError(err) });
    }
  }
  return out;
}

/** Creates the event paths of a bridge (see the module comment); nothing happens before start(). */
export function createEventBridge(deps: EventBridgeDeps): EventBridge {
  const prefix = deps.prefix ?? "";
  const settings: EventsSettings = eventsSettings(prefix, deps.events ?? {});
  const o: EventBridgeOptions = {
    amqpPrefetch: DEFAULT_EVENT_PREFETCH,
    natsMaxInFlight: DEFAULT_EVENT_MAX_IN_FLIGHT,
    maxAckPending: settings.maxAckPending,
    publishTimeoutMs: DEFAULT_EVENT_PUBLISH_TIMEOUT_MS,
    retryInitialMs: DEFAULT_EVENT_RETRY_INITIAL_MS,
    retryMaxMs: DEFAULT_EVENT_RETRY_MAX_MS,
    drainTimeoutMs: DEFAULT_EVENT_DRAIN_TIMEOUT_MS,
    amqpMaxMessageBytes: DEFAULT_AMQP_MAX_MESSAGE_BYTES,
    ...deps.options,
  };
  const log = deps.logger.child({ component: "bridge-events", bridge: deps.bridgeId });
  const metrics = deps.metrics ?? {};
  const retry = { initialMs: o.retryInitialMs, maxMs: o.retryMaxMs };
  const link = new NatsLink(deps.nats);
  const amqpOut = new AmqpEventOutbound(deps.amqpPublisher ?? deps.amqp, o.amqpMaxMessageBytes);
  let jsm: JetStreamManager | undefined;
  let repairing: Promise<void> | undefined;

  // The events stream went missing under us (deleted by an operator): create it again so the
  // requeued events can be stored; they are retried meanwhile, never dropped.
  const repairStream = (): void => {
    if (repairing || !jsm) return;
    const manager = jsm;
    repairing = (async () => {
      try {
        await manager.streams.info(settings.streamName);
      } catch (err) {
        if (!isApiError(err, JetStreamApiCodes.StreamNotFound)) throw err;
        await manager.streams.add(eventsStreamConfig(settings));
        log.warn("events stream was missing; created it again", { stream: settings.streamName });
      }
    })()
      .catch((err: unknown) => {
        log.warn("could not check the events stream", { stream: settings.streamName, error: describeError(err) });
      })
      .finally(() => (repairing = undefined));
  };
  const natsOut = new NatsEventOutbound(deps.nats, {
    prefix,
    publishTimeoutMs: o.publishTimeoutMs,
    onNotStored: repairStream,
  });

  const toNats = new PathSet(
    "amqp_to_nats",
    (service) =>
      new AmqpEventInbound({
        connection: deps.amqp,
        service,
        prefetch: o.amqpPrefetch,
        nats: natsOut,
        natsLink: link,
        retry,
        drainTimeoutMs: o.drainTimeoutMs,
        log,
        metrics,
      }),
    log,
  );
  const toAmqp = new PathSet(
    "nats_to_amqp",
    (service) =>
      new NatsEventInbound({
        nc: deps.nats,
        jsm: jsm!,
        stream: settings.streamName,
        prefix,
        service,
        maxInFlight: o.natsMaxInFlight,
        maxAckPending: o.maxAckPending,
        ackWaitSeconds: settings.ackWaitSeconds,
        amqp: amqpOut,
        retry,
        log,
        metrics,
      }),
    log,
  );

  let state: "new" | "started" | "stopped" = "new";
  let chain: Promise<void> = Promise.resolve();
  let retryTimer: NodeJS.Timeout | undefined;
  let retryDelayMs = o.retryInitialMs;

  const reconcile = async (): Promise<void> => {
    if (state !== "started") return;
    await Promise.all([
      toNats.reconcile(validNames(deps.amqpServices(), log)),
      toAmqp.reconcile(validNames(deps.natsServices(), log)),
    ]);
    if (toNats.failing.size + toAmqp.failing.size > 0 && state === "started") {
      // A path that could not start (a broker away, a 406) is tried again with backoff.
      if (!retryTimer) {
        retryTimer = setTimeout(() => {
          retryTimer = undefined;
          void refresh();
        }, retryDelayMs);
        retryTimer.unref();
      }
      retryDelayMs = Math.min(o.retryMaxMs * 6, retryDelayMs * 2);
    } else {
      retryDelayMs = o.retryInitialMs;
    }
  };

  const refresh = (): Promise<void> => {
    chain = chain.then(reconcile, reconcile);
    return chain;
  };

  return {
    async start() {
      if (state !== "new") return;
      link.watch();
      // Created if missing, never reconfigured: services own the stream's settings.
      await ensureEventsStream(deps.nats, settings, { update: false, log });
      jsm = await jetstreamManager(deps.nats);
      state = "started";
      await refresh();
    },

    async stop() {
      if (state === "stopped") return;
      state = "stopped";
      if (retryTimer) clearTimeout(retryTimer);
      await chain.catch(() => undefined);
      await Promise.all([toNats.stopAll(), toAmqp.stopAll()]);
      link.unwatch();
    },

    ready() {
      return state === "started" && link.up && toNats.established && toAmqp.established;
    },

    refresh,

    status() {
      return {
        amqpToNats: [...toNats.paths.keys()].filter((s) => !toNats.failing.has(s)),
        natsToAmqp: [...toAmqp.paths.keys()].filter((s) => !toAmqp.failing.has(s)),
        failing: [...toNats.failing, ...toAmqp.failing],
        natsConnected: link.up,
      };
    },
  };
}
