/**
 * Turns observed messages (requests, replies, events, from either side) into cassette entries
 * (docs/cassettes.md, Linking). No I/O: the sources feed it, the recorder writes what it emits.
 *
 * A worker's outgoing requests and events carry its call id stack, whose last entry is the
 * worker's own call id `<service>.<method>.<uuid>` and whose earlier entries are the stack of the
 * request that started it (docs/nameko-wire.md, Call id stack). The first time a worker id shows
 * up, it is tied to the oldest open call to that service and method whose stack ends the same way;
 * later messages with that id join the same call. A call to a recorded service that no recorded
 * call's worker made is an interaction of its own. An event delivered to a recorded service's
 * handler queue is one too (a handled event), and its handler's worker links the same way; as no
 * reply ends it, it is finished once nothing has joined it for a while ({@link CassetteAssembler.settle})
 * or when recording ends ({@link CassetteAssembler.close}).
 */
import {
  contextFromHeaders,
  decodeJson,
  decodeRequest,
  describeError,
  handlerOfEventQueue,
  maskCall,
  maskEvent,
  type CassetteEntry,
  type HandledEvent,
  type MaskSpec,
  type RecordedCall,
  type RecordedEvent,
} from "../compat";

/** A request seen on the wire; `headers` hold decoded values (`nameko.*` and any other key). */
export interface ObservedRequest {
  kind: "request";
  /** Milliseconds on a monotonic clock. */
  at: number;
  service: string;
  method: string;
  body: string | Uint8Array;
  headers: Record<string, unknown>;
  /** What its reply will be matched by; absent when no reply is asked for. */
  replyKey?: string;
}

/** A reply seen on the wire. */
export interface ObservedReply {
  kind: "reply";
  at: number;
  replyKey: string;
  body: string | Uint8Array;
}

/** An event seen on the wire. */
export interface ObservedEvent {
  kind: "event";
  at: number;
  source: string;
  type: string;
  body: string | Uint8Array;
  headers: Record<string, unknown>;
}

/** An event delivered to a queue (an event handler's, when the queue name says so). */
export interface ObservedDelivery {
  kind: "delivery";
  at: number;
  queue: string;
  source: string;
  type: string;
  body: string | Uint8Array;
  headers: Record<string, unknown>;
  redelivered: boolean;
}

export type Observation = ObservedRequest | ObservedReply | ObservedEvent | ObservedDelivery;

/** Options of {@link CassetteAssembler}. */
export interface AssemblerOptions {
  /** The recorded services: their calls and their events outside any recorded call are interactions. */
  services: readonly string[];
  masks: MaskSpec;
  /** Receives each finished interaction, masked. */
  onEntry(entry: CassetteEntry): void;
  /** A message that could not be read (its body is not JSON, say); it is left out. */
  onSkipped?(what: string, error: string): void;
}

/** The context data and call id stack a message's headers carry. */
type MessageContext = ReturnType<typeof contextFromHeaders>;

/** Default quiet time after which a handled event is finished: see {@link CassetteAssembler.settle}. */
export const DEFAULT_HANDLED_QUIET_MS = 500;

interface OpenCall {
  call: RecordedCall | HandledEvent;
  /** `service.method` (the handler's, for a handled event; empty while a singleton's handler is unknown). */
  key: string;
  startedAt: number;
  /** When a message last joined it or anything under it (roots only). */
  lastAt: number;
  replyKey?: string;
  parent?: OpenCall;
  children: OpenCall[];
}

const methodKey = (service: string, method: string): string => `${service}.${method}`;

/** `svc.method` of a worker call id `svc.method.<uuid>`, or undefined for anything else. */
function workerMethodKey(callId: string): string | undefined {
  const first = callId.indexOf(".");
  const second = first < 0 ? -1 : callId.indexOf(".", first + 1);
  return first > 0 && second > first + 1 ? callId.slice(0, second) : undefined;
}

/** True when `stack` ends with `suffix` (a worker's stack keeps only the last entries of its parent's). */
function endsWith(stack: readonly string[], suffix: readonly string[]): boolean {
  if (suffix.length > stack.length) return false;
  const offset = stack.length - suffix.length;
  return suffix.every((id, i) => stack[offset + i] === id);
}

