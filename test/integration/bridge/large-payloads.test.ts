// Bodies far over NATS's default max_payload cross the bridge both ways, as they do between Nameko
// services on RabbitMQ (docs/large-payloads.md): through the JetStream object store with the
// default 1 MiB limit, and as plain messages on a nats-server whose max_payload is raised.
import { jetstreamManager } from "@nats-io/jetstream";
import { rpc } from "cliffracer";
import { largeBodiesBucketName } from "../../../compat/naming";
import { PrivateNatsServer } from "../../helpers/private-servers";
import type { PeerCaller } from "../../interop/nameko-peer";
import { BridgeFixture } from "./bridge-fixture";

const MB = 1024 * 1024;
/** Moving 50 MB through the object store takes a while on a busy two-core machine. */
const BIG_TEST_MS = 180_000;

class Files {
  name = "files";

  @rpc()
  text(n: number): string {
    return "x".repeat(n);
  }

  @rpc()
  length(text: string): number {
    return text.length;
  }
}

const legacyMethods = {
  text: (n: number) => "y".repeat(n),
  length: (text: string) => text.length,
};

/** The port on NATS, the Nameko-protocol peer on RabbitMQ and a bridge between; returns a Nameko caller. */
async function startWorld(fx: BridgeFixture): Promise<PeerCaller> {
  await fx.setup();
  await fx.nats.start(Files);
  await fx.peerService({ name: "legacy", methods: legacyMethods });
  await fx.readyBridge({ natsServices: ["files"], amqpServices: ["legacy"], rpcTimeoutMs: BIG_TEST_MS });
  return fx.peerCaller({ timeoutMs: BIG_TEST_MS });
}

describe("large payloads across the bridge through the object store (max_payload 1 MiB)", () => {
  const fx = new BridgeFixture();
  let caller: PeerCaller;

  beforeAll(async () => {
    caller = await startWorld(fx);
  });
  afterAll(async () => {
    const jsm = await jetstreamManager(await fx.nats.connection());
    await jsm.streams.delete(`OBJ_${largeBodiesBucketName(fx.prefix)}`).catch(() => undefined);
    await fx.cleanup();
  });

  it(
    "returns 5 MB and 50 MB replies from a port to a Nameko caller",
    async () => {
      expect(await caller.call("files", "text", [5 * MB])).toBe("x".repeat(5 * MB));
      const big = (await caller.call("files", "text", [50 * MB])) as string;
      expect(big.length).toBe(50 * MB);
      expect(big).toBe("x".repeat(50 * MB));
    },
    BIG_TEST_MS,
  );

  it("carries a 5 MB request from a Nameko caller to a port", async () => {
    expect(await caller.call("files", "length", ["z".repeat(5 * MB)])).toBe(5 * MB);
  });

  it("carries a 5 MB request and reply between a NATS caller and a Nameko service", async () => {
    const client = await fx.nats.client(BIG_TEST_MS);
    expect(await client.call("legacy", "length", ["z".repeat(5 * MB)])).toBe(5 * MB);
    expect(await client.call("legacy", "text", [5 * MB])).toBe("y".repeat(5 * MB));
  });
});

describe("large payloads across the bridge with a raised max_payload (64 MiB)", () => {
  let server: PrivateNatsServer;
  let fx: BridgeFixture;
  let caller: PeerCaller;

  beforeAll(async () => {
    server = await PrivateNatsServer.start({ maxPayload: 64 * MB });
    fx = new BridgeFixture({ natsUrl: server.url });
    caller = await startWorld(fx);
  });
  afterAll(async () => {
    await fx?.cleanup();
    await server?.destroy();
  });

  it(
    "returns 5 MB and 50 MB replies from a port to a Nameko caller as plain NATS messages",
    async () => {
      expect(await caller.call("files", "text", [5 * MB])).toBe("x".repeat(5 * MB));
      const big = (await caller.call("files", "text", [50 * MB])) as string;
      expect(big).toBe("x".repeat(50 * MB));
      // Nothing needed the object store.
      const jsm = await jetstreamManager(await fx.nats.connection());
      await expect(jsm.streams.info(`OBJ_${largeBodiesBucketName(fx.prefix)}`)).rejects.toThrow(/not found/);
    },
    BIG_TEST_MS,
  );

  it(
    "carries a 50 MB reply from a Nameko service to a NATS caller",
    async () => {
      const client = await fx.nats.client(BIG_TEST_MS);
      const big = (await client.call("legacy", "text", [50 * MB])) as string;
      expect(big.length).toBe(50 * MB);
    },
    BIG_TEST_MS,
  );
});
