/**
 * Acks of one consumer channel, sent once per turn and with `multiple` wherever their delivery
 * tags run without a gap.
 *
 * RabbitMQ does work per ack frame (its channel and queue processes each handle it); one
 * `basic.ack(multiple=1)` settles a run of deliveries for the price of one. A delivery tag is
 * covered by a multiple ack only when every tag below it is known settled here, so a message
 * still being handled is never acked by accident; acks past a gap go out one by one in the same
 * turn, so a slow message never holds back the others (nor the prefetch window).
 */
import type { Channel, Message } from "amqplib";

/** Settled tags kept above the lowest unsettled one; past this a stuck gap stops coalescing. */
const MAX_TRACKED = 65_536;

/**
 * Coalesces the acks of one channel; reject() is sent at once. A settle on a channel that is
 * closing is dropped (the broker requeues the message); any other failure goes to `onError`,
 * since a flush runs outside its caller's stack.
 */
export class AckCoalescer {
  /** The lowest delivery tag not known settled (tags start at 1 on every channel). */
  private lowestUnsettled = 1;
  /** Tags above lowestUnsettled already acked or rejected. */
  private readonly settledAbove = new Set<number>();
  /** Acks of this turn, not yet sent. */
  private queued: Message[] = [];

  constructor(
    private readonly channel: Channel,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Queue an ack; it leaves with the other acks of this turn (process.nextTick). */
  ack(message: Message): void {
    if (this.queued.push(message) === 1) process.nextTick(this.flush);
  }

  /** Reject (nack) at once: a requeued message should be redelivered without waiting. */
  reject(message: Message, requeue: boolean): void {
    this.send(() => this.channel.reject(message, requeue));
    this.settled(message.fields.deliveryTag);
  }

  /** Send every queued ack now (before the channel closes). */
  readonly flush = (): void => {
    const acks = this.queued;
    if (acks.length === 0) return;
    this.queued = [];
    const batch = new Map<number, Message>();
    for (const m of acks) batch.set(m.fields.deliveryTag, m);
    let lastOfRun: Message | undefined;
    // Walk up from the lowest unsettled tag through tags settled before or in this batch.
    for (;;) {
      const tag = this.lowestUnsettled;
      const m = batch.get(tag);
      if (m !== undefined) {
        batch.delete(tag);
        lastOfRun = m;
      } else if (!this.settledAbove.delete(tag)) break;
      this.lowestUnsettled++;
    }
    if (lastOfRun !== undefined) {
      const last = lastOfRun;
      this.send(() => this.channel.ack(last, true));
    }
    for (const [tag, m] of batch) {
      this.send(() => this.channel.ack(m));
      this.settled(tag);
    }
  };

  private send(settle: () => void): void {
    try {
      settle();
    } catch (err) {
      if (!(err instanceof Error && err.name === "IllegalOperationError")) this.onError(err);
    }
  }

  private settled(tag: number): void {
    if (tag === this.lowestUnsettled) {
      this.lowestUnsettled++;
      while (this.settledAbove.delete(this.lowestUnsettled)) this.lowestUnsettled++;
    } else if (tag > this.lowestUnsettled && this.settledAbove.size < MAX_TRACKED) {
      this.settledAbove.add(tag);
    }
  }
}
