// Malformed input on either side gets a Nameko-style error reply where a reply is possible, or a
// log line; nothing is redelivered forever, and the bridge goes on serving (a normal call after each).
import { connect } from "@nats-io/transport-node";
import { Context, PayloadTooLarge, rpc, type WorkerContext } from "cliffracer";
import { DEFAULT_BRIDGE_INBOX_PREFIX } from "../../../bridge/config";
import { defaultConfig } from "../../../src/config/defaults";
import { NATS_URL } from "../../helpers/brokers";
import { listQueues } from "../../helpers/rabbit";
import { waitFor } from "../../helpers/waiters";
import { PeerUnknownService, type PeerCaller, type PeerService } from "../../interop/nameko-peer";
import { BridgeFixture } from "./bridge-fixture";

class Calc {
  name = "calc";
  @Context() ctx!: WorkerContext;

  @rpc()
  add(a: number, b: number): number {
    return a + b;
  }

  @rpc()
  size(text: string): number {
    return text.length;
  }

  @rpc()
  text(n: number): string {
    return "x".repeat(n);
  }
}

/**
 * The bridges below take RabbitMQ's max_message_size as 512 KiB, so a body between that and NATS's
 * 1 MiB max_payload shows the RabbitMQ limit without a broker of its own.
 */
const AMQP_MAX = 512 * 1024;
/** Bodies over max_payload get PayloadTooLarge here; large-payloads.test.ts carries them. */
const NO_LARGE_BODIES = { largeBodies: { ...defaultConfig().largeBodies, enabled: false } };
const BETWEEN_LIMITS = 600 * 1024;

interface Reply {
  result?: unknown;
  error?: { exc_type: string; exc_path: string; exc_args: unknown[]; value: string } | null;
}

function parse(body: Buffer | Uint8Array): Reply {
  return JSON.parse(Buffer.from(body).toString("utf8")) as Reply;
}

