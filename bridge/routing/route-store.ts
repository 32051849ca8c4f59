/**
 * The route tables of the services being cut over, kept in a JetStream KV bucket that every bridge
 * on the broker watches (docs/routing.md, The route table). One key per service; each value is a
 * self-describing JSON document:
 *
 * `{"routes": {"*": 0, "get_user": 100}, "action": "set", "by": "bridge-a", "restored": 7}`
 *
 * (`restored`: for a rollback, the revision whose table it put back). The bucket keeps `history`
 * revisions per key, which is what a rollback reads. Each store holds the tables in memory from a
 * watch of the whole bucket, so a call looks its table up without I/O, and a change made through any
 * bridge is in force on every bridge one watch round trip later.
 */
import { EventEmitter } from "node:events";
import { JetStreamApiCodes, JetStreamApiError } from "@nats-io/jetstream";
import { Kvm, type KV, type KvEntry } from "@nats-io/kv";
import type { NatsConnection, QueuedIterator } from "@nats-io/transport-node";
import { describeError, type Logger } from "../../compat";
import { parseServiceRoutes, serviceRoutesToJson, type ServiceRoutes } from "./route-table";

/** How a revision of a table came to be. */
export type RouteAction = "seed" | "set" | "rollback" | "deleted";

/** One revision of a service's table, as the bucket keeps it. */
export interface RouteRevision {
  /** The KV revision (the bucket stream's sequence): grows with every write to any service. */
  readonly revision: number;
  /** When it was written (the server's time). */
  readonly at: Date;
  readonly routes: ServiceRoutes;
  readonly action: RouteAction;
  /** Who wrote it (a bridge's name); empty for a deletion made outside Cliffracer. */
  readonly by: string;
  /** For a rollback: the revision whose table was put back. */
  readonly restored?: number;
}

/** Options of {@link RouteStore.open}. */
export interface RouteStoreOptions {
  /** The KV bucket, created if missing (`BRIDGE.ROUTING.bucket`). */
  bucket: string;
  /** Revisions kept per service (the bucket's history), so changes can be rolled back. */
  history: number;
  /** Storage of a bucket this store creates; default file, so tables survive a server restart. */
  storage?: "file" | "memory";
  /** Stream replicas of a bucket this store creates; default 1. */
  replicas?: number;
  /** Written into every value as `by`. */
  writer: string;
  /** How long `open`, `set` and `rollback` wait for the watch to deliver a revision; default 10 s. */
  applyTimeoutMs?: number;
  log: Logger;
}

/** A rollback with no earlier revision to restore (none written, or beyond the bucket's history). */
export class NoRouteHistory extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NoRouteHistory";
  }
}

/** A rollback found the table changed by another writer while it read the history; nothing was written. */
export class RouteConflict extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RouteConflict";
  }
}

/** The watch did not deliver a written revision in time: the write is stored, but not yet in force here. */
export class RoutesNotApplied extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RoutesNotApplied";
  }
}

/** Every call of a service with no table goes to the original. */
const ALL_TO_ORIGINAL: ServiceRoutes = Object.freeze({ defaultWeight: 0, methods: Object.freeze({}) });

const DEFAULT_APPLY_TIMEOUT_MS = 10_000;

