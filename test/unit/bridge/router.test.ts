import type { MsgHdrs } from "@nats-io/transport-node";
import type { Onward, OnwardFailure } from "../../../bridge/onward";
import { RouteMetrics, MAX_ROUTE_METHOD_LABELS } from "../../../bridge/routing/route-metrics";
import { Router } from "../../../bridge/routing/router";
import { chooseSide, type ServiceRoutes } from "../../../bridge/routing/route-table";
import { ServiceDirectory } from "../../../bridge/routing/service-directory";
import { errorReply } from "../../../bridge/translate";
import { createRegistry } from "../../../src/internal";

const OK = Buffer.from('{"result": "ok", "error": null}');

/** A side that records what it was given and answers with `answer`. */
class Side implements Onward {
  readonly calls: Array<{ method: string; identity: string }> = [];
  constructor(private readonly answer: Uint8Array | OnwardFailure = OK) {}
  forward(
    _service: string,
    method: string,
    _body: Uint8Array,
    _headers: MsgHdrs | undefined,
    identity: string,
  ): Promise<Uint8Array | OnwardFailure> {
    this.calls.push({ method, identity });
    return Promise.resolve(this.answer);
  }
}

function router(routes: ServiceRoutes | (() => ServiceRoutes), port = new Side(), original = new Side()) {
  const registry = createRegistry({ processMetrics: false });
  const table = typeof routes === "function" ? routes : () => routes;
  const r = new Router({ routes: { routesOf: table }, port, original, metrics: new RouteMetrics(registry) });
  return { r, port, original, registry };
}

describe("Router", () => {
  it("sends each call to the side chooseSide gives for its identity, and the same identity to the same side", async () => {
    const routes: ServiceRoutes = { defaultWeight: 0, methods: { work: 50 } };
    const { r, port, original } = router(routes);
    const ids = Array.from({ length: 200 }, (_, i) => `reply-${i}:corr-${i}`);
    for (const id of [...ids, ...ids]) await r.forward("orders", "work", OK, undefined, id);
    expect(port.calls.length + original.calls.length).toBe(400);
    for (const { identity } of port.calls) expect(chooseSide(routes, "work", identity)).toBe("port");
    for (const { identity } of original.calls) expect(chooseSide(routes, "work", identity)).toBe("original");
    expect(port.calls.length).toBeGreaterThan(0);
    expect(original.calls.length).toBeGreaterThan(0);
  });

  it("reads the table in force on every call", async () => {
    let weight = 0;
    const { r, port, original } = router(() => ({ defaultWeight: weight, methods: {} }));
    await r.forward("orders", "work", OK, undefined, "a");
    weight = 100;
    await r.forward("orders", "work", OK, undefined, "a");
    expect(original.calls).toHaveLength(1);
    expect(port.calls).toHaveLength(1);
  });

  it("gives the side's failure to the caller without trying the other side", async () => {
    const failure: OnwardFailure = {
      kind: "timeout",
      error: new Error("late"),
      body: errorReply(new Error("late")),
      requeue: false,
      mayHaveRun: true,
    };
    const { r, original, registry } = router({ defaultWeight: 100, methods: {} }, new Side(failure));
    await expect(r.forward("orders", "work", OK, undefined, "a")).resolves.toBe(failure);
    expect(original.calls).toEqual([]);
    expect(await registry.metrics()).toMatch(
      /cliffracer_route_errors_total\{service="orders",method="work",side="port",type="timeout"\} 1/,
    );
  });

  it("answers BridgeUnavailable, sending nothing, when no table can be read", async () => {
    const { r, port, original } = router(() => {
      throw new Error("route store not open");
    });
    const outcome = await r.forward("orders", "work", OK, undefined, "a");
    expect(outcome).toMatchObject({ kind: "no_routes", requeue: false, mayHaveRun: false });
    expect([...port.calls, ...original.calls]).toEqual([]);
  });

  it("counts calls and error replies per service, method and side", async () => {
    const { r, registry } = router({ defaultWeight: 0, methods: {} }, new Side(), new Side(errorReply(new Error("x"))));
    await r.forward("orders", "work", OK, undefined, "a");
    const text = await registry.metrics();
    expect(text).toMatch(/cliffracer_route_calls_total\{service="orders",method="work",side="original"\} 1/);
    expect(text).toMatch(
      /cliffracer_route_errors_total\{service="orders",method="work",side="original",type="remote"\} 1/,
    );
    expect(text).toMatch(/cliffracer_route_duration_seconds_count\{service="orders",method="work",side="original"\} 1/);
  });
});

describe("RouteMetrics", () => {
  it("keeps a bounded number of method labels per service, counting the rest under _other", async () => {
    const registry = createRegistry({ processMetrics: false });
    const metrics = new RouteMetrics(registry);
    for (let i = 0; i < MAX_ROUTE_METHOD_LABELS + 5; i++) metrics.record("orders", `m${i}`, "port", 0.001, undefined);
    const text = await registry.metrics();
    expect(text.match(/^cliffracer_route_calls_total\{/gm)).toHaveLength(MAX_ROUTE_METHOD_LABELS + 1);
    expect(text).toMatch(/cliffracer_route_calls_total\{service="orders",method="_other",side="port"\} 5/);
  });
});

describe("ServiceDirectory with routed services", () => {
  it("leaves a routed service out of both routes, wherever discovery finds it", () => {
    const directory = new ServiceDirectory(["ledger"], ["legacy"], ["orders"]);
    directory.setDiscovered("amqp", ["orders"]);
    directory.setDiscovered("nats", ["orders"]);
    const routes = directory.routes();
    expect([...routes.rpcToNats]).toEqual(["ledger"]);
    expect([...routes.rpcToAmqp]).toEqual(["legacy"]);
  });
});