describe("bridge rpc: malformed input from AMQP callers", () => {
  const fx = new BridgeFixture(NO_LARGE_BODIES);
  let caller: PeerCaller;

  beforeAll(async () => {
    await fx.setup();
    await fx.nats.start(Calc);
    await fx.readyBridge({ natsServices: ["calc"], amqpMaxMessageBytes: AMQP_MAX });
    caller = await fx.peerCaller();
  });
  afterAll(() => fx.cleanup());
  afterEach(async () => {
    // The bridge still serves.
    expect(await caller.call("calc", "add", [2, 3])).toBe(5);
  });

  it("answers a body that is not JSON with MalformedRequest", async () => {
    const reply = parse((await caller.send("calc.add", "{not json")).content);
    expect(reply.result).toBeNull();
    expect(reply.error?.exc_type).toBe("MalformedRequest");
  });

  it.each([
    ["[1, 2]", "list"],
    ["null", "NoneType"],
    ['"x"', "str"],
  ])("answers the body %s, which is not an object, with MalformedRequest (MIGRATION.md)", async (body, type) => {
    const reply = parse((await caller.send("calc.add", body)).content);
    expect(reply).toEqual({
      result: null,
      error: {
        exc_type: "MalformedRequest",
        exc_path: "nameko.exceptions.MalformedRequest",
        exc_args: [`Message body must be a JSON object, not ${type}`],
        value: `Message body must be a JSON object, not ${type}`,
      },
    });
  });

  it("answers a body without kwargs with MalformedRequest", async () => {
    const reply = parse((await caller.send("calc.add", '{"args": [1, 2]}')).content);
    expect(reply.error).toMatchObject({ exc_type: "MalformedRequest", value: "Message missing `args` or `kwargs`" });
  });

  it("answers an unknown method with MethodNotFound", async () => {
    const reply = parse((await caller.send("calc.nope", '{"args": [], "kwargs": {}}')).content);
    expect(reply.error).toMatchObject({ exc_type: "MethodNotFound", value: "nope" });
  });

  it("answers a routing key with an empty or unusable method token with MethodNotFound", async () => {
    const empty = parse((await caller.send("calc.", '{"args": [], "kwargs": {}}')).content);
    expect(empty.error).toMatchObject({ exc_type: "MethodNotFound", value: "" });
    const spaced = parse((await caller.send("calc.a b", '{"args": [], "kwargs": {}}')).content);
    expect(spaced.error).toMatchObject({ exc_type: "MethodNotFound", value: "a b" });
    // Two tokens after the service match no binding: UnknownService, as with Nameko.
    await expect(caller.send("calc..add", '{"args": [], "kwargs": {}}')).rejects.toBeInstanceOf(PeerUnknownService);
  });

  it("answers another content type with a JSON MalformedRequest", async () => {
    const m = await caller.send("calc.add", "binary", {
      properties: { contentType: "application/x-python-serialize" },
    });
    expect(m.properties.contentType).toBe("application/json");
    expect(parse(m.content).error?.exc_type).toBe("MalformedRequest");
  });

  it("answers a 5 MB request with PayloadTooLarge (over NATS max_payload)", async () => {
    const body = JSON.stringify({ args: ["x".repeat(5 * 1024 * 1024)], kwargs: {} });
    const reply = parse((await caller.send("calc.size", body)).content);
    expect(reply.error).toMatchObject({
      exc_type: "PayloadTooLarge",
      exc_path: "cliffracer.exceptions.PayloadTooLarge",
      value: expect.stringMatching(/^request to calc\.size of \d+ bytes exceeds the NATS max_payload of \d+ bytes$/),
    });
  });

  it("answers a port's reply over NATS max_payload with PayloadTooLarge from the runtime", async () => {
    const reply = parse(
      (await caller.send("calc.text", JSON.stringify({ args: [2 * 1024 * 1024], kwargs: {} }))).content,
    );
    expect(reply.error).toMatchObject({
      exc_type: "PayloadTooLarge",
      value: expect.stringMatching(/^reply of calc\.text of \d+ bytes exceeds the NATS max_payload/),
    });
  });

  it("answers a port's reply over RabbitMQ's max_message_size with PayloadTooLarge", async () => {
    const reply = parse(
      (await caller.send("calc.text", JSON.stringify({ args: [BETWEEN_LIMITS], kwargs: {} }))).content,
    );
    expect(reply.error).toMatchObject({
      exc_type: "PayloadTooLarge",
      value: expect.stringMatching(
        /^reply of calc\.text of \d+ bytes exceeds RabbitMQ's max_message_size of 524288 bytes$/,
      ),
      exc_args: [expect.any(String), expect.stringMatching(/^\d+$/), String(AMQP_MAX)],
    });
    expect(await fx.waitForLog(/too large for RabbitMQ/)).toBeDefined();
  });

  it("acks and logs a request without reply_to, leaving nothing unacked", async () => {
    // No reply can come; the caller's own wait is cut short at once.
    await caller
      .send("calc.add", '{"args": [1, 2], "kwargs": {}}', { properties: { replyTo: undefined }, timeoutMs: 1 })
      .catch(() => undefined);
    const line = await fx.waitForLog(/without reply_to/, { service: "calc" });
    expect(line.level).toBe("error");
    await waitFor(async () => (await listQueues(fx.vhost.name)).find((q) => q.name === "rpc-calc")?.messages === 0, {
      what: "rpc-calc empty",
      timeoutMs: 10_000,
      intervalMs: 200,
    });
  });
});

