// The control plane of weighted routing (docs/routing.md, The route table) on a real bridge: its ops
// port's /routes endpoints, the Bridge methods, and `cliffracer route` against that port. The port
// of the routed service runs under a private prefix and announces its methods on $SRV; each test
// file has its own vhosts, prefixes and route bucket, deleted after.
import { createServer } from "node:net";
import { randomBytes } from "node:crypto";
import { Kvm } from "@nats-io/kv";
import { rpc } from "cliffracer";
import type { Bridge } from "../../../bridge/bridge";
import { createBridge } from "../../../bridge/bridge";
import { buildProgram } from "../../../cli/main";
import { InvalidRouteTable } from "../../../bridge/routing/route-table";
import { ServiceNotRouted } from "../../../bridge/routing/route-control";
import { ROUTE_OK, ROUTE_REFUSED, ROUTE_UNREACHABLE, runRoute } from "../../../bridge/route-command";
import { createVhost, type TestVhost } from "../../helpers/rabbit";
import { uniquePrefix } from "../../helpers/brokers";
import { waitFor } from "../../helpers/waiters";
import { BridgeFixture } from "./bridge-fixture";

class Orders {
  name = "orders";

  @rpc()
  get_user(id: number): number {
    return id;
  }

  @rpc()
  create_user(name: string): string {
    return name;
  }
}

/** Another "orders" under the callers' prefix, not the port's: its methods must not count. */
class OrdersElsewhere {
  name = "orders";

  @rpc()
  delete_user(id: number): number {
    return id;
  }
}

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

async function http(method: string, url: string, body?: string): Promise<Answer> {
  const response = await fetch(url, { method, body, headers: body ? { "content-type": "application/json" } : {} });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/**
 * Runs `cliffracer route ...` through the program's command table in this process (a spawned
 * `cliffracer` takes several seconds to start on a busy machine); resolves with its exit status and output.
 */
async function cli(args: string[]): Promise<{ code: number; out: string }> {
  let out = "";
  const write = jest.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    out += chunk.toString();
    return true;
  });
  try {
    await buildProgram().parseAsync(["node", "cliffracer", "route", ...args]);
    return { code: Number(process.exitCode ?? 0), out };
  } finally {
    write.mockRestore();
    process.exitCode = undefined;
  }
}

