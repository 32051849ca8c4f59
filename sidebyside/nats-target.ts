/**
 * Replaying to a port on NATS under its private prefix (docs/cassettes.md, Stub responders): calls
 * go to `<prefix>.rpc.<service>.<method>`; plain subscriptions on `<prefix>.rpc.*.*` answer the
 * port's calls to every other service, and `<prefix>.events.>` shows its events
 * (docs/nats-contract.md, Subjects). JetStream publishes of events are seen like any message, and
 * the stream stores them as before. Handled events are published to the port's stream as a
 * dispatcher would, and its handlers are told apart by their consumers' Nameko queue names
 * (docs/cassettes.md, Replaying handled events).
 */
import { natsConnectOptions, type Credentials } from "./credentials";
import { jetstreamManager } from "@nats-io/jetstream";
import type { Msg, Subscription } from "@nats-io/transport-node";
import {
  encodeRequest,
  eventSubject,
  handlerOfEventQueue,
  methodOfSubject,
  validatePrefix,
  type Logger,
} from "../compat";
import { contextFromNatsHeaders, contextToNatsHeaders, dialNats, EventPublisher, RpcClient } from "../src/internal";
import { consumerQueueName } from "./nats-source";
import { answerRequest, eventPayload, type PortHandler, type ReplayConnection, type ReplayHooks } from "./responders";

/** Where the port runs on NATS. */
export interface NatsReplayTarget {
  side: "nats";
  natsUrl: string;
  /** NATS credentials and TLS. */
  credentials?: Credentials;
  /** The port's private prefix; required (non-empty), so no real dependency is reached. */
  prefix: string;
}

/** Connects, subscribes the stubs and the event observer, and returns the sender. */
export async function connectNatsTarget(
  target: NatsReplayTarget,
  hooks: ReplayHooks,
  log: Logger,
): Promise<ReplayConnection> {
  if (target.prefix === "")
    throw new Error("a replay on NATS needs the private subject prefix the port under test runs with (--prefix)");
  const prefix = validatePrefix(target.prefix);
  const nc = await dialNats(natsConnectOptions(target.natsUrl, "cliffracer-replay", target.credentials), { log });
  const subs: Subscription[] = [];
  const listen = (subject: string, fn: (m: Msg) => void): void => {
    subs.push(
      nc.subscribe(subject, {
        callback: (err, m) => {
          if (err) log.warn("replay subscription failed", { subject, error: err.message });
          else fn(m);
        },
      }),
    );
  };
  const rpcRoot = `${prefix}.rpc.`;
  listen(`${rpcRoot}*.*`, (m) => {
    const service = m.subject.slice(rpcRoot.length, m.subject.lastIndexOf("."));
    if (hooks.targets.has(service)) return;
    const body = answerRequest(hooks, service, methodOfSubject(m.subject), m.data, contextFromNatsHeaders(m.headers));
    if (m.reply) m.respond(body);
  });
  const eventsRoot = `${prefix}.events.`;
  listen(`${eventsRoot}>`, (m) => {
    const rest = m.subject.slice(eventsRoot.length);
    const dot = rest.indexOf(".");
    if (dot <= 0) return;
    const { data, parentStack } = contextFromNatsHeaders(m.headers);
    hooks.onEvent({
      what: { source: rest.slice(0, dot), type: rest.slice(dot + 1), payload: eventPayload(m.data, m.subject, log) },
      context: data,
      callIdStack: parentStack,
    });
  });
  await nc.flush();
  const client = new RpcClient(nc, { prefix, largeBodies: false });
  const publisher = new EventPublisher(nc, prefix);
  const jsm = await jetstreamManager(nc);
  /** The port's consumers of `subject`, each acknowledged once its ack floor reached the event. */
  const natsHandlers = async (subject: string, stream: string, seq: number): Promise<PortHandler[]> => {
    const out: PortHandler[] = [];
    for await (const info of jsm.consumers.list(stream)) {
      const filters = [info.config.filter_subject, ...(info.config.filter_subjects ?? [])];
      if (!filters.includes(subject)) continue;
      const queue = consumerQueueName(info.config.description);
      const handler = queue === undefined ? undefined : handlerOfEventQueue(queue);
      out.push({
        service: handler?.service ?? null,
        method: handler?.method ?? null,
        acked: info.ack_floor.stream_seq >= seq,
      });
    }
    return out;
  };
  return {
    dispatch: async ([event], parentId) => {
      if (event === undefined) throw new Error("nothing to dispatch");
      const published = await publisher.publish(
        event.source,
        event.type,
        event.payload,
        contextToNatsHeaders(event.context, [parentId]),
      );
      const subject = eventSubject(event.source, event.type, prefix);
      return { handlers: () => natsHandlers(subject, published.stream, published.seq) };
    },
    send: (call, parentId, timeoutMs) =>
      client.requestRaw(call.service, call.method, encodeRequest(call.args, call.kwargs), {
        contextData: call.context,
        callIdStack: [parentId],
        timeoutMs,
      }),
    flush: () => nc.flush(),
    stop: async () => {
      for (const s of subs) s.unsubscribe();
      await nc.drain().catch(() => undefined);
    },
  };
}
