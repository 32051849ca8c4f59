/**
 * The ops server of `cliffracer run` (docs/metrics.md): /metrics from the services' registry,
 * /health while the process answers, /ready once every container started and until it stops.
 */
import { ConfigurationError, type Logger } from "../../compat";
import { parseAddress } from "../config/address";
import type { RuntimeConfig } from "../config/defaults";
import type { ServiceRunner } from "../core/service-runner";
import { HttpEntrypoint } from "../entrypoints/http";
import { startOpsServer, type OpsServer } from "./ops-server";
import type { ServiceMetrics } from "./service-metrics";

/**
 * Starts the ops server on `config.metricsAddress` (which must be set). Refuses the port of the
 * @http server (WEB_SERVER_ADDRESS) when a service has @http methods: both would listen on it.
 */
export async function startServiceOps(
  runner: ServiceRunner,
  metrics: ServiceMetrics,
  config: RuntimeConfig,
  log: Logger,
): Promise<OpsServer> {
  const { host, port } = parseAddress(config.metricsAddress ?? "", "METRICS_ADDRESS");
  const web = parseAddress(config.webServerAddress);
  const servesHttp = runner.containers.some((c) => c.entrypoints.some((e) => e instanceof HttpEntrypoint));
  if (servesHttp && port !== 0 && port === web.port)
    throw new ConfigurationError(
      `METRICS_ADDRESS port ${port} is the port of WEB_SERVER_ADDRESS, where the @http methods are served; give METRICS_ADDRESS another port`,
    );
  return startOpsServer({
    host,
    port,
    registry: metrics.registry,
    ready: () => ({
      ok: runner.ready,
      details: {
        running: runner.containers.filter((c) => c.running).map((c) => c.serviceName),
        notRunning: runner.containers.filter((c) => !c.running).map((c) => c.serviceName),
      },
    }),
    log,
  });
}
