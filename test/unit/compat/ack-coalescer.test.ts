import type { Channel, Message } from "amqplib";
import { AckCoalescer } from "../../../compat/amqp/ack-coalescer";

type Frame = [kind: "ack" | "reject", tag: number, flag: boolean];

/** Records what would go to the broker; AckCoalescer is pure logic over these two calls. */
function recordingChannel(): { channel: Channel; frames: Frame[]; fail?: Error } {
  const rec: { channel: Channel; frames: Frame[]; fail?: Error } = { frames: [], channel: undefined as unknown as Channel };
  rec.channel = {
    ack: (m: Message, allUpTo?: boolean) => {
      if (rec.fail) throw rec.fail;
      rec.frames.push(["ack", m.fields.deliveryTag, allUpTo === true]);
    },
    reject: (m: Message, requeue?: boolean) => {
      if (rec.fail) throw rec.fail;
      rec.frames.push(["reject", m.fields.deliveryTag, requeue === true]);
    },
  } as unknown as Channel;
  return rec;
}

const msg = (deliveryTag: number): Message => ({ fields: { deliveryTag } }) as unknown as Message;
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe("AckCoalescer", () => {
  it("sends the acks of one turn as a single multiple ack when their tags run from the lowest unsettled", async () => {
    const rec = recordingChannel();
    const acks = new AckCoalescer(rec.channel, () => undefined);
    for (const tag of [2, 1, 4, 3]) acks.ack(msg(tag));
    expect(rec.frames).toEqual([]);
    await nextTurn();
    expect(rec.frames).toEqual([["ack", 4, true]]);
  });

  it("never covers an unsettled delivery: acks past a gap go one by one, then join the run once the gap closes", async () => {
    const rec = recordingChannel();
    const acks = new AckCoalescer(rec.channel, () => undefined);
    acks.ack(msg(1));
    acks.ack(msg(3));
    acks.ack(msg(4));
    await nextTurn();
    expect(rec.frames).toEqual([
      ["ack", 1, true],
      ["ack", 3, false],
      ["ack", 4, false],
    ]);
    rec.frames.length = 0;
    acks.ack(msg(2));
    acks.ack(msg(5));
    await nextTurn();
    // 2 closes the gap; 3 and 4 are already acked, so a multiple ack up to 5 settles only 2 and 5.
    expect(rec.frames).toEqual([["ack", 5, true]]);
  });

  it("sends a reject at once and lets later acks run past the rejected tag", async () => {
    const rec = recordingChannel();
    const acks = new AckCoalescer(rec.channel, () => undefined);
    acks.ack(msg(1));
    acks.reject(msg(2), true);
    expect(rec.frames).toEqual([["reject", 2, true]]);
    acks.ack(msg(3));
    await nextTurn();
    expect(rec.frames).toEqual([
      ["reject", 2, true],
      ["ack", 3, true],
    ]);
  });

  it("flush() sends queued acks immediately (before a channel close)", () => {
    const rec = recordingChannel();
    const acks = new AckCoalescer(rec.channel, () => undefined);
    acks.ack(msg(1));
    acks.ack(msg(2));
    acks.flush();
    expect(rec.frames).toEqual([["ack", 2, true]]);
  });

  it("drops settles on a closing channel silently and reports any other failure instead of throwing", async () => {
    const rec = recordingChannel();
    const errors: unknown[] = [];
    const acks = new AckCoalescer(rec.channel, (err) => errors.push(err));
    const closing = new Error("Channel closing");
    closing.name = "IllegalOperationError";
    rec.fail = closing;
    acks.ack(msg(1));
    await nextTurn();
    expect(errors).toEqual([]);
    rec.fail = new Error("socket gone");
    acks.ack(msg(2));
    await nextTurn();
    expect(errors).toEqual([rec.fail]);
  });
});
