// cliffracer/redis against the real Redis, through services on real NATS: workers share the
// container's client, named after the service; a failed command is logged with the worker's call
// id; the connection is closed at stop and kill; bad configuration and an unreachable Redis fail
// start-up with errors that say why.
import { Context, ConfigurationError, rpc, RpcTimeout, ServiceContainer, type WorkerContext } from "cliffracer";
import { Redis, RedisUnavailable, type RedisClient } from "cliffracer/redis";
import { NatsFixture, uniqueName } from "../../helpers/brokers";
import { captureLogger } from "../../helpers/jetstream";
import { REDIS_URL, RedisKeys } from "../../helpers/storage";
import { TcpProxy } from "../../helpers/tcp-proxy";
import { waitFor, withTimeout } from "../../helpers/waiters";

const SERVICE = uniqueName("redis_products");
let keys: RedisKeys;

class Products {
  name = SERVICE;

  @Redis("development") redis!: RedisClient;
  @Context() ctx!: WorkerContext;

  @rpc()
  async create(id: string, title: string, inStock: number) {
    await this.redis.hset(keys.key(`products:${id}`), { id, title, in_stock: inStock });
  }

  @rpc()
  async get(id: string) {
    return this.redis.hgetall(keys.key(`products:${id}`));
  }

  @rpc()
  async decrementStock(id: string, amount: number) {
    return this.redis.hincrby(keys.key(`products:${id}`), "in_stock", -amount);
  }

  /** A command that fails (the key holds a string, not a hash); returns this worker's call id. */
  @rpc()
  async misuse() {
    await this.redis.set(keys.key("plain"), "text");
    const error = await this.redis.hget(keys.key("plain"), "field").catch((e: unknown) => e);
    return { callId: this.ctx.callId, error: String(error) };
  }
}

const uris = (uri = REDIS_URL) => ({ REDIS_URIS: { development: uri } });

describe("Redis provider on Redis", () => {
  const fx = new NatsFixture();

  beforeAll(() => {
    keys = new RedisKeys();
  });
  afterAll(async () => {
    await fx.cleanup();
    await keys.cleanup();
  });

  it("workers read and write through the container's client (strings back, as decode_responses)", async () => {
    await fx.start(Products, { raw: uris() });
    const client = await fx.client();
    await client.call(SERVICE, "create", ["7", "LZ 127", 11]);
    expect(await client.call(SERVICE, "decrementStock", ["7", 4])).toBe(7);
    expect(await client.call(SERVICE, "get", ["7"])).toEqual({ id: "7", title: "LZ 127", in_stock: "7" });
    expect(await keys.admin.hget(keys.key("products:7"), "title")).toBe("LZ 127");
  });

  it("a failed command is logged with the worker's call id", async () => {
    const { log, entries } = captureLogger();
    // A prefix of its own, so the call reaches this container and no other of the service.
    const own = new NatsFixture();
    const container = new ServiceContainer(Products, { ...own.config, raw: uris() }, { log });
    await container.start();
    try {
      const client = await own.client();
      const seen = (await client.call(SERVICE, "misuse", [])) as { callId: string; error: string };
      expect(seen.error).toMatch(/WRONGTYPE/);
      const logged = await waitFor(() => entries.find((e) => e.message === "redis command failed"), {
        what: "the failed command's log entry",
      });
      expect(logged).toMatchObject({
        level: "warn",
        service: SERVICE,
        method: "misuse",
        call_id: seen.callId,
        command: "hget",
        error: expect.stringMatching(/WRONGTYPE/),
      });
    } finally {
      await container.stop();
      await own.cleanup();
    }
  });

  it("reconnects when the server drops its connection", async () => {
    const client = await fx.client();
    await client.call(SERVICE, "create", ["8", "Hindenburg", 1]);
    const list = (await keys.admin.client("LIST")) as string;
    const ids = list
      .split("\n")
      .filter((line) => line.split(" ").includes(`name=${SERVICE}`))
      .map((line) => /\bid=(\d+)/.exec(line)?.[1]);
    expect(ids).toHaveLength(1);
    await keys.admin.client("KILL", "ID", ids[0]!);
    const outcomes: unknown[] = [];
    await waitFor(
      async () => {
        const outcome = await client.call(SERVICE, "get", ["8"]).catch((e: unknown) => e);
        outcomes.push(outcome);
        return (outcome as { title?: string }).title === "Hindenburg";
      },
      { what: "a call to succeed after the connection was dropped" },
    );
    expect(outcomes.length).toBeLessThanOrEqual(3);
    expect(await keys.connectionsNamed(SERVICE)).toBe(1);
  });

  it("names its connection after the service and closes it when the container stops, and when it is killed", async () => {
    const closing = uniqueName("redis_closing");
    class Closing extends Products {
      override name = closing;
    }
    for (const end of ["stop", "kill"] as const) {
      const container = await fx.start(Closing, { raw: uris() });
      expect(await keys.connectionsNamed(closing)).toBe(1);
      await container[end]();
      await waitFor(async () => (await keys.connectionsNamed(closing)) === 0, {
        what: `no connection named ${closing} after ${end}`,
      });
    }
  });
});