/** Builds cassette entries from observations, linking each worker's doings to the call that started it. */
export class CassetteAssembler {
  private readonly services: ReadonlySet<string>;
  private readonly byReply = new Map<string, OpenCall>();
  private readonly byWorker = new Map<string, OpenCall>();
  /** Open calls whose worker has not shown itself yet, per `service.method`, oldest first. */
  private readonly unassigned = new Map<string, OpenCall[]>();
  /** Handled events delivered to a singleton queue, whose handler (and service) only its worker can tell. */
  private readonly unattributed: OpenCall[] = [];
  private readonly openHandled = new Set<OpenCall>();
  /**
   * Requests and events of a recorded service's worker seen before the delivery that started the
   * worker, and the replies to those requests: the firehose does not order a queue's deliveries
   * against another channel's publishes. Observed again when a delivery comes, as they are after
   * the quiet time.
   */
  private early: Array<{ o: Observation; context?: MessageContext }> = [];
  private readonly earlyReplyKeys = new Set<string>();
  private openRoots = 0;

  constructor(private readonly options: AssemblerOptions) {
    this.services = new Set(options.services);
  }

  /** Interactions still waiting for their reply. */
  get open(): number {
    return this.openRoots;
  }

  observe(o: Observation): void {
    // A request's or event's headers are read once, here, for the early check and for linking.
    const context = o.kind === "request" || o.kind === "event" ? contextFromHeaders(o.headers) : undefined;
    if (
      o.kind === "reply" ? this.earlyReplyKeys.has(o.replyKey) : context && this.beforeItsDelivery(context.parentStack)
    ) {
      this.early.push({ o, context });
      if (o.kind === "request" && o.replyKey !== undefined) this.earlyReplyKeys.add(o.replyKey);
      return;
    }
    this.dispatch(o, context);
    // A delivery or a request may be what an early message's worker started from.
    if ((o.kind === "delivery" || o.kind === "request") && this.early.length > 0) this.observeEarly(false);
  }

  /** Observes the early messages again (their delivery may have come), or with `asTheyAre` as if on time. */
  private observeEarly(asTheyAre: boolean): void {
    const early = this.early;
    this.early = [];
    this.earlyReplyKeys.clear();
    for (const { o, context } of early) {
      if (asTheyAre) this.dispatch(o, context);
      else this.observe(o);
    }
  }

  /** A request or event of a recorded service's handler worker whose delivery was not seen yet. */
  private beforeItsDelivery(parentStack: readonly string[]): boolean {
    const workerId = parentStack[parentStack.length - 1];
    if (workerId === undefined || this.byWorker.has(workerId)) return false;
    const key = workerMethodKey(workerId);
    if (key === undefined || !this.services.has(key.slice(0, key.indexOf(".")))) return false;
    return this.workerOf(parentStack) === undefined;
  }

  /** `context` is the one observe read, set for every request and event. */
  private dispatch(o: Observation, context: MessageContext | undefined): void {
    if (o.kind === "request") this.onRequest(o, context!);
    else if (o.kind === "reply") this.onReply(o);
    else if (o.kind === "event") this.onEvent(o, context!);
    else this.onDelivery(o);
  }

  /**
   * Finishes every handled event nothing has joined for `quietMs` (default
   * {@link DEFAULT_HANDLED_QUIET_MS}) and that waits for no reply; drops singleton deliveries whose
   * handler never showed itself by then (docs/cassettes.md, Linking).
   */
  settle(now: number, quietMs = DEFAULT_HANDLED_QUIET_MS): void {
    // Early messages whose delivery never came (a timer's worker, say) are taken as they are.
    if (this.early.length > 0 && now - this.early[0]!.o.at >= quietMs) this.observeEarly(true);
    for (const open of [...this.openHandled]) {
      if (now - open.lastAt < quietMs || this.waitsForReply(open)) continue;
      if (open.key === "") this.dropUnattributed(open);
      else this.finish(open);
    }
  }

  /** Finishes every handled event still open (recording ends); singleton deliveries never tied to a handler are dropped. */
  close(): void {
    this.observeEarly(true);
    for (const open of [...this.openHandled]) {
      if (open.key === "") this.dropUnattributed(open);
      else this.finish(open);
    }
  }

  /**
   * Forgets the top-level calls still waiting for their reply that started before `before` (a caller
   * that gave up, a reply the reader never saw), without emitting them; returns how many. A reader
   * that runs for long calls it now and then, so such calls do not pile up.
   */
  discardOpenBefore(before: number): number {
    let discarded = 0;
    for (const open of [...this.byReply.values()]) {
      if (open.parent !== undefined || open.call.kind !== "call" || open.startedAt >= before) continue;
      this.openRoots--;
      this.forget(open);
      discarded++;
    }
    return discarded;
  }

