/**
 * AMQP events, publisher side, as Nameko publishes an event: persistent (delivery_mode 2), JSON, to
 * the `<source>.events` topic exchange with the event type as routing key, on a confirm channel;
 * a publish counts once RabbitMQ confirmed it. With `declare` it declares the exchange first, as a
 * Nameko service does.
 */
import * as amqp from "amqplib";
import { AMQP_SOCKET_OPTIONS, AMQP_URI } from "../lib/env";
import { loadRole } from "../lib/load";
import { eventBody } from "../lib/payload";
import type { StartRole } from "../lib/role";

export const start: StartRole = async (options) => {
  const exchange = String(options.exchange);
  const routingKey = String(options.routingKey);
  const conn = await amqp.connect(AMQP_URI, AMQP_SOCKET_OPTIONS);
  const ch = await conn.createConfirmChannel();
  // A Nameko service declares its events exchange at set-up (docs/nameko-wire.md, Events exchange).
  if (options.declare) await ch.assertExchange(exchange, "topic", { durable: true });
  return loadRole(
    (seq, phase) =>
      new Promise<void>((resolve, reject) => {
        ch.publish(
          exchange,
          routingKey,
          Buffer.from(eventBody(phase, seq)),
          { deliveryMode: 2, contentType: "application/json", contentEncoding: "utf-8", headers: {} },
          (err) => (err ? reject(new Error(`publish not confirmed: ${String(err)}`)) : resolve()),
        );
      }),
    () => conn.close(),
  );
};
