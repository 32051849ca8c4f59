import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  jetstreamManager,
  ReplayPolicy,
  RetentionPolicy,
  StorageType,
  type ConsumerConfig,
  type ConsumerInfo,
  type JetStreamManager,
  type StreamConfig,
} from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { eventsStreamName, eventsSubjectFilter, type Logger } from "../../compat";
import { defaultConfig, type EventsConfig } from "../config/defaults";

// The events stream and its consumers. Nameko keeps an event in the queue of every handler bound
// when it was published, until that handler acks it (docs/nameko-wire.md, Event handler queues). JetStream's
// *interest* retention is the same rule: a message is kept while at least one consumer whose filter
// matches has not acked it, and a consumer counts whether or not anybody is pulling from it right
// now. So an event nobody subscribed to is dropped at once, and an event for a stopped durable
// handler waits for it (bounded by max_age, Nameko's queues have no such bound but a stream must).
//
// Settings (config key under EVENTS, default):
//   stream    name NAMEKO_EVENTS / <PREFIX>_NAMEKO_EVENTS (stream_name), subjects [prefix.]events.>,
//             retention interest, discard old, storage file (storage), replicas 1 (replicas),
//             max_age 7 days (max_age). Services create it or update subjects/max_age/replicas at
//             start-up; standalone dispatchers only create it when missing.
//   consumer  one per handler, named durableConsumerName(Nameko queue name); pull, ack explicit,
//             deliver new (a new handler sees events from its creation on, like a new queue),
//             max_deliver unlimited, ack_wait 30 s (ack_wait; a running handler extends it),
//             max_ack_pending 1000 shared by the instances (max_ack_pending; never below
//             max_workers). reliableDelivery=false and default BROADCAST consumers also get
//             inactive_threshold 30 s (unreliable_inactive) and are deleted at stop when unused.
//   requeue   a requeueOnError failure is nak'ed with a 0.1 s delay (requeue_delay; 0 = at once).
const NANOS_PER_MS = 1_000_000;
const nanos = (seconds: number): number => Math.round(seconds * 1000 * NANOS_PER_MS);

/** The events config after defaults were applied, with the stream's name and subjects resolved. */
export interface EventsSettings extends Required<EventsConfig> {
  /** The subjects the stream captures. */
  subjectFilter: string;
}

/** Resolve the events settings of a prefix; fields a hand-built config leaves out take the defaults. */
export function eventsSettings(prefix: string, config: Partial<EventsConfig>): EventsSettings {
  const c: EventsConfig = { ...defaultConfig().events, ...definedOnly(config) };
  return { ...c, streamName: c.streamName || eventsStreamName(prefix), subjectFilter: eventsSubjectFilter(prefix) };
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** The stream configuration Cliffracer wants for its events. */
export function eventsStreamConfig(s: EventsSettings): Partial<StreamConfig> & { name: string } {
  return {
    name: s.streamName,
    description: "Cliffracer events (Nameko semantics: interest retention, kept until every bound handler acked)",
    subjects: [s.subjectFilter],
    retention: RetentionPolicy.Interest,
    storage: s.storage === "memory" ? StorageType.Memory : StorageType.File,
    num_replicas: s.replicas,
    max_age: nanos(s.maxAgeSeconds),
    discard: DiscardPolicy.Old,
  };
}

/** True when `err` is a JetStream API error with the given code. */
export function isApiError(err: unknown, code: number): boolean {
  return err instanceof JetStreamApiError && err.code === code;
}

// One ensure per connection and stream: every handler and dispatcher of a process asks, the
// server is asked once.
const ensured = new WeakMap<NatsConnection, Map<string, Promise<void>>>();

/**
 * Make sure the events stream exists. `update` also brings an existing stream's mutable settings
 * (subjects, max_age, replicas) in line; services do that, scripts only create a missing stream so
 * they never undo a service's configuration.
 */
export function ensureEventsStream(
  nc: NatsConnection,
  settings: EventsSettings,
  options: { update: boolean; log?: Logger },
): Promise<void> {
  let perConnection = ensured.get(nc);
  if (!perConnection) ensured.set(nc, (perConnection = new Map()));
  const key = `${settings.streamName}\u0000${options.update}`;
  const known = perConnection.get(key);
  if (known) return known;
  const pending = createOrUpdateStream(nc, settings, options).catch((err: unknown) => {
    perConnection.delete(key);
    throw err;
  });
  perConnection.set(key, pending);
  return pending;
}

async function createOrUpdateStream(
  nc: NatsConnection,
  s: EventsSettings,
  options: { update: boolean; log?: Logger },
): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const wanted = eventsStreamConfig(s);
  for (let attempt = 0; ; attempt++) {
    let current: StreamConfig;
    try {
      current = (await jsm.streams.info(s.streamName)).config;
    } catch (err) {
      if (!isApiError(err, JetStreamApiCodes.StreamNotFound)) throw err;
      try {
        await jsm.streams.add(wanted);
        options.log?.info("events stream created", {
          stream: s.streamName,
          subjects: wanted.subjects,
          max_age_s: s.maxAgeSeconds,
        });
        return;
      } catch (addErr) {
        // Another process created it between our info and add: look again.
        if (attempt < 2) continue;
        throw addErr;
      }
    }
    if (current.retention !== wanted.retention || current.storage !== wanted.storage) {
      // Retention and storage are fixed at creation; say so instead of failing every start.
      options.log?.warn("events stream exists with other retention/storage; using it as it is", {
        stream: s.streamName,
        retention: current.retention,
        storage: current.storage,
        wanted_retention: wanted.retention,
        wanted_storage: wanted.storage,
      });
    }
    if (!options.update) return;
    const subjects = current.subjects.includes(s.subjectFilter)
      ? current.subjects
      : [...current.subjects, s.subjectFilter];
    if (
      subjects === current.subjects &&
      current.max_age === wanted.max_age &&
      current.num_replicas === wanted.num_replicas
    )
      return;
    await jsm.streams.update(s.streamName, {
      ...current,
      subjects,
      max_age: wanted.max_age!,
      num_replicas: wanted.num_replicas!,
    });
    options.log?.info("events stream updated", { stream: s.streamName, subjects, max_age_s: s.maxAgeSeconds });
    return;
  }
}

