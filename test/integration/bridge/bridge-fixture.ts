// What one bridge RPC test starts: a fresh RabbitMQ vhost, a private NATS subject prefix (and so a
// private events stream), bridges on both, peers from the independent Nameko peer, and a logger
// that keeps every line so tests can wait for the log line a malformed input must produce.
import { execFile } from "node:child_process";
import { Writable } from "node:stream";
import { promisify } from "node:util";
import { jetstreamManager } from "@nats-io/jetstream";
import { Empty } from "@nats-io/transport-node";
import winston, { type Logger } from "winston";
import { eventsStreamName } from "../../../compat/naming";
import { createBridge, type Bridge, type BridgeOptions } from "../../../bridge/bridge";
import {
  bridgeConfigFromObject,
  defaultAtMostOnceBucket,
  defaultRoutesBucket,
  DEFAULT_ROUTED_PORT_PREFIX,
  type BridgeConfig,
  type DiscoveryConfig,
  type RoutedServiceConfig,
} from "../../../bridge/config";
import type { RuntimeConfig } from "../../../src/config/defaults";
import { NatsFixture, NATS_URL } from "../../helpers/brokers";
import { createVhost, type TestVhost } from "../../helpers/rabbit";
import { waitFor } from "../../helpers/waiters";
import {
  PeerCaller,
  startPeerService,
  type PeerCallerOptions,
  type PeerService,
  type PeerServiceOptions,
} from "../../interop/nameko-peer";

/** The test broker's management API (discovery of AMQP services). */
export const MANAGEMENT_URL = process.env.TEST_AMQP_MANAGEMENT_URL ?? "http://guest:guest@127.0.0.1:15672";

async function managementAnswers(): Promise<boolean> {
  const url = new URL("/api/overview", MANAGEMENT_URL);
  const auth = `Basic ${Buffer.from(`${url.username}:${url.password}`).toString("base64")}`;
  url.username = "";
  url.password = "";
  try {
    return (await fetch(url, { headers: { authorization: auth }, signal: AbortSignal.timeout(2_000) })).ok;
  } catch {
    return false;
  }
}

/**
 * Makes sure the RabbitMQ management API answers, enabling the plugin on the local broker if needed
 * (it ships with RabbitMQ; enabling it needs no restart).
 */
export async function ensureManagementApi(): Promise<void> {
  if (await managementAnswers()) return;
  await promisify(execFile)("rabbitmq-plugins", ["enable", "rabbitmq_management"], {
    env: { ...process.env, PATH: `${process.env.PATH}:/usr/sbin` },
  });
  await waitFor(managementAnswers, { what: "the RabbitMQ management API", timeoutMs: 30_000, intervalMs: 250 });
}

/** One log line kept by the fixture's logger. */
export type LogEntry = Record<string, unknown> & { level: string; message: string };

/** One answer of the NATS services protocol (`$SRV.INFO`, `PING`, `STATS`), the fields tests read. */
export interface SrvAnswer {
  name: string;
  id: string;
  version: string;
  metadata: Record<string, string>;
  endpoints?: Array<{
    name: string;
    subject: string;
    queue_group?: string;
    metadata?: Record<string, string> | null;
    num_requests?: number;
  }>;
}

/** What a test may change in the bridge config. */
export interface BridgeSpec {
  natsServices?: string[];
  amqpServices?: string[];
  discovery?: Partial<DiscoveryConfig>;
  prefetch?: number;
  rpcTimeoutMs?: number;
  /** Stands in for RabbitMQ's max_message_size (the shared broker's is 128 MiB). */
  amqpMaxMessageBytes?: number;
  name?: string;
  /** NATS server for the bridge (default: the shared test server). */
  natsUrl?: string;
  /** Ops HTTP port; default 0 (a free port). */
  httpPort?: number | null;
  /** Services cut over by weight (BRIDGE.ROUTING.services), each with its original's vhost URI. */
  routing?: Record<string, Partial<RoutedServiceConfig> & { originalAmqpUri: string }>;
}

export class BridgeFixture {
  readonly nats: NatsFixture;
  readonly logs: LogEntry[] = [];
  readonly log: Logger;
  private vhostRef?: TestVhost;
  private readonly extraVhosts: TestVhost[] = [];
  private readonly bridges: Bridge[] = [];
  private readonly peers: PeerService[] = [];
  private readonly callers: PeerCaller[] = [];

  /** `runtime`: what the services, clients and bridges of this test change in the runtime config (e.g. natsUrl). */
  constructor(runtime: Partial<RuntimeConfig> = {}) {
    this.nats = new NatsFixture(runtime);
    const stream = new Writable({
      write: (chunk: Buffer, _enc, done) => {
        for (const line of chunk.toString("utf8").split("\n"))
          if (line.trim()) this.logs.push(JSON.parse(line) as LogEntry);
        done();
      },
    });
    this.log = winston.createLogger({
      level: "debug",
      format: winston.format.json(),
      transports: [new winston.transports.Stream({ stream })],
    });
    if (process.env.LOG_LEVEL) this.log.add(new winston.transports.Console({ level: process.env.LOG_LEVEL }));
  }

  /** Creates the vhost; call in beforeAll/beforeEach. */
  async setup(): Promise<this> {
    this.vhostRef = await createVhost("cliff-bridge");
    return this;
  }

  get vhost(): TestVhost {
    if (!this.vhostRef) throw new Error("BridgeFixture.setup() was not called");
    return this.vhostRef;
  }

  get prefix(): string {
    return this.nats.prefix;
  }

