// A runtime caller on NATS -> bridge (--amqp-service) -> a Nameko service on RabbitMQ (the
// independent peer, which checks every request the way a strict Nameko 2.14 would).
import {
  IncorrectSignature,
  MethodNotFound,
  NamekoError,
  RemoteError,
  UnknownService,
  registerError,
} from "cliffracer";
import { PeerRemoteError, type PeerService, type PeerWorker } from "../../interop/nameko-peer";
import { BridgeFixture } from "./bridge-fixture";

class LegacyNotFound extends NamekoError {
  constructor(readonly what: string) {
    super(what);
  }
}
registerError("legacy.exceptions.NotFound", LegacyNotFound);

interface Seen {
  stack: string[];
  data: Record<string, unknown>;
}

describe("bridge rpc: NATS caller -> AMQP service", () => {
  const fx = new BridgeFixture();
  let legacy: PeerService;

  beforeAll(async () => {
    await fx.setup();
    legacy = await fx.peerService({
      name: "legacy",
      methods: {
        add: (a: number, b: number) => a + b,
        fail: () => {
          throw new PeerRemoteError("ValueError", "builtins.ValueError", ["bad value", "42"], "('bad value', 42)");
        },
        find: (what: string) => {
          throw new PeerRemoteError("NotFound", "legacy.exceptions.NotFound", [what], what);
        },
        whoami: function (this: PeerWorker): Seen {
          return { stack: this.callIdStack, data: this.data };
        },
      },
    });
    await fx.readyBridge({ amqpServices: ["legacy", "ghost"] });
  });
  afterAll(() => fx.cleanup());

  it("announces the Nameko service on NATS, marked bridged: $SRV.INFO, PING and STATS answer for it", async () => {
    const client = await fx.nats.client();
    expect(await client.call("legacy", "add", [2, 2])).toBe(4);
    const infos = await fx.srv("INFO", "legacy");
    expect(infos).toHaveLength(1);
    const [info] = infos;
    expect(info).toMatchObject({
      name: "legacy",
      version: "0.0.0",
      metadata: { framework: "cliffracer", bridged: "true", bridge: "test" },
      endpoints: [{ name: "rpc", subject: `${fx.prefix}.rpc.legacy.*`, queue_group: `${fx.prefix}.rpc.legacy` }],
    });
    // The endpoint is the bridge's subscription itself: its requests are counted.
    const stats = (await fx.srv("STATS", "legacy")).find((s) => s.id === info.id);
    expect(stats?.endpoints?.[0].num_requests).toBeGreaterThanOrEqual(1);
    expect((await fx.srv("PING", "legacy")).map((p) => p.id)).toContain(info.id);
  });

  it("returns the result", async () => {
    const client = await fx.nats.client();
    expect(await client.call("legacy", "add", [1, 2])).toBe(3);
    expect(await client.call("legacy", "add", [], { a: "x", b: "y" })).toBe("xy");
  });

  it("passes the Nameko reply body through unchanged", async () => {
    const nc = await fx.nats.connection();
    const reply = await nc.request(`${fx.prefix}.rpc.legacy.add`, '{"args": [1, 2], "kwargs": {}}', {
      timeout: 10_000,
    });
    expect(reply.string()).toBe('{"result": 3, "error": null}');
  });

  it("raises a thrown error typed: RemoteError, or the registered class", async () => {
    const client = await fx.nats.client();
    const err = (await client.call("legacy", "fail").catch((e: unknown) => e)) as RemoteError;
    expect(err).toBeInstanceOf(RemoteError);
    expect(err.excType).toBe("ValueError");
    expect(err.value).toBe("('bad value', 42)");
    const found = await client.call("legacy", "find", ["k"]).catch((e: unknown) => e);
    expect(found).toBeInstanceOf(LegacyNotFound);
    expect((found as LegacyNotFound).what).toBe("k");
  });

  it("raises MethodNotFound and IncorrectSignature as Nameko reports them", async () => {
    const client = await fx.nats.client();
    const missing = await client.call("legacy", "nope").catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(MethodNotFound);
    expect((missing as Error).message).toBe("nope");
    const sig = await client.call("legacy", "add", [1]).catch((e: unknown) => e);
    expect(sig).toBeInstanceOf(IncorrectSignature);
    expect((sig as Error).message).toBe("add() missing 1 required positional argument: 'b'");
  });

  it("carries context data typed for py-amqp and continues the call id stack", async () => {
    const client = await fx.nats.client();
    const stack = ["standalone_rpc_proxy.call.0f0e4f25-1a7c-4bd1-9c59-4a8a1f6c2a10"];
    const contextData = {
      user_id: "u-1",
      language: "en-gb",
      num: 5,
      big: 2 ** 40,
      ratio: 0.5,
      flag: true,
      digits: "42",
    };
    const seen = (await client.call("legacy", "whoami", [], {}, { contextData, callIdStack: stack })) as Seen;
    expect(seen.data).toEqual(contextData);
    expect(seen.stack).toHaveLength(2);
    expect(seen.stack[0]).toBe(stack[0]);
    expect(seen.stack[1]).toMatch(/^legacy\.whoami\.[0-9a-f-]{36}$/);
    // The wire: an AMQP array of strings and typed numbers, as py-amqp would send them.
    const delivery = legacy.deliveries.find((d) => d.routingKey === "legacy.whoami")!;
    const headers = delivery.properties.headers as Record<string, unknown>;
    expect(headers["nameko.call_id_stack"]).toEqual(stack);
    expect(headers["nameko.num"]).toBe(5);
    expect(headers["nameko.flag"]).toBe(true);
    expect(headers["nameko.digits"]).toBe("42");
  });

  it("raises UnknownService when nothing consumes the service on RabbitMQ", async () => {
    const client = await fx.nats.client();
    const err = await client.call("ghost", "anything").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnknownService);
    expect((err as UnknownService).serviceName).toBe("ghost");
  });

  it("publishes every request with what Nameko 2.14 needs (reply_to, content_type)", async () => {
    const client = await fx.nats.client();
    await Promise.all(Array.from({ length: 100 }, (_, i) => client.call("legacy", "add", [i, i])));
    expect(legacy.fatal).toEqual([]);
    expect(legacy.dropped).toEqual([]);
    for (const d of legacy.deliveries) {
      expect(d.properties.replyTo).toEqual(expect.any(String));
      expect(d.properties.contentType).toBe("application/json");
      expect(d.properties.correlationId).toEqual(expect.any(String));
    }
  });
});