/** One handler's consumer on the events stream. */
export interface EventConsumerSpec {
  stream: string;
  /** Consumer (and durable) name, from compat durableConsumerName. */
  name: string;
  /** `[prefix.]events.<source>.<type>` */
  filterSubject: string;
  ackWaitSeconds: number;
  maxAckPending: number;
  /** Set for consumers that must vanish when nobody uses them (reliable_delivery=False, default broadcast). */
  inactiveThresholdSeconds?: number;
  description?: string;
}

/** The consumer configuration for a spec: a pull consumer with explicit acks and unlimited redelivery. */
export function eventConsumerConfig(spec: EventConsumerSpec): Partial<ConsumerConfig> {
  const cfg: Partial<ConsumerConfig> = {
    name: spec.name,
    durable_name: spec.name,
    description: spec.description,
    filter_subject: spec.filterSubject,
    ack_policy: AckPolicy.Explicit,
    // A new consumer sees events published from now on, as a freshly bound Nameko queue does.
    deliver_policy: DeliverPolicy.New,
    replay_policy: ReplayPolicy.Instant,
    ack_wait: nanos(spec.ackWaitSeconds),
    max_ack_pending: spec.maxAckPending,
    // Nameko requeues without limit (docs/nameko-wire.md, Event acknowledgement).
    max_deliver: -1,
  };
  if (spec.inactiveThresholdSeconds !== undefined) cfg.inactive_threshold = nanos(spec.inactiveThresholdSeconds);
  return cfg;
}

/** Create the consumer, or align an existing one's mutable settings; concurrent instances may race here safely. */
export async function ensureEventConsumer(
  jsm: JetStreamManager,
  spec: EventConsumerSpec,
  log?: Logger,
): Promise<ConsumerInfo> {
  const wanted = eventConsumerConfig(spec);
  for (let attempt = 0; ; attempt++) {
    let info: ConsumerInfo;
    try {
      info = await jsm.consumers.info(spec.stream, spec.name);
    } catch (err) {
      if (!isApiError(err, JetStreamApiCodes.ConsumerNotFound)) throw err;
      try {
        return await jsm.consumers.add(spec.stream, wanted);
      } catch (addErr) {
        if (attempt < 2) continue;
        throw addErr;
      }
    }
    const c = info.config;
    const drift =
      c.ack_wait !== wanted.ack_wait ||
      c.max_ack_pending !== wanted.max_ack_pending ||
      (c.inactive_threshold ?? 0) !== (wanted.inactive_threshold ?? 0);
    if (!drift) return info;
    try {
      return await jsm.consumers.update(spec.stream, spec.name, {
        ack_wait: wanted.ack_wait,
        max_ack_pending: wanted.max_ack_pending,
        inactive_threshold: wanted.inactive_threshold ?? 0,
      });
    } catch (err) {
      // An older server may refuse some edits; the existing consumer still delivers correctly.
      log?.warn("could not update event consumer settings; using it as it is", {
        consumer: spec.name,
        error: String(err),
      });
      return info;
    }
  }
}

/**
 * Delete a consumer nobody else is using: no pull request waiting and nothing unacked. Another
 * instance that is busy has unacked messages and one that is idle has a pull waiting, so neither
 * loses its consumer; anything missed here is removed by the consumer's inactive_threshold.
 */
export async function deleteConsumerIfIdle(jsm: JetStreamManager, stream: string, name: string): Promise<boolean> {
  try {
    const info = await jsm.consumers.info(stream, name);
    if (info.num_waiting > 0 || info.num_ack_pending > 0) return false;
    return await jsm.consumers.delete(stream, name);
  } catch (err) {
    if (isApiError(err, JetStreamApiCodes.ConsumerNotFound) || isApiError(err, JetStreamApiCodes.StreamNotFound))
      return false;
    throw err;
  }
}

/** Delete a consumer, ignoring one that is already gone. */
export async function deleteConsumer(jsm: JetStreamManager, stream: string, name: string): Promise<void> {
  try {
    await jsm.consumers.delete(stream, name);
  } catch (err) {
    if (isApiError(err, JetStreamApiCodes.ConsumerNotFound) || isApiError(err, JetStreamApiCodes.StreamNotFound))
      return;
    throw err;
  }
}

export { PullLoop, type PullLoopOptions } from "./pull-loop";
