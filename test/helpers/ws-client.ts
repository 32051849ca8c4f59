// A WebSocket client speaking Nameko's frames (docs/websocket.md, Frames) over the `ws` package,
// for tests: frames are kept as the exact text received, in order.
import WebSocket from "ws";
import { deferred, withTimeout, type Deferred } from "./waiters";

/** One connection to a `/ws` endpoint; `connect` resolves after the `connected` event. */
export class WsClient {
  /** The socket id from the `connected` event. */
  socketId = "";
  /** The `connected` frame as received. */
  connectedFrame = "";
  private readonly frames: string[] = [];
  private waiting?: Deferred<string>;
  readonly closed = deferred<number>();

  private constructor(readonly socket: WebSocket) {
    socket.on("message", (data: Buffer) => {
      const text = data.toString("utf8");
      const waiter = this.waiting;
      this.waiting = undefined;
      if (waiter) waiter.resolve(text);
      else this.frames.push(text);
    });
    socket.on("close", (code) => this.closed.resolve(code));
  }

  static async connect(url: string): Promise<WsClient> {
    const socket = new WebSocket(url);
    const client = new WsClient(socket);
    const opened = deferred();
    socket.once("open", () => opened.resolve());
    socket.once("error", (err) => opened.reject(err));
    await withTimeout(opened.promise, 5000, `connecting to ${url}`);
    client.connectedFrame = await client.next();
    client.socketId = (JSON.parse(client.connectedFrame) as { data: { socket_id: string } }).data.socket_id;
    return client;
  }

  /** The next frame received, as text. */
  next(): Promise<string> {
    const queued = this.frames.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    this.waiting = deferred<string>();
    return withTimeout(this.waiting.promise, 5000, "a websocket frame");
  }

  /** Send a frame as given (text or binary) and return the next frame. */
  async exchange(frame: string | Buffer): Promise<string> {
    this.socket.send(frame);
    return this.next();
  }

  /** Call a method and return its reply frame parsed. */
  async call(method: string, data: Record<string, unknown> = {}, correlationId: unknown = null): Promise<WsReply> {
    return JSON.parse(await this.exchange(JSON.stringify({ method, data, correlation_id: correlationId }))) as WsReply;
  }

  close(): Promise<number> {
    this.socket.close();
    return withTimeout(this.closed.promise, 5000, "the socket to close");
  }
}

/** A parsed result frame. */
export interface WsReply {
  type: "result";
  success: boolean;
  data?: unknown;
  error?: { exc_type: string; exc_path: string; exc_args: unknown[]; value: string };
  correlation_id: unknown;
}
