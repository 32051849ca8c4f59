// Size limits answer at once with a typed PayloadTooLarge, never with the caller's timeout: every
// call here waits up to 600 s, far beyond the test's own timeout, so only an immediate answer passes.
// Large bodies (the object store path, large-bodies.test.ts) are off here, as LARGE_BODIES.enabled:
// false sets them; events never take that path.
import { EventDispatcher, PayloadTooLarge, rpc, type Dispatch } from "cliffracer";
import type { RpcClient } from "../../../src/client/rpc-client";
import { defaultConfig } from "../../../src/config/defaults";
import { NatsFixture } from "../../helpers/brokers";

const LONG_MS = 600_000;

class Big {
  name = "big";
  @EventDispatcher() dispatch!: Dispatch;

  @rpc()
  text(n: number): string {
    return "x".repeat(n);
  }

  @rpc()
  size(text: string): number {
    return text.length;
  }

  @rpc()
  async announce(n: number): Promise<string> {
    try {
      await this.dispatch("announced", "y".repeat(n));
      return "stored";
    } catch (err) {
      return err instanceof PayloadTooLarge ? `${err.name} ${err.size} > ${err.limit}` : String(err);
    }
  }
}

describe("payload limits on NATS", () => {
  const fx = new NatsFixture({ largeBodies: { ...defaultConfig().largeBodies, enabled: false } });
  let client: RpcClient;
  let max: number;

  beforeAll(async () => {
    await fx.start(Big);
    client = await fx.client(LONG_MS);
    max = client.nc.info!.max_payload;
  });
  afterAll(() => fx.cleanup());

  it("answers a reply over max_payload with PayloadTooLarge carrying size and limit", async () => {
    const err = await client.call("big", "text", [2 * 1024 * 1024]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PayloadTooLarge);
    const e = err as PayloadTooLarge;
    expect(e.limit).toBe(max);
    expect(e.size).toBeGreaterThan(2 * 1024 * 1024);
    expect(e.message).toMatch(/reply of big\.text of \d+ bytes exceeds the NATS max_payload/);
    // The service still answers.
    expect(await client.call("big", "text", [3])).toBe("xxx");
  });

  it("rejects a request over max_payload with PayloadTooLarge, sending nothing", async () => {
    const err = await client.call("big", "size", ["z".repeat(max)]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PayloadTooLarge);
    expect((err as PayloadTooLarge).limit).toBe(max);
    expect((err as PayloadTooLarge).size).toBeGreaterThan(max);
  });

  it("counts multi-byte characters as UTF-8 bytes", async () => {
    // max/2 characters of three bytes each: short as a string, too large as UTF-8.
    const err = await client.call("big", "size", ["€".repeat(Math.ceil(max / 2))]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PayloadTooLarge);
  });

  it("refuses a fire-and-forget request over max_payload with PayloadTooLarge", () => {
    expect(() => client.publish("big", "size", ["z".repeat(max)])).toThrow(PayloadTooLarge);
  });

  it("rejects a dispatch of an event over max_payload with PayloadTooLarge", async () => {
    expect(await client.call("big", "announce", [max])).toMatch(/^PayloadTooLarge \d+ > \d+$/);
    expect(await client.call("big", "announce", [3])).toBe("stored");
  });
});
