import { jetstream } from "@nats-io/jetstream";
import { durableConsumerName, eventQueueName } from "../../../compat/naming";
import type { StandaloneDispatcher } from "../../../src/client/standalone-dispatcher";
import { eventHandler } from "../../../src/entrypoints/events";
import { captureLogger, EventsFixture } from "../../helpers/jetstream";
import { waitFor } from "../../helpers/waiters";

const consumerOf = (service: string, method: string): string =>
  durableConsumerName(
    eventQueueName({ source: "orders", eventType: "placed", handlerType: "service_pool", service, method }),
  );

describe("event acknowledgement", () => {
  let fx: EventsFixture;
  let dispatch: StandaloneDispatcher;

  beforeEach(async () => ({ fx, dispatch } = await EventsFixture.withDispatcher()));
  afterEach(() => fx.cleanup());

  /** The consumer's info once it holds nothing: every delivered event acked, none waiting. */
  const settled = (consumer: string, what: string) =>
    waitFor(
      async () => {
        const i = await fx.consumer(consumer);
        return i !== undefined && i.num_ack_pending === 0 && i.num_pending === 0 ? i : undefined;
      },
      { what },
    );

  it("requeueOnError redelivers: a handler failing twice then succeeding sees three deliveries", async () => {
    const deliveries: unknown[] = [];
    class Flaky {
      name = "flaky";
      @eventHandler("orders", "placed", { requeueOnError: true })
      async onPlaced(p: { id: string }) {
        deliveries.push(p.id);
        if (deliveries.length < 3) throw new Error(`failure ${deliveries.length}`);
      }
    }
    await fx.start(Flaky, { log: captureLogger().log });
    await dispatch("orders", "placed", { id: "o-1" });
    await waitFor(
      async () => {
        const info = await fx.consumer(consumerOf("flaky", "onPlaced"));
        return (
          info !== undefined &&
          info.num_ack_pending === 0 &&
          info.num_pending === 0 &&
          info.delivered.consumer_seq === 3
        );
      },
      { what: "the third delivery acked" },
    );
    expect(deliveries).toEqual(["o-1", "o-1", "o-1"]);
  });

  it("without requeueOnError an erroring handler's event is acked and not redelivered", async () => {
    const deliveries: unknown[] = [];
    class Failing {
      name = "failing";
      @eventHandler("orders", "placed")
      async onPlaced(p: { id: string }) {
        deliveries.push(p.id);
        throw new Error("always fails");
      }
    }
    const { log, entries } = captureLogger();
    await fx.start(Failing, { log });
    await dispatch("orders", "placed", { id: "o-1" });
    const info = await waitFor(
      async () => {
        const i = await fx.consumer(consumerOf("failing", "onPlaced"));
        return i !== undefined && i.delivered.consumer_seq >= 1 && i.num_ack_pending === 0 && i.num_pending === 0
          ? i
          : undefined;
      },
      { what: "the failed event acked" },
    );
    expect(info.delivered.consumer_seq).toBe(1);
    expect(info.num_redelivered).toBe(0);
    expect(deliveries).toEqual(["o-1"]);
    expect(entries.some((e) => e.level === "error" && e.message.startsWith("error handling worker"))).toBe(true);
  });

  it("terminates a non-JSON body: logged with its subject, never seen by the handler, and the next event is handled", async () => {
    const seen: unknown[] = [];
    class Orders {
      name = "orders_audit";
      @eventHandler("orders", "placed")
      async onPlaced(p: unknown) {
        seen.push(p);
      }
    }
    const { log, entries } = captureLogger();
    await fx.start(Orders, { log });
    const nc = await fx.client();
    const subject = `${fx.prefix}.events.orders.placed`;
    await jetstream(nc).publish(subject, "{not json");
    await dispatch("orders", "placed", { id: "after" });
    await waitFor(() => seen.length === 1, { what: "the valid event after the bad one" });
    expect(seen).toEqual([{ id: "after" }]);

    const info = await settled(consumerOf("orders_audit", "onPlaced"), "both messages settled");
    expect(info.delivered.consumer_seq).toBe(2);
    expect(info.num_redelivered).toBe(0);
    const logged = entries.find((e) => e.message === "event body is not JSON; message terminated");
    expect(logged).toMatchObject({ level: "error", subject });
  });

  it("keeps a handler slower than ack_wait from being redelivered: one delivery, acked once it finishes", async () => {
    const deliveries: string[] = [];
    let finished = 0;
    class Slow {
      name = "slow_ack";
      @eventHandler("orders", "placed")
      async onPlaced(p: { id: string }) {
        deliveries.push(p.id);
        // Three times ack_wait: only the pull loop's working() keeps the server from redelivering.
        await new Promise((r) => setTimeout(r, 3_000));
        finished++;
      }
    }
    await fx.start(Slow, { config: { events: { ...fx.config.events, ackWaitSeconds: 1 } } });
    await dispatch("orders", "placed", { id: "o-1" });
    await waitFor(() => finished === 1, { what: "the slow handler finished", timeoutMs: 15_000 });
    const info = await settled(consumerOf("slow_ack", "onPlaced"), "the event acked");
    expect(info.config.ack_wait).toBe(1_000_000_000);
    expect(info.delivered.consumer_seq).toBe(1);
    expect(info.num_redelivered).toBe(0);
    expect(deliveries).toEqual(["o-1"]);
  }, 20_000);
});
