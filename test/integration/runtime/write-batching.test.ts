// nats.js writes corked per turn (src/nats/write-batching.ts), against a real nats-server: what is
// sent in several microtask checkpoints of one turn arrives whole and in order, and a drain in the
// same turn still delivers everything corked before it.
import { natsWritesBatched } from "../../../src/nats/write-batching";
import { NatsFixture } from "../../helpers/brokers";
import { deferred } from "../../helpers/waiters";

const COUNT = 200;

describe("nats.js socket writes batched per turn", () => {
  let fx: NatsFixture;

  beforeEach(() => {
    fx = new NatsFixture();
  });
  afterEach(() => fx.cleanup());

  test("the patch is in effect on the installed @nats-io/transport-node", () => {
    expect(natsWritesBatched()).toBe(true);
  });

  test("publishes from many microtask checkpoints of one turn, then a drain in that turn, all arrive in order", async () => {
    const subject = `${fx.prefix}.batched`;
    const receiver = await fx.connection();
    const received: string[] = [];
    const all = deferred();
    receiver.subscribe(subject, {
      callback: (_err, msg) => {
        if (received.push(msg.string()) === COUNT) all.resolve();
      },
    });
    await receiver.flush();

    const sender = await fx.connection();
    // One publish per microtask checkpoint, each flushed by nats.js on its own, all in one turn.
    let chain = Promise.resolve();
    for (let i = 0; i < COUNT; i++) chain = chain.then(() => sender.publish(subject, String(i)));
    const drained = chain.then(() => sender.drain());
    await drained;
    await all.promise;
    expect(received).toEqual(Array.from({ length: COUNT }, (_, i) => String(i)));
  });
});
