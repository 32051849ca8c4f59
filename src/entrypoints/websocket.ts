// Nameko's WebSocket RPC (nameko.web.websocket; docs/websocket.md): `@wsRpc()` methods called over
// `/ws` of the process's web server, and the hub of channels the WebSocketHub dependency hands out.
import { randomUUID } from "node:crypto";
import {
  bindArguments,
  type ContextData,
  ConnectionNotFound,
  type ErrorClass,
  isFunction,
  type MethodSignature,
  MethodNotFound,
  requestKwargs,
  signatureOf,
  type SignatureOverride,
} from "../../compat";
import type { ContainerHandle, Entrypoint, WorkerOutcome } from "../core/extension";
import { registerEntrypoint } from "../core/metadata";
import { ProviderCollector } from "../core/shared-extension";
import { ServiceDefinitionError } from "../errors";
import { wsRpcServerSpan } from "../tracing/attributes";
import type { EntrypointSpan } from "../tracing/tracing";
import type { IncomingHttpRequest } from "./http-messages";
import { type AcceptedSocket, SharedHttpServer, type WebSocketTarget } from "./http-server";
import { decodeWsFrame, encodeWsError, encodeWsEvent, encodeWsResult } from "./websocket-frames";

/** Options of `@wsRpc()`. */
export interface WsRpcOptions {
  /** Errors the method is expected to throw: logged as warnings; the reply is the same. */
  expectedExceptions?: readonly ErrorClass[];
  /** What JavaScript cannot express about the Python signature, e.g. `{ keywordOnly: ["flag"] }`. */
  signature?: SignatureOverride;
}

/**
 * Serve a method over WebSocket RPC (Nameko's `@rpc` from `nameko.web.websocket`): a client's frame
 * `{"method": "<name>", "data": {...}}` on `/ws` runs it with the caller's socket id as the first
 * argument and `data` as keyword arguments, as Nameko calls `method(socket_id, **data)`.
 */
export function wsRpc(options: WsRpcOptions = {}): MethodDecorator {
  return (target, propertyKey, descriptor) => {
    const methodName = String(propertyKey);
    // No descriptor when decorate() is given a name that is no method of the class.
    const fn: unknown = (descriptor as PropertyDescriptor | undefined)?.value;
    if (!isFunction(fn)) throw new ServiceDefinitionError(`@wsRpc() on ${methodName}: not a method`);
    const signature = signatureOf(fn, methodName, options.signature);
    // Every call would fail with IncorrectSignature; say so when the class is defined instead.
    if (signature.params.length === 0 && !signature.varArgs) {
      throw new ServiceDefinitionError(`@wsRpc() on ${methodName}: the first parameter receives the socket id`);
    }
    registerEntrypoint(target, () => new WsRpcEntrypoint(methodName, signature, options));
  };
}

/** One `@wsRpc` method of one container; the container's shared WebSocketServer owns the sockets. */
export class WsRpcEntrypoint implements Entrypoint {
  readonly expectedExceptions?: readonly ErrorClass[];
  traceSpan?: EntrypointSpan;
  private server?: WebSocketServer;

  constructor(
    readonly methodName: string,
    readonly signature: MethodSignature,
    options: WsRpcOptions,
  ) {
    this.expectedExceptions = options.expectedExceptions;
  }

  /** `ws://host:port/ws` of the endpoint while it is started (useful with port 0). */
  get url(): string | undefined {
    return this.server?.url;
  }

  setup(container: ContainerHandle): void {
    this.traceSpan = wsRpcServerSpan(container.serviceName, this.methodName);
    this.server = container.shared(WebSocketServer);
    this.server.register(this);
  }

  /** No new calls: as in Nameko, a frame naming this method now gets MethodNotFound. */
  stop(): void {
    this.server?.unregister(this);
  }
}

