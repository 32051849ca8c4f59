// The event paths as the whole bridge (createBridge) runs them: named by flags, or following
// discovery as a service appears and leaves; and a service leaving the AMQP side (refresh/retire).
import { rpc } from "../../../src/entrypoints/rpc";
import { eventHandler } from "../../../src/entrypoints/events";
import { bridgeEventQueue } from "../../../bridge/amqp/event-inbound";
import { bridgeConsumerName } from "../../../bridge/nats/event-inbound";
import { BridgeEventsFixture, until } from "./event-fixture";

jest.setTimeout(90_000);

describe("bridge events through createBridge", () => {
  let fx: BridgeEventsFixture;

  beforeEach(async () => {
    fx = await new BridgeEventsFixture().setup();
  });
  afterEach(async () => {
    await fx.cleanup();
  });

  it("carries events both ways for services named by flags, and counts them in /metrics", async () => {
    const nameko = await fx.peerHandler({
      source: "orders",
      eventType: "placed",
      service: "billing",
      method: "on_placed",
    });
    const seen: unknown[] = [];
    class Ledger {
      name = "ledger";
      @eventHandler("payments", "paid")
      async onPaid(payload: unknown) {
        seen.push(payload);
      }
    }
    await fx.startService(Ledger);
    const { bridge } = await fx.startFullBridge({ natsServices: ["orders"], amqpServices: ["payments"] });
    await until(() => bridge.ready(), "bridge ready");
    expect(bridge.status().events).toMatchObject({
      natsToAmqp: ["orders"],
      amqpToNats: ["payments"],
      failing: [],
      natsConnected: true,
    });

    await fx.publishNats("orders", "placed", { n: 1 });
    await (await fx.peer()).dispatch("payments", "paid", { n: 2 }, { service: { callIdStack: ["payments.pay.1"] } });
    const [e] = await nameko.waitFor(1);
    expect(e.payload).toEqual({ n: 1 });
    await until(() => seen.length === 1 || undefined, "the runtime handler ran");
    expect(seen[0]).toEqual({ n: 2 });

    const metrics = await until(async () => {
      const text = await (await fetch(`${bridge.opsUrl}/metrics`)).text();
      return /cliffracer_bridge_events_total\{[^}]*direction="amqp_to_nats"[^}]*service="payments"[^}]*\} 1/.test(
        text,
      ) && /cliffracer_bridge_events_total\{[^}]*direction="nats_to_amqp"[^}]*service="orders"[^}]*\} 1/.test(text)
        ? text
        : undefined;
    }, "both forwards in /metrics");
    expect(metrics).toContain("cliffracer_bridge_events_duration_seconds");
  });

  it("follows discovery: a NATS service that appears gets an event path, and loses it when it leaves", async () => {
    const nameko = await fx.peerHandler({
      source: "orders",
      eventType: "placed",
      service: "billing",
      method: "on_placed",
    });
    const { bridge } = await fx.startFullBridge({
      discovery: { enabled: true, management: false, intervalMs: 200, natsWaitMs: 200, missesBeforeRemoval: 1 },
    });
    expect(bridge.status().events?.natsToAmqp).toEqual([]);

    class Orders {
      name = "orders";
      @rpc()
      place(): string {
        return "ok";
      }
    }
    class Bystander {
      name = "bystander";
      @rpc()
      ping(): string {
        return "pong";
      }
    }
    // Another announced service stays up: discovery (bridge/routing/discovery.ts) treats "no
    // responders" on $SRV.INFO as a failed round and keeps the last known services, so without
    // it the last service to leave would never be removed.
    await fx.startService(Bystander, { config: { announce: true } });
    const orders = await fx.startService(Orders, { config: { announce: true } });
    await until(
      () => bridge.status().events?.natsToAmqp.includes("orders"),
      "an event path for the discovered service",
    );
    await until(() => bridge.ready(), "bridge ready");
    await fx.publishNats("orders", "placed", { n: 1 });
    const [e] = await nameko.waitFor(1);
    expect(e.payload).toEqual({ n: 1 });

    await orders.stop();
    await until(
      () => !bridge.status().events?.natsToAmqp.includes("orders") || undefined,
      "the event path retired",
      20_000,
    );
    const jsm = await fx.jsm();
    // Nothing was left in it, so the shared consumer is removed rather than kept collecting events.
    await until(
      async () =>
        !(await jsm.consumers.list(fx.nats.streamName).next()).some((c) => c.name === bridgeConsumerName("orders")) ||
        undefined,
      "the bridge consumer deleted",
    );
  });

  it("a service that leaves the AMQP side: its queue is unbound, what it held is forwarded, then it is deleted", async () => {
    fx.directory.amqp = ["payments"];
    const seen: number[] = [];
    class Ledger {
      name = "ledger";
      @eventHandler("payments", "paid")
      async onPaid(payload: { n: number }) {
        seen.push(payload.n);
      }
    }
    const first = await fx.startBridge();
    await first.stop();
    const peer = await fx.peer();
    for (let n = 0; n < 20; n++) await peer.dispatch("payments", "paid", { n });
    const queue = bridgeEventQueue("payments").queue;
    expect((await fx.queue(queue))?.messages).toBe(20);

    await fx.startService(Ledger);
    // One at a time, so the queue still holds most of them when the service leaves.
    const b = await fx.startBridge({ options: { amqpPrefetch: 1, retryInitialMs: 20, retryMaxMs: 200 } });
    fx.directory.amqp = [];
    await b.bridge.refresh();
    await until(() => seen.length >= 20 || undefined, "the 20 held events forwarded before the queue went");
    await until(async () => (await fx.queue(queue)) === undefined || undefined, "the bridge queue deleted");
    expect(new Set(seen).size).toBe(20);
    expect(b.bridge.status().amqpToNats).toEqual([]);
    expect(b.bridge.ready()).toBe(true);
    // Unbound: later events of payments are no longer collected for NATS.
    await peer.dispatch("payments", "paid", { n: 99 });
    expect(await fx.queue(queue)).toBeUndefined();
  });
});
