// The runtime's NATS connections write per event-loop turn (src/nats/write-batching.ts,
// docs/write-batching.md), against a real nats-server: nats.js still keeps its socket where the
// runtime looks (the guard: this file fails loudly when a nats.js release moves it), what one turn
// sends leaves in one write and arrives whole and in order, a reconnect's new socket is batched too,
// and a plain nats.js connection in the same process, and nats.js itself, stay as they were.
import { Socket } from "node:net";
import type { NatsConnection } from "@nats-io/transport-node";
import { connectNats, drainNats } from "../../../src/nats/connection";
import { natsSocketOf, natsWritesBatched } from "../../../src/nats/write-batching";
import { NatsFixture, testLogger } from "../../helpers/brokers";
import { changedSince, dependencyShape } from "../../helpers/dependency-shapes";
import { countSocketWrites } from "../../helpers/socket-writes";
import { deferred } from "../../helpers/waiters";

const COUNT = 200;

/** Publishes COUNT messages, each from its own microtask checkpoint, all in one turn. */
function publishInSeparateCheckpoints(nc: NatsConnection, subject: string): Promise<void> {
  let chain = Promise.resolve();
  for (let i = 0; i < COUNT; i++) chain = chain.then(() => nc.publish(subject, String(i)));
  return chain;
}

describe("the runtime's NATS writes batched per turn", () => {
  let fx: NatsFixture;
  const ours: NatsConnection[] = [];

  beforeEach(() => {
    fx = new NatsFixture();
  });
  afterEach(async () => {
    await Promise.allSettled(ours.splice(0).map((nc) => drainNats(nc)));
    await fx.cleanup();
  });

  async function runtimeConnection(writeBatching = true): Promise<NatsConnection> {
    const config = fx.config;
    const nc = await connectNats({ ...config, nats: { ...config.nats, writeBatching } }, { log: testLogger() });
    ours.push(nc);
    return nc;
  }

  /** Subscribes; `arrived` resolves once `count` messages came on `subject`, payloads in arrival order. */
  async function receiver(subject: string, count: number): Promise<{ arrived: Promise<string[]> }> {
    const nc = await fx.connection();
    const received: string[] = [];
    const all = deferred<string[]>();
    nc.subscribe(subject, {
      callback: (_err, msg) => {
        if (received.push(msg.string()) === count) all.resolve(received);
      },
    });
    await nc.flush();
    return { arrived: all.promise };
  }

  test("guard: nats.js keeps the socket of a connection at protocol.transport.socket", async () => {
    const nc = await runtimeConnection();
    expect(natsSocketOf(nc)).toBeInstanceOf(Socket);
    expect(natsWritesBatched(nc)).toBe(true);
  });

  test("what one turn publishes leaves in one socket write on ours, in one write per flush on a plain connection", async () => {
    const subject = `${fx.prefix}.counted`;
    const { arrived } = await receiver(subject, 2 * COUNT);
    const batched = await runtimeConnection();
    const plain = await fx.connection();
    const batchedWrites = countSocketWrites(natsSocketOf(batched)!);
    const plainWrites = countSocketWrites(natsSocketOf(plain)!);

    await publishInSeparateCheckpoints(batched, subject);
    await publishInSeparateCheckpoints(plain, subject);
    await Promise.all([batched.flush(), plain.flush()]);
    await arrived;

    // Ours: the turn's 200 publishes in one writev, and the flush's PING. Plain nats.js: one write per publish.
    expect(batchedWrites.writes).toBeLessThanOrEqual(2);
    expect(plainWrites.writes).toBeGreaterThanOrEqual(COUNT);
  });

  test("with write_batching off, the runtime's connection writes as plain nats.js does", async () => {
    const nc = await runtimeConnection(false);
    expect(natsWritesBatched(nc)).toBe(false);
    expect(Object.hasOwn(natsSocketOf(nc)!, "write")).toBe(false);
  });

  test("publishes from many microtask checkpoints of one turn, then a drain in that turn, all arrive in order", async () => {
    const subject = `${fx.prefix}.batched`;
    const { arrived } = await receiver(subject, COUNT);
    const sender = await runtimeConnection();
    await publishInSeparateCheckpoints(sender, subject).then(() => sender.drain());
    expect(await arrived).toEqual(Array.from({ length: COUNT }, (_, i) => String(i)));
  });

  test("after a reconnect the connection's new socket is batched too", async () => {
    const nc = await runtimeConnection();
    const first = natsSocketOf(nc);
    const reconnected = deferred();
    void (async () => {
      for await (const s of nc.status()) if (s.type === "reconnect") reconnected.resolve();
    })();
    await nc.reconnect();
    await reconnected.promise;
    // The batching re-applies from the same status stream, in the same or a later checkpoint.
    await new Promise((r) => setImmediate(r));
    const second = natsSocketOf(nc);
    expect(second).toBeInstanceOf(Socket);
    expect(second).not.toBe(first);
    expect(natsWritesBatched(nc)).toBe(true);
  });

  test("a plain nats.js connection in the same process, and nats.js itself, are left as they were", async () => {
    const before = dependencyShape();
    const nc = await runtimeConnection();
    const plain = await fx.connection();
    const subject = `${fx.prefix}.both`;
    const { arrived } = await receiver(subject, 2);
    nc.publish(subject, "ours");
    plain.publish(subject, "plain");
    await arrived;

    expect(natsWritesBatched(plain)).toBe(false);
    expect(Object.hasOwn(natsSocketOf(plain)!, "write")).toBe(false);
    expect(changedSince(before, dependencyShape())).toEqual([]);
  });
});
