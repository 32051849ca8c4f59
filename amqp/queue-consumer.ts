/**
 * What AmqpRpcServer and AmqpEventConsumer share: declare an exchange, a queue and its binding and
 * consume the queue on every (re)connect; on stop, cancel the consumer, let deliveries already
 * taken finish (they still ack), then close the channel.
 */
import type { ConsumeMessage } from "amqplib";
import { InFlight } from "../compat";
import type { AmqpConnection, ConsumerChannel, ConsumerHandle } from "./connection";
import { declareConsumerTopology, type ExchangeDeclaration, type QueueDeclaration } from "./topology";

/** Options of {@link QueueConsumer}. */
export interface QueueConsumerOptions {
  connection: AmqpConnection;
  exchange: ExchangeDeclaration;
  queue: QueueDeclaration;
  prefetch: number;
  /** Handles one delivery on the channel it came from (acks or rejects it there). */
  handle: (cc: ConsumerChannel, msg: ConsumeMessage) => Promise<void>;
}

/** One consumed queue, with its deliveries in flight counted for a graceful stop. */
export class QueueConsumer {
  private consumer?: ConsumerHandle;
  private readonly tags = new WeakMap<ConsumerChannel, string>();
  private readonly running = new InFlight();

  constructor(private readonly options: QueueConsumerOptions) {}

  /** Deliveries being handled right now. */
  get inFlight(): number {
    return this.running.count;
  }

  /** Declares the topology and consumes (again after reconnects). */
  async start(): Promise<void> {
    if (this.consumer) return;
    const { connection, exchange, queue, prefetch } = this.options;
    this.consumer = await connection.addConsumer({
      name: queue.queue,
      prefetch,
      setup: async (cc) => {
        await declareConsumerTopology(cc.channel, exchange, queue);
        const { consumerTag } = await cc.channel.consume(
          queue.queue,
          (msg) => {
            if (msg) void this.onMessage(cc, msg);
          },
          { noAck: false, exclusive: false },
        );
        this.tags.set(cc, consumerTag);
      },
    });
  }

  /** Cancels the consumer (`basic.cancel`), waits for deliveries in flight, closes the channel. */
  async stop(): Promise<void> {
    const consumer = this.consumer;
    if (!consumer) return;
    this.consumer = undefined;
    const cc = consumer.current();
    const tag = cc ? this.tags.get(cc) : undefined;
    if (cc && tag) await cc.channel.cancel(tag).catch(() => undefined);
    await this.running.idle();
    await consumer.close();
  }

  private async onMessage(cc: ConsumerChannel, msg: ConsumeMessage): Promise<void> {
    this.running.enter();
    try {
      await this.options.handle(cc, msg);
    } finally {
      this.running.leave();
    }
  }
}