/** One open socket of the endpoint. */
interface OpenSocket {
  readonly id: string;
  readonly socket: AcceptedSocket;
  /** Context data of the socket's workers, taken when it connected. */
  readonly contextData: ContextData;
  /** The channels it is subscribed to. */
  readonly channels: Set<string>;
  /** Frames are handled one at a time, replies in order, as Nameko's loop reads a socket. */
  queue: Promise<void>;
  readonly closed: Promise<void>;
}

/**
 * The channels and sockets of one container's WebSocket endpoint, as the WebSocketHub dependency
 * hands it to workers (Nameko's `WebSocketHub`).
 */
export interface WebSocketHub {
  /** Subscribe a socket to a channel; ConnectionNotFound when no socket has this id. */
  subscribe(socketId: string, channel: string): void;
  /** Unsubscribe a socket from a channel; nothing happens when it was not subscribed. */
  unsubscribe(socketId: string, channel: string): void;
  /** The channels a socket is subscribed to, sorted; empty for an unknown socket. */
  getSubscriptions(socketId: string): string[];
  /** Send `{"type": "event", "event": event, "data": data}` to every socket subscribed to the channel. */
  broadcast(channel: string, event: string, data: unknown): void;
  /** Send the event to one socket; false when no socket has this id. */
  unicast(socketId: string, event: string, data: unknown): boolean;
}

/**
 * The `/ws` endpoint of one container (Nameko's WebSocketServer, a shared extension): it attaches
 * to the process's web server at start, gives each connection a socket id, answers its frames and
 * keeps the hub's channels. Only one container per web server address can serve `/ws`.
 */
export class WebSocketServer extends ProviderCollector<WsRpcEntrypoint> implements WebSocketTarget {
  readonly hub: WebSocketHub = {
    subscribe: (socketId, channel) => {
      const open = this.sockets.get(socketId);
      if (!open) throw new ConnectionNotFound(socketId);
      open.channels.add(channel);
      let members = this.channels.get(channel);
      if (!members) this.channels.set(channel, (members = new Set()));
      members.add(socketId);
    },
    unsubscribe: (socketId, channel) => {
      this.sockets.get(socketId)?.channels.delete(channel);
      this.leave(socketId, channel);
    },
    getSubscriptions: (socketId) => [...(this.sockets.get(socketId)?.channels ?? [])].sort(),
    broadcast: (channel, event, data) => {
      const frame = encodeWsEvent(event, data);
      for (const socketId of this.channels.get(channel) ?? []) this.send(this.sockets.get(socketId), frame);
    },
    unicast: (socketId, event, data) => {
      const frame = encodeWsEvent(event, data);
      const open = this.sockets.get(socketId);
      if (!open) return false;
      this.send(open, frame);
      return true;
    },
  };
  private readonly sockets = new Map<string, OpenSocket>();
  private readonly channels = new Map<string, Set<string>>();
  private server?: SharedHttpServer;
  private starting?: Promise<void>;
  private stopping?: Promise<void>;

  get serviceName(): string {
    return this.container.serviceName;
  }

  /** `ws://host:port/ws` while started. */
  get url(): string | undefined {
    return this.server ? `${this.server.url.replace(/^http/, "ws")}/ws` : undefined;
  }

  start(): Promise<void> {
    return (this.starting ??= this.open());
  }

  /** No new connections; frames already read are answered, then every socket is closed (1001). */
  stop(): Promise<void> {
    return (this.stopping ??= this.close(this.container.config.shutdownTimeoutMs));
  }

  /** No new connections; every socket is cut at once, also during a graceful stop. */
  kill(): Promise<void> {
    if (!this.stopping) return (this.stopping = this.close(0));
    for (const open of this.sockets.values()) open.socket.terminate();
    return this.stopping;
  }