  private waitsForReply(open: OpenCall): boolean {
    const own = open.replyKey !== undefined && this.byReply.get(open.replyKey) === open;
    return own || open.children.some((c) => this.waitsForReply(c));
  }

  private dropUnattributed(open: OpenCall): void {
    this.openHandled.delete(open);
    const i = this.unattributed.indexOf(open);
    if (i >= 0) this.unattributed.splice(i, 1);
  }

  /** Marks a root as active now, so a handled event is not finished while its worker still works. */
  private touch(open: OpenCall | undefined, at: number): void {
    let root = open;
    while (root?.parent) root = root.parent;
    if (root) root.lastAt = at;
  }

  private onDelivery(o: ObservedDelivery): void {
    const handler = handlerOfEventQueue(o.queue);
    const singleton = handler === undefined && o.queue === `evt-${o.source}-${o.type}`;
    if (handler === undefined ? !singleton : !this.services.has(handler.service)) return;
    let payload: unknown;
    try {
      payload = decodeJson(o.body);
    } catch (err) {
      this.options.onSkipped?.(`event ${o.source}.${o.type} delivered to ${o.queue}`, describeError(err));
      return;
    }
    const { data, parentStack } = contextFromHeaders(o.headers);
    const open: OpenCall = {
      call: {
        kind: "handled",
        service: handler?.service ?? "",
        handler: handler?.method ?? null,
        source: o.source,
        type: o.type,
        payload,
        context: data,
        callIdStack: parentStack,
        ...(o.redelivered ? { redelivered: true } : {}),
        events: [],
        calls: [],
      },
      key: handler === undefined ? "" : methodKey(handler.service, handler.method),
      startedAt: o.at,
      lastAt: o.at,
      children: [],
    };
    this.openHandled.add(open);
    if (handler === undefined) this.unattributed.push(open);
    else this.addUnassigned(open);
  }

  private addUnassigned(open: OpenCall): void {
    const waiting = this.unassigned.get(open.key);
    if (waiting) waiting.push(open);
    else this.unassigned.set(open.key, [open]);
  }

  private onRequest(o: ObservedRequest, context: MessageContext): void {
    let args: unknown[];
    let kwargs: Record<string, unknown>;
    try {
      ({ args, kwargs } = decodeRequest(o.body));
    } catch (err) {
      this.options.onSkipped?.(`request to ${methodKey(o.service, o.method)}`, describeError(err));
      return;
    }
    const { data, parentStack } = context;
    const parent = this.workerOf(parentStack);
    if (parent === undefined && !this.services.has(o.service)) return;
    const call: RecordedCall = {
      kind: "call",
      service: o.service,
      method: o.method,
      args,
      kwargs,
      context: data,
      callIdStack: parentStack,
      reply: null,
      durationMs: null,
      events: [],
      calls: [],
    };
    const open: OpenCall = {
      call,
      key: methodKey(o.service, o.method),
      startedAt: o.at,
      lastAt: o.at,
      replyKey: o.replyKey,
      parent,
      children: [],
    };
    this.addUnassigned(open);
    this.touch(parent, o.at);
    if (parent) {
      parent.children.push(open);
      parent.call.calls.push(call);
    } else this.openRoots++;
    if (o.replyKey !== undefined) this.byReply.set(o.replyKey, open);
    // A request that asks for no reply is finished as soon as it is sent.
    else if (!parent) this.finish(open);
  }

  private onReply(o: ObservedReply): void {
    const open = this.byReply.get(o.replyKey);
    if (open === undefined || open.call.kind !== "call") return;
    const call = open.call;
    this.byReply.delete(o.replyKey);
    this.touch(open, o.at);
    let body: unknown;
    try {
      body = decodeJson(o.body);
    } catch (err) {
      this.options.onSkipped?.(`reply of ${open.key}`, describeError(err));
      body = {};
    }
    const envelope =
      body !== null && typeof body === "object" && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
    call.reply = { result: envelope.result ?? null, error: envelope.error ?? null };
    call.durationMs = Math.round((o.at - open.startedAt) * 10) / 10;
    this.dropUnassigned(open);
    if (!open.parent) this.finish(open);
  }

  private onEvent(o: ObservedEvent, context: MessageContext): void {
    let payload: unknown;
    try {
      payload = decodeJson(o.body);
    } catch (err) {
      this.options.onSkipped?.(`event ${o.source}.${o.type}`, describeError(err));
      return;
    }
    const { data, parentStack } = context;
    const event: RecordedEvent = {
      kind: "event",
      source: o.source,
      type: o.type,
      payload,
      context: data,
      callIdStack: parentStack,
    };
    const worker = this.workerOf(parentStack);
    this.touch(worker, o.at);
    if (worker) worker.call.events.push(event);
    else if (this.services.has(o.source)) this.options.onEntry(maskEvent(event, this.options.masks));
  }

