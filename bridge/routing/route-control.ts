/**
 * The control plane of weighted routing (docs/routing.md, The route table): the bridge's routed
 * services, their tables in the watched {@link RouteStore}, the checks a new table must pass, and the
 * `/routes` endpoints of the ops port. Which side a call goes to is the data plane's business; it
 * reads the table in force with {@link RouteControl.routes}.
 */
import type { NatsConnection } from "@nats-io/transport-node";
import { type Logger } from "../../compat";
import type { OpsAnswer, OpsHandler } from "../../src/internal";
import type { RoutingConfig } from "../config";
import { knownMethods } from "./known-methods";
import { InvalidRouteTable, parseServiceRoutes, serviceRoutesToJson, type ServiceRoutes } from "./route-table";
import {
  NoRouteHistory,
  RouteConflict,
  RoutesNotApplied,
  RouteStore,
  type RouteRevision,
  type RouteStoreOptions,
} from "./route-store";

/** The service named is not one of `BRIDGE.ROUTING.services`. */
export class ServiceNotRouted extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ServiceNotRouted";
  }
}

/** The route store is not open (the bridge is starting, or stopped). */
export class RoutesUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RoutesUnavailable";
  }
}

/** Revisions `GET /routes/<service>` lists. */
const HISTORY_SHOWN = 10;

/** Options of {@link RouteControl}. */
export interface RouteControlOptions {
  routing: RoutingConfig;
  /** Written as `by` into every revision (the bridge's name). */
  writer: string;
  /** How long a table's check waits for the port's `$SRV.INFO` answers. */
  knownMethodsWaitMs?: number;
  /** Passed to the store (tests shorten or lengthen it). */
  store?: Pick<RouteStoreOptions, "storage" | "replicas" | "applyTimeoutMs">;
  log: Logger;
}

/** What the `/routes` endpoints answer for one service. */
export interface RoutesAnswer {
  service: string;
  /** The table in force, in its JSON form (`{"*": 0, "get_user": 100}`). */
  routes: Record<string, number>;
  /** Its revision in the bucket; null while the service has no table (all calls to the original). */
  revision: number | null;
  at: string | null;
  action: string | null;
  by: string | null;
  restored?: number;
}

/** One revision as `GET /routes/<service>` lists it. */
export type RoutesHistoryEntry = Omit<RoutesAnswer, "service">;

/** The routed services' tables: read, changed, rolled back, and served on the ops port. */
export class RouteControl {
  private store?: RouteStore;
  private nc?: NatsConnection;

  constructor(private readonly options: RouteControlOptions) {}

  /** The watched store once open (the data plane listens to its `change` events). */
  get routeStore(): RouteStore | undefined {
    return this.store;
  }

  /** The routed services' names. */
  services(): string[] {
    return Object.keys(this.options.routing.services).sort();
  }

  /**
   * Opens the store and writes each service's `routes` from the config where the bucket has no
   * table yet: one set at run time survives a restart.
   */
  async open(nc: NatsConnection): Promise<void> {
    const { routing, writer, log } = this.options;
    const store = await RouteStore.open(nc, {
      bucket: routing.bucket,
      history: routing.history,
      writer,
      log,
      ...this.options.store,
    });
    try {
      for (const [service, routed] of Object.entries(routing.services))
        if (routed.initialRoutes !== undefined && (await store.seed(service, routed.initialRoutes)))
          log.info("route table seeded from the config", {
            service,
            routes: serviceRoutesToJson(routed.initialRoutes),
          });
    } catch (err) {
      await store.close();
      throw err;
    }
    this.nc = nc;
    this.store = store;
  }

  /** The table in force for a routed service (from memory: cheap enough for every call). */
  routes(service: string): ServiceRoutes {
    this.routed(service);
    return this.openStore().routesOf(service);
  }

  /**
   * Checks `json` against the methods the service has (config and `$SRV`), writes it, and resolves
   * with the table in force. Throws InvalidRouteTable, the previous table staying in force.
   */
  async set(service: string, json: unknown): Promise<ServiceRoutes> {
    const routed = this.routed(service);
    const store = this.openStore();
    const known = await knownMethods(this.nc!, service, routed, this.options.knownMethodsWaitMs);
    let routes: ServiceRoutes;
    try {
      routes = parseServiceRoutes(service, json, known);
    } catch (err) {
      if (err instanceof InvalidRouteTable && known.size === 0)
        throw new InvalidRouteTable(
          `${err.message}; neither BRIDGE.ROUTING.services.${service}.methods nor the port's $SRV endpoints under ` +
            `${routed.portPrefix}.rpc.${service} list any method, so only "*" is accepted`,
        );
      throw err;
    }
    return await store.set(service, routes);
  }