  accept(socket: AcceptedSocket, _request: IncomingHttpRequest): void {
    const id = randomUUID();
    let closed!: () => void;
    const open: OpenSocket = {
      id,
      socket,
      // Nameko's default: no context data from the upgrade request's headers.
      contextData: {},
      channels: new Set(),
      queue: Promise.resolve(),
      closed: new Promise<void>((resolve) => (closed = resolve)),
    };
    this.sockets.set(id, open);
    const log = this.container.log;
    log.debug("websocket connected", { socket_id: id });
    socket.on("message", (data) => {
      const raw = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
      open.queue = open.queue.then(() => this.answer(open, raw));
    });
    socket.on("close", () => {
      this.forget(open);
      log.debug("websocket closed", { socket_id: id });
      closed();
    });
    // A socket error ends in "close"; without a listener it would be thrown.
    socket.on("error", (err) => log.debug("websocket error", { socket_id: id, error: err.message }));
    this.send(open, encodeWsEvent("connected", { socket_id: id }));
  }

  private async open(): Promise<void> {
    const server = await SharedHttpServer.acquire(this.container.config.webServerAddress, this.container.log);
    try {
      server.attachWebSocket(this);
    } catch (err) {
      await server.release(0);
      throw err;
    }
    this.server = server;
    this.container.log.debug("websocket endpoint added", { url: this.url, methods: this.methodNames() });
  }

  private async close(graceMs: number): Promise<void> {
    await this.starting?.catch(() => undefined);
    const server = this.server;
    if (!server) return;
    server.detachWebSocket(this);
    const sockets = [...this.sockets.values()];
    const cut = () => sockets.forEach((s) => s.socket.terminate());
    if (graceMs > 0) {
      // Frames already read are answered first, within the same grace as the close.
      await this.within(Promise.all(sockets.map((s) => s.queue)), graceMs, cut);
      for (const s of sockets) s.socket.close(1001);
      await this.within(Promise.all(sockets.map((s) => s.closed)), graceMs, cut);
    } else cut();
    await server.release(graceMs);
  }

  /** Wait for `done` up to `ms`, then run `late` if it has not settled. */
  private async within(done: Promise<unknown>, ms: number, late: () => void): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), ms)));
    const expired = await Promise.race([done.then(() => false), timedOut]);
    clearTimeout(timer);
    if (expired) late();
  }

  private methodNames(): string[] {
    return [...this.providers].map((e) => e.methodName);
  }

  /** Nameko's handle_websocket_request: one frame in, one result frame out; never rejects. */
  private async answer(open: OpenSocket, raw: Buffer): Promise<void> {
    let correlationId: unknown = null;
    let reply: string;
    try {
      const frame = decodeWsFrame(raw);
      correlationId = frame.correlationId;
      const outcome = await this.call(open, frame.method, frame.data);
      if (!outcome.ok) throw outcome.error;
      reply = encodeWsResult(outcome.result, correlationId);
    } catch (error) {
      reply = encodeWsError(error, correlationId);
    }
    this.send(open, reply);
  }

  private async call(open: OpenSocket, method: unknown, data: unknown): Promise<WorkerOutcome> {
    const entrypoint = [...this.providers].find((e) => e.methodName === method);
    // Nameko raises it without arguments here, unlike its RPC MethodNotFound.
    if (!entrypoint) throw new MethodNotFound();
    // Checked before a worker starts, as Nameko's check_signature: a mistake costs no worker.
    const args = bindArguments(entrypoint.signature, [open.id], requestKwargs(data));
    const context = { data: { ...open.contextData }, parentStack: [] };
    return new Promise<WorkerOutcome>((resolve) => {
      void this.container.spawnWorker(entrypoint, args, context, (_worker, o) => resolve(o)).then(resolve);
    });
  }

  private send(open: OpenSocket | undefined, frame: string): void {
    if (!open || open.socket.readyState !== open.socket.OPEN) return;
    // A send that fails ends in the socket's "close", which cleans up.
    open.socket.send(frame, () => undefined);
  }

  private forget(open: OpenSocket): void {
    this.sockets.delete(open.id);
    for (const channel of open.channels) this.leave(open.id, channel);
    open.channels.clear();
  }

  private leave(socketId: string, channel: string): void {
    const members = this.channels.get(channel);
    members?.delete(socketId);
    if (members?.size === 0) this.channels.delete(channel);
  }
}
