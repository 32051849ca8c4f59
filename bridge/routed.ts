/**
 * One service cut over by weight (docs/routing.md): the bridge is the one consumer of its Nameko
 * queue `rpc-<service>` on the callers' vhost and the one responder of `rpc.<service>.*` on the
 * callers' NATS subjects; both intakes hand every call to one Router, which sends it to the port
 * (`<portPrefix>.rpc.<service>.<method>`) or to the original (`nameko-rpc` in its own vhost).
 * The original's own outgoing calls, published in its vhost, are served there by relay intakes,
 * one per service the bridge knows, and carried to wherever that service lives. Its events are
 * relayed both ways between the two vhosts (routing/event-relay.ts).
 */
import type { NatsConnection } from "@nats-io/transport-node";
import { AmqpConnection, vhostOf } from "../amqp";
import { describeError, type Logger } from "../compat";
import { largeBodiesOf, RpcClient, type FlowMetrics } from "../src/internal";
import { DEFAULT_EVENT_PREFETCH, DEFAULT_EVENT_RETRY_INITIAL_MS, DEFAULT_EVENT_RETRY_MAX_MS } from "./events";
import { AmqpRpcInbound } from "./amqp/rpc-inbound";
import { AmqpRpcOutbound } from "./amqp/rpc-outbound";
import type { BridgeConfig, RoutedServiceConfig } from "./config";
import type { CallRecords } from "./nats/call-records";
import { NatsRpcInbound } from "./nats/rpc-inbound";
import { NatsRpcOutbound } from "./nats/rpc-outbound";
import type { Onward } from "./onward";
import type { RouteMetrics } from "./routing/route-metrics";
import { EventRelay, relayMark, relayQueue } from "./routing/event-relay";
import { Router, type RouteSource } from "./routing/router";

/** Options of {@link RoutedService}. */
export interface RoutedServiceOptions {
  service: string;
  routing: RoutedServiceConfig;
  bridge: BridgeConfig;
  nc: NatsConnection;
  /** The bridge's consumer connection on the callers' vhost. */
  callersConnection: AmqpConnection;
  /** The bridge's publisher connection on the callers' vhost (the original's events go out on it). */
  callersPublisher: AmqpConnection;
  /** The name of the connection to the original's vhost, as RabbitMQ lists it. */
  connectionName: string;
  routes: RouteSource;
  metrics: RouteMetrics;
  rpcMetrics: FlowMetrics;
  eventMetrics: FlowMetrics;
  records: CallRecords | undefined;
  natsUp: () => boolean;
  /** Where the original's own outgoing calls go (decided per call by the bridge). */
  relayOnward: Onward;
  log: Logger;
}

/** The data plane of one routed service. */
export class RoutedService {
  readonly router: Router;
  private readonly originalConn: AmqpConnection;
  private originalUp = false;
  private readonly originalOut: AmqpRpcOutbound;
  private readonly portOut: NatsRpcOutbound;
  private readonly amqpIntake: AmqpRpcInbound;
  private readonly natsIntake: NatsRpcInbound;
  private readonly relays = new Map<string, AmqpRpcInbound>();
  /** The original's events to the callers' vhost. */
  private readonly eventsOut: EventRelay;
  /** The original's handler queues on the callers' vhost, by name, each relayed to its namesake on the original's. */
  private readonly eventsIn = new Map<string, EventRelay>();
  private readonly log: Logger;

