// What a call routed by weight gets from its side (docs/routing.md): the port's own error, or the
// bridge's timeout when the port does not answer in time, and never a second try on the original;
// the original's own outgoing calls, published in its vhost, served by the bridge and carried to
// the service on NATS; and the routed service's queue on the callers' vhost bound only as Nameko binds it.
import { rpc, RpcProxy, type ServiceProxy } from "cliffracer";
import type { Bridge } from "../../../bridge/bridge";
import { listBindings, listQueues } from "../../helpers/rabbit";
import { deferred } from "../../helpers/waiters";
import { PeerDispatcher, PeerRemoteError, startPeerHandler } from "../../interop/nameko-peer";
import { BridgeFixture } from "./bridge-fixture";

/** The bridge's timeout of a call to either side, in milliseconds. */
const BRIDGE_TIMEOUT_MS = 1_500;

class OutOfStock extends Error {
  override name = "OutOfStock";
}

const portRuns: string[] = [];
/** Holds the port's `slow` until the test has seen its caller time out. */
const release = deferred();

class Orders {
  name = "orders";

  @RpcProxy("helper") helper!: ServiceProxy;

  /** The port's own outgoing call: under NATS_PREFIX, not its private intake prefix. */
  @rpc()
  async quote(value: string): Promise<unknown> {
    portRuns.push(`quote:${value}`);
    return this.helper.echo(value);
  }

  @rpc()
  reserve(id: string): string {
    portRuns.push(`reserve:${id}`);
    throw new OutOfStock(`no stock for ${id}`);
  }

  @rpc()
  async slow(id: string): Promise<string> {
    portRuns.push(`slow:${id}`);
    await release.promise;
    return "late";
  }
}

class Helper {
  name = "helper";

  @rpc()
  echo(value: string): string {
    return `echo:${value}`;
  }
}

