// Events of a service that lives on NATS reach Nameko handlers on RabbitMQ through the bridge.
// The AMQP side is the independent Nameko peer (test/interop/nameko-peer), not compat/.
import { headers as natsHeaders } from "@nats-io/transport-node";
import { bridgeConsumerName } from "../../../bridge/nats/event-inbound";
import { contextToNatsHeaders } from "../../../src/nats/headers";
import { BridgeEventsFixture, until } from "./event-fixture";

jest.setTimeout(60_000);

describe("bridge events NATS -> AMQP", () => {
  let fx: BridgeEventsFixture;

  beforeEach(async () => {
    fx = await new BridgeEventsFixture().setup();
    fx.directory.nats = ["orders"];
  });
  afterEach(async () => {
    await fx.cleanup();
  });

  it("reaches each handler type's Nameko queue with Nameko's properties and typed headers", async () => {
    const pool = await fx.peerHandler({
      source: "orders",
      eventType: "placed",
      service: "billing",
      method: "on_placed",
    });
    const single = await fx.peerHandler({
      source: "orders",
      eventType: "placed",
      service: "billing",
      method: "on_single",
      handlerType: "singleton",
    });
    const bcast = await fx.peerHandler({
      source: "orders",
      eventType: "placed",
      service: "billing",
      method: "on_bcast",
      handlerType: "broadcast",
      reliableDelivery: false,
    });
    const b = await fx.startBridge();
    expect(b.bridge.ready()).toBe(true);

    const stack = ["standalone_rpc_proxy.call.4bc5", "orders.place.61fc"];
    const payload = { n: 1, who: "café ☃", big: [1, 2.5, true, null] };
    await fx.publishNats(
      "orders",
      "placed",
      payload,
      contextToNatsHeaders({ user_id: "u-1", num: 5, flag: true }, stack),
    );

    for (const h of [pool, single, bcast]) {
      const [e] = await h.waitFor(1);
      // The body crosses byte for byte: CPython's json.dumps layout with ensure_ascii
      // (docs/nameko-wire.md, JSON bodies).
      expect(e.body).toBe('{"n": 1, "who": "caf\\u00e9 \\u2603", "big": [1, 2.5, true, null]}');
      expect(e.payload).toEqual(payload);
      expect(e).toMatchObject({ exchange: "orders.events", routingKey: "placed" });
      expect(e.properties).toMatchObject({
        contentType: "application/json",
        contentEncoding: "utf-8",
        deliveryMode: 2,
        priority: 0,
      });
      expect(e.properties.correlationId).toBeUndefined();
      expect(e.properties.replyTo).toBeUndefined();
      expect(e.properties.headers).toEqual({
        "nameko.user_id": "u-1",
        "nameko.num": 5,
        "nameko.flag": true,
        "nameko.call_id_stack": stack,
        "x-cliffracer-bridged": "nats:orders.placed",
      });
      // An AMQP array (docs/nameko-wire.md, Call id stack), not a JSON string that Nameko would split into characters.
      expect(Array.isArray(e.properties.headers!["nameko.call_id_stack"])).toBe(true);
      expect(e.context.parentStack).toEqual(stack);
      expect(e.callIdStack.slice(0, 2)).toEqual(stack);
    }
    expect(pool.queue).toBe("evt-orders-placed--billing.on_placed");
    expect(single.queue).toBe("evt-orders-placed");
    expect(bcast.queue).toMatch(/^evt-orders-placed--billing\.on_bcast-[0-9a-f]{32}$/);
    await until(() => b.metrics.get("forwarded:nats_to_amqp:orders") === 1 || undefined, "the forward counted");
  });

  it("sends an event without context as the standalone dispatcher does: only the bridge marker", async () => {
    const h = await fx.peerHandler({ source: "orders", eventType: "bare", service: "billing", method: "on_bare" });
    await fx.startBridge();
    await fx.publishNats("orders", "bare", "plain string payload");
    const [e] = await h.waitFor(1);
    expect(e.body).toBe('"plain string payload"');
    expect(e.properties.headers).toEqual({ "x-cliffracer-bridged": "nats:orders.bare" });
    expect(e.callIdStack).toHaveLength(1);
  });

  it("carries only nameko.* NATS headers, and never the bridge's own keys", async () => {
    const h = await fx.peerHandler({ source: "orders", eventType: "hdrs", service: "billing", method: "on_hdrs" });
    await fx.startBridge();
    const hd = natsHeaders();
    hd.set("nameko.user_id", "u-9");
    hd.set("nameko.x-cliffracer-bridged", "amqp:other.thing");
    hd.set("Nats-Msg-Id", "abc");
    hd.set("trace-id", "t-1");
    await fx.publishNats("orders", "hdrs", { n: 1 }, hd);
    const [e] = await h.waitFor(1);
    expect(e.properties.headers).toEqual({ "nameko.user_id": "u-9", "x-cliffracer-bridged": "nats:orders.hdrs" });
  });

  it("a Nameko handler stopped while 100 events are published gets all of them after its restart", async () => {
    const spec = { source: "orders", eventType: "placed", service: "billing", method: "on_placed" } as const;
    const first = await fx.peerHandler(spec);
    await first.stop();
    await fx.startBridge();
    for (let n = 0; n < 100; n++) await fx.publishNats("orders", "placed", { n });
    await until(
      async () => (await fx.queue("evt-orders-placed--billing.on_placed"))?.messages === 100 || undefined,
      "100 events queued for the stopped handler",
      20_000,
    );
    const again = await fx.peerHandler(spec);
    const events = await again.waitFor(100, 20_000);
    expect(events.map((e) => (e.payload as { n: number }).n).sort((a, b) => a - b)).toEqual([...Array(100).keys()]);
  });

  it("a bridge stopped while 100 events are published forwards all of them after its restart", async () => {
    const h = await fx.peerHandler({ source: "orders", eventType: "placed", service: "billing", method: "on_placed" });
    const first = await fx.startBridge();
    await first.stop();
    for (let n = 0; n < 100; n++) await fx.publishNats("orders", "placed", { n });
    // The bridge's durable consumer kept them (interest retention).
    const jsm = await fx.jsm();
    const info = await jsm.consumers.info(fx.nats.streamName, bridgeConsumerName("orders"));
    expect(info.num_pending).toBe(100);
    expect(h.events).toHaveLength(0);

    await fx.startBridge();
    const events = await h.waitFor(100, 20_000);
    expect(events.map((e) => (e.payload as { n: number }).n).sort((a, b) => a - b)).toEqual([...Array(100).keys()]);
    await until(
      async () => (await jsm.streams.info(fx.nats.streamName)).state.messages === 0 || undefined,
      "the stream emptied",
    );
  });

  it("acks a JetStream event only after RabbitMQ confirmed: refused publishes stay in the stream and flow once allowed", async () => {
    const h = await fx.peerHandler({ source: "orders", eventType: "placed", service: "billing", method: "on_placed" });
    const b = await fx.startBridge();
    // Take away write permission: every publish to orders.events is refused (403, channel closed).
    await fx.setPermissions(".*", "^$", ".*");
    for (let n = 0; n < 20; n++) await fx.publishNats("orders", "placed", { n });
    await until(() => b.metrics.get("retried:nats_to_amqp:orders") >= 3 || undefined, "publishes refused and retried");
    const jsm = await fx.jsm();
    const info = await jsm.consumers.info(fx.nats.streamName, bridgeConsumerName("orders"));
    expect(info.num_pending + info.num_ack_pending).toBe(20);
    expect(h.events).toHaveLength(0);

    await fx.setPermissions(".*", ".*", ".*");
    const events = await h.waitFor(20, 20_000);
    expect(new Set(events.map((e) => (e.payload as { n: number }).n)).size).toBe(20);
    await until(
      async () => (await jsm.streams.info(fx.nats.streamName)).state.messages === 0 || undefined,
      "every event acked",
    );
  });

  it("refuses subjects that are not one event-type token, non-JSON bodies and events over RabbitMQ's max_message_size: logged, acked, not redelivered", async () => {
    const h = await fx.peerHandler({ source: "orders", eventType: "placed", service: "billing", method: "on_placed" });
    // Stands in for RabbitMQ's max_message_size (the shared broker's is 128 MiB, over any NATS message).
    const b = await fx.startBridge({ options: { amqpMaxMessageBytes: 64 * 1024 } });
    await fx.publishNatsRaw("orders.a.b", '{"n": 1}');
    await fx.publishNatsRaw("orders.placed", "not json {");
    await fx.publishNats("orders", "placed", "x".repeat(100 * 1024));
    await fx.publishNats("orders", "placed", { n: 2 });
    const [e] = await h.waitFor(1);
    expect(e.payload).toEqual({ n: 2 });
    await until(
      () =>
        (b.metrics.get("dropped:nats_to_amqp:orders:bad_event_type") === 1 &&
          b.metrics.get("dropped:nats_to_amqp:orders:not_json") === 1 &&
          b.metrics.get("dropped:nats_to_amqp:orders:too_large") === 1) ||
        undefined,
      "the three refusals counted",
    );
    const warnings = b.logs.filter((l) => l.level === "warn" && l.message.startsWith("event refused"));
    expect(warnings.map((w) => w.reason).sort()).toEqual(["bad_event_type", "not_json", "too_large"]);
    const jsm = await fx.jsm();
    await until(
      async () => (await jsm.streams.info(fx.nats.streamName)).state.messages === 0 || undefined,
      "nothing left to redeliver",
    );
    const info = await jsm.consumers.info(fx.nats.streamName, bridgeConsumerName("orders"));
    expect(info.num_redelivered).toBe(0);
    expect(h.events).toHaveLength(1);
    expect(h.dropped).toHaveLength(0);
  });
  it("refuses an event whose header AMQP cannot carry: logged with its call id, acked, never published", async () => {
    const h = await fx.peerHandler({ source: "orders", eventType: "placed", service: "billing", method: "on_placed" });
    const b = await fx.startBridge();
    const stack = ["standalone_rpc_proxy.call.1", "orders.place.bad"];
    const bad = contextToNatsHeaders({ user_id: "u-1" }, stack);
    bad.set("nameko.ratio", "NaN");
    await fx.publishNats("orders", "placed", { n: 1 }, bad);
    const deep = natsHeaders();
    deep.set("nameko.tree", "[".repeat(1000) + "]".repeat(1000));
    await fx.publishNats("orders", "placed", { n: 2 }, deep);
    await fx.publishNats("orders", "placed", { n: 3 }, contextToNatsHeaders({ ratio: 0.5 }, stack));
    const [e] = await h.waitFor(1);
    expect(e.payload).toEqual({ n: 3 });
    expect(e.properties.headers).toMatchObject({ "nameko.ratio": 0.5 });
    await until(
      () => b.metrics.get("dropped:nats_to_amqp:orders:bad_header") === 2 || undefined,
      "both refusals counted",
    );
    const refused = b.logs.filter((l) => l.message.startsWith("event refused") && l.reason === "bad_header");
    const byHeader = refused.map((l) => [l.callId, String(l.error).match(/Header "([^"]+)"/)?.[1]]);
    expect(byHeader.sort((x, y) => String(x[1]).localeCompare(String(y[1])))).toEqual([
      ["orders.place.bad", "nameko.ratio"],
      [undefined, "nameko.tree"],
    ]);
    const jsm = await fx.jsm();
    await until(
      async () => (await jsm.streams.info(fx.nats.streamName)).state.messages === 0 || undefined,
      "nothing left to redeliver",
    );
    const info = await jsm.consumers.info(fx.nats.streamName, bridgeConsumerName("orders"));
    expect(info.num_redelivered).toBe(0);
    expect(h.events).toHaveLength(1);
    expect(b.logs.filter((l) => /amqp connection lost|channel error/.test(l.message))).toEqual([]);
  });
});
