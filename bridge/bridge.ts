/**
 * The bridge process (docs/bridge-contract.md): one AMQP consumer connection, one AMQP publisher
 * connection (so broker flow control on publishes never stalls acks) and one NATS connection; the
 * service directory (flags, config, discovery) decides the RPC routes and the event paths; the ops
 * server reports health, readiness and metrics.
 *
 * Reading a call: a Nameko caller -> amqp/rpc-inbound -> translate -> nats/rpc-outbound -> runtime;
 * a NATS caller -> nats/rpc-inbound -> translate -> amqp/rpc-outbound -> Nameko. Events: events.ts.
 * A service cut over by weight (BRIDGE.ROUTING): both intakes -> routing/router -> the port (NATS,
 * its private prefix) or the original (AMQP, its own vhost); see routed.ts.
 *
 * While NATS is away the bridge stops consuming its Nameko queues (requests wait in RabbitMQ, or go
 * to another bridge); while RabbitMQ is away NATS callers get BridgeUnavailable at once. Either way
 * /ready answers 503 until both sides are back.
 *
 * No call crosses twice: a service with NATS instances is never served on NATS by the bridge (see
 * routing/service-directory.ts), and the bridge's own NATS requests carry reply subjects under
 * `inboxPrefix`, which a bridge receiving one refuses to carry back to RabbitMQ. The mark is the
 * reply subject, not a header, because Nameko and the runtime turn every header into context data
 * and pass it on to every onward call (docs/nameko-wire.md, Context data); a reply subject goes nowhere.
 */
import type { NatsConnection, Status } from "@nats-io/transport-node";
import { AmqpConnection, ManagementApi, vhostOf } from "../amqp";
import {
  batchNatsWrites,
  createRegistry,
  dialNats,
  drainNats,
  FlowMetrics,
  largeBodiesOf,
  logNatsStatus,
  natsOptions,
  rootLogger,
  RpcClient,
  startOpsServer,
  UpGauge,
  type OpsServer,
  type ProbeResult,
  type Registry,
} from "../src/internal";
import { AmqpRpcInbound } from "./amqp/rpc-inbound";
import { AmqpRpcOutbound } from "./amqp/rpc-outbound";
import { BRIDGE_CONNECTION_NAME_PREFIX, type BridgeConfig } from "./config";
import { CallRecords } from "./nats/call-records";
import { createEventBridge, type EventBridge, type EventBridgeMetrics, type EventBridgeStatus } from "./events";
import { NatsRpcInbound } from "./nats/rpc-inbound";
import { NatsRpcOutbound } from "./nats/rpc-outbound";
import type { Onward } from "./onward";
import { RoutedService } from "./routed";
import { Discovery } from "./routing/discovery";
import { declareOnCallers, findHandlerQueues } from "./routing/event-relay";
import { RouteControl, ServiceNotRouted } from "./routing/route-control";
import { RouteMetrics } from "./routing/route-metrics";
import type { RouteSource } from "./routing/router";
import type { ServiceRoutes } from "./routing/route-table";
import { ServiceDirectory, type Routes } from "./routing/service-directory";
import { describeError, type Logger, maskUrlCredentials } from "../compat";
import type { Shadow, ShadowReport } from "../sidebyside/shadow";

/** Options of {@link createBridge}. */
export interface BridgeOptions {
  /** Parent logger; the bridge logs on a child with `{ component: "bridge", bridge: <name> }`. */
  log?: Logger;
}

/** What the bridge is doing, for /ready and tests. */
export interface BridgeStatus {
  amqpConnected: boolean;
  natsConnected: boolean;
  /** Services whose Nameko queue the bridge consumes (AMQP callers -> NATS). */
  rpcToNats: string[];
  /** Services whose NATS subjects the bridge serves (NATS callers -> AMQP). */
  rpcToAmqp: string[];
  /** Routes that could not be set up yet (retried). */
  failing: string[];
  /** Services cut over by weight (BRIDGE.ROUTING), served on both intakes through a Router. */
  routed: string[];
  /** The event paths (undefined before start). */
  events: EventBridgeStatus | undefined;
}

