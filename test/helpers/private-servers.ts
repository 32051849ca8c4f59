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
import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { deferred, waitFor, withTimeout } from "./waiters";

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

/** How one nats-server of a private cluster is started (PrivateNatsCluster). */
interface ClusterMember {
  /** server_name, unique in the cluster: JetStream names replicas and leaders by it. */
  name: string;
  clusterName: string;
  /** Port of the route listener. */
  clusterPort: number;
  /** Route listeners of the other members. */
  routes: number[];
  /** HTTP monitoring port (/jsz, /varz). */
  monitorPort: number;
}

/** Settings of a private nats-server that differ from nats-server's defaults. */
export interface PrivateNatsOptions {
  /** `max_payload` in bytes (nats-server allows up to `max_pending`, 64 MiB by default). */
  maxPayload?: number;
  /** Require TLS with this server certificate; `ca` and `verify` make it require client certificates too. */
  tls?: PrivateServerTls;
  /** Accept only clients signing with one of these user nkeys (public keys, `U...`). */
  nkeyUsers?: string[];
}

/** TLS of a private server: PEM file paths (see test/helpers/certificates.ts). */
export interface PrivateServerTls {
  cert: string;
  key: string;
  /** CA that client certificates must chain to (needed with `verify`). */
  ca?: string;
  /** Require a client certificate signed by `ca`. */
  verify?: boolean;
}

/** A nats-server with JetStream on a free port and its own store directory, restartable on the same port. */
export class PrivateNatsServer {
  private proc?: ServerProcess;
  private readonly storeDir = mkdtempSync(join(tmpdir(), "cliff-nats-"));

  private constructor(
    readonly port: number,
    private readonly member?: ClusterMember,
    private readonly options: PrivateNatsOptions = {},
  ) {}

  /** Starts a server; resolves once it accepts clients. */
  static async start(options: PrivateNatsOptions = {}): Promise<PrivateNatsServer> {
    const server = new PrivateNatsServer(await freePort(), undefined, options);
    try {
      await server.restart();
    } catch (err) {
      await server.destroy();
      throw err;
    }
    return server;
  }

  /** A member of a PrivateNatsCluster, not started yet. */
  static clusterMember(port: number, member: ClusterMember): PrivateNatsServer {
    return new PrivateNatsServer(port, member);
  }

  get url(): string {
    return `${this.options.tls ? "tls" : "nats"}://127.0.0.1:${this.port}`;
  }

  /** The server_name of a cluster member (JetStream's name for it in leader and replica lists). */
  get name(): string {
    return this.member?.name ?? `nats-server :${this.port}`;
  }

