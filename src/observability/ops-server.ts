/**
 * The operations endpoints of a process: `/health` (alive), `/ready` (able to do its work) and
 * Prometheus `/metrics`, on their own small fastify server so they answer even when the message
 * paths are saturated or one broker is away. A process adds its own endpoints through `json`
 * (read-only) and `handlers` (any method, JSON in and out), so the server knows nothing of them.
 */
import type { FastifyInstance } from "fastify";
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
  /** Endpoints that take a request (e.g. the bridge's `PUT /routes/<service>`). */
  handlers?: readonly OpsHandler[];
  /** Largest request body accepted, in bytes (default 64 KiB); a larger one gets 413. */
  bodyLimit?: number;
  log?: Logger;
}

/** A request to an {@link OpsHandler}: the path's `:name` parameters and the JSON body (undefined when empty). */
export interface OpsRequest {
  params: Readonly<Record<string, string>>;
  body: unknown;
}

/** What an {@link OpsHandler} answers: the status code and a body sent as JSON. */
export interface OpsAnswer {
  status: number;
  body: unknown;
}

/**
 * One endpoint of a process's own: `path` in fastify's form (`/routes/:service`). A handler that
 * throws answers 500 with `{error: {type, message}}`; a handler decides every other status itself.
 */
export interface OpsHandler {
  method: "GET" | "PUT" | "POST" | "DELETE";
  path: string;
  handle(request: OpsRequest): OpsAnswer | Promise<OpsAnswer>;
}

/** Ops requests are small JSON documents; the limit keeps a careless client from holding memory. */
const DEFAULT_BODY_LIMIT = 64 * 1024;

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
  // Loaded here: a process without an ops port never loads fastify, about 3 MB of RSS.
  // BENCHMARKS.md, Peak RSS (issue 17)
  const { default: Fastify } = await import("fastify");
  const app = Fastify({ logger: false, bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT });
  probeRoute(app, "/health", options.health ?? (() => ({ ok: true })));
  probeRoute(app, "/ready", options.ready);
  app.get("/metrics", async (_request, reply) => {
    const body = await options.registry.metrics();
    return reply.header("content-type", options.registry.contentType).send(body);
  });
  for (const [path, read] of Object.entries(options.json ?? {}))
    app.get(path, async (_request, reply) => reply.send(read()));
  if (options.handlers && options.handlers.length > 0) addHandlers(app, options.handlers);
  const host = options.host ?? "0.0.0.0";
  await app.listen({ port: options.port, host });
  const address = app.server.address();
  const port = typeof address === "object" && address !== null ? address.port : options.port;
  const url = `http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${port}`;
  options.log?.info("ops server listening", {
    url,
    paths: [
      "/health",
      "/ready",
      "/metrics",
      ...Object.keys(options.json ?? {}),
      ...(options.handlers ?? []).map((h) => `${h.method} ${h.path}`),
    ],
  });
  return {
    port,
    url,
    close: () => app.close(),
  };
}

/**
 * Every body is read as JSON whatever its content type (`curl -d` says form-urlencoded), and every
 * refusal, fastify's own included (bad JSON, too large), answers `{error: {type, message}}`.
 */
function addHandlers(app: FastifyInstance, handlers: readonly OpsHandler[]): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "string" }, (_request, text, done) => {
    if (typeof text !== "string" || text.trim() === "") return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch (err) {
      done(
        Object.assign(new Error(`the body is not JSON: ${describeError(err)}`), {
          statusCode: 400,
          name: "InvalidJson",
        }),
      );
    }
  });
  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, _request, reply) => {
    const status = typeof err.statusCode === "number" && err.statusCode >= 400 ? err.statusCode : 500;
    const type = status === 413 ? "BodyTooLarge" : err.name === "FastifyError" ? (err.code ?? err.name) : err.name;
    return reply.code(status).send({ error: { type, message: err.message } });
  });
  for (const handler of handlers)
    app.route({
      method: handler.method,
      url: handler.path,
      handler: async (request, reply) => {
        const answer = await handler.handle({
          params: (request.params ?? {}) as Record<string, string>,
          body: request.body,
        });
        return reply.code(answer.status).send(answer.body);
      },
    });
}
