/**
 * A minimal JetStream -> AMQP event relay in plain nats.js and amqplib, none of our code: creates
 * the stream and a durable pull consumer (explicit acks, 128 in flight, as the bridge), publishes
 * each event persistent on a confirm channel to `<source>.events`, and acks the JetStream message
 * once RabbitMQ confirmed. The least work any bridge does per event in this direction.
 */
import * as amqp from "amqplib";
import { connect } from "@nats-io/transport-node";
import { AckPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { AMQP_SOCKET_OPTIONS, AMQP_URI, NATS_URL } from "../lib/env";
import type { StartRole } from "../lib/role";

const IN_FLIGHT = 128;

export const start: StartRole = async (options) => {
  const stream = String(options.stream);
  const subject = String(options.subject);
  const exchange = String(options.exchange);
  const routingKey = String(options.routingKey);
  const conn = await amqp.connect(AMQP_URI, AMQP_SOCKET_OPTIONS);
  const ch = await conn.createConfirmChannel();
  await ch.assertExchange(exchange, "topic", { durable: true });
  const nc = await connect({ servers: NATS_URL, noAsyncTraces: true, name: "bench-js-amqp-relay" });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: stream, subjects: [subject], max_age: 10 * 60 * 1e9 });
  await jsm.consumers.add(stream, {
    durable_name: "relay",
    ack_policy: AckPolicy.Explicit,
    max_ack_pending: IN_FLIGHT,
  });
  const consumer = await jetstream(nc).consumers.get(stream, "relay");
  let failure: Error | undefined;
  const messages = await consumer.consume({
    max_messages: IN_FLIGHT,
    callback: (m) => {
      ch.publish(
        exchange,
        routingKey,
        Buffer.from(m.data),
        { deliveryMode: 2, contentType: "application/json", headers: {} },
        (err) => {
          if (err) {
            // A lost event fails the case through the consumer's count; the error says why.
            failure ??= new Error(`publish not confirmed: ${String(err)}`);
            m.nak();
          } else m.ack();
        },
      );
    },
  });
  return {
    handle: (command) => Promise.reject(new Error(`unknown command ${command}`)),
    async stop() {
      await messages.close();
      await jsm.streams.delete(stream);
      await nc.drain();
      await conn.close();
      if (failure) throw failure;
    },
  };
};
