import { jetstream, type ConsumerInfo, type ConsumerMessages, type JsMsg } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "../../compat";

// Pulling one JetStream consumer's messages with Nameko's flow control: at most max_workers
// messages in hand per instance (Nameko's per-queue prefetch), slow handlers kept from being
// redelivered elsewhere, and pulled-but-unstarted messages handed back at stop.

/** A counting gate whose waiters are released with `false` once it is closed. */
class Gate {
  private free: number;
  private readonly waiters: Array<(ok: boolean) => void> = [];
  private closed = false;

  constructor(size: number) {
    this.free = size;
  }

  acquire(): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    if (this.free > 0) {
      this.free--;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  release(): void {
    const next = this.waiters.shift();
    if (next) next(true);
    else this.free++;
  }

  close(): void {
    this.closed = true;
    for (const w of this.waiters.splice(0)) w(false);
  }
}

/**
 * Delay on the naks that hand back pulled-but-unstarted messages at stop. Naked at once, a message
 * was seen (nats-server 2.9) to be redelivered into this instance's last pull request while the
 * subscription was closing, and then sat unacked until ack_wait; after a short delay the server
 * has dropped those requests and delivers to a live instance.
 */
const HAND_BACK_DELAY_MS = 250;

/**
 * How long one pull request lives (nats.js's `expires`; its idle heartbeat is half of it). A pull
 * request lives on the consumer's leader: when that node dies or leadership moves (docs/cluster.md),
 * the request is gone without a word, and nats.js only notices after two missed heartbeats, then
 * re-checks the consumer with a random delay of up to `expires` between tries while the cluster
 * elects a new leader. At nats.js's default of 30 s a handler stalled for half a minute or more
 * after a node died; at 5 s it resumes within seconds, for a pull request and a heartbeat every
 * few seconds on an idle consumer.
 */
const PULL_EXPIRES_MS = 5_000;

/** Options of a PullLoop. */
export interface PullLoopOptions {
  /** Messages handled at once by this loop (and pulled ahead): the service's max_workers. */
  maxInFlight: number;
  /** The consumer's ack_wait; messages in our hands are kept alive with `working()` at half of it. */
  ackWaitSeconds: number;
  log: Logger;
  /** Called when the server reports the consumer missing, so it can be created again. */
  recreate?: () => Promise<unknown>;
}

/**
 * Pulls one consumer's messages and hands each to `handle`, at most `maxInFlight` at a time.
 *
 * nats.js sends the next pull request only when its iterator is advanced, so holding the iterator
 * while all slots are busy is what bounds prefetch to max_workers, as Nameko's per-queue prefetch does.
 * `handle` must settle the message: nak or term itself, or ack it with the `ack` it is given.
 */
export class PullLoop {
  private messages?: ConsumerMessages;
  private readonly gate: Gate;
  private readonly inFlight = new Set<Promise<void>>();
  private loopDone?: Promise<void>;
  private stopping = false;
  private recreating = false;
  /** Acks of handlers that finished in this turn of the event loop, sent together by flushAcks. */
  private readonly pendingAcks: JsMsg[] = [];

  constructor(
    private readonly nc: NatsConnection,
    private readonly stream: string,
    private readonly consumerName: string,
    private readonly handle: (msg: JsMsg, ack: (msg: JsMsg) => void) => Promise<void>,
    private readonly options: PullLoopOptions,
  ) {
    this.gate = new Gate(Math.max(1, options.maxInFlight));
  }

  /**
   * Begin pulling. `info`, when the caller has just created or looked up the consumer, saves
   * asking the server for it again: one JetStream API request per handler at start-up, which a
   * process of a thousand handlers would otherwise queue on nats-server.
   */
  async start(info?: ConsumerInfo): Promise<void> {
    await this.consume(info);
  }

  private async consume(info?: ConsumerInfo): Promise<void> {
    const consumers = jetstream(this.nc).consumers;
    const consumer = info ? consumers.getConsumerFromInfo(info) : await consumers.get(this.stream, this.consumerName);
    const max = Math.max(1, this.options.maxInFlight);
    // nats.js pulls again once 3/4 of a pull is left (every 2-3 events at max_workers 10), each
    // pull its own socket write; at half, a pull asks for half the window and is still sent
    // before the window runs dry. Below 4 the default is kept (half would round to nothing).
    const messages = await consumer.consume({
      expires: PULL_EXPIRES_MS,
      max_messages: max,
      threshold_messages: max >= 4 ? Math.floor(max / 2) : undefined,
    });
    if (this.stopping) {
      await messages.close();
      return;
    }
    this.messages = messages;
    void this.watchStatus(messages);
    const previous = this.loopDone;
    const current = this.run(messages);
    this.loopDone = previous ? Promise.all([previous, current]).then(() => undefined) : current;
  }

