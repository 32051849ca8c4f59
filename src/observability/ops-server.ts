/**
 * The operations endpoints of a process: `/health` (alive), `/ready` (able to do its work) and
 * Prometheus `/metrics`, on their own small fastify server so they answer even when the message
 * paths are saturated or one broker is away.
 */
import Fastify, { type FastifyInstance } from "fastify";
import type { Registry } from "prom-client";
import { describeError, type Logger } from "../../compat";

/** The answer of a probe: `ok` decides the status code (200 / 503); details go in the JSON body. */
export interface ProbeResult {
  ok: boolean;
  details?: Record<string, unknown>;
}

/** Options of {@link startOpsServer}. */
export interface OpsServerOptions {
  /** TCP port; 0 picks a free one (see {@link OpsServer.port}). */
  port: number;
  /** Bind address; default 0.0.0.0 (reachable by a Prometheus scraper or an orchestrator's probes). */
  host?: string;
  registry: Registry;
  /** Liveness; default: always ok while the process serves HTTP. */
  health?: () => ProbeResult;
  /** Readiness. */
  ready: () => ProbeResult;
  /** More read-only JSON endpoints, by path (e.g. the bridge's `/shadow`); each is called per request. */
  json?: Record<string, () => unknown>;
  log?: Logger;
}

/** A listening ops server. */
export interface OpsServer {
  readonly port: number;
  /** `http://<host>:<port>` as bound. */
  readonly url: string;
  close(): Promise<void>;
}

function probeRoute(app: FastifyInstance, path: string, probe: () => ProbeResult): void {
  app.get(path, async (_request, reply) => {
    let result: ProbeResult;
    try {
      result = probe();
    } catch (err) {
      result = { ok: false, details: { error: describeError(err) } };
    }
    return reply.code(result.ok ? 200 : 503).send({ status: result.ok ? "ok" : "unavailable", ...result.details });
  });
}

/** Starts `/health`, `/ready` and `/metrics`; resolves once listening. */
export async function startOpsServer(options: OpsServerOptions): Promise<OpsServer> {
  const app = Fastify({ logger: false });
  probeRoute(app, "/health", options.health ?? (() => ({ ok: true })));
  probeRoute(app, "/ready", options.ready);
  app.get("/metrics", async (_request, reply) => {
    const body = await options.registry.metrics();
    return reply.header("content-type", options.registry.contentType).send(body);
  });
  for (const [path, read] of Object.entries(options.json ?? {}))
    app.get(path, async (_request, reply) => reply.send(read()));
  const host = options.host ?? "0.0.0.0";
  await app.listen({ port: options.port, host });
  const address = app.server.address();
  const port = typeof address === "object" && address !== null ? address.port : options.port;
  const url = `http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${port}`;
  options.log?.info("ops server listening", {
    url,
    paths: ["/health", "/ready", "/metrics", ...Object.keys(options.json ?? {})],
  });
  return {
    port,
    url,
    close: () => app.close(),
  };
}
