// @Config (Nameko's Config dependency provider): the raw configuration, read-only, or one key of it.
import type { NatsConnection } from "@nats-io/transport-node";
import { Config, ConfigurationError, type ConfigValues } from "cliffracer";
import { configFromObject, parseConfigText } from "../../../src/config/load-config";
import type { Entrypoint } from "../../../src/core/extension";
import { registerEntrypoint, type ServiceClass } from "../../../src/core/metadata";
import { ServiceContainer } from "../../../src/core/service-container";
import { createLogger } from "../../../src/logging";

const log = createLogger({ level: "silent" });

const YAML_TEXT = `
AMQP_URI: amqp://guest:guest@localhost
DB_URIS:
  orders:Base: postgresql://\${DB_HOST:localhost}/orders
FEATURES: [fast, safe]
max_workers: 4
`;

function entry(method: string): MethodDecorator {
  return (target) => registerEntrypoint(target, (): Entrypoint => ({ methodName: method }));
}

function container(cls: ServiceClass): ServiceContainer {
  const config = { ...configFromObject(parseConfigText(YAML_TEXT, { DB_HOST: "db" }), {}), announce: false };
  return new ServiceContainer(cls, config, {
    log,
    nats: { flush: () => Promise.resolve() } as unknown as NatsConnection,
  });
}

class Reader {
  name = "reader";
  @Config() config!: ConfigValues;
  @Config("DB_URIS") uris!: Readonly<Record<string, string>>;
  @Config("TIMEOUT", { default: 5 }) timeout!: number;

  @entry("read")
  read() {
    return { amqp: this.config.AMQP_URI, workers: this.config.max_workers, uris: this.uris, timeout: this.timeout };
  }

  @entry("tamper")
  tamper() {
    (this.config as Record<string, unknown>).AMQP_URI = "changed";
  }

  @entry("tamperNested")
  tamperNested() {
    (this.config.FEATURES as string[]).push("unsafe");
  }
}

const run = async (c: ServiceContainer, method: string) =>
  c.spawnWorker({ methodName: method }, [], { data: {}, parentStack: [] });

describe("@Config", () => {
  it("injects the whole configuration as loaded, a single key, and a key's default", async () => {
    const c = container(Reader);
    await c.start();
    expect(await run(c, "read")).toEqual({
      ok: true,
      result: {
        amqp: "amqp://guest:guest@localhost",
        workers: 4,
        uris: { "orders:Base": "postgresql://db/orders" },
        timeout: 5,
      },
    });
    await c.stop();
  });

  it("is read-only, at every depth, so a worker cannot change what the next one sees", async () => {
    const c = container(Reader);
    await c.start();
    // By name: structuredClone builds the copy in Node's own realm, not jest's.
    const refused = { ok: false, error: expect.objectContaining({ name: "TypeError" }) };
    expect(await run(c, "tamper")).toMatchObject(refused);
    expect(await run(c, "tamperNested")).toMatchObject(refused);
    expect(await run(c, "read")).toMatchObject({ ok: true, result: { amqp: "amqp://guest:guest@localhost" } });
    expect(c.config.raw.FEATURES).toEqual(["fast", "safe"]);
    await c.stop();
  });

  it("fails the start with an error naming a missing key", async () => {
    class NeedsRedis {
      name = "needs_redis";
      @Config("REDIS_URIS") uris!: Record<string, string>;
      @entry("noop") noop() {}
    }
    const c = container(NeedsRedis);
    const failure = c.start();
    await expect(failure).rejects.toThrow(ConfigurationError);
    await expect(failure).rejects.toThrow("Config key REDIS_URIS is missing (needed by @Config on needs_redis.uris)");
  });
});
