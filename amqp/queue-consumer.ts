/**
 * The consume/cancel/close lifecycle every AMQP consumer shares (AmqpRpcServer, AmqpEventConsumer
 * and the bridge's inbound paths): declare an exchange, a queue and its binding and consume the
 * queue on every (re)connect; pause and resume with `basic.cancel` / `basic.consume` on the same
 * channel; on stop, cancel the consumer, let deliveries already taken finish (they still ack),
 * then close the channel.
 */
import type { ConsumeMessage } from "amqplib";
import { describeError, InFlight, type Logger } from "../compat";
import type { AmqpConnection, ConsumerChannel, ConsumerHandle } from "./connection";
import { silentLogger } from "./logger";
import { declareConsumerTopology, type ExchangeDeclaration, type QueueDeclaration } from "./topology";

/** Options of {@link QueueConsumer}. */
export interface QueueConsumerOptions {
  connection: AmqpConnection;
  /**
   * Declared, then the queue and its binding. Absent: the queue is someone else's (a Nameko
   * handler's) and exists already; it is checked passively, never declared, so flags or arguments
   * its owner chose cannot fail the declaration with 406. A missing queue fails the set-up, which
   * the connection retries with backoff.
   */
  exchange?: ExchangeDeclaration;
  queue: QueueDeclaration;
  prefetch: number;
  /** The consumer's name in the connection's logs; default the queue's name. */
  name?: string;
  /** Declare the topology but take nothing until {@link QueueConsumer.resume}. */
  paused?: boolean;
  /** Where a handler that throws is reported; default: nowhere. */
  log?: Logger;
  /**
   * Handles one delivery on the channel it came from (acks or rejects it there). A handler that
   * throws anyway is logged and its delivery requeued once (see {@link QueueConsumer}).
   */
  handle: (cc: ConsumerChannel, msg: ConsumeMessage) => Promise<void>;
  /** Each new consumer channel, before anything is declared or consumed on it. */
  onChannel?: (cc: ConsumerChannel) => void;
  /** The broker cancelled the consumer (its queue was deleted, for one); we did not. */
  onCancelled?: (cc: ConsumerChannel) => void;
  /** stop() took the last delivery and now waits for those in flight: the moment to cut their waits short. */
  onStopping?: () => void;
}

/** One consumed queue, with its deliveries in flight counted for a graceful stop. */
export class QueueConsumer {
  private consumer?: ConsumerHandle;
  /** The channel of the latest (re)connect, and the consumer tag while it consumes there. */
  private channel?: ConsumerChannel;
  private consumerTag?: string;
  private paused: boolean;
  private stopping = false;
  private readonly running = new InFlight();

  constructor(private readonly options: QueueConsumerOptions) {
    this.paused = options.paused ?? false;
  }

  /** Deliveries being handled right now. */
  get inFlight(): number {
    return this.running.count;
  }

  /** True while the queue is declared on a live channel (consuming unless paused). */
  get established(): boolean {
    return this.consumer?.current() !== undefined;
  }

  /** Declares the topology and consumes (again after reconnects) unless paused. */
  async start(): Promise<void> {
    if (this.consumer) return;
    this.stopping = false;
    const { connection, exchange, queue, prefetch, name } = this.options;
    this.consumer = await connection.addConsumer({
      name: name ?? queue.queue,
      prefetch,
      setup: async (cc) => {
        this.options.onChannel?.(cc);
        if (!exchange) await cc.channel.checkQueue(queue.queue);
        else await declareConsumerTopology(cc.channel, exchange, queue);
        this.channel = cc;
        this.consumerTag = undefined;
        if (!this.paused && !this.stopping) await this.consume(cc);
      },
    });
  }

  /** Stops taking deliveries (`basic.cancel`); the channel stays, so those in flight still ack. */
  async pause(): Promise<void> {
    this.paused = true;
    await this.cancel();
  }

  /** Takes deliveries again after {@link pause} (or a paused start). */
  async resume(): Promise<void> {
    this.paused = false;
    const cc = this.channel;
    if (!this.stopping && cc?.isOpen() && this.consumerTag === undefined) await this.consume(cc);
  }

  /** Cancels the consumer, waits for deliveries in flight, closes the channel. */
  async stop(): Promise<void> {
    const consumer = this.consumer;
    if (!consumer) return;
    this.consumer = undefined;
    this.stopping = true;
    await this.cancel();
    this.channel = undefined;
    this.options.onStopping?.();
    await this.running.idle();
    await consumer.close();
  }

  private async cancel(): Promise<void> {
    const cc = this.channel;
    const tag = this.consumerTag;
    this.consumerTag = undefined;
    if (cc?.isOpen() && tag !== undefined) await cc.channel.cancel(tag).catch(() => undefined);
  }

  /**
   * A handler threw instead of settling its delivery: a bug, but it must neither crash the process
   * (an unhandled rejection) nor pin a prefetch slot forever. The delivery goes back to the queue
   * once; a redelivered one that fails again is rejected, so a poison message cannot loop hot, and
   * reaches the queue's dead-letter exchange when it has one.
   */
  private failed(cc: ConsumerChannel, msg: ConsumeMessage, err: unknown): void {
    const requeue = !msg.fields.redelivered;
    (this.options.log ?? silentLogger).error("amqp delivery handler threw; delivery rejected", {
      queue: this.options.queue.queue,
      requeue,
      error: describeError(err),
    });
    cc.reject(msg, requeue);
  }

  private async consume(cc: ConsumerChannel): Promise<void> {
    const { consumerTag } = await cc.channel.consume(
      this.options.queue.queue,
      (msg) => {
        if (msg) void this.running.track(() => this.options.handle(cc, msg)).catch((err) => this.failed(cc, msg, err));
        else this.options.onCancelled?.(cc);
      },
      { noAck: false, exclusive: false },
    );
    if (this.paused || this.stopping || this.channel !== cc || this.consumerTag !== undefined) {
      // Paused, stopped, reconnected or resumed twice while basic.consume was on its way.
      await cc.channel.cancel(consumerTag).catch(() => undefined);
      return;
    }
    this.consumerTag = consumerTag;
  }
}
