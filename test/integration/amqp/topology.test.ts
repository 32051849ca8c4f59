import { AmqpConnection } from "../../../amqp/connection";
import {
  declareConsumerTopology,
  declareExchange,
  eventHandlerQueue,
  eventsExchange,
  replyQueue,
  rpcExchange,
  serviceQueue,
  type QueueDeclaration,
} from "../../../amqp/topology";
import { ConfigurationError } from "../../../compat/errors";
import { createVhost, listBindings, listExchanges, listQueues, type TestVhost } from "../../helpers/rabbit";
import {
  declareHandlerQueue,
  declareReplyQueue,
  declareServiceQueue,
  type PeerHandlerSpec,
} from "../../interop/nameko-peer";

// The project-level testTimeout is not applied by jest 30 under `projects`; broker tests need more than 5 s.
jest.setTimeout(30000);

const REPLY_UUID = "085956f3-41b3-4010-8d3d-fe75bdc8f6a5";
const handlers: PeerHandlerSpec[] = [
  { source: "src", eventType: "evt_pool", service: "minimal", method: "on_pool" },
  { source: "src", eventType: "evt_pool", service: "minimal", method: "on_pool_unreliable", reliableDelivery: false },
  { source: "src", eventType: "evt_single", service: "minimal", method: "on_single", handlerType: "singleton" },
  {
    source: "src",
    eventType: "evt_bcast",
    service: "minimal",
    method: "on_bcast",
    handlerType: "broadcast",
    reliableDelivery: false,
    broadcastIdentifier: "4e8c2606ed1a4f2798bd65f2c4d2fa6e",
  },
  {
    source: "src",
    eventType: "evt_bcast",
    service: "minimal",
    method: "on_host",
    handlerType: "broadcast",
    broadcastIdentifier: "host-1",
  },
];

describe("Nameko topology", () => {
  let vhost: TestVhost;
  let conn: AmqpConnection;

  beforeEach(async () => {
    vhost = await createVhost("cliff-topo");
    conn = new AmqpConnection({ uri: vhost.uri, connectionName: "topology-test" });
    await conn.start();
  });

  afterEach(async () => {
    await conn.close();
    await vhost.delete();
  });

  const ours = (): QueueDeclaration[] => [
    serviceQueue("minimal"),
    replyQueue("calc", REPLY_UUID),
    ...handlers.map((h) => eventHandlerQueue({ ...h, handlerType: h.handlerType ?? "service_pool" })),
  ];

  const declareOurs = async (): Promise<void> =>
    conn.withChannel(async (ch) => {
      for (const q of ours())
        await declareConsumerTopology(ch, q.exchange === "nameko-rpc" ? rpcExchange() : eventsExchange("src"), q);
    });

  it("names and flags match Nameko's broker listing", async () => {
    await declareOurs();
    const queues = await listQueues(vhost.name);
    const byName = (n: string) => queues.find((q) => q.name === n);
    expect(byName("rpc-minimal")).toMatchObject({ durable: true, auto_delete: false, exclusive: false, arguments: [] });
    expect(byName(`rpc.reply-calc-${REPLY_UUID}`)).toMatchObject({
      durable: true,
      auto_delete: false,
      exclusive: false,
      arguments: [["x-expires", "signedint", 300000]], // signed 32-bit, as py-amqp sends it
    });
    expect(byName("evt-src-evt_pool--minimal.on_pool")).toMatchObject({
      durable: true,
      auto_delete: false,
      exclusive: false,
      arguments: [],
    });
    expect(byName("evt-src-evt_pool--minimal.on_pool_unreliable")).toMatchObject({
      durable: true,
      auto_delete: true,
      exclusive: false,
    });
    expect(byName("evt-src-evt_single")).toMatchObject({ durable: true, auto_delete: false, exclusive: false });
    // Declared durable=1 exclusive=1 auto_delete=1; RabbitMQ stores exclusive queues non-durable.
    expect(byName("evt-src-evt_bcast--minimal.on_bcast-4e8c2606ed1a4f2798bd65f2c4d2fa6e")).toMatchObject({
      durable: false,
      auto_delete: true,
      exclusive: true,
    });
    expect(byName("evt-src-evt_bcast--minimal.on_host-host-1")).toMatchObject({
      durable: true,
      auto_delete: false,
      exclusive: false,
    });

    const exchanges = await listExchanges(vhost.name);
    for (const name of ["nameko-rpc", "src.events"]) {
      expect(exchanges.find((e) => e.name === name)).toEqual({
        name,
        type: "topic",
        durable: true,
        auto_delete: false,
        internal: false,
        arguments: [],
      });
    }
    const bindings = (await listBindings(vhost.name)).filter((b) => b.source_name !== "");
    expect(bindings).toEqual(
      expect.arrayContaining([
        { source_name: "nameko-rpc", destination_name: "rpc-minimal", routing_key: "minimal.*" },
        { source_name: "nameko-rpc", destination_name: `rpc.reply-calc-${REPLY_UUID}`, routing_key: REPLY_UUID },
        { source_name: "src.events", destination_name: "evt-src-evt_single", routing_key: "evt_single" },
        { source_name: "src.events", destination_name: "evt-src-evt_pool--minimal.on_pool", routing_key: "evt_pool" },
      ]),
    );
    expect(bindings).toHaveLength(7);
  });

  it("re-declaring, passive checks, and the peer's Nameko-exact declarations never conflict", async () => {
    await declareOurs();
    await declareOurs();
    await conn.withChannel(async (ch) => {
      for (const q of ours()) await ch.checkQueue(q.queue);
      await ch.checkExchange("nameko-rpc");
      await ch.checkExchange("src.events");
      await declareServiceQueue(ch, "minimal");
      await declareReplyQueue(ch, "calc", REPLY_UUID);
      for (const h of handlers) await declareHandlerQueue(ch, h);
    });
  });

  it("ours after the peer's works too, and a wrong flag is refused with 406 (the check is real)", async () => {
    await conn.withChannel(async (ch) => {
      await declareServiceQueue(ch, "other");
      await declareReplyQueue(ch, "standalone_rpc_proxy", REPLY_UUID);
    });
    await conn.withChannel(async (ch) => {
      await declareConsumerTopology(ch, rpcExchange(), serviceQueue("other"));
      await declareConsumerTopology(ch, rpcExchange(), replyQueue("standalone_rpc_proxy", REPLY_UUID));
    });
    const wrong = conn.withChannel((ch) =>
      ch.assertQueue(`rpc.reply-standalone_rpc_proxy-${REPLY_UUID}`, {
        durable: true,
        autoDelete: false,
        exclusive: false,
      }),
    );
    await expect(wrong).rejects.toThrow(/PRECONDITION_FAILED/);
    await conn.withChannel((ch) => declareExchange(ch, eventsExchange("src"))); // the connection survived the channel error
  });

  it("refuses a reliable BROADCAST handler with a random identifier, as Nameko does", () => {
    expect(() =>
      eventHandlerQueue({ source: "s", eventType: "e", service: "x", method: "m", handlerType: "broadcast" }),
    ).toThrow(ConfigurationError);
    const q = eventHandlerQueue({
      source: "s",
      eventType: "e",
      service: "x",
      method: "m",
      handlerType: "broadcast",
      reliableDelivery: false,
    });
    expect(q.queue).toMatch(/^evt-s-e--x\.m-[0-9a-f]{32}$/);
  });
});