/** A bridge between RabbitMQ (Nameko) and NATS (Cliffracer), created by {@link createBridge}. */
export interface Bridge {
  readonly config: BridgeConfig;
  readonly directory: ServiceDirectory;
  /** Prometheus registry behind /metrics. */
  readonly registry: Registry;
  /** The ops server's base URL once started; undefined when it is disabled. */
  readonly opsUrl: string | undefined;
  /** Connects both sides (waiting for brokers that are down), sets up routes and the ops server. */
  start(): Promise<void>;
  /** Graceful stop: intake stops, requests in flight are answered and acked, connections close. */
  stop(): Promise<void>;
  /** Abrupt stop, as a crash would: nothing in flight is answered; RabbitMQ requeues what was unacked. */
  kill(): Promise<void>;
  /** True while both sides are connected and every route and event path is established. */
  ready(): boolean;
  status(): BridgeStatus;
  /** Runs a discovery round now (no-op when discovery is off). */
  discover(): Promise<void>;
  /** What shadow traffic found so far (`/shadow`); undefined when no service is shadowed. */
  shadowReport(): ShadowReport | undefined;
  /**
   * The route table in force for a service of `BRIDGE.ROUTING` (docs/routing.md, The route table),
   * from memory. Throws ServiceNotRouted for another service, RoutesUnavailable before start.
   */
  routes(service: string): ServiceRoutes;
  /**
   * Checks a table in its JSON form (`{"*": 0, "get_user": 100}`) against the service's methods,
   * writes it to the shared bucket and resolves with the table in force on this bridge. Rejects
   * with InvalidRouteTable (the previous table stays in force) or ServiceNotRouted.
   */
  setRoutes(service: string, json: unknown): Promise<ServiceRoutes>;
  /**
   * Puts back the table before the current one, or with `toRevision` that earlier revision's table
   * in one step; rejects with NoRouteHistory when there is none.
   */
  rollbackRoutes(service: string, toRevision?: number): Promise<ServiceRoutes>;
}

const RETRY_INITIAL_MS = 250;
const RETRY_MAX_MS = 10_000;

/** Creates a bridge from its configuration; nothing connects before start(). */
export function createBridge(config: BridgeConfig, options: BridgeOptions = {}): Bridge {
  return new BridgeImpl(config, options);
}

class BridgeImpl implements Bridge {
  readonly directory: ServiceDirectory;
  readonly registry: Registry;
  private readonly log: Logger;
  private readonly rpcMetrics: FlowMetrics;
  private readonly eventMetrics: FlowMetrics;
  private readonly up: UpGauge;
  private readonly connectionName: string;
  private consumerConn?: AmqpConnection;
  private publisherConn?: AmqpConnection;
  private nc?: NatsConnection;
  private natsOut?: NatsRpcOutbound;
  private records?: CallRecords;
  private amqpOut?: AmqpRpcOutbound;
  private events?: EventBridge;
  private discovery?: Discovery;
  private ops?: OpsServer;
  private shadow?: Shadow;
  /** Weighted routing's tables; undefined when BRIDGE.ROUTING names no service. */
  private readonly routeControl?: RouteControl;
  private readonly toNats = new Map<string, AmqpRpcInbound>();
  private readonly toAmqp = new Map<string, NatsRpcInbound>();
  private readonly routed = new Map<string, RoutedService>();
  private readonly routeSource: RouteSource;
  private readonly routeMetrics: RouteMetrics;
  private readonly failing = new Set<string>();
  /** Routes removed while running, finishing the requests they hold. */
  private readonly retiring = new Set<Promise<void>>();
  private natsUp = false;
  private amqpUp = { consumer: false, publisher: false };
  private state: "new" | "starting" | "running" | "stopping" | "stopped" = "new";
  private chain: Promise<void> = Promise.resolve();
  /** Aborted by stop/kill, so a start still waiting for nats-server gives up. */
  private readonly starting = new AbortController();
  private retryTimer?: NodeJS.Timeout;
  private retryDelayMs = RETRY_INITIAL_MS;
  /** Looks for routed services' handler queues again every discovery interval (management API on). */
  private handlerQueueTimer?: NodeJS.Timeout;
  private handlerQueueLook: Promise<void> = Promise.resolve();

