// What the bridge resilience tests share: a "world" of one NATS-side service and one AMQP-side
// service with every execution and every event recorded, the bridge as a child process
// (`cliffracer bridge`, test/helpers/processes.ts), flows of calls and events that can be paused,
// and the bookkeeping that turns the records into the numbers the tests assert and report.
//
// The world: `ledger` lives on NATS (a runtime container in this process; rpc `work(id)`, handler
// of `legacy.tick`), `legacy` lives on RabbitMQ (the independent Nameko peer; rpc `work(id)`), a
// Nameko `@event_handler` of `ledger.tock` (the peer), a Nameko caller and dispatcher (the peer), a
// NATS caller and event publisher (the runtime client). The bridge runs `--nats-service ledger
// --amqp-service legacy`, so all four flows cross it: calls AMQP -> NATS (legacy callers of
// ledger.work) and NATS -> AMQP (runtime callers of legacy.work), events AMQP -> NATS (legacy.tick)
// and NATS -> AMQP (ledger.tock).
import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type Msg, type NatsConnection } from "@nats-io/transport-node";
import { DEFAULT_BRIDGE_INBOX_PREFIX, defaultAtMostOnceBucket } from "../../../bridge/config";
import { eventsStreamName } from "../../../compat/naming";
import { EventPublisher, RpcClient, RpcTimeout, UnknownService, eventHandler, rpc } from "cliffracer";
import { defaultConfig } from "../../../src/config/defaults";
import { NatsFixture, NATS_URL } from "../../helpers/brokers";
import { BridgeProcess } from "../../helpers/processes";
import { createVhost, listQueues, type TestVhost } from "../../helpers/rabbit";
import { deferred, waitFor, withTimeout, type Deferred } from "../../helpers/waiters";
import {
  PeerCaller,
  PeerDispatcher,
  PeerRemoteError,
  PeerRpcTimeout,
  startPeerHandler,
  startPeerService,
  type PeerDelivery,
  type PeerHandler,
  type PeerService,
} from "../../interop/nameko-peer";

/** The service that lives on NATS. */
export const NATS_SERVICE = "ledger";
/** The service that lives on RabbitMQ. */
export const AMQP_SERVICE = "legacy";

