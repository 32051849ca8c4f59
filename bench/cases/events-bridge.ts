/** Events through the bridge, each way, with RabbitMQ confirms and JetStream acks on the path. */
import { measureEvents, type BenchCase } from "../lib/case";
import { BRIDGE_NEEDS } from "./rpc-bridge-amqp-to-runtime";
import { RUNTIME_EVENTS_NEEDS } from "./events-runtime";

const EVENT_TYPE = "bench_event";

export const bridgeEventsAmqpToNats: BenchCase = {
  id: "events.bridge-amqp-to-nats",
  title: "AMQP publish -> bridge -> runtime handler",
  kind: "events",
  floor: "events.amqp-floor",
  limits:
    "Both brokers on 2 cores: RabbitMQ's confirmed persistent publish, delivery and ack, then JetStream's store, PubAck, " +
    "pull and ack. The plain relay reference (amqplib + nats.js, none of our code) reaches about the same ratio; the " +
    "bridge's own busy time is mostly socket writes (writeBuffer); its PubAcks come back on the reply mux.",
  needs: [...RUNTIME_EVENTS_NEEDS, ...BRIDGE_NEEDS],
  async run(ctx) {
    const prefix = `bench_${ctx.token}`;
    const source = `bench_amqp_source_${ctx.token}`;
    const consumer = await ctx.spawn("handler service", "runtime-event-handler", {
      prefix,
      source,
      name: `bench_handler_${ctx.token}`,
    });
    await ctx.spawn("bridge", "bridge", { prefix, amqpServices: [source] });
    const publisher = await ctx.spawn("AMQP publisher", "amqp-event-publisher", {
      exchange: `${source}.events`,
      routingKey: EVENT_TYPE,
      declare: true,
    });
    return measureEvents(ctx, publisher, consumer);
  },
};

export const bridgeEventsNatsToAmqp: BenchCase = {
  id: "events.bridge-nats-to-amqp",
  title: "runtime dispatch -> bridge -> AMQP consumer",
  kind: "events",
  floor: "events.amqp-floor",
  limits:
    "Bridge: a confirmed persistent AMQP publish per event (amqplib's header table encoding about 6% and nats.js header " +
    "parsing about 5% of its busy time; JetStream acks of a turn in one write). The bridge stores fewer events per second " +
    "on RabbitMQ than the dispatcher stores on JetStream, so back to back at 1 in flight a backlog builds and that " +
    "column is queueing; one event at a time the path is the two floors' latencies added.",
  needs: [...RUNTIME_EVENTS_NEEDS, ...BRIDGE_NEEDS],
  async run(ctx) {
    const prefix = `bench_${ctx.token}`;
    const source = `bench_source_${ctx.token}`;
    // Named as Nameko names a SERVICE_POOL handler's queue (docs/nameko-wire.md, Event handler queues).
    const queue = `evt-${source}-${EVENT_TYPE}--bench_amqp_handler_${ctx.token}.on_event`;
    const consumer = await ctx.spawn("AMQP consumer", "amqp-event-consumer", {
      exchange: `${source}.events`,
      queue,
      routingKey: EVENT_TYPE,
    });
    const publisher = await ctx.spawn("dispatcher service", "runtime-event-dispatcher", {
      prefix,
      source,
      deleteStream: true,
    });
    await ctx.spawn("bridge", "bridge", { prefix, natsServices: [source] });
    return measureEvents(ctx, publisher, consumer);
  },
};
