/**
 * What a replay's stub responders answer with, whatever side the port runs on (docs/cassettes.md,
 * Stub responders): the recorded calls matching a request, and the shapes the sides hand the
 * runner. What each message belongs to is told by its call id stack (docs/nameko-wire.md, Call id
 * stack); the linking is the runner's.
 */
import {
  decodeJson,
  describeError,
  encodeErrorReply,
  requestArgs,
  requestEnvelope,
  requestKwargs,
  type ContextData,
  type HandledEvent,
  type Logger,
  type RecordedCall,
} from "../compat";
import { callView, requestKey, type CallView, type EventView } from "./compare";
import { matches } from "./diff";

/** Something the port under test sent: a call or an event, with the stack it carried. */
export interface Observed<T> {
  what: T;
  context: ContextData;
  callIdStack: string[];
}

/** What a replay target hands the runner: the port's outgoing calls (to answer) and its events. */
export interface ReplayHooks {
  /** Services replayed to: the port's own, whose requests the stubs leave alone. */
  targets: ReadonlySet<string>;
  /** Answers an outgoing call of the port with a reply body (sent only when a reply is owed). */
  onCall(call: Observed<CallView>): string;
  onEvent(event: Observed<EventView>): void;
}

/** One of the port's handlers of an event, as its consumer shows it (docs/cassettes.md, Replaying handled events). */
export interface PortHandler {
  /** From the consumer's Nameko queue name; null for a singleton queue, which names no handler. */
  service: string | null;
  method: string | null;
  /** True once the handler has the replayed event handled (acknowledged on NATS; taken off its queue on RabbitMQ). */
  acked: boolean;
}

/** An event a replay dispatched to the port. */
export interface DispatchedEvent {
  /** The port's handlers of it, and whether each has handled it yet. */
  handlers(): Promise<PortHandler[]>;
}

/** A replay's connection to the side the port runs on: it sends the recorded calls, and stops. */
export interface ReplayConnection {
  /** Sends a recorded call with its context and the stack `[parentId]`; resolves with the reply body. */
  send(call: RecordedCall, parentId: string, timeoutMs: number): Promise<Uint8Array>;
  /**
   * Dispatches a recorded event with its context and the stack `[parentId]`, as a dispatcher
   * would; `recorded` are its recorded deliveries to the original's handlers, the first being the
   * event dispatched.
   */
  dispatch(recorded: readonly HandledEvent[], parentId: string): Promise<DispatchedEvent>;
  /** Waits until everything the port sent so far has been handed to the hooks (a round trip). */
  flush(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A stub's answer to a request body: the hooks' reply, or Nameko's error for a body that is not
 * `{args, kwargs}`, as a real service would answer (docs/nameko-wire.md, Malformed requests).
 */
export function answerRequest(
  hooks: ReplayHooks,
  service: string,
  method: string,
  body: Uint8Array,
  context: { data: ContextData; parentStack: string[] },
): string {
  try {
    const envelope = requestEnvelope(body);
    const what = { service, method, args: requestArgs(envelope.args), kwargs: requestKwargs(envelope.kwargs) };
    return hooks.onCall({ what, context: context.data, callIdStack: context.parentStack });
  } catch (err) {
    return encodeErrorReply(err);
  }
}

/** An event body as its payload; a body that is not JSON is kept as text, and logged. */
export function eventPayload(body: Uint8Array, where: string, log: Logger): unknown {
  try {
    return decodeJson(body);
  } catch (err) {
    log.warn("replay: an event body is not JSON", { where, error: describeError(err) });
    return new TextDecoder().decode(body);
  }
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
  find(
    asked: CallView,
    parent?: { call: { calls: RecordedCall[] }; used: Set<RecordedCall> },
  ): RecordedCall | undefined {
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
