/**
 * JetStream floor, consumer side: creates the bench stream and a durable pull consumer (explicit
 * acks) and consumes with the callback API, acking each event after checking it. Deletes the
 * stream on stop.
 */
import { connect } from "@nats-io/transport-node";
import { AckPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { NATS_URL } from "../lib/env";
import { EventCollector } from "../lib/load";
import type { StartRole } from "../lib/role";

export const start: StartRole = async (options) => {
  const stream = String(options.stream);
  const subject = String(options.subject);
  const nc = await connect({ servers: NATS_URL, noAsyncTraces: true, name: "bench-js-consumer" });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: stream, subjects: [subject], max_age: 10 * 60 * 1e9 });
  await jsm.consumers.add(stream, { durable_name: "bench", ack_policy: AckPolicy.Explicit });
  const consumer = await jetstream(nc).consumers.get(stream, "bench");
  const collector = new EventCollector();
  const messages = await consumer.consume({
    callback: (m) => {
      collector.record(m.data);
      m.ack();
    },
  });
  return {
    handle: (command, arg) => collector.handle(command, arg),
    async stop() {
      await messages.close();
      await jsm.streams.delete(stream);
      await nc.drain();
    },
  };
};
