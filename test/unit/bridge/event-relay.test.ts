import { isRelayableHandlerQueue, relayQueue } from "../../../bridge/routing/event-relay";

const queue = (name: string, flags: Partial<{ durable: boolean; auto_delete: boolean; exclusive: boolean }> = {}) => ({
  name,
  durable: true,
  auto_delete: false,
  exclusive: false,
  ...flags,
});

describe("the event relays of a routed service", () => {
  it("relays the service's durable service_pool and reliable broadcast handler queues only", () => {
    expect(isRelayableHandlerQueue("orders", queue("evt-payments-paid--orders.on_paid"))).toBe(true);
    expect(isRelayableHandlerQueue("orders", queue("evt-payments-paid--orders.on_paid-ledger"))).toBe(true);
    // Another service's handler, a singleton (names no service), the bridge's own queues, RPC queues.
    for (const name of [
      "evt-payments-paid--billing.on_paid",
      "evt-payments-paid",
      "cliffracer-bridge-evt-orders",
      "cliffracer-bridge-relay-orders",
      "rpc-orders",
    ])
      expect(isRelayableHandlerQueue("orders", queue(name))).toBe(false);
    // A queue that belongs to one running instance goes with it: not consumed by the bridge.
    const name = "evt-payments-paid--orders.on_paid-0f3c";
    expect(isRelayableHandlerQueue("orders", queue(name, { exclusive: true, auto_delete: true }))).toBe(false);
    expect(isRelayableHandlerQueue("orders", queue(name, { auto_delete: true }))).toBe(false);
  });

  it("names its queue on the original's vhost so neither discovery nor Nameko takes it for theirs", () => {
    expect(relayQueue("orders")).toEqual({
      queue: "cliffracer-bridge-relay-orders",
      durable: true,
      autoDelete: false,
      exclusive: false,
      arguments: {},
      exchange: "orders.events",
      bindingKey: "#",
    });
  });
});
