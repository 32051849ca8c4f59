// The events of a service cut over by weight (docs/routing.md, Events of a routed service): what the
// original dispatches on its own vhost reaches Nameko handlers on the callers' vhost and runtime
// handlers on NATS, and what it handles reaches its own handler queues on its vhost, from Nameko
// dispatchers on the callers' vhost and runtime dispatchers on NATS alike; each handler once.
import { eventHandler } from "cliffracer";
import type { Bridge } from "../../../bridge/bridge";
import { EventPublisher } from "../../../src/client/event-publisher";
import { listBindings, listQueues } from "../../helpers/rabbit";
import { waitFor } from "../../helpers/waiters";
import { PeerDispatcher, startPeerHandler, type PeerEvent, type PeerHandler } from "../../interop/nameko-peer";
import { BridgeFixture } from "./bridge-fixture";

type Numbered = { n: number };

/** The callers' broker's max_message_size, as the bridge is told it. */
const MAX_BYTES = 4_096;
const numbers = (events: PeerEvent[]): number[] => events.map((e) => (e.payload as Numbered).n);

const runtimeSeen: number[] = [];

class Notifier {
  name = "notifier";

  @eventHandler("orders", "shipped")
  onShipped(payload: Numbered): void {
    runtimeSeen.push(payload.n);
  }
}

/** The original's handlers: the same queues on the callers' vhost (left from before the move) and on its own. */
const ORIGINAL_HANDLERS = [
  { source: "billing", eventType: "paid", service: "orders", method: "on_paid" },
  { source: "payments", eventType: "settled", service: "orders", method: "on_settled" },
  { source: "orders", eventType: "shipped", service: "orders", method: "audit" },
];

