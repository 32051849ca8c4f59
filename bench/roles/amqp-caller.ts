/**
 * Raw amqplib RPC caller (the AMQP floor): RabbitMQ's direct reply-to (amq.rabbitmq.reply-to, no
 * reply queue to declare, no acks), transient requests, no confirms, correlation by a counter.
 */
import * as amqp from "amqplib";
import { AMQP_SOCKET_OPTIONS, AMQP_URI } from "../lib/env";
import { loadRole } from "../lib/load";
import { bodyBytesOption, echoRequestBodies } from "../lib/payload";
import type { StartRole } from "../lib/role";

const DIRECT_REPLY_TO = "amq.rabbitmq.reply-to";

export const start: StartRole = async (options) => {
  const queue = String(options.queue);
  const conn = await amqp.connect(AMQP_URI, AMQP_SOCKET_OPTIONS);
  const ch = await conn.createChannel();
  const bodies = echoRequestBodies(bodyBytesOption(options));
  const waiting = new Map<string, { body: Buffer; resolve: () => void; reject: (e: Error) => void }>();
  await ch.consume(
    DIRECT_REPLY_TO,
    (msg) => {
      if (!msg) return;
      const w = waiting.get(msg.properties.correlationId as string);
      if (!w) return;
      waiting.delete(msg.properties.correlationId as string);
      if (msg.content.equals(w.body)) w.resolve();
      else w.reject(new Error(`wrong echo: ${msg.content.toString("utf8").slice(0, 200)}`));
    },
    { noAck: true },
  );
  let nextId = 0;
  return loadRole(
    (i) =>
      new Promise<void>((resolve, reject) => {
        const correlationId = String(nextId++);
        const body = bodies[i % bodies.length];
        const timer = setTimeout(() => {
          waiting.delete(correlationId);
          reject(new Error("no reply within 10 s"));
        }, 10_000);
        waiting.set(correlationId, {
          body,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
          reject: (e) => {
            clearTimeout(timer);
            reject(e);
          },
        });
        ch.sendToQueue(queue, body, { correlationId, replyTo: DIRECT_REPLY_TO });
      }),
    () => conn.close(),
  );
};
