/**
 * A Nameko-protocol caller in plain amqplib, behaving as Nameko's ClusterRpcProxy
 * (docs/nameko-wire.md, RPC client, Standalone clients): a reply queue
 * `rpc.reply-standalone_rpc_proxy-<uuid>` bound to nameko-rpc with `<uuid>`, requests
 * published mandatory on a confirm channel with reply_to, correlation id and the call id stack;
 * a call completes when its publish is confirmed and its reply arrived (an unroutable request is
 * Nameko's UnknownService).
 */
import { randomUUID } from "node:crypto";
import * as amqp from "amqplib";
import { AMQP_SOCKET_OPTIONS, AMQP_URI } from "../lib/env";
import { loadRole } from "../lib/load";
import { REPLY_QUEUE_EXPIRES_MS, requestProperties, RPC_EXCHANGE } from "../lib/nameko-amqp";
import { bodyBytesOption, echoArguments, echoRequestBodies } from "../lib/payload";
import type { StartRole } from "../lib/role";

interface Pending {
  expected: string;
  resolve: () => void;
  reject: (e: Error) => void;
}

export const start: StartRole = async (options) => {
  const service = String(options.service);
  const replyKey = randomUUID();
  const replyQueue = `rpc.reply-standalone_rpc_proxy-${replyKey}`;
  const callIdStack = [`standalone_rpc_proxy.call.${randomUUID()}`];
  const conn = await amqp.connect(AMQP_URI, AMQP_SOCKET_OPTIONS);
  const consume = await conn.createChannel();
  const publish = await conn.createConfirmChannel();
  await consume.assertExchange(RPC_EXCHANGE, "topic", { durable: true });
  await consume.assertQueue(replyQueue, {
    durable: true,
    autoDelete: false,
    exclusive: false,
    arguments: { "x-expires": REPLY_QUEUE_EXPIRES_MS },
  });
  await consume.bindQueue(replyQueue, RPC_EXCHANGE, replyKey);
  const pending = new Map<string, Pending>();
  await consume.consume(replyQueue, (msg) => {
    if (!msg) return;
    consume.ack(msg);
    const id = msg.properties.correlationId as string;
    const p = pending.get(id);
    if (!p) return;
    pending.delete(id);
    try {
      const reply = JSON.parse(msg.content.toString("utf8")) as { result: unknown; error: unknown };
      if (reply.error) throw new Error(`remote error ${JSON.stringify(reply.error)}`);
      if (reply.result !== p.expected) throw new Error(`wrong echo: ${JSON.stringify(reply.result).slice(0, 200)}`);
      p.resolve();
    } catch (err) {
      p.reject(err as Error);
    }
  });
  publish.on("return", (msg: amqp.Message) => {
    const p = pending.get(msg.properties.correlationId as string);
    if (!p) return;
    pending.delete(msg.properties.correlationId as string);
    p.reject(new Error(`UnknownService: ${service} (request returned by RabbitMQ)`));
  });
  const bodyBytes = bodyBytesOption(options);
  const bodies = echoRequestBodies(bodyBytes);
  const expected = echoArguments(bodyBytes);
  const routingKey = `${service}.echo`;
  return loadRole(
    (i) => {
      const correlationId = randomUUID();
      const replied = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(correlationId);
          reject(new Error("no reply within 10 s"));
        }, 10_000);
        pending.set(correlationId, {
          expected: expected[i % expected.length],
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
          reject: (e) => {
            clearTimeout(timer);
            reject(e);
          },
        });
      });
      const confirmed = new Promise<void>((resolve, reject) => {
        publish.publish(
          RPC_EXCHANGE,
          routingKey,
          bodies[i % bodies.length],
          requestProperties(replyKey, correlationId, callIdStack),
          (err) => (err ? reject(new Error(`request not confirmed: ${String(err)}`)) : resolve()),
        );
      });
      return Promise.all([confirmed, replied]).then(() => undefined);
    },
    async () => {
      await consume.deleteQueue(replyQueue);
      await conn.close();
    },
  );
};