describe("routing by weight: the original's events", () => {
  const fx = new BridgeFixture();
  const dispatchers: PeerDispatcher[] = [];
  const handlers: PeerHandler[] = [];
  let originalVhost = "";
  let originalUri = "";
  let original: Record<string, PeerHandler>;
  let mailer: PeerHandler;
  let bridge: Bridge;

  beforeAll(async () => {
    await fx.setup();
    const vhost = await fx.otherVhost();
    originalVhost = vhost.name;
    originalUri = vhost.uri;
    // Before the move the original ran on the callers' vhost: its durable handler queues are still there.
    for (const spec of ORIGINAL_HANDLERS) await (await startPeerHandler({ uri: fx.vhost.uri, ...spec })).stop();
    original = {};
    for (const spec of ORIGINAL_HANDLERS) {
      const h = await startPeerHandler({ uri: vhost.uri, ...spec });
      handlers.push(h);
      original[spec.method] = h;
    }
    mailer = await startPeerHandler({
      uri: fx.vhost.uri,
      source: "orders",
      eventType: "shipped",
      service: "mailer",
      method: "on_shipped",
    });
    handlers.push(mailer);
    await fx.nats.start(Notifier);
    bridge = await fx.readyBridge({
      natsServices: ["payments"],
      // Stands in for a smaller max_message_size on the callers' broker.
      amqpMaxMessageBytes: MAX_BYTES,
      // How often the bridge looks for the original's handler queues on the callers' vhost.
      discovery: { intervalMs: 250 },
      routing: { orders: { originalAmqpUri: vhost.uri } },
    });
  }, 30_000);
  afterAll(async () => {
    await Promise.allSettled([...dispatchers, ...handlers].map((d) => ("close" in d ? d.close() : d.stop())));
    await fx.cleanup();
  });

  async function dispatcher(uri: string): Promise<PeerDispatcher> {
    const d = await PeerDispatcher.start(uri);
    dispatchers.push(d);
    return d;
  }

  it("relays what the original dispatches to a Nameko handler on the callers' vhost and a NATS handler, once each", async () => {
    const fromOriginal = await dispatcher(originalUri);
    const stack = ["orders.ship.7f2a"];
    await fromOriginal.dispatch("orders", "shipped", { n: 1 }, { service: { callIdStack: stack } });
    // A second event after the first: once every handler has it, a duplicate of the first would have arrived.
    await fromOriginal.dispatch("orders", "shipped", { n: 2 }, { service: { callIdStack: stack } });
    await mailer.waitFor(2);
    await original.audit.waitFor(2);
    await waitFor(() => runtimeSeen.includes(2), { what: "the NATS handler got the second event" });

    expect(numbers(mailer.events)).toEqual([1, 2]);
    expect(runtimeSeen).toEqual([1, 2]);
    // The original's own handler of its own event: straight from its vhost; the relayed copies that came
    // back through its old queue on the callers' vhost were dropped, not delivered again.
    await waitFor(
      async () =>
        /cliffracer_bridge_events_errors_total\{[^}]*direction="original_in"[^}]*kind="dropped_own_copy"[^}]*\} 2/.test(
          await bridge.registry.metrics(),
        ),
      { what: "both relayed copies of the original's own event dropped" },
    );
    expect(numbers(original.audit.events)).toEqual([1, 2]);
    const [first] = mailer.events;
    expect(first).toMatchObject({ exchange: "orders.events", routingKey: "shipped", body: '{"n": 1}' });
    expect(first!.properties).toMatchObject({
      contentType: "application/json",
      contentEncoding: "utf-8",
      deliveryMode: 2,
      priority: 0,
    });
    expect(first!.properties.headers).toEqual({
      "nameko.call_id_stack": stack,
      "x-cliffracer-relayed": `out:${originalVhost}`,
    });
  });

  it("relays events the original handles, from a Nameko dispatcher and a NATS dispatcher, to its queues once each", async () => {
    const onCallers = await dispatcher(fx.vhost.uri);
    const onNats = new EventPublisher(await fx.nats.connection(), fx.prefix);
    for (const n of [1, 2]) {
      await onCallers.dispatch("billing", "paid", { n }, { service: { callIdStack: ["billing.charge.1"] } });
      await onNats.publish("payments", "settled", { n });
    }
    const paid = await original.on_paid.waitFor(2);
    const settled = await original.on_settled.waitFor(2);
    expect(numbers(paid)).toEqual([1, 2]);
    expect(numbers(settled)).toEqual([1, 2]);
    expect(paid[0]!.properties.headers).toMatchObject({ "nameko.call_id_stack": ["billing.charge.1"] });
    // Delivered into the queue of the same name on the original's vhost, for that one handler.
    expect(paid[0]).toMatchObject({ exchange: "", routingKey: "evt-billing-paid--orders.on_paid" });
  });

  it("keeps an event for a handler the original has not declared on its vhost yet until it has", async () => {
    const spec = { source: "billing", eventType: "refunded", service: "orders", method: "on_refunded" };
    await (await startPeerHandler({ uri: fx.vhost.uri, ...spec })).stop();
    // Found by the bridge's next look at the management API's queues.
    await fx.waitForLog(/relay of a handler queue's events added/, {
      queue: "evt-billing-refunded--orders.on_refunded",
    });
    await (await dispatcher(fx.vhost.uri)).dispatch("billing", "refunded", { n: 1 });
    await waitFor(
      async () =>
        /cliffracer_bridge_events_errors_total\{[^}]*direction="original_in"[^}]*kind="retried"[^}]*\} [1-9]/.test(
          await bridge.registry.metrics(),
        ),
      { what: "the relay waiting for the original's queue" },
    );
    const late = await startPeerHandler({ uri: originalUri, ...spec });
    handlers.push(late);
    expect(numbers(await late.waitFor(1))).toEqual([1]);
  });

  it("declares on the callers' vhost a handler the original gained after the move, and relays its events", async () => {
    const spec = { source: "billing", eventType: "voided", service: "orders", method: "on_voided" };
    const gained = await startPeerHandler({ uri: originalUri, ...spec });
    handlers.push(gained);
    await fx.waitForLog(/relay of a handler queue's events added/, { queue: "evt-billing-voided--orders.on_voided" });
    const bound = (await listBindings(fx.vhost.name)).filter((b) => b.destination_name === gained.queue);
    expect(bound.map((b) => [b.source_name, b.routing_key]).sort()).toEqual([
      ["", gained.queue],
      ["billing.events", "voided"],
    ]);
    await (await dispatcher(fx.vhost.uri)).dispatch("billing", "voided", { n: 1 });
    expect(numbers(await gained.waitFor(1))).toEqual([1]);
  });

  it("drops an event of the original too large for the callers' broker, and relays the next", async () => {
    const fromOriginal = await dispatcher(originalUri);
    await fromOriginal.dispatch("orders", "shipped", { n: 3, pad: "x".repeat(MAX_BYTES) });
    await fromOriginal.dispatch("orders", "shipped", { n: 4 });
    await mailer.waitFor(3);
    expect(numbers(mailer.events)).toEqual([1, 2, 4]);
    await waitFor(
      async () =>
        /cliffracer_bridge_events_errors_total\{[^}]*direction="original_out"[^}]*kind="dropped_too_large"[^}]*\} 1/.test(
          await bridge.registry.metrics(),
        ),
      { what: "the large event counted as dropped" },
    );
  });

  it("consumes the original's old handler queues, binds its relay queue to <service>.events only, carries it to NATS", async () => {
    const callers = await listQueues(fx.vhost.name);
    const consumed = callers.filter((q) => q.consumers > 0).map((q) => q.name);
    expect(consumed).toEqual(
      expect.arrayContaining([
        "evt-billing-paid--orders.on_paid",
        "evt-payments-settled--orders.on_settled",
        "evt-orders-shipped--orders.audit",
      ]),
    );
    const bindings = await listBindings(originalVhost);
    expect(
      bindings
        .filter((b) => b.destination_name === "cliffracer-bridge-relay-orders")
        .map((b) => [b.source_name, b.routing_key])
        .sort(),
    ).toEqual([
      ["", "cliffracer-bridge-relay-orders"],
      ["orders.events", "#"],
    ]);
    expect(bridge.status().events?.amqpToNats).toContain("orders");
  });
});
