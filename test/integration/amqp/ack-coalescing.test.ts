import type { ConsumeMessage } from "amqplib";
import { AmqpConnection, type ConsumerChannel } from "../../../compat/amqp/connection";
import { createVhost, eventually, listQueues, type TestVhost } from "../../helpers/rabbit";
import { deferred } from "../../helpers/waiters";

jest.setTimeout(30000);

const QUEUE = "ack-coalescing";
const COUNT = 20;

describe("ConsumerChannel acks coalesced with multiple=1 on real RabbitMQ", () => {
  let vhost: TestVhost;
  let conn: AmqpConnection;

  beforeEach(async () => {
    vhost = await createVhost("cliff-acks");
    conn = new AmqpConnection({ uri: vhost.uri, connectionName: "ack-coalescing-test" });
    await conn.start();
    await conn.withChannel(async (ch) => {
      await ch.assertQueue(QUEUE, { durable: false });
      for (let i = 1; i <= COUNT; i++) ch.sendToQueue(QUEUE, Buffer.from(String(i)));
    });
  });

  afterEach(async () => {
    await conn.close();
    await vhost.delete();
  });

  /** Consumes QUEUE on a fresh consumer channel, handing every delivery to `onMessage`. */
  async function consume(onMessage: (cc: ConsumerChannel, msg: ConsumeMessage) => void) {
    return conn.addConsumer({
      name: QUEUE,
      prefetch: 50,
      setup: async (cc) => {
        await cc.channel.consume(QUEUE, (msg) => msg && onMessage(cc, msg), { noAck: false });
      },
    });
  }

  it("a delivery still being handled stays unacked while every later one is acked, and is redelivered alone", async () => {
    const all = deferred();
    let held: ConsumeMessage | undefined;
    let seen = 0;
    const first = await consume((cc, msg) => {
      if (msg.content.toString() === "1") held = msg;
      else cc.ack(msg);
      if (++seen === COUNT) all.resolve();
    });
    await all.promise;
    expect(held).toBeDefined();
    await eventually(async () => (await listQueues(vhost.name)).some((q) => q.name === QUEUE && q.messages_unacknowledged === 1));

    await first.close();
    const redelivered = deferred<ConsumeMessage>();
    const second = await consume((cc, msg) => {
      cc.ack(msg);
      redelivered.resolve(msg);
    });
    const again = await redelivered.promise;
    expect(again.content.toString()).toBe("1");
    expect(again.fields.redelivered).toBe(true);
    await eventually(async () => (await listQueues(vhost.name)).some((q) => q.name === QUEUE && q.messages === 0));
    await second.close();
  });

  it("acks queued in the same turn as a close are sent before the channel closes", async () => {
    const all = deferred();
    const received: Array<[ConsumerChannel, ConsumeMessage]> = [];
    const handle = await consume((cc, msg) => {
      if (received.push([cc, msg]) === COUNT) all.resolve();
    });
    await all.promise;
    // Acked and closed in one synchronous run: the acks are still queued when close() starts.
    for (const [cc, msg] of received) cc.ack(msg);
    await handle.close();
    const [queue] = (await listQueues(vhost.name)).filter((q) => q.name === QUEUE);
    expect(queue.messages).toBe(0);
  });
});
