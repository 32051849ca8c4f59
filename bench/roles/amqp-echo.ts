/**
 * Raw amqplib RPC server (the AMQP floor): the fastest plain RPC a careful amqplib user would write.
 * A transient, auto-delete queue; prefetch 256 (never the limit at 128 in flight) with manual acks;
 * the reply is sent to the caller's reply_to with its correlation id, no publisher confirms.
 */
import * as amqp from "amqplib";
import { AMQP_SOCKET_OPTIONS, AMQP_URI } from "../lib/env";
import type { StartRole } from "../lib/role";

export const start: StartRole = async (options) => {
  const queue = String(options.queue);
  const conn = await amqp.connect(AMQP_URI, AMQP_SOCKET_OPTIONS);
  const ch = await conn.createChannel();
  await ch.assertQueue(queue, { durable: false, autoDelete: true });
  await ch.prefetch(256);
  await ch.consume(queue, (msg) => {
    if (!msg) return;
    ch.sendToQueue(msg.properties.replyTo as string, msg.content, {
      correlationId: msg.properties.correlationId as string,
    });
    ch.ack(msg);
  });
  return {
    handle: (command) => Promise.reject(new Error(`unknown command ${command}`)),
    async stop() {
      await ch.deleteQueue(queue);
      await conn.close();
    },
  };
};
