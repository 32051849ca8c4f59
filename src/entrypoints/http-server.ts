// The one web server of a process that every @http entrypoint shares (Nameko's WebServer, a
// SharedExtension): it listens while at least one container with @http methods runs, on config
// WEB_SERVER_ADDRESS, and routes every request through the werkzeug-style RuleMap. Its `/ws`
// endpoint hands WebSocket upgrades to the one container that serves WebSocket RPC there.
import type FastifyWebsocket from "@fastify/websocket";
import type Fastify from "fastify";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { ConfigurationError, type Logger } from "../../compat";
import { IncomingHttpRequest, responseFromException, type OutgoingResponse } from "./http-messages";
import { RuleMap, type PathValue } from "./http-rules";
import { parseAddress, type BindAddress } from "../config/address";

/** What a rule routes to: one @http entrypoint of one container. */
export interface HttpRouteTarget {
  /** Run the request; resolves with the response, never rejects. */
  handle(request: IncomingHttpRequest, values: Record<string, PathValue>): Promise<OutgoingResponse>;
}

/**
 * What the endpoint uses of an accepted `ws` socket. Declared here so that no declaration of the
 * package names `ws`'s types, which a user's project need not have installed.
 */
export interface AcceptedSocket {
  readonly readyState: number;
  readonly OPEN: number;
  send(data: string, callback: (err?: Error) => void): void;
  close(code?: number): void;
  terminate(): void;
  on(event: "message", listener: (data: Buffer | ArrayBuffer | Buffer[]) => void): this;
  on(event: "close", listener: () => void): this;
  on(event: "error", listener: (err: Error) => void): this;
}

/** What `/ws` hands an upgraded connection to: the WebSocket RPC server of one container. */
export interface WebSocketTarget {
  /** The service it belongs to, named when a second one asks for the same endpoint. */
  readonly serviceName: string;
  /** Take an open socket; the request is the upgrade request. */
  accept(socket: AcceptedSocket, request: IncomingHttpRequest): void;
}

/** The path of Nameko's WebSocket endpoint. */
export const WEBSOCKET_PATH = "/ws";

// Werkzeug's error pages (werkzeug 1.0, the version Nameko 2.14 runs on), so a client sees the same body.
function errorPage(status: number, title: string, text: string): OutgoingResponse {
  const body = `<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 3.2 Final//EN">\n<title>${status} ${title}</title>\n<h1>${title}</h1>\n<p>${text}</p>\n`;
  return { status, headers: [["content-type", "text/html; charset=utf-8"]], body };
}
const NOT_FOUND = (): OutgoingResponse =>
  errorPage(
    404,
    "Not Found",
    "The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.",
  );
const NOT_ALLOWED = (allowed: string[]): OutgoingResponse => {
  const page = errorPage(405, "Method Not Allowed", "The method is not allowed for the requested URL.");
  page.headers.push(["allow", allowed.join(", ")]);
  return page;
};

function decodePath(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    // A malformed escape is matched as sent rather than refused, like werkzeug's "replace" decoding.
    return raw;
  }
}

// What eventlet's WebSocketWSGI answers a plain request to a WebSocket endpoint.
const NOT_UPGRADED = (): OutgoingResponse => ({ status: 400, headers: [["connection", "close"]], body: "" });

const servers = new Map<string, SharedHttpServer>();

/** fastify and its WebSocket plugin, loaded by the first server only. */
interface HttpModules {
  Fastify: typeof Fastify;
  fastifyWebsocket: typeof FastifyWebsocket;
}

let httpModules: Promise<HttpModules> | undefined;

/**
 * The first server to start loads them once: a process with no @http or @wsRpc entrypoint never
 * loads fastify, about 3 MB of RSS (BENCHMARKS.md, Peak RSS (issue 17)).
 */
function loadHttpModules(): Promise<HttpModules> {
  httpModules ??= Promise.all([import("fastify"), import("@fastify/websocket")]).then(([f, w]) => ({
    Fastify: f.default,
    fastifyWebsocket: w.default,
  }));
  return httpModules;
}

/** One listening fastify server, shared by the @http entrypoints of every container using its address. */
export class SharedHttpServer {
  readonly rules = new RuleMap<HttpRouteTarget>();
  private readonly app: FastifyInstance;
  private users = 0;
  private closing?: Promise<void>;
  private listening?: Promise<void>;
  private boundPort = 0;
  private websocket?: WebSocketTarget;

  private constructor(
    private readonly key: string,
    readonly address: BindAddress,
    private readonly log: Logger,
    { Fastify, fastifyWebsocket }: HttpModules,
  ) {
    this.app = Fastify({ logger: false });
    // Every body stays raw: the method decides how to read it (request.text(), request.json()).
    this.app.removeAllContentTypeParsers();
    this.app.addContentTypeParser("*", { parseAs: "buffer" }, (_req, body, done) => done(null, body));
    // One catch-all route: services add and remove rules while the server listens, which fastify's router does not allow.
    // Declared before the websocket plugin loads, so its upgrade wrapper stays off this route: an
    // upgrade to any other path is answered over HTTP (404), never accepted.
    this.app.all("*", (request, reply) => this.dispatch(request, reply));
    void this.app.register(fastifyWebsocket);
    void this.app.register((scope, _opts, done) => {
      scope.route({
        method: "GET",
        url: WEBSOCKET_PATH,
        // Without a WebSocket server attached, /ws is a path like any other, upgrade or not.
        preHandler: async (request, reply) => {
          if (request.ws && !this.websocket) return this.dispatch(request, reply);
        },
        handler: (request, reply) =>
          this.websocket ? this.write(reply, NOT_UPGRADED()) : this.dispatch(request, reply),
        wsHandler: (socket, request) => {
          const target = this.websocket;
          if (target) target.accept(socket, this.incoming(request));
          else socket.close(1001);
        },
      });
      done();
    });
  }