  /** Stop pulling, hand back what was pulled but not started, and wait for running handlers. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.gate.close();
    // close() resolves once the iterator has yielded what it buffered, which run() naks.
    await this.messages?.close();
    await this.loopDone;
    await Promise.all([...this.inFlight]);
    // The last acks go out now, ahead of whatever the caller sends next (a flush, a drain).
    this.flushAcks();
  }

  /** Stop at once: buffered and running messages are left to ack_wait redelivery. */
  kill(): void {
    this.stopping = true;
    this.gate.close();
    void this.messages?.close();
  }

  /**
   * Ack a message whose handler has finished. nats.js writes its outbound buffer from a microtask
   * queued by the first command after a write, so acks made one by one as workers finish went out
   * in a socket write each (1.5 writes per event). Deferred to process.nextTick, which runs once
   * the microtask queue is drained, every ack of this turn reaches the buffer before that write.
   */
  private readonly ack = (msg: JsMsg): void => {
    if (this.pendingAcks.push(msg) === 1) process.nextTick(this.flushAcks);
  };

  private readonly flushAcks = (): void => {
    const acks = this.pendingAcks;
    for (let i = 0; i < acks.length; i++) acks[i].ack();
    acks.length = 0;
  };

  private async run(messages: ConsumerMessages): Promise<void> {
    try {
      for await (const msg of messages) {
        if (this.stopping) {
          // Pulled but not started: give it back so another instance takes it without waiting for ack_wait.
          msg.nak(HAND_BACK_DELAY_MS);
          continue;
        }
        const keepAlive = this.keepAlive(msg);
        if (!(await this.gate.acquire())) {
          clearInterval(keepAlive);
          msg.nak(HAND_BACK_DELAY_MS);
          continue;
        }
        const done: Promise<void> = this.handle(msg, this.ack)
          .catch((err: unknown) => {
            this.options.log.error("event message handling failed", { subject: msg.subject, error: err });
            // A handler that acked before it threw keeps its ack, as when acks were sent at once.
            this.flushAcks();
            msg.nak();
          })
          .finally(() => {
            clearInterval(keepAlive);
            this.gate.release();
            this.inFlight.delete(done);
          });
        this.inFlight.add(done);
      }
    } catch (err) {
      if (!this.stopping)
        this.options.log.error("event consumer stopped with an error", { consumer: this.consumerName, error: err });
    }
  }

  /** Tell the server we are still on it, so a handler slower than ack_wait is not redelivered elsewhere. */
  private keepAlive(msg: JsMsg): NodeJS.Timeout {
    const t = setInterval(() => msg.working(), Math.max(500, (this.options.ackWaitSeconds * 1000) / 2));
    t.unref();
    return t;
  }

  private async watchStatus(messages: ConsumerMessages): Promise<void> {
    for await (const s of messages.status()) {
      if (this.stopping || messages !== this.messages) return;
      if (
        (s.type === "consumer_deleted" || s.type === "consumer_not_found") &&
        this.options.recreate &&
        !this.recreating
      ) {
        this.options.log.warn("event consumer vanished; creating it again", {
          consumer: this.consumerName,
          notification: s.type,
        });
        this.recreating = true;
        this.replace(messages, this.options.recreate)
          .catch((err: unknown) =>
            this.options.log.error("could not recreate event consumer", { consumer: this.consumerName, error: err }),
          )
          .finally(() => (this.recreating = false));
      }
    }
  }

  /**
   * Create the consumer again and pull from it. nats.js would only notice the new consumer after
   * two missed heartbeats (half a minute), so the old pull is closed and a new one started; what
   * the old one had buffered is still handled.
   */
  private async replace(old: ConsumerMessages, recreate: () => Promise<unknown>): Promise<void> {
    await recreate();
    if (this.stopping) return;
    await this.consume();
    await old.close();
  }
}