  /** The open call whose worker sent a message with `stack`, tying a new worker id to its call. */
  private workerOf(stack: readonly string[]): OpenCall | undefined {
    const workerId = stack[stack.length - 1];
    if (workerId === undefined) return undefined;
    const known = this.byWorker.get(workerId);
    if (known) return known;
    const key = workerMethodKey(workerId);
    if (key === undefined) return undefined;
    const parentStack = stack.slice(0, -1);
    const matches = (this.unassigned.get(key) ?? []).filter((c) => endsWith(c.call.callIdStack, parentStack));
    if (matches.length === 0) return this.attribute(workerId, key, parentStack);
    const chosen = matches[0]!;
    if (matches.length > 1) for (const c of matches) c.call.ambiguous = true;
    chosen.call.workerCallId = workerId;
    this.byWorker.set(workerId, chosen);
    this.dropUnassigned(chosen);
    return chosen;
  }

  /** A singleton delivery tied to the first worker of a recorded service whose stack fits; its handler is now known. */
  private attribute(workerId: string, key: string, parentStack: readonly string[]): OpenCall | undefined {
    const dot = key.indexOf(".");
    const service = key.slice(0, dot);
    if (!this.services.has(service)) return undefined;
    const chosen = this.unattributed.find((c) => endsWith(c.call.callIdStack, parentStack));
    if (chosen === undefined || chosen.call.kind !== "handled") return undefined;
    this.unattributed.splice(this.unattributed.indexOf(chosen), 1);
    chosen.call.service = service;
    chosen.call.handler = key.slice(dot + 1);
    chosen.key = key;
    chosen.call.workerCallId = workerId;
    this.byWorker.set(workerId, chosen);
    return chosen;
  }

  private dropUnassigned(open: OpenCall): void {
    const waiting = this.unassigned.get(open.key);
    if (!waiting) return;
    const i = waiting.indexOf(open);
    if (i >= 0) waiting.splice(i, 1);
    if (waiting.length === 0) this.unassigned.delete(open.key);
  }

  /** Writes a finished interaction and forgets it and everything under it. */
  private finish(root: OpenCall): void {
    if (root.call.kind === "handled") this.openHandled.delete(root);
    else this.openRoots--;
    this.forget(root);
    this.options.onEntry(root.call.kind === "call" ? this.ordered(root.call) : this.orderedHandled(root.call));
  }

  private forget(open: OpenCall): void {
    if (open.call.workerCallId !== undefined) this.byWorker.delete(open.call.workerCallId);
    if (open.replyKey !== undefined && this.byReply.get(open.replyKey) === open) this.byReply.delete(open.replyKey);
    this.dropUnassigned(open);
    open.children.forEach((c) => this.forget(c));
  }

  /** The handled event masked, its keys in the documented order (docs/cassettes.md, Interactions). */
  private orderedHandled(h: HandledEvent): HandledEvent {
    const masked = maskEvent(h, this.options.masks);
    return {
      kind: "handled",
      service: h.service,
      handler: h.handler,
      source: h.source,
      type: h.type,
      payload: masked.payload,
      context: masked.context,
      callIdStack: h.callIdStack,
      ...(h.redelivered ? { redelivered: true } : {}),
      ...(h.workerCallId === undefined ? {} : { workerCallId: h.workerCallId }),
      ...(h.ambiguous ? { ambiguous: true } : {}),
      events: h.events.map((e) => maskEvent(e, this.options.masks)),
      calls: h.calls.map((c) => this.ordered(c)),
    };
  }

  /** The call masked, its keys in the documented order (docs/cassettes.md, Interactions). */
  private ordered(call: RecordedCall): RecordedCall {
    const masked = maskCall(call, this.options.masks);
    return {
      kind: "call",
      service: call.service,
      method: call.method,
      args: masked.args,
      kwargs: masked.kwargs,
      context: masked.context,
      callIdStack: call.callIdStack,
      reply: call.reply,
      durationMs: call.durationMs,
      ...(call.workerCallId === undefined ? {} : { workerCallId: call.workerCallId }),
      ...(call.ambiguous ? { ambiguous: true } : {}),
      events: call.events.map((e) => maskEvent(e, this.options.masks)),
      calls: call.calls.map((c) => this.ordered(c)),
    };
  }
}
