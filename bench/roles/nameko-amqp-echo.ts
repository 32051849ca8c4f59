/**
 * A Nameko-protocol echo service in plain amqplib (the AMQP side of case 5): consumes
 * `rpc-<service>` bound to nameko-rpc with `<service>.*`, answers `echo(payload)` with
 * {"result": payload, "error": null} on a confirm channel, and acks the request once the reply is
 * confirmed, as Nameko does (docs/nameko-wire.md, RPC server). Prefetch 128 (Nameko's would be max_workers,
 * 10) so the peer is never the limit at 128 in flight.
 */
import * as amqp from "amqplib";
import { AMQP_SOCKET_OPTIONS, AMQP_URI } from "../lib/env";
import { replyProperties, RPC_EXCHANGE } from "../lib/nameko-amqp";
import type { StartRole } from "../lib/role";

export const start: StartRole = async (options) => {
  const service = String(options.service);
  const queue = `rpc-${service}`;
  const conn = await amqp.connect(AMQP_URI, AMQP_SOCKET_OPTIONS);
  const consume = await conn.createChannel();
  const publish = await conn.createConfirmChannel();
  await consume.assertExchange(RPC_EXCHANGE, "topic", { durable: true });
  await consume.assertQueue(queue, { durable: true, autoDelete: false, exclusive: false });
  await consume.bindQueue(queue, RPC_EXCHANGE, `${service}.*`);
  await consume.prefetch(128);
  await consume.consume(queue, (msg) => {
    if (!msg) return;
    const method = msg.fields.routingKey.slice(msg.fields.routingKey.lastIndexOf(".") + 1);
    let body: string;
    try {
      const request = JSON.parse(msg.content.toString("utf8")) as { args: unknown[]; kwargs: Record<string, unknown> };
      if (method !== "echo") throw new Error(`MethodNotFound ${method}`);
      body = JSON.stringify({ result: request.args[0], error: null });
    } catch (err) {
      body = JSON.stringify({
        result: null,
        error: {
          exc_type: "MethodNotFound",
          exc_path: "nameko.exceptions.MethodNotFound",
          exc_args: [method],
          value: String(err),
        },
      });
    }
    const props = replyProperties(
      msg.properties.contentType as string | undefined,
      msg.properties.correlationId as string | undefined,
    );
    publish.publish(RPC_EXCHANGE, msg.properties.replyTo as string, Buffer.from(body), props, (err) => {
      if (err) consume.nack(msg, false, true);
      else consume.ack(msg);
    });
  });
  return {
    handle: (command) => Promise.reject(new Error(`unknown command ${command}`)),
    async stop() {
      await consume.deleteQueue(queue);
      await conn.close();
    },
  };
};
