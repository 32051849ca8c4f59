/**
 * What both event directions share: the metrics hooks, the retry backoff after a failed
 * hand-over, waits that a stop cuts short, and the NATS connection's up/down state.
 */
import type { NatsConnection, Status } from "@nats-io/transport-node";

/** Which way an event crosses. */
export type EventDirection = "amqp_to_nats" | "nats_to_amqp";

/** Why the bridge acked an event without forwarding it. */
export type EventDropReason =
  /** The bridge's own copy coming back (a service on both sides). */
  | "loop"
  /** An AMQP routing key / NATS subject tail that is not one valid event-type token. */
  | "bad_event_type"
  /** The body is not JSON (the NATS contract carries the payload JSON as Nameko sends it). */
  | "not_json"
  /** An AMQP content type other than application/json (pickle, msgpack… cannot be read on NATS). */
  | "content_type"
  /** Larger than the other side takes: the NATS server's max_payload, RabbitMQ's max_message_size. */
  | "too_large"
  /** A header the other side cannot carry (amqp/headers.ts, InvalidHeader): refused, never retried. */
  | "bad_header";

/** Optional hooks for the bridge's Prometheus metrics (bridge/bridge.ts wires them to prom-client). */
export interface EventBridgeMetrics {
  /** An event was handed over (JetStream PubAck / RabbitMQ confirm) and its source message acked. */
  forwarded?(direction: EventDirection, service: string, seconds: number): void;
  /** An event was acked without forwarding. */
  dropped?(direction: EventDirection, service: string, reason: EventDropReason): void;
  /** A hand-over failed; the message goes back to its queue/consumer for another attempt. */
  retried?(direction: EventDirection, service: string): void;
  /** A message arrived marked as a redelivery. */
  redelivered?(direction: EventDirection, service: string): void;
}

/** Exponential backoff for one path: grows with consecutive failures, back to the start on a success. */
export class Backoff {
  private failures = 0;

  constructor(
    private readonly initialMs: number,
    private readonly maxMs: number,
  ) {}

  /** The delay before the next attempt after one more failure. */
  next(): number {
    const ms = Math.min(this.maxMs, this.initialMs * 2 ** Math.min(this.failures, 30));
    this.failures++;
    return ms;
  }

  reset(): void {
    this.failures = 0;
  }
}

/** Marks a path as stopping and cuts its waits short. */
export class Stopper {
  private isStopped = false;
  private readonly wakers = new Set<() => void>();

  get stopped(): boolean {
    return this.isStopped;
  }

  stop(): void {
    this.isStopped = true;
    for (const wake of [...this.wakers]) wake();
  }

  /** Sleeps `ms`; resolves false at once if the path stops meanwhile. */
  sleep(ms: number): Promise<boolean> {
    if (this.isStopped) return Promise.resolve(false);
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.wakers.delete(wake);
        resolve(false);
      };
      const timer = setTimeout(() => {
        this.wakers.delete(wake);
        resolve(true);
      }, ms);
      this.wakers.add(wake);
    });
  }

  /** Settles like `promise`, or with `undefined` as soon as the path stops (the promise runs on). */
  race<T>(promise: Promise<T>): Promise<{ value: T } | undefined> {
    if (this.isStopped) {
      promise.catch(() => undefined);
      return Promise.resolve(undefined);
    }
    return new Promise((resolve, reject) => {
      const wake = (): void => {
        this.wakers.delete(wake);
        resolve(undefined);
      };
      this.wakers.add(wake);
      promise.then(
        (value) => {
          this.wakers.delete(wake);
          resolve({ value });
        },
        (err: unknown) => {
          this.wakers.delete(wake);
          reject(err);
        },
      );
    });
  }

  /** Resolves true once `isUp()` holds (re-checked whenever `changed` fires), false if the path stops first. */
  until(isUp: () => boolean, changed: (listener: () => void) => () => void): Promise<boolean> {
    if (this.isStopped) return Promise.resolve(false);
    if (isUp()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const finish = (value: boolean): void => {
        unsubscribe();
        this.wakers.delete(wake);
        resolve(value);
      };
      const wake = (): void => finish(false);
      const unsubscribe = changed(() => {
        if (isUp()) finish(true);
      });
      this.wakers.add(wake);
    });
  }
}

const UP: Promise<boolean> = Promise.resolve(true);

/**
 * Whether a NATS connection is up, from its status stream. While it is down the bridge does not
 * publish to JetStream at all: nats.js would buffer the publish and send it after the reconnect,
 * after the PubAck wait had already given up on it, and the requeued AMQP message would then be
 * stored twice.
 */
export class NatsLink {
  private isUp: boolean;
  private readonly listeners = new Set<() => void>();
  private watching?: AsyncIterable<Status> & { stop?: () => void };

  constructor(private readonly nc: NatsConnection) {
    this.isUp = !nc.isClosed();
  }

  get up(): boolean {
    return this.isUp && !this.nc.isClosed();
  }

  /** Starts following the connection's status; idempotent. */
  watch(): void {
    if (this.watching) return;
    // nats.js returns a queued iterator with stop(); the interface only promises AsyncIterable.
    const status = this.nc.status() as AsyncIterable<Status> & { stop?: () => void };
    this.watching = status;
    void (async () => {
      for await (const s of status) {
        if (s.type === "disconnect" || s.type === "close") this.set(false);
        else if (s.type === "reconnect") this.set(true);
      }
    })().catch(() => undefined);
    void this.nc.closed().then(() => this.set(false));
  }

  /** Stops following the status stream (the connection itself is left alone). */
  unwatch(): void {
    this.watching?.stop?.();
    this.watching = undefined;
  }

  /** Resolves true once connected, false if `stopper` stops first. */
  whenUp(stopper: Stopper): Promise<boolean> {
    // The usual case, without the closures of a wait.
    if (!stopper.stopped && this.up) return UP;
    return stopper.until(
      () => this.up,
      (listener) => {
        this.listeners.add(listener);
        return () => this.listeners.delete(listener);
      },
    );
  }

  private set(up: boolean): void {
    if (this.isUp === up) return;
    this.isUp = up;
    for (const l of [...this.listeners]) l();
  }
}
