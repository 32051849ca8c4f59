// Shared set-up of the bridge event tests: a fresh RabbitMQ vhost, a private NATS subject prefix
// (so a private events stream), the event bridge under test on its own connections, the
// independent Nameko peer on the AMQP side and runtime containers on the NATS side. Everything
// is torn down by cleanup(); nothing sleeps for a fixed time.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { promisify } from "node:util";
import { jetstream, jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import { connect, type MsgHdrs, type NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "winston";
import { AmqpConnection } from "../../../amqp/connection";
import { eventSubject } from "../../../compat/naming";
import { createBridge, type Bridge } from "../../../bridge/bridge";
import { bridgeConfigFromObject, type DiscoveryConfig } from "../../../bridge/config";
import {
  createEventBridge,
  type EventBridge,
  type EventBridgeDeps,
  type EventBridgeMetrics,
  type EventDirection,
  type EventDropReason,
} from "../../../bridge/events";
import { EventPublisher } from "../../../src/client/event-publisher";
import type { RuntimeConfig } from "../../../src/config/defaults";
import type { ServiceClass } from "../../../src/core/metadata";
import type { ServiceContainer } from "../../../src/core/service-container";
import { createLogger } from "../../../src/logging";
import { captureLogger, EventsFixture, type LogEntry } from "../../helpers/jetstream";
import { createVhost, listQueues, type BrokerQueue, type TestVhost } from "../../helpers/rabbit";
import { waitFor, waitForLine } from "../../helpers/waiters";
import { PeerDispatcher, startPeerHandler, type PeerHandler, type PeerHandlerOptions } from "../../interop/nameko-peer";

/** Resolves once `check` returns a truthy value (re-checked every 10 ms), failing after `timeoutMs`. */
export function until<T>(check: () => T | Promise<T>, what: string, timeoutMs = 15_000): Promise<NonNullable<T>> {
  return waitFor(check, { what, timeoutMs });
}

/** Counts of what the bridge reported through its metrics hooks. */
export class MetricsRecorder implements EventBridgeMetrics {
  readonly counts = new Map<string, number>();

  forwarded(direction: EventDirection, service: string): void {
    this.bump(`forwarded:${direction}:${service}`);
  }
  dropped(direction: EventDirection, service: string, reason: EventDropReason): void {
    this.bump(`dropped:${direction}:${service}:${reason}`);
  }
  retried(direction: EventDirection, service: string): void {
    this.bump(`retried:${direction}:${service}`);
  }
  redelivered(direction: EventDirection, service: string): void {
    this.bump(`redelivered:${direction}:${service}`);
  }
  get(key: string): number {
    return this.counts.get(key) ?? 0;
  }
  private bump(key: string): void {
    this.counts.set(key, this.get(key) + 1);
  }
}

/** The directory the bridge reads: mutable lists, as discovery would change them. */
export interface TestDirectory {
  nats: string[];
  amqp: string[];
}

/** One bridge under test with its own connections. */
export interface BridgeUnderTest {
  bridge: EventBridge;
  amqp: AmqpConnection;
  nats: NatsConnection;
  metrics: MetricsRecorder;
  logs: LogEntry[];
  stop(): Promise<void>;
}

/** Settings of an event bridge run in a child process (passed through the environment). */
interface ChildBridgeEnv {
  amqpUri: string;
  natsUrl: string;
  prefix: string;
  events: RuntimeConfig["events"];
  directory: TestDirectory;
}

/** An event bridge in its own process, so a test can `kill -9` it. */
export class ChildBridge {
  private constructor(private readonly child: ChildProcess) {}

  /** Starts one; resolves once it printed that it is ready. */
  static async start(settings: ChildBridgeEnv): Promise<ChildBridge> {
    const child = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", __filename], {
      env: {
        ...process.env,
        CLIFF_CHILD_BRIDGE: JSON.stringify(settings),
        LOG_LEVEL: process.env.LOG_LEVEL ?? "error",
      },
      stdio: ["ignore", "pipe", "inherit"],
    });
    const bridge = new ChildBridge(child);
    await waitForLine(child.stdout!, /^event bridge ready$/, 30_000);
    return bridge;
  }

  /** SIGKILL: no stop, no acks, connections simply drop, as in a crash. */
  async kill(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
    this.child.kill("SIGKILL");
    await exited;
  }
}

