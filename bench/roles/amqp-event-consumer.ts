/**
 * AMQP events, consumer side, shaped like a Nameko handler queue: a durable topic exchange
 * `<source>.events`, a durable queue bound with the event type, manual ack per event after
 * checking it, prefetch 256. With `declare: false` it only consumes an existing queue; with
 * `cleanup` it deletes the queue and exchange on stop.
 */
import * as amqp from "amqplib";
import { AMQP_SOCKET_OPTIONS, AMQP_URI } from "../lib/env";
import { EventCollector } from "../lib/load";
import type { StartRole } from "../lib/role";

export const start: StartRole = async (options) => {
  const exchange = String(options.exchange);
  const queue = String(options.queue);
  const routingKey = String(options.routingKey);
  const conn = await amqp.connect(AMQP_URI, AMQP_SOCKET_OPTIONS);
  const ch = await conn.createChannel();
  await ch.assertExchange(exchange, "topic", { durable: true });
  await ch.assertQueue(queue, { durable: true });
  await ch.bindQueue(queue, exchange, routingKey);
  await ch.prefetch(256);
  const collector = new EventCollector();
  await ch.consume(queue, (msg) => {
    if (!msg) return;
    collector.record(msg.content);
    ch.ack(msg);
  });
  return {
    handle: (command, arg) => collector.handle(command, arg),
    async stop() {
      await ch.deleteQueue(queue);
      await ch.deleteExchange(exchange);
      await conn.close();
    },
  };
};
