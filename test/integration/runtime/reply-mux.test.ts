// RpcClient's request/reply without nc.request() (src/nats/reply-mux.ts), against a real nats-server:
// replies matched by token on one inbox subscription, the server's 503 for a subject nobody listens
// to, timeouts, the connection's inbox prefix, and a connection closed under pending requests.
import { connect, headers as natsHeaders, type Msg, type NatsConnection } from "@nats-io/transport-node";
import { RpcTimeout, UnknownService } from "../../../compat/errors";
import { jetstreamManager } from "@nats-io/jetstream";
import { EventNotStored, EventPublisher } from "../../../src/client/event-publisher";
import { RpcClient } from "../../../src/client/rpc-client";
import { ReplyMux } from "../../../src/nats/reply-mux";
import { NATS_URL, NatsFixture } from "../../helpers/brokers";

const REPLY = new TextEncoder().encode('{"result": "ok", "error": null}');

describe("RpcClient over one reply subscription", () => {
  let fx: NatsFixture;

  beforeEach(() => {
    fx = new NatsFixture();
  });
  afterEach(() => fx.cleanup());

  /** A raw responder on `rpc.<service>.*` answering `reply(msg)`; resolves once subscribed on the server. */
  async function responder(nc: NatsConnection, service: string, reply: (msg: Msg) => void): Promise<void> {
    nc.subscribe(`${fx.prefix}.rpc.${service}.*`, { callback: (_err, msg) => reply(msg) });
    await nc.flush();
  }

  test("the server's 503 for a subject nobody listens to is UnknownService, at once", async () => {
    const client = await fx.client(60_000);
    await expect(client.call("nobody_here", "method")).rejects.toBeInstanceOf(UnknownService);
    await expect(client.requestRaw("nobody_here", "method", "{}")).rejects.toBeInstanceOf(UnknownService);
  });

  test("a plain publish with a reply subject gets the server's 503 status message", async () => {
    // What ReplyMux relies on: nats.js sends CONNECT with no_responders when headers are supported.
    const nc = await fx.connection();
    const inbox = `_INBOX.${fx.prefix}`;
    const got = new Promise<Msg>((resolve) => nc.subscribe(inbox, { max: 1, callback: (_err, msg) => resolve(msg) }));
    nc.publish(`${fx.prefix}.nobody`, "x", { reply: inbox });
    const msg = await got;
    expect(msg.data.length).toBe(0);
    expect(msg.headers?.code).toBe(503);
  });

  test("a 503 status from a responder (as the bridge sends) is UnknownService", async () => {
    const nc = await fx.connection();
    await responder(nc, "bridged", (msg) =>
      msg.respond(new Uint8Array(0), { headers: natsHeaders(503, "No Responders") }),
    );
    const client = await fx.client();
    await expect(client.call("bridged", "method")).rejects.toBeInstanceOf(UnknownService);
  });

  test("many concurrent calls each get their own reply", async () => {
    const nc = await fx.connection();
    await responder(nc, "echo", (msg) => msg.respond(`{"result": ${JSON.stringify(msg.subject)}, "error": null}`));
    const client = await fx.client();
    const methods = Array.from({ length: 200 }, (_, i) => `m${i}`);
    const results = await Promise.all(methods.map((m) => client.call("echo", m)));
    expect(results).toEqual(methods.map((m) => `${fx.prefix}.rpc.echo.${m}`));
    expect(ReplyMux.of(client.nc).size).toBe(0);
  });

  test("two clients on one connection share one reply subscription", async () => {
    const nc = await fx.connection();
    const subjects: string[] = [];
    await responder(nc, "seen", (msg) => {
      subjects.push(msg.reply ?? "");
      msg.respond(REPLY);
    });
    const shared = await fx.connection();
    const a = new RpcClient(shared, { prefix: fx.prefix });
    const b = new RpcClient(shared, { prefix: fx.prefix });
    await expect(a.call("seen", "x")).resolves.toBe("ok");
    await expect(b.call("seen", "x")).resolves.toBe("ok");
    const base = (s: string) => s.slice(0, s.lastIndexOf("."));
    expect(base(subjects[0])).toBe(base(subjects[1]));
  });

  test("no reply within the timeout is RpcTimeout; a late reply is ignored", async () => {
    const nc = await fx.connection();
    let answerLate: (() => void) | undefined;
    await responder(nc, "slow", (msg) => {
      answerLate = () => msg.respond(REPLY);
    });
    const client = await fx.client();
    const err = await client.call("slow", "x", [], {}, { timeoutMs: 150 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RpcTimeout);
    answerLate?.();
    // The client still works after a reply nobody waits for.
    const fast = await fx.connection();
    await responder(fast, "fast", (msg) => msg.respond(REPLY));
    await expect(client.call("fast", "x")).resolves.toBe("ok");
  });

  test("a shorter timeout after a longer one still fires first", async () => {
    const nc = await fx.connection();
    const held: Msg[] = [];
    await responder(nc, "hold", (msg) => held.push(msg));
    const client = await fx.client();
    const long = client.call("hold", "long", [], {}, { timeoutMs: 60_000 });
    const short = client.call("hold", "short", [], {}, { timeoutMs: 100 });
    await expect(short).rejects.toBeInstanceOf(RpcTimeout);
    for (const m of held) m.respond(REPLY);
    await expect(long).resolves.toBe("ok");
  });

  test("reply subjects start with the connection's inbox prefix", async () => {
    const nc = await fx.connection();
    let reply = "";
    await responder(nc, "marked", (msg) => {
      reply = msg.reply ?? "";
      msg.respond(REPLY);
    });
    const marked = await connect({ servers: NATS_URL, inboxPrefix: `_INBOX_${fx.prefix}` });
    try {
      const client = new RpcClient(marked, { prefix: fx.prefix });
      await expect(client.call("marked", "x")).resolves.toBe("ok");
      expect(reply.startsWith(`_INBOX_${fx.prefix}.`)).toBe(true);
    } finally {
      await marked.close();
    }
  });

  test("closing the connection rejects pending calls with RequestError 'connection closed'; a closed connection refuses at once", async () => {
    const nc = await fx.connection();
    await responder(nc, "never", () => undefined);
    const own = await connect({ servers: NATS_URL });
    const client = new RpcClient(own, { prefix: fx.prefix });
    const pending = client.requestRaw("never", "x", "{}").catch((e: unknown) => e);
    await own.flush();
    await own.close();
    const err = (await pending) as Error;
    expect(err.name).toBe("RequestError");
    expect(err.message).toBe("connection closed");
    await expect(client.requestRaw("never", "x", "{}")).rejects.toMatchObject({ name: "ClosedConnectionError" });
  });

  test("EventPublisher: a PubAck from the stream, EventNotStored when no stream captures the subject, the stream's API error", async () => {
    const nc = await fx.connection();
    const jsm = await jetstreamManager(nc);
    const stream = `${fx.prefix}_EVENTS`;
    await jsm.streams.add({ name: stream, subjects: [`${fx.prefix}.events.>`] });
    try {
      const publisher = new EventPublisher(nc, fx.prefix);
      const ack = await publisher.publish("src", "happened", { n: 1 });
      expect(ack).toMatchObject({ stream, seq: 1, duplicate: false });
      await expect(new EventPublisher(nc, `${fx.prefix}x`).publish("src", "happened", 1)).rejects.toBeInstanceOf(
        EventNotStored,
      );
      const wrongStream = natsHeaders();
      wrongStream.set("Nats-Expected-Stream", "not_this_one");
      await expect(publisher.publish("src", "happened", 2, wrongStream)).rejects.toMatchObject({
        name: "JetStreamApiError",
      });
    } finally {
      await jsm.streams.delete(stream);
    }
  });
});
