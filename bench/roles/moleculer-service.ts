/** Moleculer 0.14 echo service over the same NATS (a peer case), in its own process. */
import { ServiceBroker } from "moleculer";
import { NATS_URL } from "../lib/env";
import type { StartRole } from "../lib/role";

/** Broker options shared by the Moleculer service and caller: defaults, minus logging/metrics/tracing. */
export function moleculerBroker(namespace: string, nodeID: string): ServiceBroker {
  return new ServiceBroker({
    namespace,
    nodeID,
    transporter: { type: "NATS", options: { servers: [NATS_URL] } },
    logger: false,
    metrics: false,
    tracing: false,
  });
}

export const start: StartRole = async (options) => {
  const broker = moleculerBroker(String(options.namespace), `${String(options.namespace)}-service`);
  broker.createService({
    name: "echo",
    actions: {
      echo(ctx) {
        return (ctx.params as { payload: string }).payload;
      },
    },
  });
  await broker.start();
  return {
    handle: (command) => Promise.reject(new Error(`unknown command ${command}`)),
    stop: () => broker.stop(),
  };
};