  constructor(
    readonly config: BridgeConfig,
    options: BridgeOptions,
  ) {
    this.log = (options.log ?? rootLogger).child({ component: "bridge", bridge: config.name });
    this.directory = new ServiceDirectory(
      config.natsServices,
      config.amqpServices,
      Object.keys(config.routing.services),
    );
    this.registry = createRegistry({ defaultLabels: { bridge: config.name } });
    this.rpcMetrics = new FlowMetrics(this.registry, "cliffracer_bridge_rpc", "RPC calls");
    this.eventMetrics = new FlowMetrics(this.registry, "cliffracer_bridge_events", "events");
    this.up = new UpGauge(this.registry, "cliffracer_bridge_connected", "1 while the connection to that broker is up");
    this.connectionName = `${BRIDGE_CONNECTION_NAME_PREFIX}:${config.name}`;
    if (Object.keys(config.routing.services).length > 0)
      this.routeControl = new RouteControl({ routing: config.routing, writer: config.name, log: this.log });
    this.routeMetrics = new RouteMetrics(this.registry);
    // The table in force, read from the route store's memory once per call.
    this.routeSource = { routesOf: (service) => this.routing(service).routes(service) };
  }

  get opsUrl(): string | undefined {
    return this.ops?.url;
  }

  async start(): Promise<void> {
    if (this.state !== "new") throw new Error(`bridge already ${this.state}`);
    this.state = "starting";
    const { config } = this;
    try {
      if (config.http.port !== null) {
        // First, so an orchestrator sees "alive, not ready" while the brokers are awaited.
        this.ops = await startOpsServer({
          port: config.http.port,
          host: config.http.host,
          registry: this.registry,
          ready: () => this.readiness(),
          health: () => ({ ok: this.state !== "stopped", details: { state: this.state } }),
          json: config.shadow ? { "/shadow": () => this.shadowReport() ?? { running: false } } : undefined,
          handlers: this.routeControl?.handlers(),
          log: this.log,
        });
      }
      await Promise.all([this.connectAmqp(), this.connectNats()]);
      const nc = this.nc!;
      this.natsOut = new NatsRpcOutbound({
        client: new RpcClient(nc, {
          prefix: config.runtime.prefix,
          timeoutMs: config.rpcTimeoutMs,
          largeBodies: largeBodiesOf(config.runtime),
        }),
        timeoutMs: config.rpcTimeoutMs,
        isUp: () => this.natsUp,
      });
      if (config.atMostOnce.enabled) this.records = await this.openRecords(nc);
      if (this.routeControl) await this.openRoutes(this.routeControl, nc);
      this.amqpOut = new AmqpRpcOutbound({
        connection: this.publisherConn!,
        exchange: config.rpcExchange,
        timeoutMs: config.rpcTimeoutMs,
        maxMessageBytes: config.amqpMaxMessageBytes,
        isUp: () => this.amqpUp.publisher,
        log: this.log,
      });
      await this.amqpOut.start();
      await this.startRouted(nc);
      await this.relayHandlerQueues();
      if (config.discovery.enabled) {
        this.discovery = new Discovery({
          directory: this.directory,
          nc,
          prefix: config.runtime.prefix,
          intervalMs: config.discovery.intervalMs,
          natsWaitMs: config.discovery.natsWaitMs,
          missesBeforeRemoval: config.discovery.missesBeforeRemoval,
          management: config.discovery.management
            ? { url: config.discovery.managementUrl, vhost: vhostOf(config.amqpUri) }
            : undefined,
          bridgeConnectionPrefix: BRIDGE_CONNECTION_NAME_PREFIX,
          log: this.log,
        });
      }
      this.events = createEventBridge({
        amqp: this.consumerConn!,
        amqpPublisher: this.publisherConn,
        nats: nc,
        prefix: config.runtime.prefix,
        events: config.runtime.events,
        // A routed service lives on both sides while it is cut over: the port's events go to the
        // callers' vhost, the original's (relayed there from its vhost) to NATS; the loop guard
        // keeps each copy from crossing back.
        natsServices: () => [...this.directory.servicesOn("nats"), ...this.routed.keys()],
        amqpServices: () => [...this.directory.servicesOn("amqp"), ...this.routed.keys()],
        logger: this.log,
        metrics: this.eventHooks(),
        bridgeId: config.name,
        options: { ...config.events, amqpMaxMessageBytes: config.amqpMaxMessageBytes },
      });
      this.directory.on("change", () => void this.reconcile());
      await this.discovery?.start();
      this.state = "running";
      await Promise.all([this.reconcile(), this.events.start()]);
      if (config.shadow) await this.startShadow(config.shadow);
      const routes = this.directory.routes();
      this.log.info("bridge running", {
        amqp: maskUrlCredentials(config.amqpUri),
        nats: maskUrlCredentials(config.runtime.natsUrl),
        rpcToNats: [...routes.rpcToNats],
        rpcToAmqp: [...routes.rpcToAmqp],
        discovery: config.discovery.enabled,
        ops: this.ops?.url,
      });
    } catch (err) {
      await this.kill();
      throw err;
    }
  }

