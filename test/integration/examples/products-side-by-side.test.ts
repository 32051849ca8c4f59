// The products port against nameko-examples' original (Nameko 3.0, marshmallow 2, redis-py),
// recorded from the real thing (examples/products/products.cassette.jsonl; docs/side-by-side.md,
// The examples): every call and the order_created event compared. The port's Redis is a database
// of this test's own, emptied first, so the calls meet the state they met on the original.
import IORedis from "ioredis";
import { sideBySide, type SideBySideResult } from "cliffracer/testing";
import { ProductsService } from "../../../examples/products/service";
import { REDIS_URIS_ENTRY } from "../../../examples/products/dependencies";
import { formatDifference } from "../../../sidebyside";
import { REDIS_URL } from "../../helpers/storage";

jest.setTimeout(60_000);

const REDIS_URI = REDIS_URL.replace(/\/\d*$/, "/14");

describe("the products port side by side with its Nameko original", () => {
  let result: SideBySideResult;

  beforeAll(async () => {
    const redis = new IORedis(REDIS_URI);
    await redis.flushdb();
    try {
      result = await sideBySide({
        service: "products",
        port: [ProductsService],
        portConfig: { REDIS_URIS: { [REDIS_URIS_ENTRY]: REDIS_URI } },
        cassette: "examples/products/products.cassette.jsonl",
      });
    } finally {
      await redis.flushdb();
      redis.disconnect();
    }
  });

  it("matches the original's results, errors and handled event, except where its README says", () => {
    const { calls, problems } = result.report;
    expect(problems).toEqual([]);
    // 9 calls and the order_created event, in cassette order.
    expect(calls).toHaveLength(10);
    const differing = calls.filter((c) => !c.ok);
    // The two invalid products: marshmallow's ValidationError where the port's DTO gives
    // ValidationFailed (examples/products/README.md); nothing else differs.
    expect(differing.map((c) => c.number)).toEqual([8, 9]);
    for (const call of differing) {
      expect(call.differences.map((d) => d.path)).toEqual([
        "reply.error.exc_type",
        "reply.error.exc_path",
        "reply.error.value",
      ]);
      expect(call.differences[0]).toMatchObject({ expected: "ValidationError", got: "ValidationFailed" });
    }
    expect(result.text).toContain(formatDifference(differing[0]!.differences[0]!));
  });
});
