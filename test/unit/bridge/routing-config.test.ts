import { bridgeConfigFromObject } from "../../../bridge/config";
import { InvalidRouteTable } from "../../../bridge/routing/route-table";
import { ConfigurationError } from "../../../compat";

const env = { AMQP_URI: "amqp://guest:guest@rabbit:5672/" };

function routing(services: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return bridgeConfigFromObject({ BRIDGE: { ROUTING: { services, ...extra } } }, {}, env).routing;
}

describe("bridge routing config", () => {
  it("is off with no routed services, with a bucket per prefix", () => {
    expect(bridgeConfigFromObject({}, {}, env).routing).toEqual({
      bucket: "CLIFFRACER_ROUTES",
      history: 20,
      services: {},
    });
    expect(bridgeConfigFromObject({ NATS_PREFIX: "staging" }, {}, env).routing.bucket).toBe(
      "staging_CLIFFRACER_ROUTES",
    );
  });

  it("reads a routed service with its original's vhost, port prefix, methods and first table", () => {
    const r = routing({
      orders: {
        original_amqp_uri: "amqp://guest:guest@rabbit:5672/orders",
        port_prefix: "next",
        methods: ["get_order", "create_order"],
        routes: { "*": 0, get_order: 100 },
      },
    });
    expect(r.services.orders).toEqual({
      originalAmqpUri: "amqp://guest:guest@rabbit:5672/orders",
      portPrefix: "next",
      methods: ["get_order", "create_order"],
      initialRoutes: { defaultWeight: 0, methods: { get_order: 100 } },
      eventHandlerQueues: [],
    });
  });

  it("reads the original's handler queues to relay, and refuses a queue of another service", () => {
    const r = routing({
      orders: {
        original_amqp_uri: "amqp://rabbit/orders",
        event_handler_queues: ["evt-payments-paid--orders.on_paid", "evt-orders-shipped--orders.audit"],
      },
    });
    expect(r.services.orders?.eventHandlerQueues).toEqual([
      "evt-payments-paid--orders.on_paid",
      "evt-orders-shipped--orders.audit",
    ]);
    for (const queue of ["evt-payments-paid--billing.on_paid", "evt-payments-paid", "rpc-orders"])
      expect(() =>
        routing({ orders: { original_amqp_uri: "amqp://rabbit/orders", event_handler_queues: [queue] } }),
      ).toThrow(/event_handler_queues must be handler queues of orders/);
  });

  it("defaults the port prefix and leaves the first table to the bucket", () => {
    const r = routing({ orders: { original_amqp_uri: "amqp://rabbit/orders" } });
    expect(r.services.orders?.portPrefix).toBe("port");
    expect(r.services.orders?.initialRoutes).toBeUndefined();
  });

  it("refuses an original on the callers' own vhost, where both would consume rpc-<service>", () => {
    expect(() => routing({ orders: { original_amqp_uri: "amqp://guest:secret@rabbit:5672/" } })).toThrow(
      /a vhost other than the callers'/,
    );
    expect(() => routing({ orders: { original_amqp_uri: "amqp://guest:secret@rabbit:5672/" } })).not.toThrow(/secret/);
  });

  it.each([
    [{ original_amqp_uri: "amqp://rabbit/o", port_prefix: "" }, /private subject prefix/],
    [{ port_prefix: "port" }, /original_amqp_uri/],
    [{ original_amqp_uri: "not a uri" }, /not a valid URI/],
  ])("refuses %j", (service, message) => {
    expect(() => routing({ orders: service })).toThrow(ConfigurationError);
    expect(() => routing({ orders: service })).toThrow(message);
  });

  it("refuses a first table naming a method the service does not list", () => {
    expect(() =>
      routing({ orders: { original_amqp_uri: "amqp://rabbit/o", methods: ["get_order"], routes: { delete: 5 } } }),
    ).toThrow(InvalidRouteTable);
  });
});
