import { AmqpConnection } from "../../../amqp/connection";
import { AmqpEventConsumer, AmqpEventDispatcher, type IncomingEvent } from "../../../amqp/events";
import type { HandlerType } from "../../../compat";
import { createVhost, eventually, listQueues, type TestVhost } from "../../helpers/rabbit";
import { PeerDispatcher, startPeerHandler, type PeerHandler } from "../../interop/nameko-peer";

// The project-level testTimeout is not applied by jest 30 under `projects`; broker tests need more than 5 s.
jest.setTimeout(30000);

/** Collects events and resolves waiters; no sleeps. */
class Inbox {
  readonly events: IncomingEvent[] = [];
  private waiters: Array<{ n: number; resolve: () => void }> = [];
  push(e: IncomingEvent): void {
    this.events.push(e);
    this.waiters = this.waiters.filter((w) => (this.events.length >= w.n ? (w.resolve(), false) : true));
  }
  waitFor(n: number): Promise<void> {
    if (this.events.length >= n) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ n, resolve }));
  }
}

describe("Nameko events over AMQP", () => {
  let vhost: TestVhost;
  let conn: AmqpConnection;
  const cleanups: Array<() => Promise<void>> = [];

  beforeEach(async () => {
    vhost = await createVhost("cliff-evt");
    conn = new AmqpConnection({ uri: vhost.uri, connectionName: "events-test" });
    await conn.start();
  });

  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
    await conn.close();
    await vhost.delete();
  });

  const peerHandler = async (
    method: string,
    handlerType: HandlerType,
    reliableDelivery = true,
  ): Promise<PeerHandler> => {
    const h = await startPeerHandler({
      uri: vhost.uri,
      source: "calc",
      eventType: "thing_happened",
      service: "listener",
      method,
      handlerType,
      reliableDelivery,
    });
    cleanups.push(() => h.stop());
    return h;
  };

  const consumer = async (
    method: string,
    handlerType: HandlerType,
    handler: (e: IncomingEvent) => Promise<void>,
    extra: { requeueOnError?: boolean; reliableDelivery?: boolean } = {},
  ): Promise<AmqpEventConsumer> => {
    const c = new AmqpEventConsumer({
      connection: conn,
      source: "calc",
      eventType: "thing_happened",
      service: "listener",
      method,
      handlerType,
      handler,
      ...extra,
    });
    await c.start();
    cleanups.push(() => c.stop());
    return c;
  };

  it("dispatches in-service style to every handler type's queue, with Nameko's properties", async () => {
    const handlers = [
      await peerHandler("on_pool", "service_pool"),
      await peerHandler("on_pool_unreliable", "service_pool", false),
      await peerHandler("on_single", "singleton"),
      await peerHandler("on_broadcast", "broadcast", false),
    ];
    const dispatcher = new AmqpEventDispatcher({ connection: conn });
    const stack = ["standalone_rpc_proxy.call.4bc5", "calc.emit.61fc"];
    await dispatcher.dispatch(
      "calc",
      "thing_happened",
      { n: 1 },
      { contextData: { user_id: "u-1", num: 5 }, callIdStack: stack },
    );
    for (const h of handlers) {
      const [e] = await h.waitFor(1);
      expect(e.body).toBe('{"n": 1}');
      expect(e).toMatchObject({ exchange: "calc.events", routingKey: "thing_happened" });
      expect(e.properties).toMatchObject({
        contentType: "application/json",
        contentEncoding: "utf-8",
        deliveryMode: 2,
        priority: 0,
      });
      expect(e.properties.correlationId).toBeUndefined();
      expect(e.properties.replyTo).toBeUndefined();
      expect(e.properties.headers).toEqual({ "nameko.user_id": "u-1", "nameko.num": 5, "nameko.call_id_stack": stack });
      expect(e.context.parentStack).toEqual(stack);
    }
    expect(handlers.map((h) => h.queue)).toEqual([
      "evt-calc-thing_happened--listener.on_pool",
      "evt-calc-thing_happened--listener.on_pool_unreliable",
      "evt-calc-thing_happened",
      expect.stringMatching(/^evt-calc-thing_happened--listener\.on_broadcast-[0-9a-f]{32}$/),
    ]);
  });

  it("dispatches standalone style: empty headers, no exchange declared; a missing exchange fails without harming the publisher", async () => {
    const handler = await peerHandler("on_pool", "service_pool"); // declares calc.events
    const standalone = new AmqpEventDispatcher({ connection: conn, declareExchange: false });
    await standalone.dispatch("calc", "thing_happened", "plain string payload");
    const [e] = await handler.waitFor(1);
    expect(e.body).toBe('"plain string payload"');
    expect(e.properties.headers).toEqual({});
    await expect(standalone.dispatch("nobody", "x", {})).rejects.toThrow(/NOT_FOUND/);
    await standalone.dispatch("calc", "thing_happened", { after: true });
    await handler.waitFor(2);
    expect(handler.events[1].payload).toEqual({ after: true });
  });

  it.each<[HandlerType, boolean]>([
    ["service_pool", true],
    ["singleton", true],
    ["broadcast", false],
  ])("consumes %s queues with Nameko's names, context decoded", async (handlerType, reliableDelivery) => {
    const inbox = new Inbox();
    const c = await consumer("on_evt", handlerType, async (e) => inbox.push(e), { reliableDelivery });
    const peer = await PeerDispatcher.start(vhost.uri);
    cleanups.push(() => peer.close());
    await peer.dispatch("calc", "thing_happened", { hello: "world", n: [1, 2] }); // standalone: empty headers
    await peer.dispatch(
      "calc",
      "thing_happened",
      { n: 2 },
      { service: { data: { user_id: "u-1" }, callIdStack: ["calc.emit.1"] } },
    );
    await inbox.waitFor(2);
    expect(inbox.events[0]).toMatchObject({
      payload: { hello: "world", n: [1, 2] },
      context: { data: {}, parentStack: [] },
    });
    expect(inbox.events[1]).toMatchObject({
      payload: { n: 2 },
      context: { data: { user_id: "u-1" }, parentStack: ["calc.emit.1"] },
    });
    const q = (await listQueues(vhost.name)).find((x) => x.name === c.queue.queue);
    expect(q).toBeDefined();
    if (handlerType === "singleton") expect(c.queue.queue).toBe("evt-calc-thing_happened");
    if (handlerType === "service_pool") expect(c.queue.queue).toBe("evt-calc-thing_happened--listener.on_evt");
    if (handlerType === "broadcast") expect(q).toMatchObject({ exclusive: true, auto_delete: true });
  });

  it("requeueOnError rejects with requeue until the handler succeeds; without it a failure is acked", async () => {
    const inbox = new Inbox();
    let failures = 0;
    await consumer(
      "on_flaky",
      "service_pool",
      async (e) => {
        inbox.push(e);
        if (failures++ < 2) throw new Error("flaky");
      },
      { requeueOnError: true },
    );
    const failing = new Inbox();
    const boom = await consumer("on_boom", "service_pool", async (e) => {
      failing.push(e);
      throw new Error("boom");
    });
    const peer = await PeerDispatcher.start(vhost.uri);
    cleanups.push(() => peer.close());
    await peer.dispatch("calc", "thing_happened", { n: 1 });
    await inbox.waitFor(3);
    expect(inbox.events.map((e) => e.redelivered)).toEqual([false, true, true]);
    await failing.waitFor(1);
    await eventually(async () => {
      const qs = await listQueues(vhost.name);
      return qs.filter((q) => q.name.startsWith("evt-calc")).every((q) => q.messages === 0);
    });
    expect(failing.events).toHaveLength(1);
    expect(boom.queue.queue).toBe("evt-calc-thing_happened--listener.on_boom");
  });

  it("acks and drops undecodable events without calling the handler", async () => {
    const inbox = new Inbox();
    await consumer("on_evt", "service_pool", async (e) => inbox.push(e));
    const peer = await PeerDispatcher.start(vhost.uri);
    cleanups.push(() => peer.close());
    await peer.dispatch("calc", "thing_happened", null, { rawBody: "{not json" });
    await peer.dispatch("calc", "thing_happened", { ok: 1 });
    await inbox.waitFor(1);
    expect(inbox.events.map((e) => e.payload)).toEqual([{ ok: 1 }]);
    await eventually(
      async () =>
        (await listQueues(vhost.name)).find((q) => q.name === "evt-calc-thing_happened--listener.on_evt")?.messages ===
        0,
    );
  });

  it("a stopped reliable handler receives, after restart, what was published meanwhile", async () => {
    const first = new Inbox();
    const c1 = await consumer("on_pool", "service_pool", async (e) => first.push(e));
    await c1.stop();
    const dispatcher = new AmqpEventDispatcher({ connection: conn });
    for (let i = 0; i < 5; i++) await dispatcher.dispatch("calc", "thing_happened", { i });
    const second = new Inbox();
    await consumer("on_pool", "service_pool", async (e) => second.push(e));
    await second.waitFor(5);
    expect(second.events.map((e) => e.payload)).toEqual([0, 1, 2, 3, 4].map((i) => ({ i })));
    expect(first.events).toHaveLength(0);
  });
});
