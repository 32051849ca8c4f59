/** Raw NATS echo responder (the floor's server): replies with the request bytes. */
import { connect } from "@nats-io/transport-node";
import { NATS_URL } from "../lib/env";
import type { StartRole } from "../lib/role";

export const start: StartRole = async (options) => {
  const subject = String(options.subject);
  const nc = await connect({ servers: NATS_URL, noAsyncTraces: true, name: "bench-nats-echo" });
  nc.subscribe(subject, {
    queue: subject,
    callback: (err, msg) => {
      if (err) throw err;
      msg.respond(msg.data);
    },
  });
  // The subscription must be known to the server before the caller's first request.
  await nc.flush();
  return {
    handle: (command) => Promise.reject(new Error(`unknown command ${command}`)),
    stop: () => nc.drain(),
  };
};