  /** Another fresh vhost (e.g. a routed service's original), deleted at cleanup. */
  async otherVhost(prefix = "cliff-original"): Promise<TestVhost> {
    const vhost = await createVhost(prefix);
    this.extraVhosts.push(vhost);
    return vhost;
  }

  /** The private subject prefix a routed service's port serves under in this test. */
  get portPrefix(): string {
    return `${this.prefix}_${DEFAULT_ROUTED_PORT_PREFIX}`;
  }

  /** A bridge config for this test's vhost and prefix. */
  config(spec: BridgeSpec = {}): BridgeConfig {
    const config = bridgeConfigFromObject(
      {},
      {
        amqpUri: this.vhost.uri,
        natsUrl: NATS_URL,
        natsService: spec.natsServices,
        amqpService: spec.amqpServices,
        httpPort: spec.httpPort === null ? undefined : (spec.httpPort ?? 0),
      },
      {},
    );
    config.runtime = { ...this.nats.config, ...(spec.natsUrl ? { natsUrl: spec.natsUrl } : {}) };
    if (spec.httpPort === null) config.http.port = null;
    if (spec.prefetch !== undefined) config.prefetch = spec.prefetch;
    if (spec.rpcTimeoutMs !== undefined) config.rpcTimeoutMs = spec.rpcTimeoutMs;
    if (spec.amqpMaxMessageBytes !== undefined) config.amqpMaxMessageBytes = spec.amqpMaxMessageBytes;
    config.name = spec.name ?? "test";
    config.atMostOnce = { ...config.atMostOnce, bucket: defaultAtMostOnceBucket(this.prefix) };
    config.discovery = { ...config.discovery, managementUrl: MANAGEMENT_URL, ...spec.discovery };
    config.routing = { ...config.routing, bucket: defaultRoutesBucket(this.prefix) };
    for (const [name, routed] of Object.entries(spec.routing ?? {}))
      config.routing.services[name] = {
        portPrefix: this.portPrefix,
        methods: [],
        initialRoutes: undefined,
        eventHandlerQueues: [],
        ...routed,
      };
    return config;
  }

  /** A started bridge. */
  async bridge(spec: BridgeSpec = {}, options: Omit<BridgeOptions, "log"> = {}): Promise<Bridge> {
    const bridge = createBridge(this.config(spec), { log: this.log, ...options });
    this.bridges.push(bridge);
    await bridge.start();
    return bridge;
  }

  /** A bridge that is ready (connected, every route and event path established). */
  async readyBridge(spec: BridgeSpec = {}, options: Omit<BridgeOptions, "log"> = {}): Promise<Bridge> {
    const bridge = await this.bridge(spec, options);
    await waitFor(() => bridge.ready(), { what: "bridge ready", timeoutMs: 15_000 });
    return bridge;
  }

  /** A Nameko-protocol service from the independent peer, on this vhost (or the one `uri` names). */
  async peerService(opts: Omit<PeerServiceOptions, "uri"> & { uri?: string }): Promise<PeerService> {
    const svc = await startPeerService({ uri: this.vhost.uri, ...opts });
    this.peers.push(svc);
    return svc;
  }

  /** A Nameko standalone caller from the independent peer, on this vhost. */
  async peerCaller(opts: Omit<PeerCallerOptions, "uri"> = {}): Promise<PeerCaller> {
    const caller = await PeerCaller.start({ uri: this.vhost.uri, timeoutMs: 10_000, ...opts });
    this.callers.push(caller);
    return caller;
  }

  /**
   * The `$SRV.<verb>.<service>` answers of instances serving `service` under this test's prefix
   * (other tests' services of the same name answer too, under their own prefixes).
   */
  async srv(verb: "INFO" | "PING" | "STATS", service: string): Promise<SrvAnswer[]> {
    const nc = await this.nats.connection();
    const answers: SrvAnswer[] = [];
    try {
      const replies = await nc.requestMany(`$SRV.${verb}.${service}`, Empty, {
        strategy: "stall",
        stall: 300,
        maxWait: 2000,
      });
      for await (const m of replies) answers.push(m.json<SrvAnswer>());
    } catch (err) {
      // Nothing at all answers: no instance of that name, anywhere.
      if (!/no responders|503/i.test(String(err))) throw err;
    }
    if (verb !== "INFO") return answers;
    return answers.filter((a) => a.endpoints?.some((e) => e.subject.startsWith(`${this.prefix}.rpc.`)));
  }

  /** Resolves with the first log line whose message matches `pattern` (and whose fields match `where`). */
  waitForLog(pattern: RegExp, where: Record<string, unknown> = {}, timeoutMs = 10_000): Promise<LogEntry> {
    return waitFor(
      () => this.logs.find((e) => pattern.test(e.message) && Object.entries(where).every(([k, v]) => e[k] === v)),
      { what: `a log line matching ${pattern}`, timeoutMs },
    );
  }

  async cleanup(): Promise<void> {
    await Promise.allSettled(this.bridges.map((b) => b.stop()));
    await Promise.allSettled(this.callers.map((c) => c.close()));
    await Promise.allSettled(this.peers.map((p) => p.stop()));
    const nc = await this.nats.connection().catch(() => undefined);
    if (nc) {
      const jsm = await jetstreamManager(nc).catch(() => undefined);
      await jsm?.streams.delete(eventsStreamName(this.prefix)).catch(() => undefined);
      await jsm?.streams.delete(`KV_${defaultAtMostOnceBucket(this.prefix)}`).catch(() => undefined);
      await jsm?.streams.delete(`KV_${defaultRoutesBucket(this.prefix)}`).catch(() => undefined);
    }
    await this.nats.cleanup();
    await this.vhostRef?.delete();
    await Promise.allSettled(this.extraVhosts.map((v) => v.delete()));
  }
}
