// A TCP proxy in front of a shared server, so a test can take "the database" away from one service
// without touching the server every other test uses: cut() makes it unreachable (connections
// dropped, new ones refused), silence() makes it accept connections and never answer, restore()
// brings it back on the same port.
import { createServer, connect, type Server, type Socket } from "node:net";

export class TcpProxy {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  private silent = false;
  port = 0;

  private constructor(private readonly targetPort: number) {}

  /** A proxy on a free port of 127.0.0.1 forwarding to `targetPort`. */
  static async start(targetPort: number): Promise<TcpProxy> {
    const proxy = new TcpProxy(targetPort);
    await proxy.listen(0);
    return proxy;
  }

  /** A URI of the same scheme and path as `uri`, through this proxy. */
  via(uri: string): string {
    const url = new URL(uri);
    url.port = String(this.port);
    return url.toString();
  }

  /** The server goes away: every connection is dropped and new ones are refused. */
  async cut(): Promise<void> {
    await this.shut();
  }

  /** The server hangs: connections are accepted and never answered. */
  async silence(): Promise<void> {
    await this.shut();
    this.silent = true;
    await this.listen(this.port);
  }

  /** The server is back, on the same port. */
  async restore(): Promise<void> {
    await this.shut();
    this.silent = false;
    await this.listen(this.port);
  }

  async close(): Promise<void> {
    await this.shut();
  }

  private listen(port: number): Promise<void> {
    const server = createServer((client) => {
      this.track(client);
      if (this.silent) return;
      const upstream = this.track(connect(this.targetPort, "127.0.0.1"));
      client.pipe(upstream).pipe(client);
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => {
        this.port = (server.address() as { port: number }).port;
        resolve();
      });
    });
  }

  private track(socket: Socket): Socket {
    this.sockets.add(socket);
    socket.on("error", () => socket.destroy());
    socket.on("close", () => this.sockets.delete(socket));
    return socket;
  }

  private async shut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
