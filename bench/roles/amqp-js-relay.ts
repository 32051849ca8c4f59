/**
 * A minimal AMQP -> JetStream event relay in plain amqplib and nats.js, none of our code: consume
 * a durable queue bound to `<source>.events` (prefetch 128, as the bridge), `js.publish()` each
 * event, ack the AMQP message once the PubAck came. The least work any bridge does per event.
 */
import * as amqp from "amqplib";
import { connect } from "@nats-io/transport-node";
import { jetstream } from "@nats-io/jetstream";
import { AMQP_SOCKET_OPTIONS, AMQP_URI, NATS_URL } from "../lib/env";
import type { StartRole } from "../lib/role";

export const start: StartRole = async (options) => {
  const exchange = String(options.exchange);
  const queue = String(options.queue);
  const subject = String(options.subject);
  const nc = await connect({ servers: NATS_URL, noAsyncTraces: true, name: "bench-relay" });
  const js = jetstream(nc);
  const conn = await amqp.connect(AMQP_URI, AMQP_SOCKET_OPTIONS);
  const ch = await conn.createChannel();
  await ch.assertExchange(exchange, "topic", { durable: true });
  await ch.assertQueue(queue, { durable: true });
  await ch.bindQueue(queue, exchange, "#");
  await ch.prefetch(128);
  let failure: Error | undefined;
  await ch.consume(queue, (msg) => {
    if (!msg) return;
    js.publish(subject, msg.content).then(
      () => ch.ack(msg),
      (err: Error) => {
        // A lost event fails the case through the consumer's count; the error says why.
        failure ??= err;
        ch.nack(msg, false, true);
      },
    );
  });
  return {
    handle: (command) => Promise.reject(new Error(`unknown command ${command}`)),
    async stop() {
      await ch.deleteQueue(queue);
      await conn.close();
      await nc.drain();
      if (failure) throw failure;
    },
  };
};
