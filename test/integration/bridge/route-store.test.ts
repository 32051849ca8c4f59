// The route tables' store (docs/routing.md, The route table) against the real NATS JetStream: every
// test has a bucket of its own, deleted after. Two stores on two connections stand for two bridges.
import { randomBytes } from "node:crypto";
import { isDeepStrictEqual } from "node:util";
import { Kvm } from "@nats-io/kv";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import winston from "winston";
import { NoRouteHistory, RouteStore, type RouteStoreOptions } from "../../../bridge/routing/route-store";
import type { ServiceRoutes } from "../../../bridge/routing/route-table";
import { NATS_URL } from "../../helpers/brokers";
import { deferred, withTimeout } from "../../helpers/waiters";

const log = winston.createLogger({
  level: process.env.LOG_LEVEL ?? "error",
  transports: [new winston.transports.Console()],
});

const table = (defaultWeight: number, methods: Record<string, number> = {}): ServiceRoutes => ({
  defaultWeight,
  methods,
});

describe("RouteStore", () => {
  const connections: NatsConnection[] = [];
  const stores: RouteStore[] = [];
  let bucket: string;

  async function nc(): Promise<NatsConnection> {
    const c = await connect({ servers: NATS_URL, noAsyncTraces: true });
    connections.push(c);
    return c;
  }

  async function open(options: Partial<RouteStoreOptions> = {}): Promise<RouteStore> {
    const store = await RouteStore.open(await nc(), {
      bucket,
      history: 5,
      storage: "memory",
      writer: "test",
      log,
      ...options,
    });
    stores.push(store);
    return store;
  }

  /** Resolves with the next table `store` applies for `service`. */
  /**
   * Resolves with the table once `store` applies `expected` for `service`: a watch may still be
   * applying earlier revisions when this is called, so those are passed over.
   */
  function changeTo(store: RouteStore, service: string, expected: ServiceRoutes): Promise<ServiceRoutes> {
    const got = deferred<ServiceRoutes>();
    const listener = (s: string, routes: ServiceRoutes): void => {
      if (s !== service || !isDeepStrictEqual(routes, expected)) return;
      store.off("change", listener);
      got.resolve(routes);
    };
    store.on("change", listener);
    return withTimeout(got.promise, 5_000, `${service}'s table ${JSON.stringify(expected)}`);
  }

  beforeEach(() => {
    bucket = `t_routes_${randomBytes(6).toString("hex")}`;
  });

  afterEach(async () => {
    await Promise.allSettled(stores.splice(0).map((s) => s.close()));
    const c = connections[0];
    if (c) await (await new Kvm(c).open(bucket)).destroy().catch(() => undefined);
    await Promise.allSettled(connections.splice(0).map((x) => x.close()));
  });

  it("sends every call of a service with no table to the original", async () => {
    const store = await open();
    expect(store.routesOf("orders")).toEqual(table(0));
    expect(store.revisionOf("orders")).toBeUndefined();
  });

  it("resolves set with the table in force, and another store applies it from its watch", async () => {
    const a = await open({ writer: "bridge-a" });
    const b = await open({ writer: "bridge-b" });
    const seenByB = changeTo(b, "orders", table(10, { get_user: 100 }));
    expect(await a.set("orders", table(10, { get_user: 100 }))).toEqual(table(10, { get_user: 100 }));
    expect(await seenByB).toEqual(table(10, { get_user: 100 }));
    expect(b.routesOf("orders")).toEqual(table(10, { get_user: 100 }));
    expect(b.revisionOf("orders")).toMatchObject({ action: "set", by: "bridge-a" });
    expect(b.routesOf("users")).toEqual(table(0));
  });

  it("rolls back like a stack: each rollback goes one table further back, then NoRouteHistory", async () => {
    const a = await open();
    const b = await open();
    await a.set("orders", table(0));
    await a.set("orders", table(10));
    await a.set("orders", table(50));
    const seenByB = changeTo(b, "orders", table(10));
    expect(await a.rollback("orders")).toEqual(table(10));
    expect(await seenByB).toEqual(table(10));
    expect(await a.rollback("orders")).toEqual(table(0));
    await expect(a.rollback("orders")).rejects.toThrow(NoRouteHistory);
    expect(a.routesOf("orders")).toEqual(table(0));
    // A rollback's result is a table like any other: setting after it and rolling back returns to it.
    await a.set("orders", table(100));
    expect(await a.rollback("orders")).toEqual(table(0));
    const history = await a.history("orders");
    expect(history.map((h) => [h.action, h.routes.defaultWeight])).toEqual([
      ["rollback", 0],
      ["set", 100],
      ["rollback", 0],
      ["rollback", 10],
      ["set", 50],
    ]);
    expect(history[0]!.restored).toBe(history[2]!.revision);
  });

  it("rolls back to a named earlier revision in one step, and refuses one it does not keep", async () => {
    const a = await open();
    await a.set("orders", table(0));
    const start = a.revisionOf("orders")!.revision;
    await a.set("orders", table(10));
    await a.set("orders", table(50));
    await a.set("orders", table(100));
    expect(await a.rollback("orders", start)).toEqual(table(0));
    expect(a.revisionOf("orders")).toMatchObject({ action: "rollback", restored: start });
    await expect(a.rollback("orders", a.revisionOf("orders")!.revision)).rejects.toThrow(NoRouteHistory);
    await expect(a.rollback("orders", start - 1)).rejects.toThrow(/not an earlier table of this service/);
    expect(a.routesOf("orders")).toEqual(table(0));
  });

  it("refuses a rollback of a service that never had a table", async () => {
    const a = await open();
    await expect(a.rollback("orders")).rejects.toThrow(NoRouteHistory);
  });

  it("starts a reopened store from the last table, and seed does not overwrite it", async () => {
    const first = await open();
    expect(await first.seed("orders", table(0))).toBe(true);
    await first.set("orders", table(25, { get_user: 100 }));
    await first.close();
    const restarted = await open();
    expect(restarted.routesOf("orders")).toEqual(table(25, { get_user: 100 }));
    expect(await restarted.seed("orders", table(0))).toBe(false);
    expect(restarted.routesOf("orders")).toEqual(table(25, { get_user: 100 }));
    expect((await restarted.history("orders")).map((h) => h.action)).toEqual(["set", "seed"]);
  });

  it("ignores a stored value that is not a table: the previous table stays in force", async () => {
    const a = await open();
    await a.set("orders", table(10));
    const kv = await new Kvm(connections[0]!).open(bucket);
    const badRevision = await kv.put("orders", JSON.stringify({ routes: { "*": 500 } }));
    // A valid write after the bad one: once it is applied, the bad one was seen (and ignored) before it.
    const seen = changeTo(a, "users", table(1));
    await kv.put("users", JSON.stringify({ routes: { "*": 1 }, action: "set", by: "x" }));
    expect(await seen).toEqual(table(1));
    expect(a.routesOf("orders")).toEqual(table(10));
    expect(a.revisionOf("orders")!.revision).toBeLessThan(badRevision);
  });
});