describe("bridge rpc: malformed input from NATS callers", () => {
  const fx = new BridgeFixture(NO_LARGE_BODIES);
  let legacy: PeerService;

  beforeAll(async () => {
    await fx.setup();
    legacy = await fx.peerService({
      name: "legacy",
      methods: {
        add: (a: number, b: number) => a + b,
        big: (n: number) => "y".repeat(n),
      },
    });
    await fx.readyBridge({ amqpServices: ["legacy"], amqpMaxMessageBytes: AMQP_MAX });
  });
  afterAll(() => fx.cleanup());
  afterEach(async () => {
    const client = await fx.nats.client();
    expect(await client.call("legacy", "add", [2, 3])).toBe(5);
    expect(legacy.fatal).toEqual([]);
  });

  const request = async (method: string, body: string): Promise<Reply> => {
    const nc = await fx.nats.connection();
    return parse((await nc.request(`${fx.prefix}.rpc.legacy.${method}`, body, { timeout: 10_000 })).data);
  };

  it("answers a body that is not JSON with MalformedRequest (Nameko would never answer)", async () => {
    const reply = await request("add", "{not json");
    expect(reply.error?.exc_type).toBe("MalformedRequest");
    expect(legacy.dropped).toEqual([]);
  });

  it.each([
    ["[1, 2]", "Message body must be a JSON object, not list"],
    ["null", "Message body must be a JSON object, not NoneType"],
    ['"x"', "Message body must be a JSON object, not str"],
    ['{"args": [1, 2]}', "Message missing `args` or `kwargs`"],
  ])("answers the body %s with MalformedRequest itself, never publishing it to Nameko", async (body, message) => {
    const before = legacy.deliveries.length;
    expect(await request("add", body)).toEqual({
      result: null,
      error: {
        exc_type: "MalformedRequest",
        exc_path: "nameko.exceptions.MalformedRequest",
        exc_args: [message],
        value: message,
      },
    });
    expect(legacy.deliveries.length).toBe(before);
  });

  it("answers a body nested deeper than Nameko can decode with MalformedRequest, never publishing it", async () => {
    const before = legacy.deliveries.length;
    const deep = "[".repeat(1000) + "]".repeat(1000);
    const reply = await request("add", `{"args": [${deep}], "kwargs": {}}`);
    expect(reply.error).toMatchObject({ exc_type: "MalformedRequest" });
    expect(reply.error?.value).toMatch(/Nesting deeper than 900 levels/);
    expect(legacy.deliveries.length).toBe(before);
  });

  it("answers a wildcard method token with MethodNotFound, never publishing it", async () => {
    const before = legacy.deliveries.length;
    expect((await request("*", '{"args": [], "kwargs": {}}')).error).toMatchObject({
      exc_type: "MethodNotFound",
      value: "*",
    });
    expect((await request(">", '{"args": [], "kwargs": {}}')).error).toMatchObject({
      exc_type: "MethodNotFound",
      value: ">",
    });
    expect(legacy.deliveries.length).toBe(before);
  });

  it("answers a reply larger than NATS max_payload with PayloadTooLarge", async () => {
    const client = await fx.nats.client();
    const err = await client.call("legacy", "big", [2 * 1024 * 1024]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PayloadTooLarge);
    expect(err).toMatchObject({ limit: client.nc.info!.max_payload });
    expect(await fx.waitForLog(/too large for NATS/)).toBeDefined();
  });

  it("answers a request over RabbitMQ's max_message_size with PayloadTooLarge, never publishing it", async () => {
    const client = await fx.nats.client();
    const before = legacy.deliveries.length;
    const err = await client.call("legacy", "add", ["z".repeat(BETWEEN_LIMITS), 1]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PayloadTooLarge);
    expect(err).toMatchObject({ limit: AMQP_MAX, size: expect.any(Number) });
    expect((err as PayloadTooLarge).size).toBeGreaterThan(BETWEEN_LIMITS);
    expect(legacy.deliveries.length).toBe(before);
  });

  it("refuses to carry a request that came from a bridge back to RabbitMQ (BridgeLoop)", async () => {
    // A client whose reply subjects look like a bridge's: what a second bridge would send.
    const nc = await connect({ servers: NATS_URL, inboxPrefix: DEFAULT_BRIDGE_INBOX_PREFIX });
    try {
      const before = legacy.deliveries.length;
      const reply = parse(
        (await nc.request(`${fx.prefix}.rpc.legacy.add`, '{"args": [1, 2], "kwargs": {}}', { timeout: 10_000 })).data,
      );
      expect(reply.error).toMatchObject({ exc_type: "BridgeLoop", exc_path: "cliffracer.bridge.BridgeLoop" });
      expect(legacy.deliveries.length).toBe(before);
    } finally {
      await nc.close();
    }
  });

  it("carries a fire-and-forget request (no reply subject) and drops the reply", async () => {
    const nc = await fx.nats.connection();
    const before = legacy.deliveries.length;
    nc.publish(`${fx.prefix}.rpc.legacy.add`, '{"args": [40, 2], "kwargs": {}}');
    await waitFor(() => legacy.deliveries.length > before, { what: "the peer to receive the request" });
  });
});