describe("routing by weight: what each side answers", () => {
  const fx = new BridgeFixture();
  const originalRuns: string[] = [];
  let bridge: Bridge;
  let originalVhost = "";
  let originalUri = "";

  beforeAll(async () => {
    await fx.setup();
    const original = await fx.otherVhost();
    originalVhost = original.name;
    originalUri = original.uri;
    await fx.peerService({
      uri: original.uri,
      name: "orders",
      methods: {
        reserve: (id: string) => (originalRuns.push(`reserve:${id}`), "original"),
        slow: (id: string) => (originalRuns.push(`slow:${id}`), "original"),
        // The original's own outgoing call, published in its vhost like any Nameko call.
        relay: {
          params: ["value"],
          fn: async function (value: string) {
            originalRuns.push(`relay:${value}`);
            return this.call("helper", "echo", [value]);
          },
        },
      },
    });
    await fx.nats.start(Orders, { rpcIntakePrefix: fx.portPrefix });
    await fx.nats.start(Helper);
    bridge = await fx.readyBridge(
      {
        natsServices: ["helper"],
        rpcTimeoutMs: BRIDGE_TIMEOUT_MS,
        routing: {
          orders: {
            originalAmqpUri: original.uri,
            initialRoutes: { defaultWeight: 0, methods: { reserve: 100, slow: 100, quote: 100 } },
          },
        },
      },
      {},
    );
  }, 30_000);
  afterAll(async () => {
    release.resolve();
    await fx.cleanup();
  });

  it("gives Nameko and NATS callers the port's own error, and the original never runs the call", async () => {
    const caller = await fx.peerCaller();
    const client = await fx.nats.client();
    await expect(caller.call("orders", "reserve", ["a1"])).rejects.toMatchObject({
      excType: "OutOfStock",
    } as Partial<PeerRemoteError>);
    await expect(client.call("orders", "reserve", ["n1"])).rejects.toMatchObject({ excType: "OutOfStock" });
    expect(portRuns).toEqual(expect.arrayContaining(["reserve:a1", "reserve:n1"]));
    expect(originalRuns.filter((r) => r.startsWith("reserve:"))).toEqual([]);
    const metrics = await bridge.registry.metrics();
    expect(metrics).toMatch(
      /cliffracer_route_errors_total\{service="orders",method="reserve",side="port",type="remote"[^}]*\} 2/,
    );
  });

  it("gives the caller the bridge's timeout when the port does not answer, without trying the original", async () => {
    const caller = await fx.peerCaller();
    const client = await fx.nats.client();
    await expect(caller.call("orders", "slow", ["a2"])).rejects.toMatchObject({
      excType: "RpcTimeout",
    } as Partial<PeerRemoteError>);
    await expect(client.call("orders", "slow", ["n2"])).rejects.toMatchObject({ excType: "RpcTimeout" });
    expect(originalRuns.filter((r) => r.startsWith("slow:"))).toEqual([]);
    const metrics = await bridge.registry.metrics();
    expect(metrics).toMatch(
      /cliffracer_route_errors_total\{service="orders",method="slow",side="port",type="timeout"[^}]*\} 2/,
    );
  });

  it("serves the port under its intake prefix while its own calls use the shared prefix", async () => {
    const client = await fx.nats.client();
    await expect(client.call("orders", "quote", ["q"])).resolves.toBe("echo:q");
    expect(portRuns).toContain("quote:q");
    // The port announces its endpoints under the intake prefix, where only the bridge calls them.
    const nc = await fx.nats.connection();
    const infos: Array<{ metadata: Record<string, string>; endpoints: Array<{ subject: string }> }> = [];
    for await (const m of await nc.requestMany("$SRV.INFO.orders", "", {
      strategy: "stall",
      stall: 300,
      maxWait: 2000,
    }))
      infos.push(m.json());
    const subjects = infos.flatMap((i) => i.endpoints.map((e) => e.subject));
    expect(subjects).toContain(`${fx.portPrefix}.rpc.orders.*`);
    expect(subjects).toContain(`${fx.prefix}.rpc.orders.*`);
  });

  it("carries the original's own call to a service on NATS and its result back", async () => {
    const caller = await fx.peerCaller();
    await expect(caller.call("orders", "relay", ["hi"])).resolves.toBe("echo:hi");
    expect(originalRuns).toContain("relay:hi");
  });

  it("relays the original's events to Nameko handlers on the callers' vhost and on to NATS", async () => {
    const handler = await startPeerHandler({
      uri: fx.vhost.uri,
      source: "orders",
      eventType: "created",
      service: "audit",
      method: "on_created",
    });
    const nc = await fx.nats.connection();
    const onNats = nc.subscribe(`${fx.prefix}.events.orders.created`, { max: 1 });
    const dispatcher = await PeerDispatcher.start(originalUri);
    try {
      // As the original's in-service dispatcher publishes it, in its own vhost.
      await dispatcher.dispatch("orders", "created", { id: "o1" }, { service: { callIdStack: ["orders.create.1"] } });
      const [event] = await handler.waitFor(1, 10_000);
      expect(event.payload).toEqual({ id: "o1" });
      expect(event.context.parentStack).toEqual(["orders.create.1"]);
      for await (const m of onNats) expect(m.json()).toEqual({ id: "o1" });
    } finally {
      await dispatcher.close();
      await handler.stop();
    }
  });

  it("binds the routed service's queue on the callers' vhost only with <service>.*, as Nameko does", async () => {
    const bindings = (await listBindings(fx.vhost.name)).filter((b) => b.destination_name === "rpc-orders");
    expect(bindings.map((b) => [b.source_name, b.routing_key]).sort()).toEqual([
      ["", "rpc-orders"],
      ["nameko-rpc", "orders.*"],
    ]);
    // On the original's vhost the bridge serves the services the original may call, not orders itself.
    const queues = (await listQueues(originalVhost)).map((q) => q.name);
    expect(queues).toEqual(expect.arrayContaining(["rpc-orders", "rpc-helper"]));
    expect(bridge.status().rpcToNats).toEqual(["helper"]);
  });
});