  /**
   * Puts back the previous table, or with `toRevision` that earlier revision's table in one step
   * (docs/routing.md, The route table); NoRouteHistory when there is none.
   */
  async rollback(service: string, toRevision?: number): Promise<ServiceRoutes> {
    this.routed(service);
    return await this.openStore().rollback(service, toRevision);
  }

  /** The table in force with its revision. */
  describe(service: string): RoutesAnswer {
    this.routed(service);
    const store = this.openStore();
    return { service, ...summary(store.routesOf(service), store.revisionOf(service)) };
  }

  /** The revisions kept, newest first. */
  async history(service: string, limit = HISTORY_SHOWN): Promise<RoutesHistoryEntry[]> {
    this.routed(service);
    const revisions = await this.openStore().history(service);
    return revisions.slice(0, limit).map((r) => summary(r.routes, r));
  }

  /** `GET /routes`, `GET|PUT /routes/:service` and `POST /routes/:service/rollback`, for the ops server. */
  handlers(): OpsHandler[] {
    return [
      {
        method: "GET",
        path: "/routes",
        handle: () =>
          answer(() => ({ services: Object.fromEntries(this.services().map((s) => [s, this.describe(s)])) })),
      },
      {
        method: "GET",
        path: "/routes/:service",
        handle: ({ params }) =>
          answer(async () => ({ ...this.describe(params.service), history: await this.history(params.service) })),
      },
      {
        method: "PUT",
        path: "/routes/:service",
        handle: ({ params, body }) =>
          answer(async () => {
            await this.set(params.service, body);
            return this.describe(params.service);
          }),
      },
      {
        method: "POST",
        path: "/routes/:service/rollback",
        handle: ({ params, body }) =>
          answer(async () => {
            await this.rollback(params.service, rollbackTarget(body));
            return this.describe(params.service);
          }),
      },
    ];
  }

  /** Stops watching; the tables stay in the bucket. */
  async close(): Promise<void> {
    const store = this.store;
    this.store = undefined;
    await store?.close();
  }

  private routed(service: string): RoutingConfig["services"][string] {
    const routed = Object.hasOwn(this.options.routing.services, service)
      ? this.options.routing.services[service]
      : undefined;
    if (routed === undefined)
      throw new ServiceNotRouted(
        `${service} is not routed by this bridge (BRIDGE.ROUTING.services: ${this.services().join(", ") || "none"})`,
      );
    return routed;
  }

  private openStore(): RouteStore {
    if (!this.store) throw new RoutesUnavailable("the route table store is not open (the bridge is not running)");
    return this.store;
  }
}

function summary(routes: ServiceRoutes, revision: RouteRevision | undefined): RoutesHistoryEntry {
  return {
    routes: serviceRoutesToJson(routes),
    revision: revision?.revision ?? null,
    at: revision?.at.toISOString() ?? null,
    action: revision?.action ?? null,
    by: revision?.by ?? null,
    ...(revision?.restored !== undefined ? { restored: revision.restored } : {}),
  };
}

/** HTTP status of the control plane's refusals; anything else is the ops server's 500. */
/** A rollback's optional body, `{"revision": N}`: the revision to put back; none, the previous table. */
function rollbackTarget(body: unknown): number | undefined {
  if (body === undefined || body === null) return undefined;
  const revision = typeof body === "object" && !Array.isArray(body) ? (body as { revision?: unknown }).revision : body;
  if (revision === undefined) return undefined;
  if (typeof revision !== "number" || !Number.isInteger(revision) || revision < 1)
    throw new InvalidRouteTable(
      `a rollback's body is {} or {"revision": N}, N a revision number; got ${JSON.stringify(body)}`,
    );
  return revision;
}

function statusOf(err: unknown): number | undefined {
  if (err instanceof InvalidRouteTable) return 400;
  if (err instanceof ServiceNotRouted) return 404;
  if (err instanceof NoRouteHistory || err instanceof RouteConflict) return 409;
  if (err instanceof RoutesUnavailable || err instanceof RoutesNotApplied) return 503;
  return undefined;
}

async function answer(run: () => unknown): Promise<OpsAnswer> {
  try {
    return { status: 200, body: await run() };
  } catch (err) {
    const status = statusOf(err);
    if (status === undefined || !(err instanceof Error)) throw err;
    return { status, body: { error: { type: err.name, message: err.message } } };
  }
}
