// A service on both sides at once (a migration in progress): its events reach every handler once,
// never loop between RabbitMQ and NATS, and the bridge's markers never spread past one hop.
import { AckPolicy, DeliverPolicy, jetstream } from "@nats-io/jetstream";
import { bridgeEventQueue } from "../../../bridge/amqp/event-inbound";
import { bridgeConsumerName } from "../../../bridge/nats/event-inbound";
import type { WorkerContext } from "../../../src/core/extension";
import { Context } from "../../../src/dependencies/context";
import { EventDispatcher, type Dispatch } from "../../../src/dependencies/event-dispatcher";
import { eventHandler } from "../../../src/entrypoints/events";
import { contextToNatsHeaders } from "../../../src/nats/headers";
import type { PeerEvent } from "../../interop/nameko-peer";
import { BridgeEventsFixture, until } from "./event-fixture";

jest.setTimeout(90_000);

type Tagged = { side: string; n: number };
const key = (p: unknown): string => `${(p as Tagged).side}:${(p as Tagged).n}`;

describe("bridge events with a service on both sides", () => {
  let fx: BridgeEventsFixture;

  beforeEach(async () => {
    fx = await new BridgeEventsFixture().setup();
  });
  afterEach(async () => {
    await fx.cleanup();
  });

  it("each handler gets each event once, whichever side published it, and nothing loops", async () => {
    fx.directory.nats = ["inventory"];
    fx.directory.amqp = ["inventory"];
    const peerHandler = await fx.peerHandler({
      source: "inventory",
      eventType: "changed",
      service: "audit",
      method: "on_changed",
    });
    const runtimeSeen: string[] = [];
    class StockView {
      name = "stock_view";
      @eventHandler("inventory", "changed")
      async onChanged(payload: unknown) {
        runtimeSeen.push(key(payload));
      }
    }
    await fx.startService(StockView);
    const b = await fx.startBridge();
    const peer = await fx.peer();
    const stack = ["inventory.adjust.1"];

    const total = 50;
    for (let n = 0; n < total; n++) {
      await peer.dispatch("inventory", "changed", { side: "amqp", n }, { service: { callIdStack: stack } });
      await fx.publishNats("inventory", "changed", { side: "nats", n }, contextToNatsHeaders({}, stack));
    }
    const expected = [...Array(total).keys()].flatMap((n) => [`amqp:${n}`, `nats:${n}`]).sort();
    await until(
      () => peerHandler.events.length >= 2 * total || undefined,
      "the Nameko handler got both sides' events",
      30_000,
    );
    await until(
      () => runtimeSeen.length >= 2 * total || undefined,
      "the runtime handler got both sides' events",
      30_000,
    );
    // Every copy that came back was recognised and dropped.
    await until(
      () =>
        (b.metrics.get("dropped:amqp_to_nats:inventory:loop") === total &&
          b.metrics.get("dropped:nats_to_amqp:inventory:loop") === total) ||
        undefined,
      "both sides' returning copies dropped",
    );

    // A sentinel from each side: once both handlers have it, anything looping would have shown up.
    await peer.dispatch("inventory", "changed", { side: "amqp", n: total }, { service: { callIdStack: stack } });
    await fx.publishNats("inventory", "changed", { side: "nats", n: total }, contextToNatsHeaders({}, stack));
    await until(() => peerHandler.events.length >= 2 * total + 2 || undefined, "sentinels at the Nameko handler");
    await until(() => runtimeSeen.length >= 2 * total + 2 || undefined, "sentinels at the runtime handler");
    await until(
      () =>
        (b.metrics.get("dropped:amqp_to_nats:inventory:loop") === total + 1 &&
          b.metrics.get("dropped:nats_to_amqp:inventory:loop") === total + 1) ||
        undefined,
      "the sentinels' copies dropped",
    );

    const withSentinels = [...expected, `amqp:${total}`, `nats:${total}`].sort();
    expect(peerHandler.events.map((e) => key(e.payload)).sort()).toEqual(withSentinels);
    expect([...runtimeSeen].sort()).toEqual(withSentinels);
    expect(b.metrics.get("forwarded:amqp_to_nats:inventory")).toBe(total + 1);
    expect(b.metrics.get("forwarded:nats_to_amqp:inventory")).toBe(total + 1);

    // The stream got each NATS event plus each bridged AMQP event, once, and let them all go.
    const jsm = await fx.jsm();
    await until(
      async () => (await jsm.streams.info(fx.nats.streamName)).state.messages === 0 || undefined,
      "the stream emptied",
    );
    expect((await jsm.streams.info(fx.nats.streamName)).state.last_seq).toBe(2 * (total + 1));
    const consumer = await jsm.consumers.info(fx.nats.streamName, bridgeConsumerName("inventory"));
    expect(consumer.delivered.stream_seq).toBe(2 * (total + 1));
    await until(
      async () => (await fx.queue(bridgeEventQueue("inventory").queue))?.messages === 0 || undefined,
      "the bridge queue emptied",
    );
    expect((await fx.queue(peerHandler.queue))?.messages).toBe(0);
  });

  it("context and the call id stack continue across the sides both ways, and bridge markers never spread", async () => {
    // orders (NATS) -> billing (AMQP, Nameko) -> shipping (NATS, runtime) -> notify (AMQP, Nameko)
    fx.directory.nats = ["orders", "shipping"];
    fx.directory.amqp = ["billing"];
    const peer = await fx.peer();
    await fx.peerHandler({
      source: "orders",
      eventType: "placed",
      service: "billing",
      method: "on_placed",
      // A Nameko handler dispatching with its own context, which now includes the bridge's
      // unprefixed marker; Nameko sends it on as nameko.x-cliffracer-bridged
      // (docs/nameko-wire.md, Context data).
      handler: (e: PeerEvent) =>
        peer.dispatch(
          "billing",
          "invoiced",
          { order: (e.payload as { order: number }).order },
          { service: { data: e.context.data, callIdStack: e.callIdStack } },
        ),
    });
    const notify = await fx.peerHandler({
      source: "shipping",
      eventType: "shipped",
      service: "notify",
      method: "on_shipped",
    });
    let shippingWorker: { data: Record<string, unknown>; stack: readonly string[] } | undefined;
    class Shipping {
      name = "shipping";
      @Context() ctx!: WorkerContext;
      @EventDispatcher() dispatch!: Dispatch;
      @eventHandler("billing", "invoiced")
      async onInvoiced(payload: { order: number }) {
        shippingWorker = { data: { ...this.ctx.data }, stack: [...this.ctx.callIdStack] };
        await this.dispatch("shipped", { order: payload.order });
      }
    }
    await fx.startService(Shipping);
    const nc = await fx.natsConnection();
    const jsm = await fx.jsm();
    await jsm.consumers.add(fx.nats.streamName, {
      durable_name: "probe",
      filter_subject: fx.subject("billing", "invoiced"),
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
    });
    await fx.startBridge();

    await fx.publishNats(
      "orders",
      "placed",
      { order: 7 },
      contextToNatsHeaders({ user_id: "u-1" }, ["web.checkout.1"]),
    );
    const [shipped] = await notify.waitFor(1, 20_000);

    // billing's event as it appeared on NATS: its context, its stack, and only the fresh marker.
    const probe = await (await jetstream(nc).consumers.get(fx.nats.streamName, "probe")).next({ expires: 10_000 });
    const h = probe!.headers!;
    expect(h.keys().sort()).toEqual(["nameko.call_id_stack", "nameko.user_id", "x-cliffracer-bridged"]);
    expect(h.get("x-cliffracer-bridged")).toBe("amqp:billing.invoiced");
    const billingStack = JSON.parse(h.get("nameko.call_id_stack")) as string[];
    expect(billingStack[0]).toBe("web.checkout.1");
    expect(billingStack[1]).toMatch(/^billing\.on_placed\./);
    probe!.ack();

    expect(shippingWorker!.data.user_id).toBe("u-1");
    expect(shippingWorker!.stack.slice(0, 2)).toEqual(billingStack);
    expect(shippingWorker!.stack[2]).toMatch(/^shipping\.onInvoiced\./);

    // shipping's event as Nameko's notify handler got it: context, the whole stack, fresh marker only.
    expect(shipped.payload).toEqual({ order: 7 });
    expect(shipped.properties.headers).toEqual({
      "nameko.user_id": "u-1",
      "nameko.call_id_stack": shippingWorker!.stack,
      "x-cliffracer-bridged": "nats:shipping.shipped",
    });
    expect(shipped.callIdStack.slice(0, 3)).toEqual(shippingWorker!.stack);
  });
});
