// The event relays of a routed service lose nothing when the bridge dies:
// docs/routing.md, Events of a routed service.
// The bridge is killed as a crash would (nothing it holds is acked) while events stream both ways, a
// new one is started, and every event reaches its handler, at least once.
import type { Bridge } from "../../../bridge/bridge";
import { waitFor } from "../../helpers/waiters";
import { PeerDispatcher, startPeerHandler, type PeerHandler } from "../../interop/nameko-peer";
import { BridgeFixture } from "./bridge-fixture";

/** Events dispatched each way. */
const EVENTS = 400;
/** Events a handler has before the bridge is killed, so the stream is well under way. */
const BEFORE_KILL = 50;

const numbersOf = (h: PeerHandler): Set<number> => new Set(h.events.map((e) => (e.payload as { n: number }).n));

describe("routing by weight: the original's events across a bridge crash", () => {
  const fx = new BridgeFixture();
  const closing: Array<{ stop?: () => Promise<void>; close?: () => Promise<void> }> = [];
  let originalUri = "";

  beforeAll(async () => {
    await fx.setup();
    originalUri = (await fx.otherVhost()).uri;
  });
  afterAll(async () => {
    await Promise.allSettled(closing.map((c) => (c.close ? c.close() : c.stop?.())));
    await fx.cleanup();
  });

  it("delivers every event both ways when the bridge is killed mid-stream and a new one started", async () => {
    const inSpec = { source: "billing", eventType: "paid", service: "orders", method: "on_paid" };
    // The original's handler queue from before the move, on the callers' vhost, and its own on its vhost.
    await (await startPeerHandler({ uri: fx.vhost.uri, ...inSpec })).stop();
    const original = await startPeerHandler({ uri: originalUri, ...inSpec });
    const mailer = await startPeerHandler({
      uri: fx.vhost.uri,
      source: "orders",
      eventType: "shipped",
      service: "mailer",
      method: "on_shipped",
    });
    const fromOriginal = await PeerDispatcher.start(originalUri);
    const onCallers = await PeerDispatcher.start(fx.vhost.uri);
    closing.push(original, mailer, fromOriginal, onCallers);
    const spec = { routing: { orders: { originalAmqpUri: originalUri } } };
    const first: Bridge = await fx.readyBridge(spec);

    let dispatched = 0;
    const dispatching = (async () => {
      for (let n = 0; n < EVENTS; n++, dispatched = n) {
        await fromOriginal.dispatch("orders", "shipped", { n }, { service: { callIdStack: ["orders.ship.1"] } });
        await onCallers.dispatch("billing", "paid", { n }, { service: { callIdStack: ["billing.charge.1"] } });
      }
    })();
    await waitFor(() => mailer.events.length >= BEFORE_KILL && original.events.length >= BEFORE_KILL, {
      what: "both relays under way",
    });
    await first.kill();
    // Events dispatched while no bridge runs wait in the relays' queues.
    const atKill = dispatched;
    await fx.readyBridge(spec);
    await dispatching;

    await waitFor(() => numbersOf(mailer).size === EVENTS && numbersOf(original).size === EVENTS, {
      what: "every event at both handlers",
      timeoutMs: 20_000,
    });
    expect(atKill).toBeLessThan(EVENTS);
    // Redelivered after the crash at most as many as the relays held unacked (their prefetch).
    expect(mailer.events.length - EVENTS).toBeLessThanOrEqual(128);
    expect(original.events.length - EVENTS).toBeLessThanOrEqual(128);
  }, 30_000);
});
