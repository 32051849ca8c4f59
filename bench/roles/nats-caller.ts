/** Raw NATS request/reply caller (the floor): @nats-io/transport-node with noAsyncTraces. */
import { connect } from "@nats-io/transport-node";
import { NATS_URL } from "../lib/env";
import { loadRole } from "../lib/load";
import { bodyBytesOption, echoRequestBodies, sameBytes } from "../lib/payload";
import type { StartRole } from "../lib/role";

export const start: StartRole = async (options) => {
  const subject = String(options.subject);
  const nc = await connect({ servers: NATS_URL, noAsyncTraces: true, name: "bench-nats-caller" });
  const bodies = echoRequestBodies(bodyBytesOption(options));
  return loadRole(
    async (i) => {
      const body = bodies[i % bodies.length];
      const reply = await nc.request(subject, body, { timeout: 10_000 });
      if (!sameBytes(reply.data, body)) throw new Error(`wrong echo: ${reply.string().slice(0, 200)}`);
    },
    () => nc.drain(),
  );
};
