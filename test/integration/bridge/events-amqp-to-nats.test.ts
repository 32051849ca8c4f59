// Events of a service that lives on RabbitMQ reach runtime handlers on NATS through the bridge.
// The AMQP side is the independent Nameko peer (test/interop/nameko-peer), not compat/.
import { AckPolicy, DeliverPolicy, jetstream } from "@nats-io/jetstream";
import { connect as amqpConnect } from "amqplib";
import type { WorkerContext } from "../../../src/core/extension";
import { Context } from "../../../src/dependencies/context";
import { eventHandler } from "../../../src/entrypoints/events";
import { PrivateNatsServer } from "../../helpers/private-servers";
import { BridgeEventsFixture, until } from "./event-fixture";

jest.setTimeout(90_000);

const QUEUE = "cliffracer-bridge-evt-payments";

interface Seen {
  payload: unknown;
  data: Record<string, unknown>;
  stack: readonly string[];
  callId: string;
}

/** A runtime service with a SERVICE_POOL handler for payments.paid that records what it got. */
function ledgerClass(seen: Seen[]) {
  class Ledger {
    name = "ledger";
    @Context() ctx!: WorkerContext;
    @eventHandler("payments", "paid")
    async onPaid(payload: unknown) {
      seen.push({ payload, data: { ...this.ctx.data }, stack: [...this.ctx.callIdStack], callId: this.ctx.callId });
    }
  }
  return Ledger;
}

