// Brokers of a test's own, for tests that stop, kill or restart a broker: a nats-server or a
// RabbitMQ node on free ports with private data directories, so the shared servers on 4222 and 5672
// that every other test uses are never touched. Each start waits for the server's own "ready" log
// line with a deadline; each stop waits for the process to exit (SIGKILL after a deadline); a
// process-exit hook kills whatever a crashed test left running.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { deferred, withTimeout } from "./waiters";

/**
 * Ports that are somebody else's: the shared brokers (4222/8222, 5672/15672, 25672 RabbitMQ
 * distribution, 4369 epmd) and 35672-35682, the distribution ports `rabbitmqctl` takes for itself
 * on every call the other tests make.
 */
const RESERVED = new Set([
  4222,
  4369,
  5672,
  8222,
  9400,
  15672,
  25672,
  ...Array.from({ length: 11 }, (_, i) => 35672 + i),
]);
/** Picked below Linux's ephemeral range (32768+), so no outgoing connection can hold the port when a server restarts on it. */
const PORT_MIN = 20_000;
const PORT_MAX = 32_000;

function canListen(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once("error", () => resolve(false));
    srv.listen({ port, host, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/** A TCP port nothing listens on (checked on every interface), outside the reserved and ephemeral ranges. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = PORT_MIN + Math.floor(Math.random() * (PORT_MAX - PORT_MIN));
    if (RESERVED.has(port)) continue;
    if ((await canListen(port, "0.0.0.0")) && (await canListen(port, "127.0.0.1"))) return port;
  }
  throw new Error(`no free port between ${PORT_MIN} and ${PORT_MAX}`);
}

/** Process groups of servers still running, killed if the test process exits without stopping them. */
const live = new Set<number>();
process.once("exit", () => {
  for (const pgid of live) {
    try {
      process.kill(-pgid, "SIGKILL");
    } catch {
      // already gone
    }
  }
});

/** Sends `signal` to a whole process group (ignoring one that is already gone). */
function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // already gone
  }
}

/** One server process in its own process group (so its helpers die with it); remembers its output tail. */
class ServerProcess {
  readonly tail: string[] = [];
  private readonly exited: Promise<void>;
  private done = false;

  constructor(
    readonly child: ChildProcess,
    private readonly label: string,
  ) {
    live.add(child.pid!);
    const keep = (chunk: Buffer): void => {
      for (const line of chunk.toString("utf8").split("\n")) {
        if (line.trim() === "") continue;
        this.tail.push(line.length > 400 ? `${line.slice(0, 400)}…` : line);
        if (this.tail.length > 60) this.tail.shift();
      }
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    this.exited = new Promise((resolve) =>
      child.once("exit", () => {
        this.done = true;
        resolve();
      }),
    );
  }

  get running(): boolean {
    return !this.done;
  }

  /** Waits until a line of stdout or stderr matches; fails (and kills the server) on timeout or if it exits first. */
  async waitForLine(pattern: RegExp, timeoutMs: number): Promise<void> {
    const found = deferred<void>();
    const partial = new Map<Readable, string>();
    const onData = (stream: Readable) => (chunk: Buffer) => {
      const lines = ((partial.get(stream) ?? "") + chunk.toString("utf8")).split("\n");
      partial.set(stream, lines.pop() ?? "");
      if (lines.some((l) => pattern.test(l))) found.resolve();
    };
    const streams = [this.child.stdout, this.child.stderr].filter((s): s is Readable => s !== null);
    const listeners = streams.map((s) => [s, onData(s)] as const);
    for (const [s, l] of listeners) s.on("data", l);
    void this.exited.then(() =>
      found.reject(new Error(`${this.label} exited before logging ${pattern}:\n${this.tail.join("\n")}`)),
    );
    try {
      await withTimeout(found.promise, timeoutMs, `${this.label} to log ${pattern}`);
    } catch (err) {
      await this.kill();
      throw new Error(`${err instanceof Error ? err.message : String(err)}\n${this.tail.join("\n")}`);
    } finally {
      for (const [s, l] of listeners) s.off("data", l);
    }
  }

  /** Sends `signal` to the main process and waits for it to exit; the group is killed after `graceMs`. */
  async stop(signal: NodeJS.Signals, graceMs: number): Promise<void> {
    const pid = this.child.pid!;
    if (this.running) {
      this.child.kill(signal);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.exited, new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
      clearTimeout(timer);
    }
    // Whatever is left of the group (helpers, or the server itself past its grace) is killed.
    signalGroup(pid, "SIGKILL");
    await this.exited;
    live.delete(pid);
  }

  /** SIGKILL to the whole group, as a crash or `kill -9` would; waits for the main process to exit. */
  kill(): Promise<void> {
    return this.stop("SIGKILL", 0);
  }
}

/** A nats-server with JetStream on a free port and its own store directory, restartable on the same port. */
export class PrivateNatsServer {
  private proc?: ServerProcess;
  private readonly storeDir = mkdtempSync(join(tmpdir(), "cliff-nats-"));

  private constructor(readonly port: number) {}

  /** Starts a server; resolves once it accepts clients. */
  static async start(): Promise<PrivateNatsServer> {
    const server = new PrivateNatsServer(await freePort());
    try {
      await server.restart();
    } catch (err) {
      await server.destroy();
      throw err;
    }
    return server;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.proc?.running ?? false;
  }

  /** The last lines the server logged, for failure messages. */
  get tail(): string[] {
    return this.proc?.tail ?? [];
  }

  /** Starts (again) on the same port and store (JetStream state survives); resolves once it accepts clients. */
  async restart(timeoutMs = 20_000): Promise<void> {
    if (this.running) throw new Error("nats-server is already running");
    const child = spawn("nats-server", ["-js", "-a", "127.0.0.1", "-p", String(this.port), "-sd", this.storeDir], {
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    this.proc = new ServerProcess(child, `nats-server :${this.port}`);
    await this.proc.waitForLine(/Server is ready/, timeoutMs);
  }

  /** Graceful stop (SIGTERM; SIGKILL after 10 s); resolves once the process exited. */
  async stop(): Promise<void> {
    await this.proc?.stop("SIGTERM", 10_000);
  }

  /** `kill -9`; resolves once the process exited. */
  async kill(): Promise<void> {
    await this.proc?.kill();
  }

  /** Kills the server and deletes its store. */
  async destroy(): Promise<void> {
    await this.kill();
    rmSync(this.storeDir, { recursive: true, force: true });
  }
}

/** Where Debian installs the real start script (/usr/sbin/rabbitmq-server switches to the rabbitmq user). */
const RABBITMQ_SERVER =
  ["/usr/lib/rabbitmq/bin/rabbitmq-server", "/usr/lib/rabbitmq/sbin/rabbitmq-server"].find((p) => existsSync(p)) ??
  "rabbitmq-server";

/**
 * A RabbitMQ node of the test's own: node name `cliffracer-test-<random>@localhost`, AMQP and
 * distribution ports picked free, data (mnesia), logs, config, enabled-plugins file and Erlang
 * cookie in a temporary directory, no plugins (no management). The whole node is private, so its
 * default vhost `/` is the test's; `restart()` keeps the data directory, so durable queues and
 * persistent messages survive a stop or a kill, as on a real broker restart.
 *
 * The node is restarted as a whole process rather than with `rabbitmqctl stop_app`/`start_app`:
 * on this RabbitMQ 3.10 `start_app` fails to re-open the AMQP listener (eaddrinuse), and a
 * process restart needs no Erlang cookie shared with rabbitmqctl.
 */
export class PrivateRabbitMq {
  private proc?: ServerProcess;
  private readonly dir = mkdtempSync(join(tmpdir(), "cliff-rabbit-"));
  readonly nodeName = `cliffracer-test-${randomBytes(4).toString("hex")}@localhost`;

  private constructor(
    readonly port: number,
    readonly distPort: number,
  ) {
    mkdirSync(join(this.dir, "home"));
    writeFileSync(join(this.dir, "enabled_plugins"), "[].\n");
    writeFileSync(join(this.dir, "rabbitmq-env.conf"), "");
    // The machine's disk may be fuller than RabbitMQ's default 50 MB alarm margin allows for in CI.
    writeFileSync(join(this.dir, "rabbitmq.conf"), "disk_free_limit.absolute = 1MB\n");
  }

  /** Boots a node (up to 90 s on a busy machine); resolves once it accepts AMQP clients. */
  static async start(timeoutMs = 90_000): Promise<PrivateRabbitMq> {
    const ports = [await freePort(), await freePort()];
    if (ports[0] === ports[1]) ports[1] = await freePort();
    const node = new PrivateRabbitMq(ports[0], ports[1]);
    try {
      await node.restart(timeoutMs);
    } catch (err) {
      await node.destroy();
      throw err;
    }
    return node;
  }

  /** guest on the node's default vhost. */
  get uri(): string {
    return `amqp://guest:guest@127.0.0.1:${this.port}/`;
  }

  get running(): boolean {
    return this.proc?.running ?? false;
  }

  /** The last lines the node logged, for failure messages. */
  get tail(): string[] {
    return this.proc?.tail ?? [];
  }

  /** Starts the node (again) on the same ports and data; resolves once it logged that startup is complete. */
  async restart(timeoutMs = 90_000): Promise<void> {
    if (this.running) throw new Error("RabbitMQ node is already running");
    const d = this.dir;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      HOME: join(d, "home"), // the Erlang cookie goes here
      RABBITMQ_NODENAME: this.nodeName,
      RABBITMQ_NODE_IP_ADDRESS: "127.0.0.1",
      RABBITMQ_NODE_PORT: String(this.port),
      RABBITMQ_DIST_PORT: String(this.distPort),
      RABBITMQ_MNESIA_BASE: join(d, "mnesia"),
      RABBITMQ_LOG_BASE: join(d, "log"),
      RABBITMQ_LOGS: "-",
      RABBITMQ_CONFIG_FILE: join(d, "rabbitmq.conf"),
      RABBITMQ_ADVANCED_CONFIG_FILE: join(d, "advanced.config"),
      RABBITMQ_CONF_ENV_FILE: join(d, "rabbitmq-env.conf"),
      RABBITMQ_ENABLED_PLUGINS_FILE: join(d, "enabled_plugins"),
      RABBITMQ_PID_FILE: join(d, "rabbitmq.pid"),
      ERL_EPMD_ADDRESS: "127.0.0.1",
    };
    const child = spawn(RABBITMQ_SERVER, [], { cwd: d, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    this.proc = new ServerProcess(child, `RabbitMQ node ${this.nodeName}`);
    await this.proc.waitForLine(/Server startup complete/, timeoutMs);
  }

  /** Graceful shutdown (SIGTERM, as `systemctl stop` does; SIGKILL after 30 s); resolves once the node exited. */
  async stop(): Promise<void> {
    await this.proc?.stop("SIGTERM", 30_000);
  }

  /** `kill -9` of the node; resolves once it exited. */
  async kill(): Promise<void> {
    await this.proc?.kill();
  }

  /** Kills the node and deletes its data. */
  async destroy(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