  /** The HTTP monitoring endpoint of a cluster member. */
  get monitorUrl(): string {
    if (!this.member) throw new Error("only cluster members have a monitoring port");
    return `http://127.0.0.1:${this.member.monitorPort}`;
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
    const args = ["-js", "-a", "127.0.0.1", "-p", String(this.port), "-sd", this.storeDir];
    const m = this.member;
    if (m) {
      args.push(
        "--server_name",
        m.name,
        "--cluster_name",
        m.clusterName,
        "--cluster",
        `nats://127.0.0.1:${m.clusterPort}`,
        "--routes",
        m.routes.map((p) => `nats://127.0.0.1:${p}`).join(","),
        "-m",
        String(m.monitorPort),
      );
    }
    // max_payload, client verification and nkey users have no command-line flag; a config file sets them, the flags set the rest.
    const conf: string[] = [];
    if (this.options.maxPayload !== undefined) conf.push(`max_payload: ${this.options.maxPayload}`);
    const tls = this.options.tls;
    if (tls) {
      const q = (v: string): string => JSON.stringify(v);
      conf.push(
        "tls {",
        `  cert_file: ${q(tls.cert)}`,
        `  key_file: ${q(tls.key)}`,
        ...(tls.ca ? [`  ca_file: ${q(tls.ca)}`] : []),
        `  verify: ${tls.verify === true}`,
        "}",
      );
    }
    if (this.options.nkeyUsers)
      conf.push(`authorization { users = [ ${this.options.nkeyUsers.map((k) => `{ nkey: ${k} }`).join(", ")} ] }`);
    if (conf.length > 0) {
      const file = join(this.storeDir, "nats.conf");
      writeFileSync(file, `${conf.join("\n")}\n`);
      args.push("-c", file);
    }
    const child = spawn("nats-server", args, { stdio: ["ignore", "pipe", "pipe"], detached: true });
    this.proc = new ServerProcess(child, `nats-server ${this.name}`);
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

/** The part of a server's /jsz answer the cluster helper reads. */
interface JszMeta {
  meta_cluster?: { name?: string; leader?: string; cluster_size?: number };
}

/**
 * Three nats-servers of the test's own forming one cluster on 127.0.0.1: each with its own client,
 * route and monitoring ports (picked free) and its own JetStream store, routes to the other two,
 * so streams can have `replicas: 3`. A member can be killed (`kill -9`) and started again on the
 * same ports and store; destroy() kills all and deletes the stores (the process-exit hook above
 * kills what a failed test left running).
 */
export class PrivateNatsCluster {
  private constructor(readonly nodes: readonly PrivateNatsServer[]) {}

  /** Starts three members; resolves once every one of them sees the same JetStream meta leader. */
  static async start(size = 3, timeoutMs = 30_000): Promise<PrivateNatsCluster> {
    const ports = new Set<number>();
    while (ports.size < size * 3) ports.add(await freePort());
    const [client, route, monitor] = [0, 1, 2].map((k) => [...ports].slice(k * size, (k + 1) * size));
    const clusterName = `cliff-${randomBytes(3).toString("hex")}`;
    const nodes = client.map((port, i) =>
      PrivateNatsServer.clusterMember(port, {
        name: `n${i + 1}`,
        clusterName,
        clusterPort: route[i],
        routes: route.filter((_, j) => j !== i),
        monitorPort: monitor[i],
      }),
    );
    const cluster = new PrivateNatsCluster(nodes);
    try {
      await Promise.all(nodes.map((n) => n.restart(timeoutMs)));
      await cluster.waitMetaLeader(timeoutMs);
    } catch (err) {
      await cluster.destroy();
      throw err;
    }
    return cluster;
  }

  /** Every member's client URL, comma-separated: what `natsUrl` takes to connect to the cluster. */
  get natsUrl(): string {
    return this.nodes.map((n) => n.url).join(",");
  }

  /** The member named `name` (server_name, as JetStream reports leaders), or the one on `host:port` (nc.getServer()). */
  node(nameOrAddress: string): PrivateNatsServer {
    const found = this.nodes.find((n) => n.name === nameOrAddress || n.url.endsWith(`//${nameOrAddress}`));
    if (!found) throw new Error(`no cluster member ${nameOrAddress}`);
    return found;
  }

  /** The meta leader as every running member sees it, once they all agree on one. */
  async metaLeader(): Promise<string | undefined> {
    const running = this.nodes.filter((n) => n.running);
    const leaders = await Promise.all(running.map(async (n) => (await jsz(n))?.meta_cluster?.leader));
    const first = leaders[0];
    return first && leaders.every((l) => l === first) ? first : undefined;
  }

  /** Resolves once every running member reports the same JetStream meta leader; returns its name. */
  async waitMetaLeader(timeoutMs = 30_000): Promise<string> {
    return waitFor(() => this.metaLeader(), {
      what: `a JetStream meta leader agreed by the running members of ${this.natsUrl}`,
      timeoutMs,
      intervalMs: 100,
    });
  }

  /** The running member a client connection named `name` is connected to (from each member's /connz). */
  async nodeOfConnection(name: string): Promise<PrivateNatsServer | undefined> {
    for (const node of this.nodes.filter((n) => n.running)) {
      const connz = await monitor<{ connections?: Array<{ name?: string }> }>(node, "connz?limit=1024");
      if (connz?.connections?.some((c) => c.name === name)) return node;
    }
    return undefined;
  }

  /**
   * Makes `node` the leader of a stream (or of one of its consumers) by asking the current leader
   * to step down until `node` is elected; `nc` is any client of the cluster.
   */
  async makeLeader(nc: NatsConnection, node: PrivateNatsServer, stream: string, consumer?: string): Promise<void> {
    const jsm = await jetstreamManager(nc);
    const what = consumer === undefined ? `stream ${stream}` : `consumer ${stream} > ${consumer}`;
    const stepdown =
      consumer === undefined
        ? `$JS.API.STREAM.LEADER.STEPDOWN.${stream}`
        : `$JS.API.CONSUMER.LEADER.STEPDOWN.${stream}.${consumer}`;
    const leader = async (): Promise<string | undefined> =>
      (consumer === undefined ? await jsm.streams.info(stream) : await jsm.consumers.info(stream, consumer)).cluster
        ?.leader;
    await waitFor(
      async () => {
        const now = await leader().catch(() => undefined);
        if (now === node.name) return true;
        // Each stepdown elects one of the other replicas; repeated until it is `node`.
        if (now !== undefined) await nc.request(stepdown, "", { timeout: 5_000 }).catch(() => undefined);
        return false;
      },
      { what: `${node.name} to lead ${what}`, timeoutMs: 30_000, intervalMs: 200 },
    );
  }

  /** Starts a killed or stopped member again (same ports and store); resolves once it sees the meta leader. */
  async restart(node: PrivateNatsServer, timeoutMs = 30_000): Promise<void> {
    await node.restart(timeoutMs);
    await waitFor(async () => (await jsz(node))?.meta_cluster?.leader, {
      what: `${node.name} to see the JetStream meta leader again`,
      timeoutMs,
      intervalMs: 100,
    });
  }

  /** Kills every member and deletes their stores. */
  async destroy(): Promise<void> {
    await Promise.allSettled(this.nodes.map((n) => n.destroy()));
  }
}

/** A member's monitoring endpoint `path` (jsz, connz...), or undefined while it does not answer (starting, killed). */
async function monitor<T>(node: PrivateNatsServer, path: string): Promise<T | undefined> {
  try {
    const res = await fetch(`${node.monitorUrl}/${path}`, { signal: AbortSignal.timeout(2_000) });
    return res.ok ? ((await res.json()) as T) : undefined;
  } catch {
    return undefined;
  }
}

/** A member's /jsz. */
function jsz(node: PrivateNatsServer): Promise<JszMeta | undefined> {
  return monitor<JszMeta>(node, "jsz");
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
    /** The AMQPS listener's port, when started with `tls`. */
    readonly tlsPort?: number,
    tls?: PrivateServerTls,
  ) {
    mkdirSync(join(this.dir, "home"));
    writeFileSync(join(this.dir, "enabled_plugins"), "[].\n");
    writeFileSync(join(this.dir, "rabbitmq-env.conf"), "");
    // The machine's disk may be fuller than RabbitMQ's default 50 MB alarm margin allows for in CI.
    const conf = ["disk_free_limit.absolute = 1MB"];
    if (tls && tlsPort !== undefined) {
      conf.push(
        `listeners.ssl.default = 127.0.0.1:${tlsPort}`,
        `ssl_options.certfile = ${tls.cert}`,
        `ssl_options.keyfile = ${tls.key}`,
        ...(tls.ca ? [`ssl_options.cacertfile = ${tls.ca}`] : []),
        `ssl_options.verify = ${tls.verify ? "verify_peer" : "verify_none"}`,
        `ssl_options.fail_if_no_peer_cert = ${tls.verify === true}`,
      );
    }
    writeFileSync(join(this.dir, "rabbitmq.conf"), `${conf.join("\n")}\n`);
  }

  /**
   * Boots a node (up to 90 s on a busy machine); resolves once it accepts AMQP clients. With
   * `tls`, it also listens for AMQPS on `tlsPort`.
   */
  static async start(timeoutMs = 90_000, options: { tls?: PrivateServerTls } = {}): Promise<PrivateRabbitMq> {
    const ports = new Set<number>();
    while (ports.size < (options.tls ? 3 : 2)) ports.add(await freePort());
    const [port, distPort, tlsPort] = [...ports];
    const node = new PrivateRabbitMq(port, distPort, tlsPort, options.tls);
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

  /** guest on the node's default vhost, over TLS (started with `tls` only). */
  get tlsUri(): string {
    if (this.tlsPort === undefined) throw new Error("the node was started without tls");
    return `amqps://guest:guest@127.0.0.1:${this.tlsPort}/`;
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
