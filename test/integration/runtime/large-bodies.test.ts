// Bodies over NATS max_payload cross through the JetStream object store (docs/large-payloads.md):
// the message carries `x-cliffracer-body-ref: <bucket>/<object>` and an empty body; the reader
// deletes the object. Any NATS client can take part, shown here with plain nats.js calls.
import { randomBytes } from "node:crypto";
import { jetstreamManager } from "@nats-io/jetstream";
import { Objm } from "@nats-io/obj";
import { headers, type NatsConnection } from "@nats-io/transport-node";
import { rpc } from "cliffracer";
import { largeBodiesBucketName } from "../../../compat/naming";
import type { RpcClient } from "../../../src/client/rpc-client";
import { BODY_REF_HEADER } from "../../../src/nats/body-store";
import { NatsFixture } from "../../helpers/brokers";

const MB = 1024 * 1024;

class Store {
  name = "store";

  @rpc()
  text(n: number): string {
    return "x".repeat(n);
  }

  @rpc()
  echo(text: string): string {
    return text;
  }

  @rpc()
  length(text: string): number {
    return text.length;
  }
}

describe("large bodies through the object store", () => {
  const fx = new NatsFixture();
  let client: RpcClient;
  let nc: NatsConnection;
  let bucket: string;

  /** Objects in the test's bucket that are not deleted. */
  const liveObjects = async (): Promise<number> => {
    const os = await new Objm(nc).open(bucket);
    return (await os.list()).filter((info) => !info.deleted).length;
  };

  beforeAll(async () => {
    await fx.start(Store);
    client = await fx.client(60_000);
    nc = await fx.connection();
    bucket = largeBodiesBucketName(fx.prefix);
  });
  afterAll(async () => {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.delete(`OBJ_${bucket}`).catch(() => undefined);
    await fx.cleanup();
  });

  it("returns a 5 MB reply to a Cliffracer caller", async () => {
    const result = (await client.call("store", "text", [5 * MB])) as string;
    expect(result.length).toBe(5 * MB);
    expect(result).toBe("x".repeat(5 * MB));
  });

  it("carries a 5 MB request and its 5 MB reply, leaving no object behind", async () => {
    const text = randomBytes(5 * MB * 0.75).toString("base64");
    expect(await client.call("store", "echo", [text])).toBe(text);
    expect(await liveObjects()).toBe(0);
  });

  it("serves a plain NATS client that puts the body in the bucket itself", async () => {
    const os = await new Objm(nc).open(bucket);
    const body = JSON.stringify({ args: ["y".repeat(2 * MB)], kwargs: {} });
    await os.putBlob({ name: "from-another-client" }, new TextEncoder().encode(body));
    const h = headers();
    h.set(BODY_REF_HEADER, `${bucket}/from-another-client`);
    const reply = await nc.request(`${fx.prefix}.rpc.store.length`, new Uint8Array(0), { headers: h, timeout: 30_000 });
    expect(reply.json()).toEqual({ result: 2 * MB, error: null });
    // Read once, then deleted (a delete marker stays until the bucket TTL).
    expect((await os.info("from-another-client"))?.deleted).toBe(true);
  });

  it("answers a ref to a body that is gone with MalformedRequest", async () => {
    const h = headers();
    h.set(BODY_REF_HEADER, `${bucket}/never-stored`);
    const reply = await nc.request(`${fx.prefix}.rpc.store.length`, new Uint8Array(0), { headers: h, timeout: 30_000 });
    expect(reply.json()).toMatchObject({ result: null, error: { exc_type: "MalformedRequest" } });
  });
});
