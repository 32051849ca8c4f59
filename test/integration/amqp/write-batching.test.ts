// What amqp/ does to the sockets of its own amqplib connections (docs/write-batching.md), against a
// real RabbitMQ: amqplib still keeps its socket where amqp/ looks and still writes and reads through
// it (the guard: this file fails loudly when an amqplib release changes that), an AmqpConnection's
// frames of one callback leave in one write while a plain amqplib connection writes one per frame,
// a reconnect's new socket is adapted too, and amqplib itself is left as it was.
import { Socket } from "node:net";
import * as amqp from "amqplib";
import { amqplibWireOf } from "../../../amqp/amqplib-wire";
import { AmqpConnection } from "../../../amqp/connection";
import { pyAmqpLongTagsDecoded } from "../../../amqp/py-amqp-long";
import { amqpWritesBatched, batchAmqpWrites } from "../../../amqp/write-batching";
import { changedSince, dependencyShape } from "../../helpers/dependency-shapes";
import { createVhost, killConnections, type TestVhost } from "../../helpers/rabbit";
import { countSocketWrites } from "../../helpers/socket-writes";
import { deferred } from "../../helpers/waiters";

jest.setTimeout(60_000);

const COUNT = 50;

describe("amqp/'s own sockets: writes batched, amqplib untouched", () => {
  let vhost: TestVhost;
  const models: amqp.ChannelModel[] = [];
  const connections: AmqpConnection[] = [];

  beforeAll(async () => {
    vhost = await createVhost("cliff-batching");
  });
  afterEach(async () => {
    await Promise.allSettled(models.splice(0).map((m) => m.close()));
    await Promise.allSettled(connections.splice(0).map((c) => c.close()));
  });
  afterAll(() => vhost.delete());

  async function plainModel(): Promise<amqp.ChannelModel> {
    const model = await amqp.connect(vhost.uri);
    models.push(model);
    return model;
  }

  async function ourConnection(options: { writeBatching?: boolean; connectionName?: string } = {}) {
    const conn = new AmqpConnection({ uri: vhost.uri, ...options });
    connections.push(conn);
    await conn.start();
    return conn;
  }

  /** Publishes COUNT messages in one synchronous loop; resolves after a round trip behind them. */
  async function publishBurst(model: amqp.ChannelModel): Promise<void> {
    const ch = await model.createChannel();
    const { queue } = await ch.assertQueue("", { exclusive: true });
    for (let i = 0; i < COUNT; i++) ch.publish("", queue, Buffer.from(String(i)));
    const { messageCount } = await ch.checkQueue(queue);
    expect(messageCount).toBeLessThanOrEqual(COUNT);
  }

  it("guard: amqplib keeps a connection's socket at connection.stream, its unparsed bytes at connection.rest", async () => {
    const wire = amqplibWireOf(await plainModel());
    expect(wire?.socket).toBeInstanceOf(Socket);
    expect(Buffer.isBuffer(wire?.unparsed)).toBe(true);
  });

  it("guard: amqplib writes through the socket's write() and pulls through its read(), in paused mode", async () => {
    const model = await plainModel();
    const socket = amqplibWireOf(model)!.socket;
    const calls = { write: 0, read: 0 };
    for (const method of ["write", "read"] as const) {
      const original = socket[method] as (...args: unknown[]) => unknown;
      Object.defineProperty(socket, method, {
        configurable: true,
        value(this: Socket, ...args: unknown[]) {
          calls[method]++;
          return original.apply(this, args);
        },
      });
    }
    const ch = await model.createChannel();
    await ch.checkExchange("amq.direct");
    expect(calls.write).toBeGreaterThan(0);
    expect(calls.read).toBeGreaterThan(0);
    expect(socket.readableFlowing).not.toBe(true);
  });

  it("an AmqpConnection's socket is adapted, with write batching off on request", async () => {
    expect((await ourConnection()).socketAdaptations()).toEqual({ writesBatched: true, pyAmqpLongTags: true });
    expect((await ourConnection({ writeBatching: false })).socketAdaptations()).toEqual({
      writesBatched: false,
      pyAmqpLongTags: true,
    });
  });

  it("frames queued in one callback leave in one write on a batched socket, one write per frame on a plain one", async () => {
    const batched = await plainModel();
    expect(batchAmqpWrites(batched)).toBe(true);
    const plain = await plainModel();
    const batchedWrites = countSocketWrites(amqplibWireOf(batched)!.socket);
    const plainWrites = countSocketWrites(amqplibWireOf(plain)!.socket);
    const before = { batched: batchedWrites.writes, plain: plainWrites.writes };

    await publishBurst(batched);
    await publishBurst(plain);

    // Each burst also has the queue declaration and check: a handful of writes more on either side.
    expect(batchedWrites.writes - before.batched).toBeLessThanOrEqual(5);
    expect(plainWrites.writes - before.plain).toBeGreaterThanOrEqual(COUNT);
  });

  it("after a reconnect the connection's new socket is adapted too", async () => {
    const conn = await ourConnection({ connectionName: "batching-reconnect" });
    const lost = deferred();
    conn.once("disconnected", () => lost.resolve());
    expect(await killConnections(vhost.name, "batching-reconnect")).toBe(1);
    await lost.promise;
    await conn.whenReady();
    expect(conn.socketAdaptations()).toEqual({ writesBatched: true, pyAmqpLongTags: true });
  });

  it("a plain amqplib connection in the same process, and amqplib itself, are left as they were", async () => {
    const before = dependencyShape();
    await ourConnection();
    const plain = await plainModel();
    await publishBurst(plain);
    expect(amqpWritesBatched(plain)).toBe(false);
    expect(pyAmqpLongTagsDecoded(plain)).toBe(false);
    const socket = amqplibWireOf(plain)!.socket;
    expect([Object.hasOwn(socket, "write"), Object.hasOwn(socket, "read")]).toEqual([false, false]);
    expect(changedSince(before, dependencyShape())).toEqual([]);
  });
});