describe("Redis provider when Redis goes away", () => {
  const fx = new NatsFixture();
  let proxy: TcpProxy;

  const through = () => ({ REDIS_URIS: { development: proxy.via(REDIS_URL) } });

  beforeEach(async () => {
    proxy = await TcpProxy.start(Number(new URL(REDIS_URL).port || 6379));
  });
  afterEach(() => proxy.close());
  afterAll(() => fx.cleanup());

  it("calls fail with an error reply while it is unreachable, and succeed once it is back", async () => {
    const service = uniqueName("redis_outage");
    class Outage extends Products {
      override name = service;
    }
    await fx.start(Outage, { raw: through() });
    const client = await fx.client();
    await client.call(service, "create", ["9", "Graf Zeppelin", 2]);
    await proxy.cut();
    const failed = await client.call(service, "get", ["9"]).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(Error);
    expect(failed).not.toBeInstanceOf(RpcTimeout);
    await proxy.restore();
    await waitFor(
      async () =>
        ((await client.call(service, "get", ["9"]).catch(() => undefined)) as { title?: string } | undefined)?.title ===
        "Graf Zeppelin",
      { what: "a call to succeed once Redis is back" },
    );
  });

  it("a Redis that accepts connections and never answers fails start-up after connectTimeout", async () => {
    await proxy.silence();
    const service = uniqueName("redis_silent");
    class Silent {
      name = service;
      @Redis("development", { connectTimeout: 500 }) redis!: RedisClient;
      @rpc()
      ping() {
        return this.redis.ping();
      }
    }
    const error = await withTimeout(fx.start(Silent, { raw: through() }), 20_000, "start-up to fail").catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(RedisUnavailable);
    expect((error as Error).message).toMatch(/no answer within 500 ms/);
  });
});

describe("Redis provider bad input", () => {
  const fx = new NatsFixture();
  afterAll(() => fx.cleanup());

  it("an unreachable Redis fails start-up with RedisUnavailable, not a hang", async () => {
    const started = fx.start(Products, { raw: uris("redis://:secret@127.0.0.1:1/0") });
    const error = await withTimeout(started, 20_000, "start-up to fail").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RedisUnavailable);
    expect((error as Error).message).toMatch(
      /^Cannot connect to Redis development at redis:\/\/:\*\*\*@127\.0\.0\.1:1\/0: .*ECONNREFUSED/,
    );
  });

  it("a missing REDIS_URIS is a ConfigurationError naming the key and the keys present", async () => {
    const error = await fx.start(Products, { raw: { DB_URIS: {} } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).toBe(
      `Config key REDIS_URIS is missing: service ${SERVICE} needs REDIS_URIS["development"] (config keys present: "DB_URIS")`,
    );
  });

  it("a misspelled REDIS_URIS entry is a ConfigurationError listing the entries there are", async () => {
    const error = await fx
      .start(Products, { raw: { REDIS_URIS: { developmnet: REDIS_URL, test: REDIS_URL } } })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).toBe(
      `Config key REDIS_URIS["development"] is missing for service ${SERVICE} (REDIS_URIS has: "developmnet", "test")`,
    );
  });
});