describe("bridge events AMQP -> NATS", () => {
  let fx: BridgeEventsFixture;

  afterEach(async () => {
    await fx.cleanup();
  });

  describe("on the shared NATS server", () => {
    beforeEach(async () => {
      fx = await new BridgeEventsFixture().setup();
      fx.directory.amqp = ["payments"];
    });

    it("reaches a runtime SERVICE_POOL handler with context data and the call id stack continued", async () => {
      const seen: Seen[] = [];
      await fx.startService(ledgerClass(seen));
      const b = await fx.startBridge();
      expect(b.bridge.ready()).toBe(true);
      const stack = ["standalone_rpc_proxy.call.4bc5", "payments.pay.61fc"];
      const payload = { amount: 12.5, who: "café ☃", ids: [1, 2] };
      await (
        await fx.peer()
      ).dispatch("payments", "paid", payload, {
        service: { data: { user_id: "u-1", num: 5, lang: "en-gb" }, callIdStack: stack },
      });

      await until(() => seen.length === 1 || undefined, "the runtime handler ran");
      const [s] = seen;
      expect(s.payload).toEqual(payload);
      expect(s.data).toMatchObject({ user_id: "u-1", num: 5, lang: "en-gb" });
      expect(s.stack).toEqual([...stack, s.callId]);
      expect(s.callId).toMatch(/^ledger\.onPaid\./);
      await until(async () => (await fx.queue(QUEUE))?.messages === 0 || undefined, "the AMQP message acked");
      expect(b.metrics.get("forwarded:amqp_to_nats:payments")).toBe(1);
    });

    it("publishes the Nameko body unchanged and the context as NATS headers (stack as a JSON array)", async () => {
      const nc = await fx.natsConnection();
      const jsm = await fx.jsm();
      await fx.startBridge();
      // A plain JetStream consumer stands in for any NATS client reading the events stream.
      await jsm.consumers.add(fx.nats.streamName, {
        durable_name: "probe",
        filter_subject: fx.subject("payments", "paid"),
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
      });
      const body = '{"amount": 12.5, "who": "caf\\u00e9", "big": 12345678901234567890}';
      await (
        await fx.peer()
      ).dispatch("payments", "paid", null, {
        rawBody: body,
        service: { data: { user_id: "u-1", num: 5, ok: true }, callIdStack: ["a.b.1", "payments.pay.2"] },
      });
      const consumer = await jetstream(nc).consumers.get(fx.nats.streamName, "probe");
      const msg = await consumer.next({ expires: 10_000 });
      expect(msg).not.toBeNull();
      expect(msg!.subject).toBe(`${fx.prefix}.events.payments.paid`);
      expect(Buffer.from(msg!.data).toString("utf8")).toBe(body);
      const h = msg!.headers!;
      expect(h.get("nameko.user_id")).toBe("u-1");
      expect(h.get("nameko.num")).toBe("5");
      expect(h.get("nameko.ok")).toBe("true");
      expect(h.get("nameko.call_id_stack")).toBe('["a.b.1", "payments.pay.2"]');
      expect(h.get("x-cliffracer-bridged")).toBe("amqp:payments.paid");
      expect(h.keys().sort()).toEqual([
        "nameko.call_id_stack",
        "nameko.num",
        "nameko.ok",
        "nameko.user_id",
        "x-cliffracer-bridged",
      ]);
      msg!.ack();
    });

    it("a runtime handler stopped while 100 events are published gets all of them after its restart", async () => {
      const seen: Seen[] = [];
      const first = await fx.startService(ledgerClass(seen));
      await first.stop();
      await fx.startBridge();
      const peer = await fx.peer();
      for (let n = 0; n < 100; n++) await peer.dispatch("payments", "paid", { n });
      await until(
        async () => (await fx.queue(QUEUE))?.messages === 0 || undefined,
        "all 100 handed to JetStream",
        20_000,
      );
      const jsm = await fx.jsm();
      expect((await jsm.streams.info(fx.nats.streamName)).state.messages).toBe(100);
      expect(seen).toHaveLength(0);

      await fx.startService(ledgerClass(seen));
      await until(() => seen.length >= 100 || undefined, "100 events after the restart", 20_000);
      expect(seen.map((s) => (s.payload as { n: number }).n).sort((a, b) => a - b)).toEqual([...Array(100).keys()]);
    });

    it("a bridge stopped while 100 events are published forwards all of them after its restart", async () => {
      const seen: Seen[] = [];
      await fx.startService(ledgerClass(seen));
      const first = await fx.startBridge();
      await first.stop();
      const peer = await fx.peer();
      for (let n = 0; n < 100; n++) await peer.dispatch("payments", "paid", { n });
      // The bridge's own durable queue kept them.
      expect((await fx.queue(QUEUE))?.messages).toBe(100);
      await fx.startBridge();
      await until(() => seen.length >= 100 || undefined, "100 events after the bridge restart", 20_000);
      expect(seen.map((s) => (s.payload as { n: number }).n).sort((a, b) => a - b)).toEqual([...Array(100).keys()]);
      await until(async () => (await fx.queue(QUEUE))?.messages === 0 || undefined, "the bridge queue emptied");
    });

    it("refuses bad routing keys, non-JSON bodies, other content types and oversized events: logged, acked, not redelivered", async () => {
      const seen: Seen[] = [];
      await fx.startService(ledgerClass(seen));
      const b = await fx.startBridge();
      const peer = await fx.peer();
      for (const key of ["a.b", "*", "a>", "", "has space", "paid."])
        await peer.dispatch("payments", key, { bad: key });
      await peer.dispatch("payments", "paid", null, { rawBody: "not json {" });
      await peer.dispatch("payments", "paid", "x".repeat(2 * 1024 * 1024));
      await peer.dispatch("payments", "paid", { n: 1 });
      await until(() => seen.length === 1 || undefined, "the good event handled");
      expect(seen[0].payload).toEqual({ n: 1 });
      await until(async () => (await fx.queue(QUEUE))?.messages === 0 || undefined, "every message acked");
      expect(b.metrics.get("dropped:amqp_to_nats:payments:bad_event_type")).toBe(6);
      expect(b.metrics.get("dropped:amqp_to_nats:payments:not_json")).toBe(1);
      expect(b.metrics.get("dropped:amqp_to_nats:payments:too_large")).toBe(1);
      expect(b.metrics.get("redelivered:amqp_to_nats:payments")).toBe(0);
      expect(b.metrics.get("retried:amqp_to_nats:payments")).toBe(0);
      const refused = b.logs.filter((l) => l.level === "warn" && l.message.startsWith("event refused"));
      expect(refused).toHaveLength(8);
      expect(b.bridge.ready()).toBe(true);
    });

    it("refuses a content type the NATS side cannot read", async () => {
      const b = await fx.startBridge();
      const conn = await amqpConnect(fx.vhost.uri);
      try {
        const ch = await conn.createConfirmChannel();
        ch.publish("payments.events", "paid", Buffer.from("\x80\x04K\x01."), {
          contentType: "application/x-python-serialize",
          headers: {},
        });
        await ch.waitForConfirms();
      } finally {
        await conn.close();
      }
      await until(
        () => b.metrics.get("dropped:amqp_to_nats:payments:content_type") === 1 || undefined,
        "the pickle event refused",
      );
      await until(async () => (await fx.queue(QUEUE))?.messages === 0 || undefined, "acked");
    });
  });

  describe("with a NATS server that goes away", () => {
    let server: PrivateNatsServer;

    beforeEach(async () => {
      server = await PrivateNatsServer.start();
      fx = await new BridgeEventsFixture({ natsUrl: server.url }).setup();
      fx.directory.amqp = ["payments"];
    });
    afterEach(async () => {
      await server.destroy();
    });

    it("keeps AMQP events queued (unacked, not dropped) while NATS is down, and forwards them once it is back", async () => {
      const seen: Seen[] = [];
      await fx.startService(ledgerClass(seen));
      const b = await fx.startBridge();
      const peer = await fx.peer();
      await peer.dispatch("payments", "paid", { n: -1 });
      await until(() => seen.length === 1 || undefined, "one event through before the outage");

      await server.stop();
      await until(() => !b.bridge.ready() || undefined, "the bridge reports not ready");
      for (let n = 0; n < 50; n++) await peer.dispatch("payments", "paid", { n });
      await until(async () => (await fx.queue(QUEUE))?.messages === 50 || undefined, "50 events held in RabbitMQ");
      const q = await fx.queue(QUEUE);
      // The bridge holds at most its prefetch unacked; the rest waits ready in the queue.
      expect(q!.messages_ready + q!.messages_unacknowledged).toBe(50);
      expect(b.metrics.get("forwarded:amqp_to_nats:payments")).toBe(1);

      await server.restart();
      await until(() => b.bridge.ready() || undefined, "the bridge ready again", 20_000);
      await until(
        () => new Set(seen.map((s) => (s.payload as { n: number }).n)).size >= 51 || undefined,
        "all 50 events after NATS came back",
        30_000,
      );
      await until(async () => (await fx.queue(QUEUE))?.messages === 0 || undefined, "the bridge queue emptied");
      const ns = new Set(seen.map((s) => (s.payload as { n: number }).n));
      expect([...ns].sort((a, b) => a - b)).toEqual([-1, ...Array(50).keys()]);
    });
  });
});
