/**
 * Finds services on both sides while the bridge runs (docs/bridge-contract.md, Discovery):
 *
 * - NATS: runtime services announce themselves with the NATS services protocol; a `$SRV.INFO`
 *   request collects every instance's endpoints, and an endpoint on `[prefix.]rpc.<name>.*` means
 *   `<name>` runs on NATS under this bridge's prefix. What bridges announce for the Nameko services
 *   they serve (metadata `bridged`) is skipped: those live on RabbitMQ.
 * - RabbitMQ: through the management API, when it is enabled: a queue `rpc-<name>` with a consumer
 *   whose connection is not a bridge's (bridges name their connections `cliffracer-bridge:…`) means
 *   `<name>` runs on RabbitMQ. The API refreshes consumer lists every statistics interval (5 s by
 *   default), so a new Nameko service is seen within about that.
 *
 * A round that fails on one side leaves that side as it was. A service missing from
 * `missesBeforeRemoval` rounds in a row is dropped, so one slow `$SRV.INFO` answer does not make
 * the bridge stop serving a service.
 */
import type { NatsConnection } from "@nats-io/transport-node";
import type { ServiceDirectory, Side } from "./service-directory";
import { describeError, type Logger } from "../../compat";
import { ManagementApi, type ManagementTarget } from "../../amqp";
import { discoverServices } from "../../src/internal";

/** Options of {@link Discovery}. */
export interface DiscoveryOptions {
  directory: ServiceDirectory;
  nc: NatsConnection;
  prefix: string;
  intervalMs: number;
  natsWaitMs: number;
  missesBeforeRemoval: number;
  /** Absent: AMQP services come from flags and config only. */
  management?: ManagementTarget;
  /** Consumers on connections whose name starts with this are bridges, not services. */
  bridgeConnectionPrefix: string;
  log: Logger;
}

/**
 * Names of runtime services under `prefix` that answer `$SRV.INFO` within `waitMs`; what bridges
 * announce for the Nameko services they serve is not a service on NATS, and is skipped.
 */
export async function findNatsServices(nc: NatsConnection, prefix: string, waitMs: number): Promise<Set<string>> {
  return new Set((await discoverServices(nc, prefix, waitMs, { skipBridged: true })).keys());
}

interface MgmtConsumer {
  queue?: { name?: string };
  channel_details?: { connection_name?: string };
}

interface MgmtConnection {
  name?: string;
  user_provided_name?: string;
  client_properties?: { connection_name?: string };
}

/**
 * Names of services with a non-bridge consumer on their `rpc-<name>` queue in `target.vhost`,
 * from the RabbitMQ management API.
 */
export async function findAmqpServices(target: ManagementTarget, bridgeConnectionPrefix: string): Promise<Set<string>> {
  const api = new ManagementApi(target.url);
  const vhost = encodeURIComponent(target.vhost);
  const [consumers, connections] = await Promise.all([
    api.getJson<MgmtConsumer[]>(`/api/consumers/${vhost}`),
    api.getJson<MgmtConnection[]>(`/api/connections?columns=name,user_provided_name,client_properties`),
  ]);
  const bridges = new Set<string>();
  for (const c of connections) {
    const given = c.user_provided_name ?? c.client_properties?.connection_name;
    if (c.name !== undefined && typeof given === "string" && given.startsWith(bridgeConnectionPrefix))
      bridges.add(c.name);
  }
  const found = new Set<string>();
  for (const c of consumers) {
    const queue = c.queue?.name;
    const conn = c.channel_details?.connection_name;
    if (typeof queue !== "string" || !queue.startsWith("rpc-") || queue.length <= 4) continue;
    if (conn !== undefined && bridges.has(conn)) continue;
    found.add(queue.slice(4));
  }
  return found;
}

/** Periodic discovery feeding a {@link ServiceDirectory}. */
export class Discovery {
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private running?: Promise<void>;
  private readonly misses: Record<Side, Map<string, number>> = { nats: new Map(), amqp: new Map() };
  private readonly failing: Record<Side, boolean> = { nats: false, amqp: false };

  constructor(private readonly options: DiscoveryOptions) {}

  /** Runs a first round (so the bridge starts with what exists), then one every interval. */
  async start(): Promise<void> {
    await this.refresh();
    this.schedule();
  }

  stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    return this.running ?? Promise.resolve();
  }

  /** One discovery round on both sides (rounds never overlap). */
  refresh(): Promise<void> {
    return (this.running ??= this.round().finally(() => (this.running = undefined)));
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.refresh().finally(() => this.schedule());
    }, this.options.intervalMs);
    this.timer.unref();
  }

  private async round(): Promise<void> {
    const { nc, prefix, natsWaitMs, management, bridgeConnectionPrefix } = this.options;
    const nats = nc.isClosed()
      ? Promise.reject(new Error("NATS connection closed"))
      : findNatsServices(nc, prefix, natsWaitMs);
    const amqp = management ? findAmqpServices(management, bridgeConnectionPrefix) : undefined;
    const [n, a] = await Promise.allSettled([nats, amqp ?? Promise.resolve(undefined)]);
    if (this.stopped) return;
    this.apply("nats", n);
    if (amqp) this.apply("amqp", a as PromiseSettledResult<Set<string>>);
  }

  private apply(side: Side, result: PromiseSettledResult<Set<string> | undefined>): void {
    const { log, directory, missesBeforeRemoval } = this.options;
    if (result.status === "rejected" || result.value === undefined) {
      if (!this.failing[side]) {
        const reason: unknown = result.status === "rejected" ? result.reason : "no answer";
        log.warn("bridge discovery failed; keeping the last known services", {
          side,
          error: describeError(reason),
        });
      }
      this.failing[side] = true;
      return;
    }
    if (this.failing[side]) log.info("bridge discovery works again", { side });
    this.failing[side] = false;
    const found = result.value;
    const misses = this.misses[side];
    const keep = new Set(found);
    const before = directory.discoveredOn(side);
    for (const name of before) {
      if (found.has(name)) continue;
      const count = (misses.get(name) ?? 0) + 1;
      if (count < missesBeforeRemoval) {
        misses.set(name, count);
        keep.add(name);
      } else misses.delete(name);
    }
    for (const name of found) misses.delete(name);
    const added = [...keep].filter((n) => !before.has(n));
    const removed = [...before].filter((n) => !keep.has(n));
    if (directory.setDiscovered(side, keep)) {
      log.info("bridge discovery: services changed", { side, added, removed });
    }
  }
}
