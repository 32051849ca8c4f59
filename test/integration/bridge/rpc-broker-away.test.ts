// One side away: the bridge reports not-ready, keeps the other side's requests queued instead of
// failing or dropping them, and carries on by itself when the broker is back.
import { rpc } from "cliffracer";
import type { Bridge } from "../../../bridge/bridge";
import { PrivateNatsServer } from "../../helpers/private-servers";
import { killConnections, listQueues } from "../../helpers/rabbit";
import { waitFor } from "../../helpers/waiters";
import { BridgeFixture } from "./bridge-fixture";

class Calc {
  name = "calc";

  @rpc()
  add(a: number, b: number): number {
    return a + b;
  }
}

describe("bridge rpc: NATS away", () => {
  const fx = new BridgeFixture();
  let nats: PrivateNatsServer;
  let bridge: Bridge;

  beforeAll(async () => {
    await fx.setup();
    nats = await PrivateNatsServer.start();
    await fx.nats.start(Calc, { natsUrl: nats.url });
    bridge = await fx.readyBridge({ natsServices: ["calc"], natsUrl: nats.url });
  });
  afterAll(async () => {
    await fx.cleanup();
    await nats?.destroy();
  });

  it("stops consuming the Nameko queue while NATS is away, then serves what waited", async () => {
    const caller = await fx.peerCaller({ timeoutMs: 60_000 });
    expect(await caller.call("calc", "add", [1, 1])).toBe(2);

    await nats.kill();
    await waitFor(() => !bridge.status().natsConnected, { what: "the bridge to see NATS gone" });
    expect(bridge.ready()).toBe(false);
    const ready = await fetch(`${bridge.opsUrl}/ready`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ status: "unavailable", nats: false });

    const calls = Array.from({ length: 20 }, (_, i) => caller.call("calc", "add", [i, 100]));
    // Nobody takes them: they wait in RabbitMQ.
    await waitFor(
      async () => (await listQueues(fx.vhost.name)).find((q) => q.name === "rpc-calc")?.messages_ready === 20,
      {
        what: "20 requests waiting in rpc-calc",
        timeoutMs: 15_000,
        intervalMs: 200,
      },
    );

    await nats.restart();
    expect(await Promise.all(calls)).toEqual(Array.from({ length: 20 }, (_, i) => i + 100));
    await waitFor(() => bridge.ready(), { what: "the bridge ready again", timeoutMs: 20_000 });
    expect((await fetch(`${bridge.opsUrl}/ready`)).status).toBe(200);
  });
});

describe("bridge rpc: RabbitMQ connections lost", () => {
  const fx = new BridgeFixture();
  let bridge: Bridge;

  beforeAll(async () => {
    await fx.setup();
    await fx.nats.start(Calc);
    await fx.peerService({ name: "legacy", methods: { add: (a: number, b: number) => a + b } });
    bridge = await fx.readyBridge({ natsServices: ["calc"], amqpServices: ["legacy"], name: "away" });
  });
  afterAll(() => fx.cleanup());

  it("reconnects by itself and carries calls both ways again", async () => {
    const client = await fx.nats.client();
    expect(await client.call("legacy", "add", [1, 2])).toBe(3);

    const closed =
      (await killConnections(fx.vhost.name, "cliffracer-bridge:away:consumer")) +
      (await killConnections(fx.vhost.name, "cliffracer-bridge:away:publisher"));
    expect(closed).toBe(2);
    await waitFor(() => bridge.ready(), { what: "the bridge ready after reconnecting", timeoutMs: 20_000 });

    expect(await client.call("legacy", "add", [2, 3])).toBe(5);
    const caller = await fx.peerCaller();
    expect(await caller.call("calc", "add", [3, 4])).toBe(7);
    expect(await fx.waitForLog(/amqp connection lost; reconnecting/)).toBeDefined();
  });
});