interface Waiter {
  revision: number;
  resolve(): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/** What a stored value holds, before it is trusted. */
interface StoredValue {
  routes?: unknown;
  action?: unknown;
  by?: unknown;
  restored?: unknown;
}

/**
 * The route tables of a bucket, watched. Emits `change` (service, routes, revision) whenever a
 * service's table in force changes after `open` resolved, from this bridge's writes and every
 * other's; the tables found at open are in force (`routesOf`) before it resolves.
 */
export class RouteStore extends EventEmitter<{
  change: [service: string, routes: ServiceRoutes, revision: RouteRevision];
}> {
  private readonly current = new Map<string, RouteRevision>();
  private applied = 0;
  private readonly waiters = new Set<Waiter>();
  private closed = false;

  private constructor(
    private readonly kv: KV,
    private readonly watcher: QueuedIterator<KvEntry>,
    private readonly options: RouteStoreOptions,
  ) {
    super();
  }

  /**
   * Opens the bucket (creating it with `history` revisions per key if no bridge did yet), starts
   * watching it, and resolves once the tables stored so far are in memory.
   */
  static async open(nc: NatsConnection, options: RouteStoreOptions): Promise<RouteStore> {
    const kv = await new Kvm(nc).create(options.bucket, {
      history: options.history,
      storage: options.storage ?? "file",
      replicas: options.replicas ?? 1,
      description: "Cliffracer bridge: route tables of services cut over by weight (docs/routing.md)",
    });
    // Everything up to this sequence is the state at start-up; the watch delivers at least that far.
    const { streamInfo } = await kv.status();
    const watcher = await kv.watch({ key: ">" });
    const store = new RouteStore(kv, watcher, options);
    void store.follow();
    try {
      await store.whenApplied(streamInfo.state.last_seq);
    } catch (err) {
      await store.close();
      throw err;
    }
    return store;
  }

  /** The table in force for `service`: every call to the original when it has none. */
  routesOf(service: string): ServiceRoutes {
    return this.current.get(service)?.routes ?? ALL_TO_ORIGINAL;
  }

  /** The revision in force for `service`, with who wrote it and when; undefined when it has none. */
  revisionOf(service: string): RouteRevision | undefined {
    return this.current.get(service);
  }

  /** Services with a table in the bucket. */
  services(): string[] {
    return [...this.current.keys()].sort();
  }

  /** Writes `routes` as the service's table; resolves with the table in force here once the watch applied it. */
  async set(service: string, routes: ServiceRoutes): Promise<ServiceRoutes> {
    const revision = await this.kv.put(service, this.encode(routes, "set"));
    await this.whenApplied(revision);
    return this.routesOf(service);
  }

  /**
   * Writes `routes` only if the service has no table yet (the config's initial routes): a restarted
   * bridge keeps the last table set at run time. Resolves true when it wrote.
   */
  async seed(service: string, routes: ServiceRoutes): Promise<boolean> {
    try {
      await this.whenApplied(await this.kv.create(service, this.encode(routes, "seed")));
      return true;
    } catch (err) {
      if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamWrongLastSequence) return false;
      throw err;
    }
  }

