// A bridge without --nats-service/--amqp-service finds services by itself: runtime services by the
// NATS services protocol, Nameko services by the RabbitMQ management API; and when a service moves
// sides, callers on both sides keep calling it without a restart.
import { rpc } from "cliffracer";
import type { Bridge } from "../../../bridge/bridge";
import { waitFor } from "../../helpers/waiters";
import { BridgeFixture, ensureManagementApi } from "./bridge-fixture";

class Ported {
  name = "ported";

  @rpc()
  where(): string {
    return "nats";
  }
}

class Moving {
  name = "moving";

  @rpc()
  where(): string {
    return "nats";
  }
}

describe("bridge rpc: discovery", () => {
  const fx = new BridgeFixture();
  let bridge: Bridge;

  beforeAll(async () => {
    await ensureManagementApi();
    await fx.setup();
    await fx.peerService({ name: "legacy", methods: { where: () => "amqp" } });
    await fx.peerService({ name: "moving", methods: { where: () => "amqp" } });
    await fx.nats.start(Ported);
    bridge = await fx.bridge({ discovery: { intervalMs: 250, natsWaitMs: 250, missesBeforeRemoval: 2 } });
  });
  afterAll(() => fx.cleanup());

  it("finds a runtime service and a Nameko service and carries calls both ways", async () => {
    // The management API refreshes consumer lists every statistics interval (5 s by default).
    await waitFor(() => bridge.status().rpcToNats.includes("ported") && bridge.status().rpcToAmqp.includes("legacy"), {
      what: "both services discovered",
      timeoutMs: 20_000,
      intervalMs: 50,
    });
    expect(bridge.status().rpcToNats).not.toContain("legacy");
    expect(bridge.status().rpcToAmqp).not.toContain("ported");
    // Both are listed on NATS, the Nameko one as bridged; the bridge's own discovery takes that
    // announcement for no service on NATS (or it would route legacy back to itself).
    expect((await fx.srv("INFO", "legacy")).map((i) => i.metadata.bridged)).toEqual(["true"]);
    expect((await fx.srv("INFO", "ported")).map((i) => i.metadata.bridged)).toEqual([undefined]);
    const caller = await fx.peerCaller();
    expect(await caller.call("ported", "where")).toBe("nats");
    const client = await fx.nats.client();
    expect(await client.call("legacy", "where")).toBe("amqp");
    await waitFor(() => bridge.ready(), { what: "bridge ready" });
  });

  it("follows a service that moves from RabbitMQ to NATS, with no caller restarted", async () => {
    await waitFor(() => bridge.status().rpcToAmqp.includes("moving"), {
      what: "moving discovered on RabbitMQ",
      timeoutMs: 20_000,
      intervalMs: 50,
    });
    const caller = await fx.peerCaller();
    const client = await fx.nats.client();
    expect(await client.call("moving", "where")).toBe("amqp");

    // The port starts on NATS: the bridge now consumes rpc-moving and leaves rpc.moving.* to it.
    await fx.nats.start(Moving);
    await waitFor(() => bridge.status().rpcToNats.includes("moving") && !bridge.status().rpcToAmqp.includes("moving"), {
      what: "moving routed to NATS",
      timeoutMs: 20_000,
      intervalMs: 50,
    });
    expect(await client.call("moving", "where")).toBe("nats");
    // The bridge withdrew its announcement of moving: only the port answers for it now.
    expect((await fx.srv("INFO", "moving")).map((i) => i.metadata.bridged)).toEqual([undefined]);
    const fromAmqp = await Promise.all(Array.from({ length: 40 }, () => caller.call("moving", "where")));
    expect(fromAmqp).toContain("nats");
  });
});