describe("route tables on the bridge's ops port", () => {
  const fx = new BridgeFixture();
  const portPrefix = uniquePrefix();
  const bucket = `t_routes_${randomBytes(6).toString("hex")}`;
  let original: TestVhost;
  let bridge: Bridge;
  let other: Bridge | undefined;
  let ops: string;

  function routedConfig(name: string): ReturnType<BridgeFixture["config"]> {
    const config = fx.config({ name, discovery: { enabled: false } });
    config.routing = {
      bucket,
      history: 5,
      services: {
        orders: {
          originalAmqpUri: original.uri,
          portPrefix,
          // get_user from the config, create_user only from the port's $SRV endpoints.
          methods: ["get_user"],
          initialRoutes: { defaultWeight: 0, methods: { get_user: 10 } },
          eventHandlerQueues: [],
        },
      },
    };
    return config;
  }

  beforeAll(async () => {
    await fx.setup();
    original = await createVhost("cliff-original");
    await fx.nats.start(Orders, { prefix: portPrefix });
    await fx.nats.start(OrdersElsewhere);
    bridge = createBridge(routedConfig("routes-a"), { log: fx.log });
    await bridge.start();
    ops = bridge.opsUrl!;
  });

  afterAll(async () => {
    await other?.stop();
    await bridge?.stop();
    const nc = await fx.nats.connection();
    await (await new Kvm(nc).open(bucket)).destroy().catch(() => undefined);
    await fx.cleanup();
    await original?.delete();
  });

  it("starts from the config's initial table and lists it at GET /routes", async () => {
    expect(bridge.routes("orders")).toEqual({ defaultWeight: 0, methods: { get_user: 10 } });
    const all = await http("GET", `${ops}/routes`);
    expect(all.status).toBe(200);
    expect(all.body).toMatchObject({
      services: { orders: { service: "orders", routes: { "*": 0, get_user: 10 }, action: "seed", by: "routes-a" } },
    });
  });

  it("takes a PUT naming methods from the config and from $SRV, and a second bridge applies it", async () => {
    const put = await http("PUT", `${ops}/routes/orders`, JSON.stringify({ "*": 5, get_user: 100, create_user: 20 }));
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({
      service: "orders",
      routes: { "*": 5, get_user: 100, create_user: 20 },
      action: "set",
    });
    // A second bridge started now finds the table set at run time, not the config's initial one.
    other = createBridge(routedConfig("routes-b"), { log: fx.log });
    await other.start();
    expect(other.routes("orders")).toEqual({ defaultWeight: 5, methods: { get_user: 100, create_user: 20 } });
    // And applies a change made through the first bridge from its watch.
    await bridge.setRoutes("orders", { "*": 0, create_user: 50 });
    await waitFor(() => other!.routes("orders").methods.create_user === 50, { what: "bridge b to apply the change" });
  });

  it("refuses a table naming a method the port does not announce with 400, the previous table staying in force", async () => {
    const before = bridge.routes("orders");
    const put = await http("PUT", `${ops}/routes/orders`, JSON.stringify({ "*": 0, delete_user: 100 }));
    expect(put.status).toBe(400);
    expect(put.body).toEqual({ error: { type: "InvalidRouteTable", message: expect.stringContaining("delete_user") } });
    expect((await http("PUT", `${ops}/routes/orders`, JSON.stringify({ "*": 101 }))).status).toBe(400);
    expect((await http("PUT", `${ops}/routes/orders`, "{not json")).body).toMatchObject({
      error: { type: "InvalidJson" },
    });
    await expect(bridge.setRoutes("orders", ["get_user"])).rejects.toThrow(InvalidRouteTable);
    expect(bridge.routes("orders")).toEqual(before);
    expect((await http("GET", `${ops}/routes/orders`)).body).toMatchObject({ routes: { "*": 0, create_user: 50 } });
  });

  it("answers 404 for a service that is not routed, and 413 for a body too large", async () => {
    const put = await http("PUT", `${ops}/routes/users`, JSON.stringify({ "*": 100 }));
    expect(put).toEqual({ status: 404, body: { error: { type: "ServiceNotRouted", message: expect.any(String) } } });
    expect((await http("GET", `${ops}/routes/users`)).status).toBe(404);
    expect(() => bridge.routes("users")).toThrow(ServiceNotRouted);
    const big = JSON.stringify({ "*": 0, padding: "x".repeat(100_000) });
    expect(await http("PUT", `${ops}/routes/orders`, big)).toMatchObject({
      status: 413,
      body: { error: { type: "BodyTooLarge" } },
    });
  });

  it("rolls back with POST /routes/<service>/rollback and lists the history at GET /routes/<service>", async () => {
    const rolled = await http("POST", `${ops}/routes/orders/rollback`);
    expect(rolled.status).toBe(200);
    expect(rolled.body).toMatchObject({ routes: { "*": 5, get_user: 100, create_user: 20 }, action: "rollback" });
    const shown = await http("GET", `${ops}/routes/orders`);
    const history = shown.body.history as Array<{ action: string }>;
    expect(history.map((h) => h.action)).toEqual(["rollback", "set", "set", "seed"]);
    expect((await bridge.rollbackRoutes("orders")).methods).toEqual({ get_user: 10 });
    const none = await http("POST", `${ops}/routes/orders/rollback`);
    expect(none).toMatchObject({ status: 409, body: { error: { type: "NoRouteHistory" } } });
  });

  it("cliffracer route sets the whole table through the bridge's ops port and exits 0", async () => {
    const set = await cli(["orders", "get_user=100", "--default", "25", "--bridge-url", ops]);
    expect(set).toMatchObject({ code: 0 });
    expect(set.out).toMatch(/get_user\s+100% to the port/);
    expect(bridge.routes("orders")).toEqual({ defaultWeight: 25, methods: { get_user: 100 } });
  });

  it("the route command shows, rolls back, exits 1 when refused and 2 when the bridge is unreachable", async () => {
    const printed = { out: "", err: "" };
    const output = { out: (t: string) => void (printed.out += t), err: (t: string) => void (printed.err += t) };
    process.env.CLIFFRACER_BRIDGE_URL = ops;
    try {
      expect(await runRoute("orders", [], { json: true }, output)).toBe(ROUTE_OK);
    } finally {
      delete process.env.CLIFFRACER_BRIDGE_URL;
    }
    expect(JSON.parse(printed.out)).toMatchObject({ routes: { "*": 25, get_user: 100 }, history: expect.any(Array) });

    expect(await runRoute("orders", ["nope=10"], { bridgeUrl: ops }, output)).toBe(ROUTE_REFUSED);
    expect(printed.err).toMatch(/^InvalidRouteTable: .*nope/);
    expect(bridge.routes("orders")).toEqual({ defaultWeight: 25, methods: { get_user: 100 } });

    printed.out = "";
    expect(await runRoute("orders", [], { rollback: true, bridgeUrl: ops }, output)).toBe(ROUTE_OK);
    expect(bridge.routes("orders")).toEqual({ defaultWeight: 0, methods: { get_user: 10 } });
    expect(printed.out).toMatch(/^orders \(revision \d+, rollback to revision \d+ by routes-a at /);

    // --rollback --to N puts back revision N's table in one step, whatever came after it.
    type Listed = { history: Array<{ revision: number; action: string; routes: Record<string, number> }> };
    const listed = ((await http("GET", `${ops}/routes/orders`)).body as unknown as Listed).history;
    // The oldest revision listed, several tables back.
    const seed = listed[listed.length - 1]!;
    const seeded = seed.revision;
    expect(await runRoute("orders", [], { rollback: true, to: String(seeded), bridgeUrl: ops }, output)).toBe(ROUTE_OK);
    expect((await http("GET", `${ops}/routes/orders`)).body.routes).toEqual(seed.routes);
    expect(printed.out).toMatch(new RegExp(`rollback to revision ${seeded} by`));
    expect(await runRoute("orders", [], { rollback: true, to: "999999", bridgeUrl: ops }, output)).toBe(ROUTE_REFUSED);
    expect(printed.err).toMatch(/NoRouteHistory: .*revision 999999 is not an earlier table/);
    const badBody = await http("POST", `${ops}/routes/orders/rollback`, JSON.stringify({ revision: "x" }));
    expect(badBody.status).toBe(400);

    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const { port } = closed.address() as { port: number };
    await new Promise((resolve) => closed.close(resolve));
    printed.err = "";
    expect(await runRoute("orders", [], { show: true, bridgeUrl: `http://127.0.0.1:${port}` }, output)).toBe(
      ROUTE_UNREACHABLE,
    );
    expect(printed.err).toMatch(/^cannot reach the bridge at http:\/\/127.0.0.1:\d+: /);
  });
});
