/**
 * Recording a service on NATS without touching its routing (docs/cassettes.md, Recording from
 * NATS): plain subscriptions (no queue group, so the service's own instances still get every
 * request) on `[prefix.]rpc.<service>.*` and `[prefix.]events.<service>.*`, and on the callers'
 * inboxes for the replies (docs/nats-contract.md, Subjects). Nothing here subscribes to a subject
 * of a service that is not recorded, so a call to a service nobody serves still gets "no
 * responders" at once.
 */
import { performance } from "node:perf_hooks";
import { connect, type Msg, type NatsConnection, type Subscription } from "@nats-io/transport-node";
import { decodeHeaderValue, HEADER_PREFIX, methodOfSubject, rpcServiceSubjects, type Logger } from "../compat";
import type { Observation } from "./assembler";
import type { TraceSource } from "./amqp-source";

/** The inbox prefix of nats.js clients, Cliffracer's among them. */
export const DEFAULT_INBOX_PREFIX = "_INBOX";

/** Options of {@link startNatsTrace}. */
export interface NatsTraceOptions {
  natsUrl: string;
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

/** Subscribes to the recorded services' subjects and their callers' inboxes. */
export async function startNatsTrace(options: NatsTraceOptions): Promise<TraceSource> {
  const nc: NatsConnection = await connect({ servers: options.natsUrl.split(","), name: "cliffracer-record" });
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
  await nc.flush();
  options.log.info("recording from NATS", { services: options.services, prefix: options.prefix });
  return {
    stop: async () => {
      for (const s of subs) s.unsubscribe();
      await nc.drain().catch(() => undefined);
    },
  };
}