  ready(): boolean {
    return this.readiness().ok;
  }

  status(): BridgeStatus {
    return {
      amqpConnected: this.amqpUp.consumer && this.amqpUp.publisher,
      natsConnected: this.natsUp,
      rpcToNats: [...this.toNats.keys()],
      rpcToAmqp: [...this.toAmqp.keys()],
      failing: [...this.failing],
      routed: [...this.routed.keys()],
      events: this.events?.status(),
    };
  }

  discover(): Promise<void> {
    return this.discovery?.refresh() ?? Promise.resolve();
  }

  shadowReport(): ShadowReport | undefined {
    return this.shadow?.report();
  }

  routes(service: string): ServiceRoutes {
    return this.routing(service).routes(service);
  }

  setRoutes(service: string, json: unknown): Promise<ServiceRoutes> {
    return this.routing(service).set(service, json);
  }

  rollbackRoutes(service: string, toRevision?: number): Promise<ServiceRoutes> {
    return this.routing(service).rollback(service, toRevision);
  }

  private routing(service: string): RouteControl {
    if (!this.routeControl) throw new ServiceNotRouted(`${service} is not routed: BRIDGE.ROUTING names no service`);
    return this.routeControl;
  }

  /** The shared route tables (docs/routing.md, The route table); a routed bridge does not start without them. */
  private async openRoutes(control: RouteControl, nc: NatsConnection): Promise<void> {
    try {
      await control.open(nc);
    } catch (err) {
      throw new Error(
        `the route tables (JetStream KV bucket ${this.config.routing.bucket}) could not be opened: ` +
          `${describeError(err)}; BRIDGE.ROUTING needs JetStream`,
      );
    }
  }

  /**
   * Shadow traffic runs beside the routes, on connections of its own: its firehose or NATS trouble is
   * retried inside it and never reaches a caller or a route (docs/shadow.md). Loaded only when asked for.
   */
  private async startShadow(shadow: NonNullable<BridgeConfig["shadow"]>): Promise<void> {
    const { startShadow } = await import("../sidebyside/shadow");
    this.shadow = startShadow({
      config: shadow,
      amqpUri: this.config.amqpUri,
      managementUrl: this.config.discovery.managementUrl,
      natsUrl: this.config.runtime.natsUrl,
      credentials: { nats: this.config.runtime.nats, amqpSsl: this.config.amqpSsl },
      registry: this.registry,
      log: this.log,
    });
  }

