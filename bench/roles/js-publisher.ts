/** JetStream floor, publisher side: js.publish() of each event, waiting for the stream's ack. */
import { connect } from "@nats-io/transport-node";
import { jetstream } from "@nats-io/jetstream";
import { NATS_URL } from "../lib/env";
import { loadRole } from "../lib/load";
import { eventBody } from "../lib/payload";
import type { StartRole } from "../lib/role";

export const start: StartRole = async (options) => {
  const subject = String(options.subject);
  const stream = String(options.stream);
  const nc = await connect({ servers: NATS_URL, noAsyncTraces: true, name: "bench-js-publisher" });
  const js = jetstream(nc);
  return loadRole(
    async (seq, phase) => {
      const ack = await js.publish(subject, eventBody(phase, seq));
      if (ack.stream !== stream || ack.duplicate) throw new Error(`unexpected publish ack ${JSON.stringify(ack)}`);
    },
    () => nc.drain(),
  );
};