  /**
   * Puts back the table in force before the current one. Rollbacks undo like a stack: after
   * A, B, C, one rollback restores B and a second restores A (a rollback's own revision is skipped,
   * as are the revisions it undid). With `toRevision`, puts back that earlier revision's table in one
   * step (the table before a whole cut-over, say). Throws {@link NoRouteHistory} when no earlier
   * revision is kept, or `toRevision` is not an earlier revision of this service still kept.
   */
  async rollback(service: string, toRevision?: number): Promise<ServiceRoutes> {
    const revisions = await this.history(service);
    const [current] = revisions;
    if (current === undefined) throw new NoRouteHistory(`${service} has no route table to roll back`);
    const byRevision = new Map(revisions.map((r) => [r.revision, r]));
    const target =
      toRevision === undefined
        ? previousOf(current, revisions, byRevision)
        : toRevision < current.revision
          ? byRevision.get(toRevision)
          : undefined;
    if (target === undefined)
      throw new NoRouteHistory(
        toRevision === undefined
          ? `${service}: no earlier route table to roll back to (revision ${current.revision} is the oldest kept; the bucket keeps ${this.options.history} per service)`
          : `${service}: revision ${toRevision} is not an earlier table of this service the bucket still keeps (kept: ${revisions.map((r) => r.revision).join(", ")})`,
      );
    let revision: number;
    try {
      revision = await this.kv.put(service, this.encode(target.routes, "rollback", target.revision), {
        // Refused if another write came first: rolling back a table nobody has seen would surprise.
        previousSeq: current.revision,
      });
    } catch (err) {
      if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamWrongLastSequence)
        throw new RouteConflict(`${service}: its route table changed during the rollback; nothing was rolled back`);
      throw err;
    }
    await this.whenApplied(revision);
    return this.routesOf(service);
  }

  /** The revisions of `service` the bucket keeps, newest first; a value that does not parse is left out. */
  async history(service: string): Promise<RouteRevision[]> {
    const found: RouteRevision[] = [];
    const iter = await this.kv.history({ key: service });
    for await (const entry of iter) {
      const revision = this.decode(entry);
      if (revision !== undefined) found.push(revision);
    }
    return found.sort((a, b) => b.revision - a.revision);
  }

  /** Stops watching; waiters fail. The bucket and its tables stay. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.watcher.stop();
    this.failWaiters(new RoutesNotApplied("the route store was closed"));
  }

  private encode(routes: ServiceRoutes, action: RouteAction, restored?: number): string {
    return JSON.stringify({ routes: serviceRoutesToJson(routes), action, by: this.options.writer, restored });
  }

  /** A stored entry as a revision; undefined (and logged) when its value is not a table. */
  private decode(entry: KvEntry): RouteRevision | undefined {
    const base = { revision: entry.revision, at: entry.created };
    if (entry.operation !== "PUT") return { ...base, routes: ALL_TO_ORIGINAL, action: "deleted", by: "" };
    try {
      const value = entry.json<StoredValue>();
      const routes = parseServiceRoutes(entry.key, value.routes);
      const action = value.action === "seed" || value.action === "rollback" ? value.action : "set";
      const restored = typeof value.restored === "number" ? value.restored : undefined;
      return { ...base, routes, action, by: typeof value.by === "string" ? value.by : "", restored };
    } catch (err) {
      this.options.log.warn("route table in the bucket ignored: not a valid table", {
        bucket: this.options.bucket,
        service: entry.key,
        revision: entry.revision,
        error: describeError(err),
      });
      return undefined;
    }
  }

  /** Applies the watch's entries in order; a value that does not parse leaves the previous table in force. */
  private async follow(): Promise<void> {
    try {
      for await (const entry of this.watcher) {
        const revision = this.decode(entry);
        if (revision !== undefined) {
          if (revision.action === "deleted") this.current.delete(entry.key);
          else this.current.set(entry.key, revision);
          this.options.log.info("route table in force", {
            service: entry.key,
            routes: serviceRoutesToJson(revision.routes),
            revision: revision.revision,
            action: revision.action,
            by: revision.by,
          });
          this.emit("change", entry.key, revision.routes, revision);
        }
        this.applied = Math.max(this.applied, entry.revision);
        for (const waiter of this.waiters) if (waiter.revision <= this.applied) this.settle(waiter);
      }
    } catch (err) {
      if (!this.closed) this.options.log.error("route table watch failed", { error: describeError(err) });
    }
    this.failWaiters(new RoutesNotApplied("the route table watch ended"));
  }

  /** Resolves once the watch has applied `revision` (a write's, or the state at open). */
  private whenApplied(revision: number): Promise<void> {
    if (revision <= this.applied) return Promise.resolve();
    if (this.closed) return Promise.reject(new RoutesNotApplied("the route store was closed"));
    const timeoutMs = this.options.applyTimeoutMs ?? DEFAULT_APPLY_TIMEOUT_MS;
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        revision,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters.delete(waiter);
          reject(
            new RoutesNotApplied(
              `revision ${revision} of bucket ${this.options.bucket} was not delivered by its watch within ${timeoutMs} ms`,
            ),
          );
        }, timeoutMs),
      };
      this.waiters.add(waiter);
    });
  }

  private settle(waiter: Waiter): void {
    clearTimeout(waiter.timer);
    this.waiters.delete(waiter);
    waiter.resolve();
  }

  private failWaiters(err: Error): void {
    for (const waiter of this.waiters) {
      clearTimeout(waiter.timer);
      waiter.reject(err);
    }
    this.waiters.clear();
  }
}

/**
 * The revision a rollback from `revision` restores: the one before it, where a rollback stands for
 * the revision it restored (so undoing a rollback's result goes further back, not forward again).
 */
function previousOf(
  revision: RouteRevision,
  newestFirst: readonly RouteRevision[],
  byRevision: ReadonlyMap<number, RouteRevision>,
): RouteRevision | undefined {
  let at: RouteRevision | undefined = revision;
  // Each step moves to a lower revision, so this ends.
  while (at?.action === "rollback" && at.restored !== undefined) {
    const restored = byRevision.get(at.restored);
    if (restored === undefined) return undefined;
    at = restored;
  }
  const from = at.revision;
  return newestFirst.find((r) => r.revision < from);
}
