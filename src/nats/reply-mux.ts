import {
  createInbox,
  errors,
  type Msg,
  type MsgHdrs,
  type NatsConnection,
  type Payload,
  type Subscription,
} from "@nats-io/transport-node";

/**
 * How one kind of request turns its reply, or the lack of one, into a result. One object per kind
 * (RPC call, raw RPC, JetStream publish), shared by all its requests: nothing is allocated per call.
 */
export interface ReplyCodec<T> {
  /** The result of a reply, or a promise of it (a body to fetch first); throw to reject the request with that error. */
  decode(msg: Msg): T | Promise<T>;
  /** The error for a "no responders" status (503): nothing received the request. */
  noResponders(target: string): Error;
  /** The error when no reply came within `timeoutMs`. */
  timeout(target: string, timeoutMs: number): Error;
}

/** One request waiting for its reply. */
class PendingReply {
  constructor(
    readonly resolve: (value: unknown) => void,
    readonly reject: (err: unknown) => void,
    readonly codec: ReplyCodec<unknown>,
    /** What the request was for (a service, a subject), for the error messages. */
    readonly target: string,
    readonly timeoutMs: number,
    /** performance.now() after which the request times out. */
    readonly deadline: number,
  ) {}
}

/**
 * A timer may fire up to a millisecond before a deadline read from performance.now(); such a
 * request is timed out then rather than by another timer a millisecond later.
 */
const TIMER_SLACK_MS = 1;

const muxes = new WeakMap<NatsConnection, ReplyMux>();

/**
 * Request/reply without `nc.request()`: nats.js 3.4 builds a `RequestError` with a stack trace on
 * every successful request (`RequestOne.cancel()`, even with `noAsyncTraces`), a quarter to a third
 * of a caller's CPU (BENCHMARKS.md, profiles). One wildcard subscription per connection,
 * `<inboxPrefix>.<nuid>.*`, receives every reply; a request is a plain publish with a reply subject
 * ending in a counter token, matched in a Map. The connection's `inboxPrefix` is kept: the bridge
 * marks its own requests by their reply subjects (bridge/config.ts DEFAULT_BRIDGE_INBOX_PREFIX).
 *
 * nats.js connects with `no_responders` when the server supports headers, so a request nobody
 * listens to is answered at once by the server with an empty 503 status message, as with request().
 * Timeouts use one timer armed for the earliest deadline, not a timer per request.
 */
export class ReplyMux {
  /** `<inboxPrefix>.<nuid>.`; a reply subject is this plus a token. */
  private readonly base: string;
  private readonly sub: Subscription;
  private readonly pending = new Map<string, PendingReply>();
  private next = 0;
  private timer?: NodeJS.Timeout;
  /** The deadline the timer is armed for. */
  private timerAt = Infinity;
  private closed = false;

  private constructor(private readonly nc: NatsConnection) {
    // NatsConnection does not declare its options; the implementation keeps them (request() reads
    // `options.inboxPrefix` the same way).
    const prefix = (nc as { options?: { inboxPrefix?: string } }).options?.inboxPrefix;
    this.base = `${createInbox(prefix)}.`;
    this.sub = nc.subscribe(`${this.base}*`, { callback: this.onReply });
    void this.sub.closed.then(() => this.shutDown());
  }

  /** The connection's mux, subscribed on first use; a new one if the previous one's subscription closed. */
  static of(nc: NatsConnection): ReplyMux {
    let mux = muxes.get(nc);
    if (mux === undefined || mux.closed) muxes.set(nc, (mux = new ReplyMux(nc)));
    return mux;
  }

  /** Requests in flight (for tests and metrics). */
  get size(): number {
    return this.pending.size;
  }

  /**
   * Publish `body` to `subject` with a reply subject of this mux and settle with `codec`'s reading
   * of the reply. Errors of the publish itself (closed or draining connection, bad subject, payload
   * too large) reject the request; a closed connection rejects every request in flight with
   * nats.js's RequestError "connection closed", as request() does.
   */
  request<T>(
    subject: string,
    body: Payload,
    headers: MsgHdrs | undefined,
    timeoutMs: number,
    codec: ReplyCodec<T>,
    target: string,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const token = (this.next++).toString(36);
      const deadline = performance.now() + timeoutMs;
      try {
        this.nc.publish(subject, body, { reply: this.base + token, headers });
      } catch (err) {
        reject(err);
        return;
      }
      this.pending.set(
        token,
        new PendingReply(resolve as (value: unknown) => void, reject, codec, target, timeoutMs, deadline),
      );
      if (deadline < this.timerAt) this.arm(deadline);
    });
  }

  private readonly onReply = (err: Error | null, msg: Msg): void => {
    if (err) {
      // An error on the inbox subscription itself (a permission violation): no reply can arrive.
      this.failAll(err);
      return;
    }
    const token = msg.subject.slice(this.base.length);
    const p = this.pending.get(token);
    // A reply after its request timed out, or a second reply (several responders): ignored.
    if (p === undefined) return;
    this.pending.delete(token);
    // Checked in this order so that a normal reply never has its headers parsed.
    if (msg.data.length === 0 && msg.headers?.code === 503) {
      p.reject(p.codec.noResponders(p.target));
      return;
    }
    let value: unknown;
    try {
      value = p.codec.decode(msg);
    } catch (decodeErr) {
      p.reject(decodeErr);
      return;
    }
    p.resolve(value);
  };

  private arm(deadline: number): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timerAt = deadline;
    this.timer = setTimeout(this.sweep, Math.max(0, deadline - performance.now()));
  }

  /** Time out every request past its deadline, then arm for the earliest one left. */
  private readonly sweep = (): void => {
    this.timer = undefined;
    this.timerAt = Infinity;
    const now = performance.now() + TIMER_SLACK_MS;
    let earliest = Infinity;
    for (const [token, p] of this.pending) {
      if (p.deadline <= now) {
        this.pending.delete(token);
        p.reject(p.codec.timeout(p.target, p.timeoutMs));
      } else if (p.deadline < earliest) earliest = p.deadline;
    }
    if (earliest !== Infinity) this.arm(earliest);
  };

  private failAll(err: unknown): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) p.reject(err);
  }

  /** The subscription closed (the connection closed or drained): nothing in flight can be answered. */
  private shutDown(): void {
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
    if (muxes.get(this.nc) === this) muxes.delete(this.nc);
    this.failAll(new errors.RequestError("connection closed"));
  }
}