  constructor(private readonly options: RoutedServiceOptions) {
    const { service, routing, bridge, nc, log } = options;
    this.log = log.child({ routed: service });
    this.originalConn = new AmqpConnection({
      uri: routing.originalAmqpUri,
      logger: this.log.child({ connection: "amqp-original" }),
      heartbeatSeconds: bridge.heartbeatSeconds,
      connectionName: options.connectionName,
      writeBatching: bridge.amqpWriteBatching,
      ssl: bridge.amqpSsl,
    });
    this.originalConn.on("ready", () => (this.originalUp = true));
    this.originalConn.on("disconnected", () => (this.originalUp = false));
    this.originalOut = new AmqpRpcOutbound({
      connection: this.originalConn,
      exchange: bridge.rpcExchange,
      timeoutMs: bridge.rpcTimeoutMs,
      maxMessageBytes: bridge.amqpMaxMessageBytes,
      isUp: () => this.originalUp,
      log: this.log,
    });
    this.portOut = new NatsRpcOutbound({
      client: new RpcClient(nc, {
        prefix: routing.portPrefix,
        timeoutMs: bridge.rpcTimeoutMs,
        largeBodies: largeBodiesOf(bridge.runtime),
      }),
      timeoutMs: bridge.rpcTimeoutMs,
      isUp: options.natsUp,
    });
    this.router = new Router({
      routes: options.routes,
      port: this.portOut,
      original: this.originalOut,
      metrics: options.metrics,
    });
    this.amqpIntake = new AmqpRpcInbound({
      connection: options.callersConnection,
      service,
      onward: this.router,
      natsUp: options.natsUp,
      exchange: bridge.rpcExchange,
      prefetch: bridge.prefetch,
      maxMessageBytes: bridge.amqpMaxMessageBytes,
      instruments: options.rpcMetrics.for("amqp_routed", service),
      log: this.log,
      paused: !options.natsUp(),
      records: options.records,
    });
    this.natsIntake = new NatsRpcInbound({
      nc,
      service,
      prefix: bridge.runtime.prefix,
      onward: this.router,
      inboxPrefix: bridge.inboxPrefix,
      largeBodies: largeBodiesOf(bridge.runtime),
      instruments: options.rpcMetrics.for("nats_routed", service),
      announce: bridge.runtime.announce,
      bridgeName: bridge.name,
      log: this.log,
    });
    this.eventsOut = new EventRelay({
      direction: "original_out",
      service,
      source: this.originalConn,
      target: options.callersPublisher,
      queue: relayQueue(service),
      mark: relayMark(vhostOf(routing.originalAmqpUri)),
      prefetch: bridge.events.amqpPrefetch ?? DEFAULT_EVENT_PREFETCH,
      maxMessageBytes: bridge.amqpMaxMessageBytes,
      retry: this.eventRetry,
      log: this.log,
      instruments: options.eventMetrics.for("original_out", service),
    });
  }

  private get eventRetry(): { initialMs: number; maxMs: number } {
    const { events } = this.options.bridge;
    return {
      initialMs: events.retryInitialMs ?? DEFAULT_EVENT_RETRY_INITIAL_MS,
      maxMs: events.retryMaxMs ?? DEFAULT_EVENT_RETRY_MAX_MS,
    };
  }

  get service(): string {
    return this.options.service;
  }

  /** True while the original's vhost is connected and every Nameko queue served is declared. */
  get established(): boolean {
    return (
      this.originalUp &&
      this.amqpIntake.established &&
      this.eventsOut.established &&
      [...this.relays.values(), ...this.eventsIn.values()].every((r) => r.established)
    );
  }

  /** Connects to the original's vhost (waiting for it), then serves both intakes. */
  async start(): Promise<void> {
    await this.originalConn.start();
    this.originalUp = true;
    await this.originalOut.start();
    await Promise.all([this.amqpIntake.start(), this.natsIntake.start(), this.eventsOut.start()]);
  }

  /** The handler queues whose events are relayed now. */
  get relayedHandlerQueues(): string[] {
    return [...this.eventsIn.keys()];
  }