  async stop(): Promise<void> {
    if (this.state === "stopping" || this.state === "stopped") return;
    this.state = "stopping";
    this.starting.abort();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.handlerQueueTimer) clearInterval(this.handlerQueueTimer);
    await this.handlerQueueLook.catch(() => undefined);
    await this.discovery?.stop();
    // The firehose is switched off again before the connections go.
    await this.shadow?.stop();
    await this.chain.catch(() => undefined);
    // Intake first (in-flight requests are answered and acked), then what they depend on.
    await Promise.allSettled([
      ...[...this.toNats.values()].map((r) => r.stop()),
      ...[...this.toAmqp.values()].map((r) => r.stop()),
      ...[...this.routed.values()].map((r) => r.stop()),
      ...this.retiring,
      this.events?.stop(),
    ]);
    this.toNats.clear();
    this.toAmqp.clear();
    await this.routeControl?.close();
    this.routed.clear();
    await this.amqpOut?.stop().catch(() => undefined);
    await Promise.allSettled([
      this.nc ? drainNats(this.nc) : undefined,
      this.consumerConn?.close(),
      this.publisherConn?.close(),
    ]);
    await this.ops?.close().catch(() => undefined);
    this.state = "stopped";
    this.log.info("bridge stopped");
  }

  async kill(): Promise<void> {
    if (this.state === "stopped") return;
    this.state = "stopped";
    this.starting.abort();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.handlerQueueTimer) clearInterval(this.handlerQueueTimer);
    void this.discovery?.stop();
    void this.shadow?.stop();
    // As a crash: nothing held is answered or acked; RabbitMQ requeues what was unacked.
    for (const inbound of this.toNats.values()) inbound.kill();
    for (const inbound of this.toAmqp.values()) inbound.kill();
    const routed = [...this.routed.values()].map((r) => r.kill());
    await Promise.allSettled([
      this.routeControl?.close(),
      ...routed,
      this.consumerConn?.close(),
      this.publisherConn?.close(),
      this.nc && !this.nc.isClosed() ? this.nc.close() : undefined,
      this.ops?.close(),
    ]);
    this.toNats.clear();
    this.toAmqp.clear();
  }

  private readiness(): ProbeResult {
    const amqp = this.amqpUp.consumer && this.amqpUp.publisher;
    const routes =
      [...this.toNats.values()].every((r) => r.established) && [...this.routed.values()].every((r) => r.established);
    const events = this.events?.ready() ?? false;
    const ok = this.state === "running" && amqp && this.natsUp && routes && this.failing.size === 0 && events;
    return {
      ok,
      details: {
        state: this.state,
        amqp,
        nats: this.natsUp,
        rpcToNats: [...this.toNats.keys()],
        rpcToAmqp: [...this.toAmqp.keys()],
        failing: [...this.failing],
        routed: [...this.routed.keys()],
        events,
      },
    };
  }

  /** The record of handed-over requests (docs/at-most-once.md); the bridge does not start without it. */
  private async openRecords(nc: NatsConnection): Promise<CallRecords> {
    const { atMostOnce, name } = this.config;
    try {
      return await CallRecords.open(nc, { ...atMostOnce, bridgeName: name, log: this.log });
    } catch (err) {
      throw new Error(
        `the record of handed-over requests (JetStream KV bucket ${atMostOnce.bucket}) could not be opened: ` +
          `${describeError(err)}; it needs JetStream (or set BRIDGE.AT_MOST_ONCE.enabled: false)`,
      );
    }
  }

  private async connectAmqp(): Promise<void> {
    const { config } = this;
    const make = (role: "consumer" | "publisher"): AmqpConnection => {
      const conn = new AmqpConnection({
        uri: config.amqpUri,
        logger: this.log.child({ connection: `amqp-${role}` }),
        heartbeatSeconds: config.heartbeatSeconds,
        connectionName: `${this.connectionName}:${role}`,
        writeBatching: config.amqpWriteBatching,
        ssl: config.amqpSsl,
      });
      conn.on("ready", () => this.setAmqpUp(role, true));
      conn.on("disconnected", () => this.setAmqpUp(role, false));
      return conn;
    };
    this.consumerConn = make("consumer");
    this.publisherConn = make("publisher");
    await Promise.all([this.consumerConn.start(), this.publisherConn.start()]);
    this.setAmqpUp("consumer", true);
    this.setAmqpUp("publisher", true);
  }

  private setAmqpUp(role: "consumer" | "publisher", up: boolean): void {
    if (this.amqpUp[role] === up) return;
    this.amqpUp[role] = up;
    this.up.set(`amqp_${role}`, up);
  }

  private async connectNats(): Promise<void> {
    const { config } = this;
    const nc = await dialNats(
      { ...natsOptions(config.runtime, this.connectionName), inboxPrefix: config.inboxPrefix },
      // Keep trying while nats-server is down at start, as the AMQP side does; a stop ends the wait.
      { log: this.log.child({ connection: "nats" }), waitForServer: true, signal: this.starting.signal },
    );
    if (this.starting.signal.aborted) {
      // Stopped (or failed on the AMQP side) while this connection was being made: nobody else closes it.
      await nc.close();
      throw new Error("bridge stopped while connecting to NATS");
    }
    this.nc = nc;
    if (config.runtime.nats.writeBatching) batchNatsWrites(this.nc, this.log.child({ connection: "nats" }));
    this.setNatsUp(true);
    void this.watchNats(this.nc);
  }

  /** The one place NATS status becomes log lines and state. */
  private async watchNats(nc: NatsConnection): Promise<void> {
    const log = this.log.child({ connection: "nats" });
    for await (const s of nc.status()) this.onNatsStatus(s, log);
  }

  private onNatsStatus(s: Status, log: Logger): void {
    logNatsStatus(s, log);
    switch (s.type) {
      case "disconnect":
        log.info("pausing Nameko queue consumers until NATS is back");
        this.setNatsUp(false);
        break;
      case "reconnect":
        log.info("resuming Nameko queue consumers");
        this.natsOut?.reconnected();
        for (const r of this.routed.values()) r.reconnected();
        this.setNatsUp(true);
        break;
      case "close":
        this.setNatsUp(false);
        break;
    }
  }

  private setNatsUp(up: boolean): void {
    if (this.natsUp === up) return;
    this.natsUp = up;
    this.up.set("nats", up);
    for (const inbound of this.toNats.values()) void (up ? inbound.resume() : inbound.pause());
    // Routed intakes too: the at-most-once records live on NATS.
    for (const r of this.routed.values()) void (up ? r.resume() : r.pause());
  }

  /** Brings the RPC routes in line with the directory; serialized, and retried with backoff on failure. */
  private reconcile(): Promise<void> {
    const run = (): Promise<void> => this.reconcileNow(this.directory.routes());
    this.chain = this.chain.then(run, run);
    if (this.events && this.state === "running") void this.events.refresh();
    return this.chain;
  }

  private async reconcileNow(routes: Routes): Promise<void> {
    if (this.state !== "running") return;
    const intakes: Array<Promise<void>> = [];
    // Removed routes first: a service that moved sides must leave the NATS queue group before the
    // bridge starts carrying its Nameko queue, so its calls do not cross twice meanwhile. Requests a
    // removed route holds are finished in the background: a slow one must not hold up new routes.
    for (const [name, inbound] of this.toAmqp) {
      if (routes.rpcToAmqp.has(name)) continue;
      this.toAmqp.delete(name);
      this.log.info("rpc route removed", { direction: "nats_to_amqp", service: name });
      intakes.push(inbound.stopIntake());
      this.retire(inbound.stop());
    }
    for (const [name, inbound] of this.toNats) {
      if (routes.rpcToNats.has(name)) continue;
      this.toNats.delete(name);
      this.log.info("rpc route removed", { direction: "amqp_to_nats", service: name });
      intakes.push(inbound.stopIntake());
      this.retire(inbound.stop());
    }
    await Promise.allSettled(intakes);
    this.failing.clear();
    const starting: Array<Promise<void>> = [];
    for (const name of routes.rpcToAmqp) {
      if (this.toAmqp.has(name)) continue;
      const inbound = new NatsRpcInbound({
        nc: this.nc!,
        service: name,
        prefix: this.config.runtime.prefix,
        onward: this.amqpOut!,
        inboxPrefix: this.config.inboxPrefix,
        largeBodies: largeBodiesOf(this.config.runtime),
        instruments: this.rpcMetrics.for("nats_to_amqp", name),
        announce: this.config.runtime.announce,
        bridgeName: this.config.name,
        log: this.log,
      });
      this.toAmqp.set(name, inbound);
      starting.push(
        inbound.start().then(
          () => {
            this.log.info("rpc route added", { direction: "nats_to_amqp", service: name });
          },
          (err: unknown) => {
            this.toAmqp.delete(name);
            this.routeFailed("nats_to_amqp", name, err);
          },
        ),
      );
    }
    for (const name of routes.rpcToNats) {
      if (this.toNats.has(name)) continue;
      const inbound = new AmqpRpcInbound({
        connection: this.consumerConn!,
        service: name,
        onward: this.natsOut!,
        natsUp: () => this.natsUp,
        exchange: this.config.rpcExchange,
        prefetch: this.config.prefetch,
        maxMessageBytes: this.config.amqpMaxMessageBytes,
        instruments: this.rpcMetrics.for("amqp_to_nats", name),
        log: this.log,
        paused: !this.natsUp,
        records: this.records,
      });
      this.toNats.set(name, inbound);
      starting.push(
        inbound.start().then(
          () => {
            this.log.info("rpc route added", { direction: "amqp_to_nats", service: name });
          },
          (err: unknown) => {
            this.toNats.delete(name);
            this.routeFailed("amqp_to_nats", name, err);
          },
        ),
      );
    }
    await Promise.all(starting);
    await this.reconcileRelays();
    if (this.failing.size > 0) this.scheduleRetry();
    else this.retryDelayMs = RETRY_INITIAL_MS;
  }

  /**
   * Each service of BRIDGE.ROUTING: its Nameko queue on the callers' vhost and its NATS subjects,
   * both through one Router, and the original's own vhost (docs/routing.md, The shape: the bridge in front of both).
   */
  private async startRouted(nc: NatsConnection): Promise<void> {
    const { config } = this;
    for (const [service, routing] of Object.entries(config.routing.services)) {
      const routed = new RoutedService({
        service,
        routing,
        bridge: config,
        nc,
        callersConnection: this.consumerConn!,
        callersPublisher: this.publisherConn!,
        connectionName: `${this.connectionName}:original-${service}`,
        routes: this.routeSource,
        metrics: this.routeMetrics,
        rpcMetrics: this.rpcMetrics,
        eventMetrics: this.eventMetrics,
        records: this.records,
        natsUp: () => this.natsUp,
        relayOnward: this.relayOnward,
        log: this.log,
      });
      this.routed.set(service, routed);
      await routed.start();
      this.log.info("routed service served", {
        service,
        original: maskUrlCredentials(routing.originalAmqpUri),
        portPrefix: routing.portPrefix,
      });
    }
  }

  /**
   * The handler queues of each routed service on the callers' vhost, whose events are relayed to its
   * original (docs/routing.md, Events of a routed service): those configured and those the management API
   * lists, looked up now and then every discovery interval; a handler queue found only on the
   * original's vhost is declared on the callers' first. When the API does not answer, the relays
   * stay as they are (and the configured ones are added).
   */
  private relayHandlerQueues(): Promise<void> {
    const { config } = this;
    if (this.routed.size === 0) return Promise.resolve();
    const api = config.discovery.management ? new ManagementApi(config.discovery.managementUrl) : undefined;
    const look = async (): Promise<void> => {
      if (this.state === "stopping" || this.state === "stopped") return;
      await Promise.all(
        [...this.routed.values()].map(async (r) => {
          const routing = config.routing.services[r.service];
          const queues = new Set(routing.eventHandlerQueues);
          if (api) {
            try {
              for (const q of await findHandlerQueues(api, vhostOf(config.amqpUri), r.service)) queues.add(q);
              const originalVhost = vhostOf(routing.originalAmqpUri);
              for (const q of await findHandlerQueues(api, originalVhost, r.service)) {
                if (queues.has(q)) continue;
                try {
                  await declareOnCallers(api, originalVhost, q, this.consumerConn!);
                } catch (err) {
                  // This queue only (a 406 on a differently declared exchange): the others are relayed.
                  this.log.warn("could not declare a handler queue of the original on the callers' vhost", {
                    service: r.service,
                    queue: q,
                    error: describeError(err),
                  });
                  continue;
                }
                this.log.info("handler queue the original gained declared on the callers' vhost", {
                  service: r.service,
                  queue: q,
                });
                queues.add(q);
              }
            } catch (err) {
              this.log.warn("could not list handler queues of a routed service; its relays stay as they are", {
                service: r.service,
                error: describeError(err),
              });
              for (const q of r.relayedHandlerQueues) queues.add(q);
            }
          }
          await r.relayEventsFrom(queues);
        }),
      );
    };
    if (api && !this.handlerQueueTimer) {
      this.handlerQueueTimer = setInterval(() => void this.relayHandlerQueues(), config.discovery.intervalMs);
      this.handlerQueueTimer.unref();
    }
    this.handlerQueueLook = this.handlerQueueLook.then(look, look);
    return this.handlerQueueLook;
  }

  /**
   * Where the originals' own outgoing calls go, decided per call, so a service that moves sides
   * meanwhile is followed: another routed service through its Router, a service on NATS (or on
   * both brokers) over NATS, a Nameko service on the callers' vhost over AMQP there.
   */
  private readonly relayOnward: Onward = {
    forward: (service, method, body, headers, identity) => {
      const routed = this.routed.get(service);
      if (routed) return routed.router.forward(service, method, body, headers, identity);
      const side = this.directory.sideOf(service);
      const onward: Onward = side === "amqp" ? this.amqpOut! : this.natsOut!;
      return onward.forward(service, method, body, headers, identity);
    },
  };

  /**
   * The services each original's vhost is served for: every other service the bridge knows, except
   * routed services whose original shares that vhost (their own instances consume their queue there).
   */
  private async reconcileRelays(): Promise<void> {
    const known = [...this.directory.servicesOn("nats"), ...this.directory.servicesOn("amqp"), ...this.routed.keys()];
    const services = this.config.routing.services;
    await Promise.all(
      [...this.routed.values()].map((r) => {
        const vhost = services[r.service].originalAmqpUri;
        return r.relayFor(new Set(known.filter((name) => services[name]?.originalAmqpUri !== vhost)));
      }),
    ).then((failed) => {
      for (const names of failed) for (const name of names) this.failing.add(name);
    });
  }

  private retire(stopped: Promise<void>): void {
    const done: Promise<void> = stopped
      .catch((err: unknown) => {
        this.log.warn("retiring an rpc route failed", { error: describeError(err) });
      })
      .finally(() => this.retiring.delete(done));
    this.retiring.add(done);
  }

  private routeFailed(direction: string, service: string, err: unknown): void {
    this.failing.add(service);
    this.log.error("rpc route could not be set up; will retry", {
      direction,
      service,
      error: describeError(err),
    });
  }

  private scheduleRetry(): void {
    if (this.retryTimer || this.state !== "running") return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.reconcile();
    }, this.retryDelayMs);
    this.retryTimer.unref();
    this.retryDelayMs = Math.min(RETRY_MAX_MS, this.retryDelayMs * 2);
  }

  /** The event paths' metric hooks, recorded in the bridge's registry. */
  private eventHooks(): EventBridgeMetrics {
    const m = this.eventMetrics;
    return {
      forwarded: (direction, service, seconds) => m.for(direction, service).observed(seconds),
      dropped: (direction, service, reason) => m.for(direction, service).failed(`dropped_${reason}`),
      retried: (direction, service) => m.for(direction, service).failed("retried"),
      redelivered: (direction, service) => m.for(direction, service).redelivered(),
    };
  }
}
