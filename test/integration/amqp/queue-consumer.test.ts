import type { ConsumeMessage } from "amqplib";
import { AmqpConnection, type ConsumerChannel } from "../../../amqp/connection";
import { silentLogger } from "../../../amqp/logger";
import { QueueConsumer, type QueueConsumerOptions } from "../../../amqp/queue-consumer";
import { eventsExchange, type QueueDeclaration } from "../../../amqp/topology";
import { createVhost, eventually, type TestVhost } from "../../helpers/rabbit";
import { deferred, withTimeout } from "../../helpers/waiters";

// The project-level testTimeout is not applied by jest 30 under `projects`; broker tests need more than 5 s.
jest.setTimeout(30000);

const queue: QueueDeclaration = {
  queue: "qc-test",
  durable: true,
  autoDelete: false,
  exclusive: false,
  arguments: {},
  exchange: "src.events",
  bindingKey: "#",
};

describe("QueueConsumer", () => {
  let vhost: TestVhost;
  let conn: AmqpConnection;
  let consumer: QueueConsumer | undefined;
  let received: string[];

  beforeEach(async () => {
    vhost = await createVhost("cliff-qc");
    conn = new AmqpConnection({ uri: vhost.uri, connectionName: "queue-consumer-test" });
    await conn.start();
    received = [];
  });

  afterEach(async () => {
    await consumer?.stop();
    consumer = undefined;
    await conn.close();
    await vhost.delete();
  });

  /** A consumer of `queue` that acks everything and records the bodies. */
  function consumerOf(options: Partial<QueueConsumerOptions> = {}): QueueConsumer {
    consumer = new QueueConsumer({
      connection: conn,
      exchange: eventsExchange("src"),
      queue,
      prefetch: 10,
      handle: (cc: ConsumerChannel, msg: ConsumeMessage) => {
        received.push(msg.content.toString());
        cc.ack(msg);
        return Promise.resolve();
      },
      ...options,
    });
    return consumer;
  }

  const publish = (body: string): Promise<unknown> => conn.publish("src.events", "e", Buffer.from(body), {});
  const queued = (): Promise<number> => conn.withChannel(async (ch) => (await ch.checkQueue(queue.queue)).messageCount);

  it("takes nothing while paused and what waited once resumed", async () => {
    const c = consumerOf({ paused: true });
    await c.start();
    expect(c.established).toBe(true);
    await publish("one");
    await publish("two");
    await eventually(async () => (await queued()) === 2);
    expect(received).toEqual([]);

    await c.resume();
    await eventually(() => received.length === 2);
    expect(received.sort()).toEqual(["one", "two"]);

    await c.pause();
    await publish("three");
    await eventually(async () => (await queued()) === 1);
    expect(received).toHaveLength(2);
  });

  it("stop() lets a delivery in flight finish and ack, calling onStopping before it waits", async () => {
    const taken = deferred();
    const release = deferred();
    const order: string[] = [];
    const c = consumerOf({
      handle: async (cc, msg) => {
        taken.resolve();
        await release.promise;
        order.push("handled");
        cc.ack(msg);
      },
      onStopping: () => {
        order.push("stopping");
        release.resolve();
      },
    });
    await c.start();
    await publish("slow");
    await withTimeout(taken.promise, 10_000, "the delivery");
    expect(c.inFlight).toBe(1);

    await c.stop();
    expect(order).toEqual(["stopping", "handled"]);
    expect(c.inFlight).toBe(0);
    expect(c.established).toBe(false);
    expect(await queued()).toBe(0); // acked, not requeued
  });

  it("tells onCancelled when the broker cancels the consumer", async () => {
    const cancelled = deferred<ConsumerChannel>();
    const c = consumerOf({ onCancelled: (cc) => cancelled.resolve(cc) });
    await c.start();
    await conn.withChannel((ch) => ch.deleteQueue(queue.queue));
    const cc = await withTimeout(cancelled.promise, 10_000, "the broker's basic.cancel");
    expect(cc.isOpen()).toBe(true);
  });

  it("passes each new channel to onChannel before consuming on it", async () => {
    const channels: ConsumerChannel[] = [];
    const c = consumerOf({ onChannel: (cc) => channels.push(cc) });
    await c.start();
    expect(channels).toHaveLength(1);
    await publish("x");
    await eventually(() => received.length === 1);
  });

  it("a handler that throws is logged, its delivery requeued once, then rejected", async () => {
    const deliveries: boolean[] = [];
    const logged: Array<Record<string, unknown>> = [];
    const rejectedTwice = deferred();
    const c = consumerOf({
      log: { ...silentLogger, error: (_message, meta) => void logged.push({ ...(meta as Record<string, unknown>) }) },
      handle: (_cc, msg) => {
        deliveries.push(msg.fields.redelivered);
        if (deliveries.length === 2) setImmediate(() => rejectedTwice.resolve());
        return Promise.reject(new Error("handler bug"));
      },
    });
    await c.start();
    await publish("poison");
    await withTimeout(rejectedTwice.promise, 10_000, "the redelivery");
    await eventually(() => logged.length === 2);
    expect(deliveries).toEqual([false, true]);
    expect(logged.map((m) => m.requeue)).toEqual([true, false]);
    expect(String(logged[0]?.error)).toContain("handler bug");
    await eventually(async () => (await queued()) === 0);
    expect(c.inFlight).toBe(0);
  });
});
