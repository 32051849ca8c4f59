/**
 * The replay's side of NATS under the port's private prefix (docs/cassettes.md, Stub responders):
 * stub responders that answer the port's outgoing calls from the cassette, and an observer of the
 * events it dispatches. What each message belongs to is told by its call id stack
 * (docs/nameko-wire.md, Call id stack); the linking and matching are the runner's.
 */
import type { Msg, NatsConnection, Subscription } from "@nats-io/transport-node";
import {
  decodeJson,
  describeError,
  encodeErrorReply,
  methodOfSubject,
  requestArgs,
  requestEnvelope,
  requestKwargs,
  type ContextData,
  type Logger,
  type RecordedCall,
} from "../compat";
import { contextFromNatsHeaders } from "../src/internal";
import { callView, requestKey, type CallView, type EventView } from "./compare";
import { matches } from "./diff";

/** Something the port under test sent: a call or an event, with the stack it carried. */
export interface Observed<T> {
  what: T;
  context: ContextData;
  callIdStack: string[];
}

/** Options of {@link startReplayListeners}. */
export interface ListenerOptions {
  nc: NatsConnection;
  /** The port's private prefix (non-empty). */
  prefix: string;
  /** Services replayed to: the port's own, whose requests the stubs leave alone. */
  targets: ReadonlySet<string>;
  /** Answers an outgoing call of the port with a reply body (sent only when the request has a reply subject). */
  onCall(call: Observed<CallView>): string;
  onEvent(event: Observed<EventView>): void;
  log: Logger;
}

/**
 * Subscribes to `<prefix>.rpc.*.*` (every service's requests; the port's own are left to it) and
 * `<prefix>.events.>` (docs/nats-contract.md, Subjects). Plain subscriptions: JetStream publishes of
 * events are seen like any other message, and the stream stores them as before.
 */
export function startReplayListeners(options: ListenerOptions): { stop(): void } {
  const { nc, prefix, log } = options;
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
    if (options.targets.has(service)) return;
    const { data, parentStack } = contextFromNatsHeaders(m.headers);
    let body: string;
    try {
      const envelope = requestEnvelope(m.data);
      const what = {
        service,
        method: methodOfSubject(m.subject),
        args: requestArgs(envelope.args),
        kwargs: requestKwargs(envelope.kwargs),
      };
      body = options.onCall({ what, context: data, callIdStack: parentStack });
    } catch (err) {
      // A request that does not read gets Nameko's error for it, as a real service would answer.
      body = encodeErrorReply(err);
    }
    if (m.reply) m.respond(body);
  });
  const eventsRoot = `${prefix}.events.`;
  listen(`${eventsRoot}>`, (m) => {
    const rest = m.subject.slice(eventsRoot.length);
    const dot = rest.indexOf(".");
    if (dot <= 0) return;
    const { data, parentStack } = contextFromNatsHeaders(m.headers);
    let payload: unknown;
    try {
      payload = decodeJson(m.data);
    } catch (err) {
      log.warn("replay: an event body is not JSON", { subject: m.subject, error: describeError(err) });
      payload = new TextDecoder().decode(m.data);
    }
    options.onEvent({
      what: { source: rest.slice(0, dot), type: rest.slice(dot + 1), payload },
      context: data,
      callIdStack: parentStack,
    });
  });
  return { stop: () => subs.forEach((s) => s.unsubscribe()) };
}

/**
 * The recorded calls a stub answers from: first the unused calls the replayed call's own worker
 * made in the recording, then any recorded call, at any depth, of an equal request
 * (docs/cassettes.md, Stub responders). Calls recorded without a reply answer nothing.
 */
export class RecordedAnswers {
  private readonly byRequest = new Map<string, RecordedCall[]>();
  private readonly byMethod = new Map<string, RecordedCall[]>();

  constructor(calls: readonly RecordedCall[]) {
    const add = (c: RecordedCall): void => {
      if (c.reply !== null) {
        const key = requestKey(c);
        this.byRequest.set(key, [...(this.byRequest.get(key) ?? []), c]);
        const m = `${c.service}.${c.method}`;
        this.byMethod.set(m, [...(this.byMethod.get(m) ?? []), c]);
      }
      c.calls.forEach(add);
    };
    calls.forEach(add);
  }

  /** The recorded call answering `asked` from the worker of `parent`, marking it used; undefined when none does. */
  find(asked: CallView, parent?: { call: RecordedCall; used: Set<RecordedCall> }): RecordedCall | undefined {
    const own = parent?.call.calls.find((c) => c.reply !== null && !parent.used.has(c) && matches(callView(c), asked));
    if (own !== undefined) {
      parent!.used.add(own);
      return own;
    }
    return (
      this.byRequest.get(requestKey(asked))?.[0] ??
      this.byMethod.get(`${asked.service}.${asked.method}`)?.find((c) => matches(callView(c), asked))
    );
  }
}