/** Simulated work in a service method, so calls overlap and a kill finds some in the bridge's hands. */
function work(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function bump(map: Map<number, number>, id: number): void {
  map.set(id, (map.get(id) ?? 0) + 1);
}

/** What the runtime side recorded. */
export interface LedgerRecord {
  /** ledger.work executions per call id. */
  executions: Map<number, number>;
  /** legacy.tick deliveries to the runtime handler per event id. */
  ticks: Map<number, number>;
}

function ledgerClass(rec: LedgerRecord, workMs: number) {
  class Ledger {
    name = NATS_SERVICE;

    @rpc()
    async work(id: number): Promise<number> {
      bump(rec.executions, id);
      await work(workMs);
      return id;
    }

    @eventHandler(AMQP_SERVICE, "tick")
    onTick(payload: { id: number }): void {
      bump(rec.ticks, payload.id);
    }
  }
  return Ledger;
}

/** How one call ended; "unknown" is the bridge's CallOutcomeUnknown (docs/at-most-once.md). */
export interface CallResult {
  kind: "ok" | "timeout" | "unknown" | "error";
  /** performance.now() when the (first attempt of the) call was made and when it settled. */
  startedAt: number;
  endedAt: number;
  /** NATS callers retry a call that found no responder (no bridge running): it reached nobody. */
  attempts: number;
  detail?: string;
}

/** A gate workers wait on; closed, they finish what they hold but take nothing new. */
class Valve {
  private waiters: Deferred<void> | undefined;

  get open(): boolean {
    return this.waiters === undefined;
  }

  close(): void {
    this.waiters ??= deferred<void>();
  }

  release(): void {
    const w = this.waiters;
    this.waiters = undefined;
    w?.resolve();
  }

  async pass(): Promise<void> {
    while (this.waiters) await this.waiters.promise;
  }
}

/** How many items a flow issues, how many at once, and when it pauses by itself. */
export interface FlowSpec {
  total: number;
  /** Items in flight at once (concurrent workers). */
  window: number;
  /** The flow closes its own valve once this many items were issued (until resume()). */
  pauseAt?: number;
  /** Ids are base..base+total-1 (default 0), so several flows of one kind can share the records. */
  base?: number;
}

/**
 * Items issued by concurrent workers (see FlowSpec); it can be paused and resumed. `one(id)`
 * records the item's fate itself and never rejects.
 */
export class Flow {
  issued = 0;
  private readonly valve = new Valve();
  private autoPauseSpent = false;
  private done?: Promise<void>;

  constructor(
    readonly name: string,
    private readonly spec: FlowSpec,
    private readonly one: (id: number) => Promise<void>,
  ) {}

  get total(): number {
    return this.spec.total;
  }

  /** Starts the workers; resolves when every item was issued and settled. */
  run(): Promise<void> {
    this.done ??= Promise.all(Array.from({ length: this.spec.window }, () => this.worker())).then(() => undefined);
    return this.done;
  }

  pause(): void {
    this.valve.close();
  }

  /** Opens the valve; a `pauseAt` not reached yet no longer applies. */
  resume(): void {
    this.autoPauseSpent = true;
    this.valve.release();
  }

  private async worker(): Promise<void> {
    for (;;) {
      await this.valve.pass();
      if (this.issued >= this.spec.total) return;
      if (this.issued === this.spec.pauseAt && !this.autoPauseSpent) {
        this.autoPauseSpent = true;
        this.valve.close();
        continue;
      }
      const id = (this.spec.base ?? 0) + this.issued++;
      await this.one(id);
    }
  }
}

/** One call of a {@link CallLoop}. */
export interface LoopCall extends CallResult {
  id: number;
}

/** Calls made one after another by `window` workers until stop(), each recorded as it settles; 50 ms pause after a failure. */
export class CallLoop {
  readonly calls: LoopCall[] = [];
  private stopping = false;
  private readonly workers: Array<Promise<void>>;

  constructor(window: number, ids: () => number, call: (id: number) => Promise<unknown>) {
    this.workers = Array.from({ length: window }, async () => {
      while (!this.stopping) {
        const id = ids();
        const startedAt = performance.now();
        try {
          const r = await call(id);
          const ok = r === id;
          this.calls.push({
            id,
            kind: ok ? "ok" : "error",
            startedAt,
            endedAt: performance.now(),
            attempts: 1,
            detail: ok ? undefined : `wrong result ${JSON.stringify(r)}`,
          });
        } catch (err) {
          const timeout = err instanceof RpcTimeout || err instanceof PeerRpcTimeout;
          this.calls.push({
            id,
            kind: timeout ? "timeout" : "error",
            startedAt,
            endedAt: performance.now(),
            attempts: 1,
            detail: describe(err),
          });
          // A caller's backoff after a failure, as an application would have.
          await work(50);
        }
      }
    });
  }

  /** Calls started at or after `t` (performance.now()). */
  startedFrom(t: number): LoopCall[] {
    return this.calls.filter((c) => c.startedAt >= t);
  }

  /** Resolves once `n` more calls succeeded. */
  async waitOk(n: number, timeoutMs = 30_000): Promise<void> {
    const from = this.calls.filter((c) => c.kind === "ok").length;
    await waitFor(() => this.calls.filter((c) => c.kind === "ok").length >= from + n, {
      what: `${n} successful calls`,
      timeoutMs,
      intervalMs: 5,
    });
  }

  /** Stops making calls; resolves once the calls under way settled. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.workers);
  }
}

/** Options of {@link ResilienceWorld}. */
export interface WorldOptions {
  /** RabbitMQ to use (a private node's URI); default: a fresh vhost on the shared broker. */
  amqpUri?: string;
  /** NATS to use (a private server's URL, or a private cluster's URLs comma-separated); default: the shared server. */
  natsUrl?: string;
  /** Replicas of the events stream (3 on a three-node cluster); default 1. */
  eventsReplicas?: number;
  /** Milliseconds each `work` call takes on either side. */
  workMs?: number;
  /** Concurrent workers of each service (and prefetch of the peer). */
  maxWorkers?: number;
  /** The bridge's rpc_timeout: how long it waits for a reply before answering RpcTimeout (default 20 s). */
  bridgeRpcTimeoutSeconds?: number;
  /**
   * Record every request forwarded to ledger.work with a plain subscriber (default true). That
   * subscriber also means a request always has a responder, so a test of what the bridge does
   * while the runtime service is away turns it off.
   */
  watchForwarded?: boolean;
}

/** Calls per id of the AMQP-side service, from what the peer received. */
export interface AmqpExecutions {
  /** legacy.work deliveries per call id. */
  count: Map<number, number>;
  /** The reply_to of each delivery per call id: the bridge instance that published it (its reply queue). */
  replyTo: Map<number, string[]>;
}

/** Everything one resilience test runs, and what it recorded; cleanup() tears it all down. */
export class ResilienceWorld {
  readonly ledger: LedgerRecord = { executions: new Map(), ticks: new Map() };
  /** NATS requests to ledger.work per call id, as seen by a plain (non-queue) subscriber: the bridge connection's inbox of each. */
  readonly forwarded = new Map<number, string[]>();
  /** How many requests the monitor saw in all. */
  forwardedCount = 0;
  /** Every instance of the AMQP-side peers (a broker restart needs new ones). */
  readonly legacyServices: PeerService[] = [];
  readonly tockHandlers: PeerHandler[] = [];
  readonly callers: PeerCaller[] = [];
  readonly bridges: BridgeProcess[] = [];
  readonly dispatchers: PeerDispatcher[] = [];
  caller!: PeerCaller;
  dispatcher!: PeerDispatcher;
  client!: RpcClient;
  publisher!: EventPublisher;
  nc!: NatsConnection;
  private readonly nats: NatsFixture;
  private vhost?: TestVhost;
  private amqpUriValue?: string;
  private readonly workMs: number;
  private readonly maxWorkers: number;

  constructor(private readonly options: WorldOptions = {}) {
    this.workMs = options.workMs ?? 5;
    this.maxWorkers = options.maxWorkers ?? 64;
    const events = {
      ...defaultConfig().events,
      ...(options.eventsReplicas ? { replicas: options.eventsReplicas } : {}),
    };
    this.nats = new NatsFixture({ natsUrl: this.natsUrl, maxWorkers: this.maxWorkers, announce: false, events });
  }

  /** The private subject prefix of everything in this world (and so its own events stream). */
  get prefix(): string {
    return this.nats.prefix;
  }

  get natsUrl(): string {
    return this.options.natsUrl ?? NATS_URL;
  }

  get amqpUri(): string {
    if (!this.amqpUriValue) throw new Error("ResilienceWorld.setup() was not called");
    return this.amqpUriValue;
  }

  get streamName(): string {
    return eventsStreamName(this.prefix);
  }

  /** Vhost, runtime service, NATS clients, the request monitor and the AMQP peers. */
  async setup(): Promise<this> {
    if (this.options.amqpUri) this.amqpUriValue = this.options.amqpUri;
    else {
      this.vhost = await createVhost("cliff-resilience");
      this.amqpUriValue = this.vhost.uri;
    }
    // The runtime handler's durable consumer exists before any tick is bridged (interest retention).
    await this.nats.start(ledgerClass(this.ledger, this.workMs));
    this.nc = await connect({
      servers: this.natsUrl.split(","),
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      noAsyncTraces: true,
    });
    this.client = new RpcClient(this.nc, { prefix: this.prefix, timeoutMs: 10_000 });
    this.publisher = new EventPublisher(this.nc, this.prefix);
    if (this.options.watchForwarded ?? true) {
      this.nc.subscribe(`${this.prefix}.rpc.${NATS_SERVICE}.work`, {
        callback: (err, msg) => {
          if (!err) this.onForwarded(msg);
        },
      });
    }
    await this.nc.flush();
    await this.startAmqpPeers();
    return this;
  }

  /** (Re)starts the AMQP-side peers: the legacy service, the tock handler, a caller and a dispatcher. */
  async startAmqpPeers(): Promise<void> {
    const uri = this.amqpUri;
    const workMs = this.workMs;
    this.legacyServices.push(
      await startPeerService({
        uri,
        name: AMQP_SERVICE,
        maxWorkers: this.maxWorkers,
        methods: { work: { params: ["id"], fn: async (id: number) => (await work(workMs), id) } },
      }),
    );
    this.tockHandlers.push(
      await startPeerHandler({
        uri,
        source: NATS_SERVICE,
        eventType: "tock",
        service: "audit",
        method: "on_tock",
        maxWorkers: 32,
      }),
    );
    this.caller = await PeerCaller.start({ uri, timeoutMs: 45_000 });
    this.callers.push(this.caller);
    this.dispatcher = await PeerDispatcher.start(uri);
    this.dispatchers.push(this.dispatcher);
  }

  /**
   * Stops every AMQP-side peer, also those a broker restart left dead (the peers do not reconnect
   * by themselves, unlike the bridge); bounded, since a dead one may wait for confirms that never come.
   */
  async stopAmqpPeers(): Promise<void> {
    const stopping = Promise.allSettled([
      ...this.legacyServices.map((s) => s.stop()),
      ...this.tockHandlers.map((h) => h.stop()),
      ...this.callers.map((c) => c.close()),
      ...this.dispatchers.map((d) => d.close()),
    ]);
    await withTimeout(stopping, 10_000, "the AMQP peers to stop").catch(() => undefined);
  }

  /** The bridge's config file: this world's brokers, prefix and services; no discovery. */
  bridgeConfig(name: string): Record<string, unknown> {
    return {
      AMQP_URI: this.amqpUri,
      NATS_URL: this.natsUrl,
      NATS_PREFIX: this.prefix,
      // A killed bridge's pulled-but-unacked events come back to a bridge after this long.
      EVENTS: { ack_wait: 5, ...(this.options.eventsReplicas ? { replicas: this.options.eventsReplicas } : {}) },
      BRIDGE: {
        name,
        nats_services: [NATS_SERVICE],
        amqp_services: [AMQP_SERVICE],
        rpc_timeout: this.options.bridgeRpcTimeoutSeconds ?? 20,
        DISCOVERY: { enabled: false },
      },
    };
  }

  /** Spawns `cliffracer bridge` for this world (not waiting for it to be ready). */
  async spawnBridge(name: string): Promise<BridgeProcess> {
    const bridge = await BridgeProcess.spawn({ config: this.bridgeConfig(name) });
    this.bridges.push(bridge);
    return bridge;
  }

  // ---- flows ----

  /** AMQP caller -> bridge -> ledger.work(id); a reply must carry id back. */
  amqpCallFlow(spec: FlowSpec): { flow: Flow; results: Map<number, CallResult> } {
    const results = new Map<number, CallResult>();
    const flow = new Flow("calls AMQP -> NATS", spec, async (id) => {
      const startedAt = performance.now();
      try {
        const r = await this.caller.call(NATS_SERVICE, "work", [id]);
        results.set(
          id,
          r === id
            ? { kind: "ok", startedAt, endedAt: performance.now(), attempts: 1 }
            : {
                kind: "error",
                startedAt,
                endedAt: performance.now(),
                attempts: 1,
                detail: `wrong result ${JSON.stringify(r)}`,
              },
        );
      } catch (err) {
        results.set(id, {
          kind:
            err instanceof PeerRpcTimeout
              ? "timeout"
              : err instanceof PeerRemoteError && err.excType === "CallOutcomeUnknown"
                ? "unknown"
                : "error",
          startedAt,
          endedAt: performance.now(),
          attempts: 1,
          detail: describe(err),
        });
      }
    });
    return { flow, results };
  }

  /**
   * NATS caller -> bridge -> legacy.work(id). A call that finds no responder (no bridge subscribed
   * at that moment) reached nobody, so it is tried again after a short backoff, as an application
   * would; any other failure is final.
   */
  natsCallFlow(spec: FlowSpec): { flow: Flow; results: Map<number, CallResult> } {
    const results = new Map<number, CallResult>();
    const flow = new Flow("calls NATS -> AMQP", spec, async (id) => {
      const startedAt = performance.now();
      for (let attempts = 1; ; attempts++) {
        try {
          const r = await this.client.call(AMQP_SERVICE, "work", [id]);
          results.set(
            id,
            r === id
              ? { kind: "ok", startedAt, endedAt: performance.now(), attempts }
              : {
                  kind: "error",
                  startedAt,
                  endedAt: performance.now(),
                  attempts,
                  detail: `wrong result ${JSON.stringify(r)}`,
                },
          );
          return;
        } catch (err) {
          if (err instanceof UnknownService && performance.now() - startedAt < 60_000) {
            await work(100);
            continue;
          }
          results.set(id, {
            kind: err instanceof RpcTimeout ? "timeout" : "error",
            startedAt,
            endedAt: performance.now(),
            attempts,
            detail: describe(err),
          });
          return;
        }
      }
    });
    return { flow, results };
  }

  /** Nameko dispatcher -> legacy.events `tick` {id} -> bridge -> JetStream -> ledger's handler. */
  tickFlow(spec: FlowSpec): { flow: Flow; failures: string[] } {
    const failures: string[] = [];
    const flow = new Flow("events AMQP -> NATS", spec, async (id) => {
      await this.dispatcher
        .dispatch(AMQP_SERVICE, "tick", { id })
        .catch((err: unknown) => failures.push(`${id}: ${describe(err)}`));
    });
    return { flow, failures };
  }

  /** Runtime publisher -> JetStream ledger `tock` {id} -> bridge -> ledger.events -> Nameko handler. */
  tockFlow(spec: FlowSpec): { flow: Flow; failures: string[] } {
    const failures: string[] = [];
    const flow = new Flow("events NATS -> AMQP", spec, async (id) => {
      await this.publisher
        .publish(NATS_SERVICE, "tock", { id })
        .then(undefined, (err: unknown) => failures.push(`${id}: ${describe(err)}`));
    });
    return { flow, failures };
  }

  /** NATS callers of legacy.work, `window` at a time, until stop(); ids from `base` up. */
  natsCallLoop(window: number, base: number): CallLoop {
    let next = base;
    return new CallLoop(
      window,
      () => next++,
      (id) => this.client.call(AMQP_SERVICE, "work", [id]),
    );
  }

  /** Nameko callers of ledger.work (the current caller), `window` at a time, until stop(); ids from `base` up. */
  amqpCallLoop(window: number, base: number): CallLoop {
    let next = base;
    return new CallLoop(
      window,
      () => next++,
      (id) => this.caller.call(NATS_SERVICE, "work", [id]),
    );
  }

  // ---- what was recorded ----

  /** tock deliveries to the Nameko handler per event id. */
  tocks(): Map<number, number> {
    const counts = new Map<number, number>();
    for (const h of this.tockHandlers) for (const e of h.events) bump(counts, (e.payload as { id: number }).id);
    return counts;
  }

  /** legacy.work deliveries to the AMQP-side service. */
  amqpExecutions(): AmqpExecutions {
    const count = new Map<number, number>();
    const replyTo = new Map<number, string[]>();
    for (const d of this.legacyDeliveries()) {
      if (d.routingKey !== `${AMQP_SERVICE}.work`) continue;
      const id = (JSON.parse(d.body) as { args: number[] }).args[0];
      bump(count, id);
      replyTo.set(id, [...(replyTo.get(id) ?? []), String(d.properties.replyTo)]);
    }
    return { count, replyTo };
  }

  legacyDeliveries(): PeerDelivery[] {
    return this.legacyServices.flatMap((s) => s.deliveries);
  }

  /**
   * What Nameko 2.14 needs on every message the bridge published to it: the peer service's
   * `fatal` list (requests without reply_to or content_type) and `dropped` list (content it could
   * not decode), the content type of every reply the Nameko callers got and of every event the
   * Nameko handler got (its `dropped` list). All must be empty.
   */
  namekoViolations(): string[] {
    const out: string[] = [];
    // A peer whose broker went away fails to reply on its closed channel and records that too;
    // that is the broker restart, not something the bridge sent.
    const brokerRestarted = this.legacyServices.length > 1;
    const own = (f: string): boolean => brokerRestarted && /^handler crashed: (channel|connection) closed/i.test(f);
    for (const s of this.legacyServices) {
      out.push(
        ...s.fatal.filter((f) => !own(f)).map((f) => `service fatal: ${f}`),
        ...s.dropped.map((f) => `service dropped: ${f}`),
      );
    }
    for (const d of this.legacyDeliveries()) {
      if (typeof d.properties.replyTo !== "string" || d.properties.contentType !== "application/json") {
        out.push(
          `request ${d.routingKey}: reply_to=${String(d.properties.replyTo)} content_type=${String(d.properties.contentType)}`,
        );
      }
    }
    for (const c of this.callers) {
      for (const r of c.replies)
        if (r.properties.contentType !== "application/json")
          out.push(`reply: content_type=${String(r.properties.contentType)}`);
    }
    for (const h of this.tockHandlers) {
      out.push(...h.dropped.map((b) => `event dropped by the handler: ${b.slice(0, 80)}`));
      for (const e of h.events)
        if (e.properties.contentType !== "application/json")
          out.push(`event: content_type=${String(e.properties.contentType)}`);
    }
    return out;
  }

  /**
   * Resolves once nothing is left anywhere on the way: the bridge's and the services' AMQP queues
   * are empty and unacked-free, and every JetStream consumer of the stream has nothing pending or
   * unacked. After that no redelivery can come, so the counts are final.
   */
  async waitIdle(timeoutMs = 60_000): Promise<void> {
    const jsm = await jetstreamManager(this.nc);
    let last = "";
    await waitFor(
      async () => {
        const queues = this.vhost ? await listQueues(this.vhost.name) : [];
        const busyQueues = queues
          .filter((q) => !q.name.startsWith("rpc.reply-") && q.messages > 0)
          .map((q) => `${q.name}=${q.messages}`);
        const busyConsumers: string[] = [];
        for await (const c of jsm.consumers.list(this.streamName)) {
          if (c.num_pending > 0 || c.num_ack_pending > 0)
            busyConsumers.push(`${c.name}: pending ${c.num_pending}, unacked ${c.num_ack_pending}`);
        }
        last = [...busyQueues, ...busyConsumers].join("; ");
        return busyQueues.length === 0 && busyConsumers.length === 0;
      },
      { what: "every queue and consumer drained", timeoutMs, intervalMs: 250 },
    ).catch((err: unknown) => {
      throw new Error(`${describe(err)}: ${last}`);
    });
  }

  /** Resolves once `queue` (in this world's vhost on the shared broker) holds at least `n` messages. */
  async waitQueued(queue: string, n: number, timeoutMs = 20_000): Promise<void> {
    const vhost = this.vhost;
    if (!vhost) throw new Error("waitQueued needs the shared broker's vhost");
    await waitFor(async () => ((await listQueues(vhost.name)).find((q) => q.name === queue)?.messages ?? 0) >= n, {
      what: `${n} messages in ${queue}`,
      timeoutMs,
      intervalMs: 100,
    });
  }

  /** Events of the NATS-side service pulled by a bridge and not acked yet (its shared consumer's num_ack_pending). */
  async bridgeEventsUnacked(): Promise<number> {
    const jsm = await jetstreamManager(this.nc);
    let n = 0;
    for await (const c of jsm.consumers.list(this.streamName))
      if (c.config.filter_subject === `${this.prefix}.events.${NATS_SERVICE}.>`) n += c.num_ack_pending;
    return n;
  }

  /**
   * The warnings and errors the bridges logged, counted by message ("message x count, ..."),
   * except the refusals of waitNatsRouteClean's probes.
   */
  bridgeWarnings(): string {
    const counts = new Map<string, number>();
    for (const b of this.bridges) {
      for (const l of b.logs) {
        if ((l.level === "warn" || l.level === "error") && !/request from a bridge refused/.test(l.message))
          counts.set(l.message, (counts.get(l.message) ?? 0) + 1);
      }
    }
    return [...counts].map(([m, n]) => `"${m}" x ${n}`).join(", ");
  }

  /**
   * Resolves once a NATS request to `legacy.work` can no longer be routed to a dead bridge's
   * subscription: the server drops a killed process's subscriptions only once it notices the
   * closed socket. Probes carry a reply subject of the bridges' own inbox prefix, which a live
   * bridge refuses at once (BridgeLoop, nothing is sent to RabbitMQ) and which the server answers
   * with "no responders" when no bridge subscribes; a probe that gets neither within 300 ms went to
   * a dead subscription. `consecutive` answered probes in a row are required (with two bridges the
   * server picks one at random per request).
   */
  async waitNatsRouteClean(consecutive: number, timeoutMs = 20_000): Promise<void> {
    const inbox = `${DEFAULT_BRIDGE_INBOX_PREFIX}.probe${Math.random().toString(16).slice(2)}`;
    let answered = 0;
    const deadline = performance.now() + timeoutMs;
    while (answered < consecutive) {
      if (performance.now() > deadline) throw new Error("NATS still routes requests to a dead bridge");
      const reply = deferred<Msg>();
      const sub = this.nc.subscribe(inbox, {
        max: 1,
        callback: (err, m) => (err ? reply.reject(err) : reply.resolve(m)),
      });
      this.nc.publish(`${this.prefix}.rpc.${AMQP_SERVICE}.work`, '{"args": [-1], "kwargs": {}}', { reply: inbox });
      const got = await Promise.race([reply.promise.then(() => true), work(300).then(() => false)]);
      sub.unsubscribe();
      answered = got ? answered + 1 : 0;
    }
  }

  async cleanup(): Promise<void> {
    await Promise.allSettled(this.bridges.map((b) => b.kill()));
    await this.stopAmqpPeers();
    await this.nats.cleanup();
    if (this.nc && !this.nc.isClosed()) {
      const jsm = await jetstreamManager(this.nc).catch(() => undefined);
      await jsm?.streams.delete(this.streamName).catch(() => undefined);
      await jsm?.streams.delete(`KV_${defaultAtMostOnceBucket(this.prefix)}`).catch(() => undefined);
      await this.nc.close();
    }
    await this.vhost?.delete();
  }

  private onForwarded(msg: Msg): void {
    const id = (JSON.parse(msg.string()) as { args: number[] }).args[0];
    const reply = msg.reply ?? "";
    // A bridge's requests share its connection's inbox; the last token is per request.
    const inbox = reply.slice(0, reply.lastIndexOf("."));
    this.forwarded.set(id, [...(this.forwarded.get(id) ?? []), inbox]);
    this.forwardedCount++;
  }
}

/** Ids of `counts` that appear more than once, and how many extra copies there were. */
export function duplicates(counts: Map<number, number>): { ids: number; extra: number } {
  let ids = 0;
  let extra = 0;
  for (const n of counts.values()) {
    if (n > 1) {
      ids++;
      extra += n - 1;
    }
  }
  return { ids, extra };
}

/** Ids base..base+total-1 missing from `counts`. */
export function missing(counts: Map<number, number>, total: number, base = 0): number[] {
  return Array.from({ length: total }, (_, i) => base + i).filter((i) => !counts.has(i));
}

/** Results by kind. */
export function tally(results: Map<number, CallResult>): Record<CallResult["kind"], number> {
  const t = { ok: 0, timeout: 0, unknown: 0, error: 0 };
  for (const r of results.values()) t[r.kind]++;
  return t;
}

/** The value of one Prometheus sample line (first match of every `parts` substring), 0 when absent. */
export function metricValue(text: string, name: string, ...parts: string[]): number {
  const line = text.split("\n").find((l) => l.startsWith(`${name}{`) && parts.every((p) => l.includes(p)));
  return line ? Number(line.slice(line.lastIndexOf(" ") + 1)) : 0;
}

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

/** Calls and events of each kind in a round through the bridge. */
export const ROUND = 100;

/** Calls both ways and events both ways, `ROUND` of each, all of which must get through. */
export async function roundTrip(world: ResilienceWorld, base: number): Promise<void> {
  const spec = { total: ROUND, window: 16, base };
  const amqpCalls = world.amqpCallFlow(spec);
  const natsCalls = world.natsCallFlow(spec);
  const ticks = world.tickFlow(spec);
  const tocks = world.tockFlow(spec);
  await Promise.all([amqpCalls.flow.run(), natsCalls.flow.run(), ticks.flow.run(), tocks.flow.run()]);
  expect([...amqpCalls.results.values(), ...natsCalls.results.values()].filter((r) => r.kind !== "ok")).toEqual([]);
  expect(tally(amqpCalls.results).ok + tally(natsCalls.results).ok).toBe(2 * ROUND);
  expect([...ticks.failures, ...tocks.failures]).toEqual([]);
  await waitFor(
    () => missing(world.ledger.ticks, ROUND, base).length + missing(world.tocks(), ROUND, base).length === 0,
    {
      what: "a round of events both ways",
      timeoutMs: 30_000,
      intervalMs: 20,
    },
  );
}
