// The runtime on a three-node NATS cluster (docs/cluster.md): the events stream with replicas: 3,
// a service and its clients connected with all three URLs, calls and numbered events flowing
// while a node leading the events stream and the handler's consumer is killed (`kill -9`): first
// the node that also holds the service's and the clients' connections, then another node (nobody
// reconnects; the handler's pull request dies with the consumer's leader). Nothing dispatched is
// lost, every failed call failed with a typed error and succeeded when tried again, and the
// service serves on; each killed node then rejoins and the stream is whole again.
//
// The cluster is the test's own (three nats-server processes on free ports,
// test/helpers/private-servers.ts); the shared server on 4222 is not involved.
import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { durableConsumerName, eventQueueName, eventsStreamName } from "../../../compat/naming";
import { RpcClient, RpcTimeout, UnknownService } from "../../../src";
import { standaloneDispatcher, type StandaloneDispatcher } from "../../../src/client/standalone-dispatcher";
import { defaultConfig, type RuntimeConfig } from "../../../src/config/defaults";
import { ServiceContainer } from "../../../src/core/service-container";
import { eventHandler } from "../../../src/entrypoints/events";
import { rpc } from "../../../src/entrypoints/rpc";
import { uniquePrefix } from "../../helpers/brokers";
import { captureLogger, type LogEntry } from "../../helpers/jetstream";
import { PrivateNatsCluster, type PrivateNatsServer } from "../../helpers/private-servers";
import { waitFor } from "../../helpers/waiters";

jest.setTimeout(120_000);

/** Calls and dispatches in flight at once. */
const WINDOW = 8;
/** Successful calls and handled events wanted before the kill, and again after it. */
const PER_PHASE = 150;
/** A caller's timeout: a call whose request or reply died with the node fails after this long. */
const CALL_TIMEOUT_MS = 3_000;
/**
 * Failed attempts allowed per dispatched id: each lasts the publish's timeout (5 s) while the
 * stream has no leader, where the test's dispatcher retries every 100 ms.
 */
const MAX_FAILURES_PER_DISPATCH = 3;
/** How long one id is retried before the test gives up on it. */
const RETRY_FOR_MS = 40_000;

