/**
 * Turns observed messages (requests, replies, events, from either side) into cassette entries
 * (docs/cassettes.md, Linking). No I/O: the sources feed it, the recorder writes what it emits.
 *
 * A worker's outgoing requests and events carry its call id stack, whose last entry is the
 * worker's own call id `<service>.<method>.<uuid>` and whose earlier entries are the stack of the
 * request that started it (docs/nameko-wire.md, Call id stack). The first time a worker id shows
 * up, it is tied to the oldest open call to that service and method whose stack ends the same way;
 * later messages with that id join the same call. A call to a recorded service that no recorded
 * call's worker made is an interaction of its own.
 */
import {
  contextFromHeaders,
  decodeJson,
  decodeRequest,
  describeError,
  maskCall,
  maskEvent,
  type CassetteEntry,
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

export type Observation = ObservedRequest | ObservedReply | ObservedEvent;

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

interface OpenCall {
  call: RecordedCall;
  startedAt: number;
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
  private openRoots = 0;

  constructor(private readonly options: AssemblerOptions) {
    this.services = new Set(options.services);
  }

  /** Interactions still waiting for their reply. */
  get open(): number {
    return this.openRoots;
  }

  observe(o: Observation): void {
    if (o.kind === "request") this.onRequest(o);
    else if (o.kind === "reply") this.onReply(o);
    else this.onEvent(o);
  }

  private onRequest(o: ObservedRequest): void {
    let args: unknown[];
    let kwargs: Record<string, unknown>;
    try {
      ({ args, kwargs } = decodeRequest(o.body));
    } catch (err) {
      this.options.onSkipped?.(`request to ${methodKey(o.service, o.method)}`, describeError(err));
      return;
    }
    const { data, parentStack } = contextFromHeaders(o.headers);
    const parent = this.workerOf(parentStack);
    if (parent === undefined && !this.services.has(o.service)) return;
    const open: OpenCall = {
      call: {
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
      },
      startedAt: o.at,
      replyKey: o.replyKey,
      parent,
      children: [],
    };
    const key = methodKey(o.service, o.method);
    const waiting = this.unassigned.get(key);
    if (waiting) waiting.push(open);
    else this.unassigned.set(key, [open]);
    if (parent) {
      parent.children.push(open);
      parent.call.calls.push(open.call);
    } else this.openRoots++;
    if (o.replyKey !== undefined) this.byReply.set(o.replyKey, open);
    // A request that asks for no reply is finished as soon as it is sent.
    else if (!parent) this.finish(open);
  }

  private onReply(o: ObservedReply): void {
    const open = this.byReply.get(o.replyKey);
    if (open === undefined) return;
    this.byReply.delete(o.replyKey);
    let body: unknown;
    try {
      body = decodeJson(o.body);
    } catch (err) {
      this.options.onSkipped?.(`reply of ${methodKey(open.call.service, open.call.method)}`, describeError(err));
      body = {};
    }
    const envelope =
      body !== null && typeof body === "object" && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
    open.call.reply = { result: envelope.result ?? null, error: envelope.error ?? null };
    open.call.durationMs = Math.round((o.at - open.startedAt) * 10) / 10;
    this.dropUnassigned(open);
    if (!open.parent) this.finish(open);
  }

  private onEvent(o: ObservedEvent): void {
    let payload: unknown;
    try {
      payload = decodeJson(o.body);
    } catch (err) {
      this.options.onSkipped?.(`event ${o.source}.${o.type}`, describeError(err));
      return;
    }
    const { data, parentStack } = contextFromHeaders(o.headers);
    const event: RecordedEvent = {
      kind: "event",
      source: o.source,
      type: o.type,
      payload,
      context: data,
      callIdStack: parentStack,
    };
    const worker = this.workerOf(parentStack);
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
    const waiting = key === undefined ? undefined : this.unassigned.get(key);
    if (!waiting) return undefined;
    const parentStack = stack.slice(0, -1);
    const matches = waiting.filter((c) => endsWith(c.call.callIdStack, parentStack));
    const chosen = matches[0];
    if (chosen === undefined) return undefined;
    if (matches.length > 1) for (const c of matches) c.call.ambiguous = true;
    chosen.call.workerCallId = workerId;
    this.byWorker.set(workerId, chosen);
    this.dropUnassigned(chosen);
    return chosen;
  }

  private dropUnassigned(open: OpenCall): void {
    const key = methodKey(open.call.service, open.call.method);
    const waiting = this.unassigned.get(key);
    if (!waiting) return;
    const i = waiting.indexOf(open);
    if (i >= 0) waiting.splice(i, 1);
    if (waiting.length === 0) this.unassigned.delete(key);
  }

  /** Writes a finished interaction and forgets it and everything under it. */
  private finish(root: OpenCall): void {
    this.openRoots--;
    const forget = (open: OpenCall): void => {
      if (open.call.workerCallId !== undefined) this.byWorker.delete(open.call.workerCallId);
      if (open.replyKey !== undefined && this.byReply.get(open.replyKey) === open) this.byReply.delete(open.replyKey);
      this.dropUnassigned(open);
      open.children.forEach(forget);
    };
    forget(root);
    this.options.onEntry(this.ordered(root.call));
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