  /**
   * Relays each of `queues` (handler queues of the original on the callers' vhost) to the queue of
   * the same name on the original's vhost, one relay per queue; stops relaying queues no longer listed.
   */
  async relayEventsFrom(queues: ReadonlySet<string>): Promise<void> {
    const changes: Array<Promise<void>> = [];
    for (const [queue, relay] of this.eventsIn) {
      if (queues.has(queue)) continue;
      this.eventsIn.delete(queue);
      this.log.info("relay of a handler queue's events removed", { queue });
      changes.push(relay.stop());
    }
    const { options } = this;
    for (const queue of queues) {
      if (this.eventsIn.has(queue)) continue;
      const relay = new EventRelay({
        direction: "original_in",
        service: this.service,
        source: options.callersConnection,
        target: this.originalConn,
        queue,
        skipMark: relayMark(vhostOf(options.routing.originalAmqpUri)),
        prefetch: options.bridge.events.amqpPrefetch ?? DEFAULT_EVENT_PREFETCH,
        maxMessageBytes: options.bridge.amqpMaxMessageBytes,
        retry: this.eventRetry,
        log: this.log,
        instruments: options.eventMetrics.for("original_in", this.service),
      });
      this.eventsIn.set(queue, relay);
      changes.push(
        relay.start().then(
          () => {
            this.log.info("relay of a handler queue's events added", { queue });
          },
          (err: unknown) => {
            this.eventsIn.delete(queue);
            this.log.error("relay of a handler queue's events could not be set up; retried at the next look", {
              queue,
              error: describeError(err),
            });
          },
        ),
      );
    }
    await Promise.all(changes);
  }

  /**
   * Serves `rpc-<name>` on the original's vhost for each service in `known` but this one (whose queue
   * there is the original's own), and stops serving those no longer known. Resolves with the names
   * whose queue could not be set up (the bridge tries again with backoff).
   */
  async relayFor(known: ReadonlySet<string>): Promise<string[]> {
    const failed: string[] = [];
    const starting: Array<Promise<void>> = [];
    for (const [name, relay] of this.relays) {
      if (known.has(name)) continue;
      this.relays.delete(name);
      this.log.info("relay of the original's calls removed", { service: name });
      starting.push(relay.stop());
    }
    for (const name of known) {
      if (name === this.service || this.relays.has(name)) continue;
      const { bridge } = this.options;
      const relay = new AmqpRpcInbound({
        connection: this.originalConn,
        service: name,
        onward: this.options.relayOnward,
        natsUp: this.options.natsUp,
        exchange: bridge.rpcExchange,
        prefetch: bridge.prefetch,
        maxMessageBytes: bridge.amqpMaxMessageBytes,
        instruments: this.options.rpcMetrics.for(`original_${this.service}`, name),
        log: this.log,
        paused: !this.options.natsUp(),
        records: this.options.records,
      });
      this.relays.set(name, relay);
      starting.push(
        relay.start().then(
          () => {
            this.log.info("relay of the original's calls added", { service: name });
          },
          (err: unknown) => {
            this.relays.delete(name);
            failed.push(name);
            this.log.error("relay of the original's calls could not be set up; will retry", {
              service: name,
              error: describeError(err),
            });
          },
        ),
      );
    }
    await Promise.all(starting);
    return failed;
  }

  /** NATS is back: the port may still be reconnecting. */
  reconnected(): void {
    this.portOut.reconnected();
  }

  /** NATS is away (the at-most-once records live there): Nameko requests wait in their queues. */
  pause(): Promise<void> {
    return Promise.all([this.amqpIntake.pause(), ...[...this.relays.values()].map((r) => r.pause())]).then(
      () => undefined,
    );
  }

  /** NATS is back: takes Nameko requests again. */
  resume(): Promise<void> {
    return Promise.all([this.amqpIntake.resume(), ...[...this.relays.values()].map((r) => r.resume())]).then(
      () => undefined,
    );
  }

  /** Intake stops, calls in flight are answered and acked, then the original's vhost is closed. */
  async stop(): Promise<void> {
    await Promise.allSettled([
      this.amqpIntake.stop(),
      this.natsIntake.stop(),
      ...[...this.relays.values()].map((r) => r.stop()),
      this.eventsOut.stop(),
      ...[...this.eventsIn.values()].map((r) => r.stop()),
    ]);
    this.relays.clear();
    this.eventsIn.clear();
    await this.originalOut.stop().catch(() => undefined);
    await this.originalConn.close().catch(() => undefined);
  }

  /** As a crash: nothing in flight is answered or acked (the event relays' unacked events go back with their connections). */
  async kill(): Promise<void> {
    this.amqpIntake.kill();
    this.natsIntake.kill();
    for (const relay of this.relays.values()) relay.kill();
    await this.originalConn.close().catch(() => undefined);
  }
}