/** The child side of ChildBridge: run an event bridge until killed. */
async function runChildBridge(settings: ChildBridgeEnv): Promise<void> {
  const log = createLogger({ stderr: true });
  const amqp = new AmqpConnection({ uri: settings.amqpUri, connectionName: "cliffracer-bridge-child", logger: log });
  await amqp.start();
  const nats = await connect({ servers: settings.natsUrl, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
  const bridge = createEventBridge({
    amqp,
    nats,
    prefix: settings.prefix,
    events: settings.events,
    natsServices: () => settings.directory.nats,
    amqpServices: () => settings.directory.amqp,
    logger: log,
    bridgeId: `child-${process.pid}`,
  });
  await bridge.start();
  process.stdout.write("event bridge ready\n");
}

if (require.main === module) {
  runChildBridge(JSON.parse(process.env.CLIFF_CHILD_BRIDGE ?? "{}") as ChildBridgeEnv).catch((err: unknown) => {
    process.stderr.write(`child bridge failed: ${String(err)}\n`);
    process.exit(1);
  });
}

/** Everything one bridge event test uses; cleanup() tears it all down. */
export class BridgeEventsFixture {
  readonly nats: EventsFixture;
  readonly directory: TestDirectory = { nats: [], amqp: [] };
  vhost!: TestVhost;
  private readonly cleanups: Array<() => Promise<unknown>> = [];
  private publisherPromise?: Promise<EventPublisher>;
  private peerDispatcher?: Promise<PeerDispatcher>;

  /** `natsUrl` points the bridge and the runtime at another server (a PrivateNatsServer). */
  constructor(readonly options: { natsUrl?: string; config?: Partial<RuntimeConfig> } = {}) {
    this.nats = new EventsFixture({ ...options.config, ...(options.natsUrl ? { natsUrl: options.natsUrl } : {}) });
  }

  get prefix(): string {
    return this.nats.prefix;
  }

  get natsUrl(): string {
    return this.nats.config.natsUrl;
  }

  async setup(): Promise<this> {
    this.vhost = await createVhost("cliff-bridge-evt");
    return this;
  }

  /** A connection to the fixture's NATS server, closed at cleanup. */
  async natsConnection(): Promise<NatsConnection> {
    const nc = await connect({ servers: this.natsUrl, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
    this.cleanups.push(() => (nc.isClosed() ? Promise.resolve() : nc.close()));
    return nc;
  }

  async jsm(): Promise<JetStreamManager> {
    return jetstreamManager(await this.natsConnection());
  }

  /** Starts an event bridge with its own AMQP and NATS connections, reading `this.directory`. */
  async startBridge(
    overrides: Partial<EventBridgeDeps> = {},
    options: { start?: boolean } = {},
  ): Promise<BridgeUnderTest> {
    const { log, entries } = captureLogger();
    const amqp = new AmqpConnection({
      uri: this.vhost.uri,
      connectionName: "cliffracer-bridge-test",
      logger: log,
      reconnect: { maxDelayMs: 500 },
    });
    await amqp.start();
    const nats = await connect({
      servers: this.natsUrl,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 100,
      name: "bridge-test",
    });
    const metrics = new MetricsRecorder();
    const bridge = createEventBridge({
      amqp,
      nats,
      prefix: this.prefix,
      events: this.nats.config.events,
      natsServices: () => this.directory.nats,
      amqpServices: () => this.directory.amqp,
      logger: log,
      metrics,
      bridgeId: `test-${Math.random().toString(16).slice(2, 8)}`,
      options: { retryInitialMs: 20, retryMaxMs: 200 },
      ...overrides,
    });
    let stopped = false;
    const stop = async (): Promise<void> => {
      if (stopped) return;
      stopped = true;
      await bridge.stop();
      await amqp.close();
      if (!nats.isClosed()) await nats.close();
    };
    this.cleanups.push(stop);
    if (options.start ?? true) await bridge.start();
    return { bridge, amqp, nats, metrics, logs: entries, stop };
  }

  /** An event bridge in a child process on this test's brokers, reading a copy of `this.directory`; killed at cleanup. */
  async startChildBridge(): Promise<ChildBridge> {
    const child = await ChildBridge.start({
      amqpUri: this.vhost.uri,
      natsUrl: this.natsUrl,
      prefix: this.prefix,
      events: this.nats.config.events,
      directory: this.directory,
    });
    this.cleanups.push(() => child.kill());
    return child;
  }

  /**
   * Starts a whole bridge (createBridge) on this test's vhost, NATS server and prefix, with the
   * services named as by `--nats-service` / `--amqp-service`; ops server on a free port.
   */
  async startFullBridge(
    spec: { natsServices?: string[]; amqpServices?: string[]; discovery?: Partial<DiscoveryConfig> } = {},
  ): Promise<{ bridge: Bridge; logs: LogEntry[] }> {
    const { log, entries } = captureLogger();
    const config = bridgeConfigFromObject(
      {},
      {
        amqpUri: this.vhost.uri,
        natsUrl: this.natsUrl,
        natsService: spec.natsServices,
        amqpService: spec.amqpServices,
        httpPort: 0,
      },
      {},
    );
    config.runtime = { ...this.nats.config };
    config.name = "events-test";
    config.discovery = { ...config.discovery, ...spec.discovery };
    const bridge = createBridge(config, { log });
    this.cleanups.push(() => bridge.stop());
    await bridge.start();
    return { bridge, logs: entries };
  }

  /** Starts a runtime container on this test's prefix and NATS server. */
  async startService(
    cls: ServiceClass,
    options: { log?: Logger; config?: Partial<RuntimeConfig> } = {},
  ): Promise<ServiceContainer> {
    return this.nats.start(cls, options);
  }

  /** Publishes an event on NATS as a NATS-side service would (JetStream, PubAck awaited). */
  async publishNats(source: string, eventType: string, payload: unknown, headers?: MsgHdrs): Promise<void> {
    this.publisherPromise ??= this.natsConnection().then((nc) => new EventPublisher(nc, this.prefix));
    await (await this.publisherPromise).publish(source, eventType, payload, headers);
  }

  /** Publishes raw bytes on any event subject (bad-input tests). */
  async publishNatsRaw(subjectTail: string, body: string | Uint8Array, headers?: MsgHdrs): Promise<void> {
    const js = jetstream(await this.natsConnection());
    await js.publish(`${this.prefix}.events.${subjectTail}`, body, headers ? { headers } : undefined);
  }

  /** The subject of an event on this test's prefix. */
  subject(source: string, eventType: string): string {
    return eventSubject(source, eventType, this.prefix);
  }

  /** The Nameko peer's dispatcher on this test's vhost. */
  async peer(): Promise<PeerDispatcher> {
    if (!this.peerDispatcher) {
      this.peerDispatcher = PeerDispatcher.start(this.vhost.uri);
      this.cleanups.push(async () => (await this.peerDispatcher!).close());
    }
    return this.peerDispatcher;
  }

  /** A Nameko-peer `@event_handler` on this test's vhost; stopped at cleanup. */
  async peerHandler(opts: Omit<PeerHandlerOptions, "uri">): Promise<PeerHandler> {
    const h = await startPeerHandler({ uri: this.vhost.uri, ...opts });
    this.cleanups.push(() => h.stop());
    return h;
  }

  /** Sets guest's configure/write/read permissions on this test's vhost (to make publishes fail). */
  async setPermissions(configure: string, write: string, read: string): Promise<void> {
    await promisify(execFile)(
      "rabbitmqctl",
      ["set_permissions", "-p", this.vhost.name, "guest", configure, write, read],
      {
        env: { ...process.env, PATH: `${process.env.PATH}:/usr/sbin` },
      },
    );
  }

  /** A queue of this test's vhost as the broker reports it (undefined if missing). */
  async queue(name: string): Promise<BrokerQueue | undefined> {
    return (await listQueues(this.vhost.name)).find((q) => q.name === name);
  }

  async cleanup(): Promise<void> {
    for (const c of this.cleanups.splice(0).reverse()) await c().catch(() => undefined);
    await this.nats.cleanup();
    await this.vhost?.delete();
  }
}
