import { randomUUID } from "node:crypto";
import { durableConsumerName, eventQueueName } from "../../../compat/naming";
import type { StandaloneDispatcher } from "../../../src/client/standalone-dispatcher";
import type { DependencyProvider } from "../../../src/core/extension";
import { registerDependency } from "../../../src/core/metadata";
import { HandlerType } from "../../../compat";
import { eventHandler } from "../../../src/entrypoints/events";
import { EventsFixture } from "../../helpers/jetstream";
import { waitFor } from "../../helpers/waiters";

/** Injects an id fixed per container, so a handler can tell which instance ran it. */
class InstanceTagProvider implements DependencyProvider {
  private readonly tag = randomUUID();
  constructor(readonly attrName: string) {}
  getDependency(): string {
    return this.tag;
  }
}
function InstanceTag(): PropertyDecorator {
  return (target, key) => registerDependency(target, () => new InstanceTagProvider(String(key)));
}

describe("event handler types", () => {
  let fx: EventsFixture;
  let dispatch: StandaloneDispatcher;

  beforeEach(async () => ({ fx, dispatch } = await EventsFixture.withDispatcher()));
  afterEach(() => fx.cleanup());

  it("SERVICE_POOL: two instances of one service handle each event exactly once", async () => {
    const seen: Array<{ n: number; tag: string }> = [];
    class Listener {
      name = "listener";
      @InstanceTag() tag!: string;
      @eventHandler("payments", "paid")
      async onPaid(payload: { n: number }) {
        seen.push({ n: payload.n, tag: this.tag });
      }
    }
    await fx.start(Listener);
    await fx.start(Listener);
    const total = 60;
    for (let n = 0; n < total; n++) await dispatch("payments", "paid", { n });
    await waitFor(() => seen.length >= total, { what: `${total} events handled` });
    const consumer = durableConsumerName(
      eventQueueName({
        source: "payments",
        eventType: "paid",
        handlerType: "service_pool",
        service: "listener",
        method: "onPaid",
      }),
    );
    await waitFor(
      async () => {
        const info = await fx.consumer(consumer);
        return info !== undefined && info.num_ack_pending === 0 && info.num_pending === 0;
      },
      { what: "every event acked" },
    );
    expect(seen.map((s) => s.n).sort((a, b) => a - b)).toEqual([...Array(total).keys()]);
    expect(new Set(seen.map((s) => s.tag)).size).toBeLessThanOrEqual(2);
  });

  it("SERVICE_POOL: two different services on the same event each get it", async () => {
    const seenA: number[] = [];
    const seenB: number[] = [];
    class A {
      name = "svc_a";
      @eventHandler("payments", "paid")
      async onPaid(p: { n: number }) {
        seenA.push(p.n);
      }
    }
    class B {
      name = "svc_b";
      @eventHandler("payments", "paid")
      async onPaid(p: { n: number }) {
        seenB.push(p.n);
      }
    }
    await fx.start(A);
    await fx.start(B);
    for (let n = 0; n < 10; n++) await dispatch("payments", "paid", { n });
    await waitFor(() => seenA.length >= 10 && seenB.length >= 10, { what: "both services handled 10 events" });
    expect(seenA.sort((a, b) => a - b)).toEqual([...Array(10).keys()]);
    expect(seenB.sort((a, b) => a - b)).toEqual([...Array(10).keys()]);
  });

  it("SINGLETON: an event is handled once across all services", async () => {
    const seen: Array<{ n: number; by: string }> = [];
    class A {
      name = "single_a";
      @eventHandler("payments", "paid", { handlerType: HandlerType.SINGLETON })
      async onPaid(p: { n: number }) {
        seen.push({ n: p.n, by: "a" });
      }
    }
    class B {
      name = "single_b";
      @eventHandler("payments", "paid", { handlerType: HandlerType.SINGLETON })
      async onPaid(p: { n: number }) {
        seen.push({ n: p.n, by: "b" });
      }
    }
    await fx.start(A);
    await fx.start(B);
    await fx.start(B);
    const total = 40;
    for (let n = 0; n < total; n++) await dispatch("payments", "paid", { n });
    await waitFor(() => seen.length >= total, { what: `${total} events handled` });
    const consumer = durableConsumerName(
      eventQueueName({
        source: "payments",
        eventType: "paid",
        handlerType: "singleton",
        service: "single_a",
        method: "onPaid",
      }),
    );
    await waitFor(
      async () => {
        const info = await fx.consumer(consumer);
        return info !== undefined && info.num_ack_pending === 0 && info.num_pending === 0;
      },
      { what: "every event acked by the singleton consumer" },
    );
    expect(seen.map((s) => s.n).sort((a, b) => a - b)).toEqual([...Array(total).keys()]);
  });

  it("BROADCAST: every running instance handles every event, and its consumer goes with it", async () => {
    const seen: Array<{ n: number; tag: string }> = [];
    class Cache {
      name = "cache";
      @InstanceTag() tag!: string;
      @eventHandler("payments", "paid", { handlerType: HandlerType.BROADCAST, reliableDelivery: false })
      async onPaid(p: { n: number }) {
        seen.push({ n: p.n, tag: this.tag });
      }
    }
    const one = await fx.start(Cache);
    await fx.start(Cache);
    for (let n = 0; n < 5; n++) await dispatch("payments", "paid", { n });
    await waitFor(() => seen.length >= 10, { what: "10 deliveries (5 events x 2 instances)" });
    const byTag = new Map<string, number[]>();
    for (const s of seen) byTag.set(s.tag, [...(byTag.get(s.tag) ?? []), s.n]);
    expect(byTag.size).toBe(2);
    for (const ns of byTag.values()) expect(ns.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4]);

    const jsm = await fx.jsm();
    const before = (await jsm.consumers.list(fx.streamName).next()).length;
    await one.stop();
    const after = (await jsm.consumers.list(fx.streamName).next()).length;
    expect(after).toBe(before - 1);
  });

  it("BROADCAST with reliable delivery needs a stable broadcastIdentifier, as in Nameko", async () => {
    class Bad {
      name = "bad_broadcast";
      @eventHandler("payments", "paid", { handlerType: HandlerType.BROADCAST })
      async onPaid() {}
    }
    await expect(fx.start(Bad)).rejects.toThrow(/broadcast identifier/);

    const seen: number[] = [];
    class Stable {
      name = "stable_broadcast";
      @eventHandler("payments", "paid", {
        handlerType: HandlerType.BROADCAST,
        broadcastIdentifier: "host-1.example.com",
      })
      async onPaid(p: { n: number }) {
        seen.push(p.n);
      }
    }
    const c = await fx.start(Stable);
    await c.stop();
    await dispatch("payments", "paid", { n: 1 });
    await fx.start(Stable);
    await waitFor(() => seen.length === 1, { what: "the event kept for the stopped instance" });
  });
});