  /** Serve `/ws` with this target; only one container per server may. */
  attachWebSocket(target: WebSocketTarget): void {
    if (this.websocket && this.websocket !== target) {
      throw new ConfigurationError(
        `${WEBSOCKET_PATH} on ${this.url} is already served by ${this.websocket.serviceName}; one service per WEB_SERVER_ADDRESS can serve WebSocket RPC`,
      );
    }
    this.websocket = target;
  }

  /** Stop handing upgrades to this target; later upgrades of /ws are answered over HTTP. */
  detachWebSocket(target: WebSocketTarget): void {
    if (this.websocket === target) this.websocket = undefined;
  }

  /** The server for an address, listening once this resolves; each acquire needs one release. */
  static async acquire(addressText: string, log: Logger): Promise<SharedHttpServer> {
    const address = parseAddress(addressText);
    const key = `${address.host}:${address.port}`;
    const modules = await loadHttpModules();
    // Looked up after the await: two acquires of one address still share one server.
    let server = servers.get(key);
    if (!server) servers.set(key, (server = new SharedHttpServer(key, address, log, modules)));
    server.users++;
    try {
      await (server.listening ??= server.listen());
    } catch (err) {
      await server.release();
      throw err;
    }
    return server;
  }

  /** The port actually bound (differs from the configured one when that is 0). */
  get port(): number {
    return this.boundPort;
  }

  /** `http://host:port`, with a loopback host when bound to every interface. */
  get url(): string {
    const host = this.address.host === "0.0.0.0" || this.address.host === "::" ? "127.0.0.1" : this.address.host;
    return `http://${host.includes(":") ? `[${host}]` : host}:${this.port}`;
  }

  /**
   * Give up one use; the last one closes the server gracefully: no new connections, in-flight
   * requests answered, then sockets closed. After `graceMs` the remaining connections are cut.
   */
  async release(graceMs?: number): Promise<void> {
    if (--this.users > 0) return;
    // Forget it now, so a container starting meanwhile gets a fresh server rather than a closing one.
    if (servers.get(this.key) === this) servers.delete(this.key);
    const closing = (this.closing ??= this.close());
    if (graceMs !== undefined) {
      let timer: NodeJS.Timeout | undefined;
      const cut = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
      await Promise.race([closing, cut]);
      clearTimeout(timer);
      this.app.server.closeAllConnections();
    }
    await closing;
  }

  /** Cut the remaining connections of a server that is closing (a kill during a graceful stop). */
  cut(): void {
    if (this.closing) this.app.server.closeAllConnections();
  }

  private async listen(): Promise<void> {
    await this.app.listen({ host: this.address.host, port: this.address.port });
    const bound = this.app.server.address();
    this.boundPort = typeof bound === "object" && bound !== null ? bound.port : this.address.port;
    this.log.info("http server listening", { url: this.url });
  }

  private async close(): Promise<void> {
    await this.listening?.catch(() => undefined);
    await this.app.close();
    this.log.info("http server closed", { url: this.url });
  }

  private async dispatch(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const raw = request.raw.url ?? "/";
    const q = raw.indexOf("?");
    const rawPath = q === -1 ? raw : raw.slice(0, q);
    const path = decodePath(rawPath);
    const match = this.rules.match(request.method, path);
    let out: OutgoingResponse;
    if (match.kind === "found") {
      out = await match.target
        .handle(this.incoming(request), match.values)
        .catch((err: unknown) => responseFromException(err));
    } else if (match.kind === "not-allowed") out = NOT_ALLOWED(match.allowed);
    else if (match.kind === "redirect") {
      out = { status: 308, headers: [["location", `${rawPath}/${q === -1 ? "" : raw.slice(q)}`]], body: "" };
    } else out = NOT_FOUND();
    return this.write(reply, out);
  }

  private incoming(request: FastifyRequest): IncomingHttpRequest {
    const raw = request.raw.url ?? "/";
    const q = raw.indexOf("?");
    const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    return new IncomingHttpRequest(
      request.method,
      raw,
      decodePath(q === -1 ? raw : raw.slice(0, q)),
      request.headers,
      body,
      request.ip,
    );
  }

  private write(reply: FastifyReply, out: OutgoingResponse): FastifyReply {
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of out.headers) {
      const key = name.toLowerCase();
      const prev = headers[key];
      headers[key] = prev === undefined ? value : [...(Array.isArray(prev) ? prev : [prev]), value];
    }
    // A keep-alive connection would hold a closing server open until the client lets go.
    if (this.closing) headers.connection = "close";
    reply.code(out.status).headers(headers);
    // Bytes, not a string: fastify would append a charset to a content type the method chose.
    return reply.send(
      typeof out.body === "string"
        ? Buffer.from(out.body, "utf8")
        : Buffer.from(out.body.buffer, out.body.byteOffset, out.body.byteLength),
    );
  }
}
