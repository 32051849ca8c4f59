/**
 * Recording a service on NATS without touching its routing (docs/cassettes.md, Recording from
 * NATS): plain subscriptions (no queue group, so the service's own instances still get every
 * request) on `[prefix.]rpc.<service>.*` and `[prefix.]events.<service>.*`, and on the callers'
 * inboxes for the replies (docs/nats-contract.md, Subjects). Nothing here subscribes to a subject
 * of a service that is not recorded, so a call to a service nobody serves still gets "no
 * responders" at once. Events a recorded service handles are seen on the filter subjects of its
 * handlers' JetStream consumers, found when recording starts by their Nameko queue names.
 */
import { dialNats } from "../src/internal";
import { natsConnectOptions, type Credentials } from "./credentials";
import { performance } from "node:perf_hooks";
import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import type { Msg, NatsConnection, Subscription } from "@nats-io/transport-node";
import {
  decodeHeaderValue,
  describeError,
  eventsSubjectFilter,
  handlerOfEventQueue,
  HEADER_PREFIX,
  methodOfSubject,
  rpcServiceSubjects,
  type Logger,
} from "../compat";
import type { Observation } from "./assembler";
import type { TraceSource } from "./amqp-source";

/** The inbox prefix of nats.js clients, Cliffracer's among them. */
export const DEFAULT_INBOX_PREFIX = "_INBOX";

/** Options of {@link startNatsTrace}. */
export interface NatsTraceOptions {
  natsUrl: string;
  /** NATS credentials and TLS. */
  credentials?: Credentials;
  /** NATS_PREFIX of the recorded services. */
  prefix: string;
  services: readonly string[];
  /** Callers' inbox prefixes listened to for replies; default `_INBOX`. */
  inboxPrefixes?: readonly string[];
  log: Logger;
  onObservation(o: Observation): void;
}

/** `nameko.*` headers of a NATS message, decoded (docs/nats-contract.md, Headers). */
function contextHeaders(m: Msg): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!m.headers) return out;
  for (const [key, values] of m.headers) {
    if (values.length > 0 && key.startsWith(HEADER_PREFIX)) out[key] = decodeHeaderValue(key, values[0] ?? "");
  }
  return out;
}

/** How a Cliffracer event consumer's description names its Nameko queue (src/entrypoints/events.ts). */
const QUEUE_DESCRIPTION = "Nameko queue ";

/** The Nameko queue name an event consumer's description gives, or undefined. */
export function consumerQueueName(description: string | undefined): string | undefined {
  return description?.startsWith(QUEUE_DESCRIPTION) ? description.slice(QUEUE_DESCRIPTION.length) : undefined;
}

/**
 * The Nameko queue names of the event consumers of the recorded services (and singleton ones, which
 * name no service), by filter subject; empty when there is no events stream.
 */
async function handlerQueues(
  jsm: JetStreamManager,
  prefix: string,
  services: readonly string[],
): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  let stream: string;
  try {
    stream = await jsm.streams.find(eventsSubjectFilter(prefix));
  } catch {
    return out;
  }
  for await (const info of jsm.consumers.list(stream)) {
    const queue = consumerQueueName(info.config.description);
    if (queue === undefined) continue;
    const handler = handlerOfEventQueue(queue);
    if (handler !== undefined && !services.includes(handler.service)) continue;
    if (handler === undefined && !queue.startsWith("evt-")) continue;
    for (const subject of [info.config.filter_subject, ...(info.config.filter_subjects ?? [])]) {
      if (subject === undefined || subject === "") continue;
      out.set(subject, [...(out.get(subject) ?? []), queue]);
    }
  }
  return out;
}

/** Subscribes to the recorded services' subjects and their callers' inboxes. */
export async function startNatsTrace(options: NatsTraceOptions): Promise<TraceSource> {
  const nc: NatsConnection = await dialNats(
    natsConnectOptions(options.natsUrl, "cliffracer-record", options.credentials),
    { log: options.log },
  );
  const inboxes = (options.inboxPrefixes ?? [DEFAULT_INBOX_PREFIX]).map((p) => `${p}.`);
  const subs: Subscription[] = [];
  const extraInboxes = new Set<string>();
  const listen = (subject: string, fn: (m: Msg) => void): void => {
    subs.push(
      nc.subscribe(subject, {
        callback: (err, m) => {
          if (err) options.log.warn("record subscription failed", { subject, error: err.message });
          else fn(m);
        },
      }),
    );
  };
  const onReply = (m: Msg): void =>
    options.onObservation({ kind: "reply", at: performance.now(), replyKey: m.subject, body: m.data });
  for (const p of inboxes) listen(`${p}>`, onReply);
  for (const service of options.services) {
    listen(rpcServiceSubjects(service, options.prefix), (m) => {
      const reply = m.reply === undefined || m.reply === "" ? undefined : m.reply;
      // A caller with another inbox prefix: its inbox (the reply subject but its last token) is
      // listened to from here on, which may come too late for this first reply
      // (docs/cassettes.md, Recording from NATS).
      const inbox = reply?.slice(0, reply.lastIndexOf(".") + 1);
      if (inbox && !inboxes.some((p) => inbox.startsWith(p)) && !extraInboxes.has(inbox)) {
        extraInboxes.add(inbox);
        listen(`${inbox}*`, onReply);
      }
      options.onObservation({
        kind: "request",
        at: performance.now(),
        service,
        method: methodOfSubject(m.subject),
        body: m.data,
        headers: contextHeaders(m),
        replyKey: reply,
      });
    });
    listen(`${options.prefix === "" ? "" : `${options.prefix}.`}events.${service}.*`, (m) =>
      options.onObservation({
        kind: "event",
        at: performance.now(),
        source: service,
        type: methodOfSubject(m.subject),
        body: m.data,
        headers: contextHeaders(m),
      }),
    );
  }
  const eventsRoot = `${options.prefix === "" ? "" : `${options.prefix}.`}events.`;
  let queues = new Map<string, string[]>();
  try {
    queues = await handlerQueues(await jetstreamManager(nc), options.prefix, options.services);
  } catch (err) {
    options.log.warn("record: the event handlers could not be listed; handled events are not recorded", {
      error: describeError(err),
    });
  }
  for (const [subject, names] of queues) {
    listen(subject, (m) => {
      const rest = m.subject.startsWith(eventsRoot) ? m.subject.slice(eventsRoot.length) : "";
      const dot = rest.indexOf(".");
      if (dot <= 0) return;
      const at = performance.now();
      for (const queue of names)
        options.onObservation({
          kind: "delivery",
          at,
          queue,
          source: rest.slice(0, dot),
          type: rest.slice(dot + 1),
          body: m.data,
          headers: contextHeaders(m),
          redelivered: false,
        });
    });
  }
  await nc.flush();
  options.log.info("recording from NATS", {
    services: options.services,
    prefix: options.prefix,
    handlerQueues: [...queues.values()].flat(),
  });
  return {
    stop: async () => {
      for (const s of subs) s.unsubscribe();
      await nc.drain().catch(() => undefined);
    },
  };
}
