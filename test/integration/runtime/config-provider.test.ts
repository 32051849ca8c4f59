// @Config over a real nats-server: a service started from a YAML file (as `cliffracer run --config`
// does) reads its own keys, the way a Nameko service reads self.config.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Config, loadConfig, rpc, ServiceContainer, type ConfigValues } from "cliffracer";
import { NATS_URL, NatsFixture, testLogger, uniqueName } from "../../helpers/brokers";

describe("@Config with a configuration loaded from YAML", () => {
  const fx = new NatsFixture();
  const dir = mkdtempSync(path.join(tmpdir(), "cliffracer-config-"));
  const started: ServiceContainer[] = [];

  afterAll(async () => {
    await Promise.allSettled(started.map((c) => c.stop()));
    await fx.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it("gives the service its raw keys and one key by name, substituted from the environment", async () => {
    const service = uniqueName("configured");
    const file = path.join(dir, "config.yaml");
    writeFileSync(
      file,
      [
        `NATS_URL: ${NATS_URL}`,
        `NATS_PREFIX: ${fx.prefix}`,
        "GREETING: ${GREETING:hello}",
        "REDIS_URIS:",
        "  cache: redis://${REDIS_HOST:localhost}:6379/0",
        "",
      ].join("\n"),
    );

    class Configured {
      name = service;
      @Config() config!: ConfigValues;
      @Config("REDIS_URIS") redisUris!: Readonly<Record<string, string>>;

      @rpc()
      settings() {
        return { greeting: this.config.GREETING, prefix: this.config.NATS_PREFIX, cache: this.redisUris.cache };
      }
    }

    const config = loadConfig({ file, env: { REDIS_HOST: "cache.internal" } });
    const container = new ServiceContainer(Configured, config, { log: testLogger() });
    started.push(container);
    await container.start();

    const client = await fx.client();
    expect(await client.call(service, "settings")).toEqual({
      greeting: "hello",
      prefix: fx.prefix,
      cache: "redis://cache.internal:6379/0",
    });
  });
});
