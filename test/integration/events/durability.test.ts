import { durableConsumerName, eventQueueName } from "../../../compat/naming";
import type { StandaloneDispatcher } from "../../../src/client/standalone-dispatcher";
import { eventHandler } from "../../../src/entrypoints/events";
import { captureLogger, EventsFixture } from "../../helpers/jetstream";
import { waitFor } from "../../helpers/waiters";

describe("event durability", () => {
  let fx: EventsFixture;
  let dispatch: StandaloneDispatcher;

  beforeEach(async () => ({ fx, dispatch } = await EventsFixture.withDispatcher()));
  afterEach(() => fx.cleanup());

  it("keeps events for a stopped service and delivers all of them when it starts again", async () => {
    const seen: number[] = [];
    class Ledger {
      name = "ledger";
      @eventHandler("payments", "paid")
      async onPaid(p: { n: number }) {
        seen.push(p.n);
      }
    }
    const first = await fx.start(Ledger);
    await first.stop();
    for (let n = 0; n < 100; n++) await dispatch("payments", "paid", { n });
    const stream = await (await fx.jsm()).streams.info(fx.streamName);
    expect(stream.state.messages).toBe(100);

    await fx.start(Ledger);
    await waitFor(() => seen.length >= 100, { what: "100 events handled after the restart" });
    expect(seen.sort((a, b) => a - b)).toEqual([...Array(100).keys()]);
    // Interest retention: once the only interested consumer acked them, the stream lets them go.
    await waitFor(async () => (await (await fx.jsm()).streams.info(fx.streamName)).state.messages === 0, {
      what: "the stream emptied",
    });
  });

  it("drops an event nobody is subscribed to instead of keeping it", async () => {
    await dispatch("payments", "nobody_listens", { n: 1 });
    const stream = await (await fx.jsm()).streams.info(fx.streamName);
    expect(stream.state.messages).toBe(0);
  });

  it("reliableDelivery false keeps nothing for a stopped service", async () => {
    const seen: number[] = [];
    class Volatile {
      name = "volatile";
      @eventHandler("payments", "paid", { reliableDelivery: false })
      async onPaid(p: { n: number }) {
        seen.push(p.n);
      }
    }
    const consumer = durableConsumerName(
      eventQueueName({
        source: "payments",
        eventType: "paid",
        handlerType: "service_pool",
        service: "volatile",
        method: "onPaid",
      }),
    );
    const first = await fx.start(Volatile);
    await dispatch("payments", "paid", { n: 0 });
    await waitFor(() => seen.length === 1, { what: "the first event handled" });
    await first.stop();
    expect(await fx.consumer(consumer)).toBeUndefined();

    for (let n = 1; n <= 5; n++) await dispatch("payments", "paid", { n });
    await fx.start(Volatile);
    await dispatch("payments", "paid", { n: 6 });
    await waitFor(() => seen.includes(6), { what: "the event published after the restart" });
    expect(seen).toEqual([0, 6]);
  });

  it("reliableDelivery false: a shared consumer stays while another instance still runs", async () => {
    const seen: number[] = [];
    class Volatile {
      name = "volatile_pool";
      @eventHandler("payments", "paid", { reliableDelivery: false })
      async onPaid(p: { n: number }) {
        seen.push(p.n);
      }
    }
    const one = await fx.start(Volatile);
    await fx.start(Volatile);
    await one.stop();
    await dispatch("payments", "paid", { n: 1 });
    await waitFor(() => seen.length === 1, { what: "the remaining instance handled the event" });
  });

  it("a consumer deleted under a running service is created again and keeps delivering", async () => {
    const seen: number[] = [];
    class Ledger {
      name = "ledger_recreated";
      @eventHandler("payments", "paid")
      async onPaid(p: { n: number }) {
        seen.push(p.n);
      }
    }
    const consumer = durableConsumerName(
      eventQueueName({
        source: "payments",
        eventType: "paid",
        handlerType: "service_pool",
        service: "ledger_recreated",
        method: "onPaid",
      }),
    );
    const { log, entries } = captureLogger();
    await fx.start(Ledger, { log });
    const jsm = await fx.jsm();
    const original = await fx.consumer(consumer);
    await jsm.consumers.delete(fx.streamName, consumer);
    await waitFor(
      async () => {
        const info = await fx.consumer(consumer);
        return info !== undefined && info.created !== original?.created && info.num_waiting > 0;
      },
      { what: "the consumer recreated and pulled from" },
    );
    await dispatch("payments", "paid", { n: 7 });
    await waitFor(() => seen.includes(7), { what: "the event published after the recreation" });
    expect(entries).toContainEqual(
      expect.objectContaining({ level: "warn", message: "event consumer vanished; creating it again", consumer }),
    );
  });
});
