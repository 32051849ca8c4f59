// A bridge killed with SIGKILL while events flow both ways loses nothing: what it had not acked
// comes back (RabbitMQ requeues at once, JetStream after ack_wait) to a restarted bridge or to a
// second bridge sharing the work. Duplicates are allowed, and bounded by what the dead bridge held.
import { defaultConfig } from "../../../src/config/defaults";
import { eventHandler } from "../../../src/entrypoints/events";
import { bridgeEventQueue } from "../../../bridge/amqp/event-inbound";
import { DEFAULT_EVENT_MAX_IN_FLIGHT, DEFAULT_EVENT_PREFETCH } from "../../../bridge/events";
import type { PeerHandler } from "../../interop/nameko-peer";
import { BridgeEventsFixture, until, type ChildBridge } from "./event-fixture";

jest.setTimeout(120_000);

const TOTAL = 1000;

function tally(ns: number[]): { distinct: number; duplicates: number } {
  const distinct = new Set(ns).size;
  return { distinct, duplicates: ns.length - distinct };
}

describe("bridge events when a bridge is killed", () => {
  let fx: BridgeEventsFixture;
  let nameko: PeerHandler;
  let ledger: number[];

  beforeEach(async () => {
    // A short ack_wait, so JetStream hands what the dead bridge held to another one quickly.
    fx = await new BridgeEventsFixture({
      config: { events: { ...defaultConfig().events, ackWaitSeconds: 2 } },
    }).setup();
    fx.directory.nats = ["orders"];
    fx.directory.amqp = ["payments"];
    nameko = await fx.peerHandler({
      source: "orders",
      eventType: "placed",
      service: "billing",
      method: "on_placed",
      maxWorkers: 50,
    });
    ledger = [];
    const seen = ledger;
    class Ledger {
      name = "ledger";
      @eventHandler("payments", "paid")
      async onPaid(payload: { n: number }) {
        seen.push(payload.n);
      }
    }
    await fx.startService(Ledger, { config: { maxWorkers: 50 } });
  });
  afterEach(async () => {
    await fx.cleanup();
  });

  /**
   * Publishes TOTAL events each way in bursts (so the bridge has many in hand when it dies);
   * resolves when the brokers accepted all of them.
   */
  async function publishBothWays(): Promise<void> {
    const peer = await fx.peer();
    const burst = 50;
    for (let start = 0; start < TOTAL; start += burst) {
      const ns = [...Array(burst).keys()].map((i) => start + i);
      await Promise.all(
        ns.flatMap((n) => [fx.publishNats("orders", "placed", { n }), peer.dispatch("payments", "paid", { n })]),
      );
    }
  }

  async function killMidFlow(victim: ChildBridge): Promise<void> {
    const publishing = publishBothWays();
    await until(
      () => (nameko.events.length >= 200 && ledger.length >= 200) || undefined,
      "events flowing both ways",
      30_000,
    );
    await victim.kill();
    await publishing;
  }

  async function expectEverythingArrived(): Promise<void> {
    const namekoNs = (): number[] => nameko.events.map((e) => (e.payload as { n: number }).n);
    await until(
      () => new Set(namekoNs()).size === TOTAL || undefined,
      `all ${TOTAL} NATS events at the Nameko handler`,
      60_000,
    );
    await until(
      () => new Set(ledger).size === TOTAL || undefined,
      `all ${TOTAL} AMQP events at the runtime handler`,
      60_000,
    );
    const toAmqp = tally(namekoNs());
    const toNats = tally(ledger);
    // Only what the killed bridge held unacked can arrive twice.
    expect(toAmqp.duplicates).toBeLessThanOrEqual(DEFAULT_EVENT_MAX_IN_FLIGHT);
    expect(toNats.duplicates).toBeLessThanOrEqual(DEFAULT_EVENT_PREFETCH);
    const jsm = await fx.jsm();
    await until(
      async () => (await jsm.streams.info(fx.nats.streamName)).state.messages === 0 || undefined,
      "the stream emptied",
      30_000,
    );
    await until(
      async () => (await fx.queue(bridgeEventQueue("payments").queue))?.messages === 0 || undefined,
      "the bridge queue emptied",
    );
  }

  it("kill -9 of the only bridge while 1,000 events flow each way: after a restart every event arrives", async () => {
    const first = await fx.startChildBridge();
    await killMidFlow(first);
    await fx.startChildBridge();
    await expectEverythingArrived();
  });

  it("two bridges share the work; one killed mid-flow, the other carries everything on", async () => {
    const victim = await fx.startChildBridge();
    const survivor = await fx.startBridge({ options: { retryInitialMs: 20, retryMaxMs: 200 } });
    await killMidFlow(victim);
    await expectEverythingArrived();
    expect(survivor.bridge.ready()).toBe(true);
  });
});