function describeError(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

/** One id issued by a flow: how many attempts failed (and how), and whether it finally succeeded. */
interface Attempts {
  failures: string[];
  ok: boolean;
}

/**
 * `WINDOW` workers issuing ids base, base + 1... until stop(); each id is tried again after a failure
 * that `retryable` accepts (as an application would), any other failure ends the id.
 */
class RetryingFlow {
  readonly ids = new Map<number, Attempts>();
  private next: number;
  private stopping = false;
  private readonly workers: Array<Promise<void>>;

  constructor(
    /** The first id; ids go up from it. */
    base: number,
    private readonly one: (id: number) => Promise<void>,
    private readonly retryable: (err: unknown) => boolean,
  ) {
    this.next = base;
    this.workers = Array.from({ length: WINDOW }, () => this.worker());
  }

  get succeeded(): number {
    let n = 0;
    for (const a of this.ids.values()) if (a.ok) n++;
    return n;
  }

  /** Every failed attempt, as "id: error". */
  failures(): string[] {
    return [...this.ids].flatMap(([id, a]) => a.failures.map((f) => `${id}: ${f}`));
  }

  /** Stops issuing new ids; resolves once every id under way has succeeded or given up. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.workers);
  }

  private async worker(): Promise<void> {
    while (!this.stopping) {
      const id = this.next++;
      const attempts: Attempts = { failures: [], ok: false };
      this.ids.set(id, attempts);
      const startedAt = performance.now();
      for (;;) {
        try {
          await this.one(id);
          attempts.ok = true;
          break;
        } catch (err) {
          attempts.failures.push(describeError(err));
          if (!this.retryable(err) || performance.now() - startedAt > RETRY_FOR_MS) break;
          // A caller's backoff before it tries again.
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
    }
  }
}

describe("the runtime on a three-node NATS cluster", () => {
  let cluster: PrivateNatsCluster;
  const prefix = uniquePrefix();
  const stream = eventsStreamName(prefix);
  const containers: ServiceContainer[] = [];
  const connections: NatsConnection[] = [];
  const dispatchers: StandaloneDispatcher[] = [];
  const flows: RetryingFlow[] = [];

  beforeAll(async () => {
    cluster = await PrivateNatsCluster.start();
  }, 60_000);
  afterAll(async () => {
    await Promise.allSettled(flows.map((f) => f.stop()));
    await Promise.allSettled(dispatchers.map((d) => d.close()));
    await Promise.allSettled(containers.map((c) => c.kill()));
    await Promise.allSettled(connections.map((nc) => nc.close()));
    await cluster?.destroy();
  }, 60_000);

  /** The service's config: all three URLs, the events stream replicated on all three nodes. */
  function config(): RuntimeConfig {
    const base = defaultConfig();
    return {
      ...base,
      natsUrl: cluster.natsUrl,
      prefix,
      announce: false,
      // A pulled event whose ack died with its node is redelivered after ack_wait: short here.
      events: { ...base.events, replicas: 3, ackWaitSeconds: 5 },
    };
  }

  /** A client connection that tries `first` before the other members (a node's own clients). */
  async function connectTo(first: PrivateNatsServer): Promise<NatsConnection> {
    const others = cluster.nodes.filter((n) => n !== first).map((n) => n.url);
    const nc = await connect({
      servers: [first.url, ...others],
      noRandomize: true,
      maxReconnectAttempts: -1,
      noAsyncTraces: true,
    });
    connections.push(nc);
    return nc;
  }

  /** What the service recorded: executions of `reserve` and handled events, per id. */
  const executed = new Map<number, number>();
  const handled = new Map<number, number>();
  const { log, entries } = captureLogger();
  let service: ServiceContainer;
  let admin: NatsConnection;
  let jsm: JetStreamManager;
  const consumer = durableConsumerName(
    eventQueueName({
      source: "orders",
      eventType: "placed",
      handlerType: "service_pool",
      service: "inventory",
      method: "onPlaced",
    }),
  );

  beforeAll(async () => {
    class Inventory {
      name = "inventory";

      @rpc()
      reserve(id: number): number {
        executed.set(id, (executed.get(id) ?? 0) + 1);
        return id;
      }

      @eventHandler("orders", "placed")
      onPlaced(payload: { id: number }): void {
        handled.set(payload.id, (handled.get(payload.id) ?? 0) + 1);
      }
    }
    service = new ServiceContainer(Inventory, config(), { log });
    containers.push(service);
    await service.start();
    admin = await connect({ servers: cluster.natsUrl.split(","), maxReconnectAttempts: -1, noAsyncTraces: true });
    connections.push(admin);
    jsm = await jetstreamManager(admin);
  }, 60_000);

  /** The member the service is connected to now. */
  const serviceNode = (): PrivateNatsServer => cluster.node(service.nats.getServer());

  /**
   * Calls and numbered events (ids from `base`) from a caller and a dispatcher connected to
   * `clientsOn`; `victim` is made leader of the events stream and of the handler's consumer and
   * killed mid-flow. Checks that nothing is lost and the service carries on, restarts the victim
   * and waits for the stream to be whole again; returns the report's lines.
   */
  async function killUnderFlow(victim: PrivateNatsServer, clientsOn: PrivateNatsServer, base: number): Promise<string> {
    expect((await jsm.streams.info(stream)).config.num_replicas).toBe(3);
    await cluster.makeLeader(admin, victim, stream);
    await cluster.makeLeader(admin, victim, stream, consumer);
    const serviceWasOn = serviceNode();

    const client = new RpcClient(await connectTo(clientsOn), { prefix, timeoutMs: CALL_TIMEOUT_MS });
    const dispatch = await standaloneDispatcher({ nats: await connectTo(clientsOn), prefix, log });
    dispatchers.push(dispatch);
    const calls = new RetryingFlow(
      base,
      async (id) => {
        const r = await client.call("inventory", "reserve", [id]);
        if (r !== id) throw new Error(`wrong result ${JSON.stringify(r)} for ${id}`);
      },
      // What a caller may see while a node dies: its request or the reply lost (RpcTimeout), or
      // the service between two connections (UnknownService).
      (err) => err instanceof RpcTimeout || err instanceof UnknownService,
    );
    const events = new RetryingFlow(
      base,
      (id) => dispatch("orders", "placed", { id }),
      // A dispatch whose acknowledgement did not come may or may not be stored: sent again, it is
      // handled at least once.
      () => true,
    );
    flows.push(calls, events);
    const handledFrom = (): number => [...handled.keys()].filter((id) => id >= base).length;

    await waitFor(() => calls.succeeded >= PER_PHASE && handledFrom() >= PER_PHASE, {
      what: `${PER_PHASE} calls and events before the kill`,
      timeoutMs: 30_000,
    });
    const before = { calls: calls.succeeded, events: handledFrom() };
    await victim.kill();
    // Handled events count here, not resolved dispatches: the handler must resume too.
    await waitFor(() => calls.succeeded >= before.calls + PER_PHASE && handledFrom() >= before.events + PER_PHASE, {
      what: `${PER_PHASE} more calls and handled events after the kill`,
      timeoutMs: 60_000,
    }).catch((err: unknown) => {
      throw new Error(
        `${describeError(err)}; calls ${calls.succeeded}, handled ${handledFrom()}; failures: ${[...calls.failures(), ...events.failures()].slice(-10).join("; ")}`,
      );
    });
    await Promise.all([calls.stop(), events.stop()]);

    // Every dispatch that resolved is handled (at least once).
    const dispatched = [...events.ids].filter(([, a]) => a.ok).map(([id]) => id);
    await waitFor(() => dispatched.every((id) => handled.has(id)), {
      what: "every dispatched event handled",
      timeoutMs: 30_000,
      intervalMs: 50,
    }).catch((err: unknown) => {
      throw new Error(`${describeError(err)}; missing: ${dispatched.filter((id) => !handled.has(id)).slice(0, 20)}`);
    });
    // Every id was carried through in the end: failures were retried until they succeeded.
    expect([...calls.ids].filter(([, a]) => !a.ok)).toEqual([]);
    expect([...events.ids].filter(([, a]) => !a.ok)).toEqual([]);
    // And every call failure was one a caller can retry.
    expect(calls.failures().filter((f) => !/: (RpcTimeout|UnknownService):/.test(f))).toEqual([]);
    // A dispatch fails when its acknowledgement died with the node (TimeoutError) or when the
    // stream had no leader for all of the publish's timeout (EventNotStored)...
    expect(events.failures().filter((f) => !/: (TimeoutError|EventNotStored):/.test(f))).toEqual([]);
    // ...but while the stream elects a leader the publisher keeps trying for its whole timeout, so
    // an id fails a few times at most, not once per 100 ms backoff of the test's dispatcher.
    expect([...events.ids].filter(([, a]) => a.failures.length > MAX_FAILURES_PER_DISPATCH)).toEqual([]);

    const newLeader = (await jsm.streams.info(stream)).cluster?.leader;
    expect(newLeader).toBeDefined();
    expect(newLeader).not.toBe(victim.name);

    // The service serves on (from another node if its own died).
    expect(service.running).toBe(true);
    expect(serviceNode()).not.toBe(victim);
    await expect(client.call("inventory", "reserve", [base - 1])).resolves.toBe(base - 1);
    await dispatch("orders", "placed", { id: base - 1 });
    await waitFor(() => handled.has(base - 1), { what: "an event dispatched after the flows" });

    // The killed node comes back and catches up: three current replicas again.
    await cluster.restart(victim);
    await waitFor(
      async () => {
        const c = (await jsm.streams.info(stream)).cluster;
        return c?.leader !== undefined && (c.replicas ?? []).length === 2 && c.replicas!.every((r) => r.current);
      },
      { what: "the stream's three replicas current again", timeoutMs: 30_000, intervalMs: 200 },
    );

    const failureKinds = new Map<string, number>();
    for (const f of [...calls.failures(), ...events.failures()]) {
      const kind = f.slice(f.indexOf(": ") + 2, f.indexOf(":", f.indexOf(": ") + 2));
      failureKinds.set(kind, (failureKinds.get(kind) ?? 0) + 1);
    }
    const twice = dispatched.filter((id) => (handled.get(id) ?? 0) > 1).length;
    return [
      `killed ${victim.name} (stream and consumer leader; the service was on ${serviceWasOn.name}, the clients on ${clientsOn.name}); new stream leader ${newLeader}`,
      `calls: ${calls.ids.size} ids, all succeeded; failed attempts: ${calls.failures().length}`,
      `events: ${events.ids.size} ids dispatched, all handled; failed dispatches: ${events.failures().length}; handled twice: ${twice}`,
      `failure kinds: ${[...failureKinds].map(([k, n]) => `${k} x ${n}`).join(", ") || "none"}`,
    ].join("\n  ");
  }

  /** The service's warnings and errors so far, counted by message. */
  function serviceWarnings(): string {
    const counts = new Map<string, number>();
    for (const e of entries as LogEntry[])
      if (e.level === "warn" || e.level === "error") counts.set(e.message, (counts.get(e.message) ?? 0) + 1);
    return [...counts].map(([m, n]) => `"${m}" x ${n}`).join(", ") || "none";
  }

  it("kill -9 of the node with the service's and the clients' connections, leading the stream and the consumer: nothing lost, the service carries on", async () => {
    const victim = serviceNode();
    const report = await killUnderFlow(victim, victim, 0);
    console.log(`${report}\n  service warnings: ${serviceWarnings()}`);
  });

  it("kill -9 of another node leading the stream and the consumer: the handler resumes without a reconnect", async () => {
    // Nobody's connection breaks: the handler's pull request dies with the consumer's leader.
    const on = serviceNode();
    const victim = cluster.nodes.find((n) => n !== on)!;
    const report = await killUnderFlow(victim, on, 1_000_000);
    expect(serviceNode()).toBe(on);
    console.log(`${report}\n  service warnings: ${serviceWarnings()}`);
  });
});
