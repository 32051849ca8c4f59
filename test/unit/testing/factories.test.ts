// The container and runner factories and getContainer, before anything connects.
import { configFromObject, rpc } from "cliffracer";
import {
  ContainerNotFound,
  createContainerFactory,
  createRunnerFactory,
  getContainer,
  useContainerFactory,
} from "cliffracer/testing";
import { createLogger } from "../../../src/logging";

class AlphaService {
  name = "alpha";

  @rpc()
  ping(): string {
    return "pong";
  }
}

class BetaService {
  name = "beta";

  @rpc()
  ping(): string {
    return "pong";
  }
}

const log = createLogger({ level: "silent" });

describe("createContainerFactory", () => {
  it("uses the environment's NATS_URL and NATS_PREFIX when given no config", () => {
    const saved = { url: process.env.NATS_URL, prefix: process.env.NATS_PREFIX };
    process.env.NATS_URL = "nats://127.0.0.1:4999";
    process.env.NATS_PREFIX = "from_env";
    try {
      const container = createContainerFactory({ log })(AlphaService);
      expect(container.config.natsUrl).toBe("nats://127.0.0.1:4999");
      expect(container.config.prefix).toBe("from_env");
    } finally {
      for (const [key, value] of [
        ["NATS_URL", saved.url],
        ["NATS_PREFIX", saved.prefix],
      ] as const)
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
    }
  });

  it("takes a config per call over the factory's, and makes containers that are not started", () => {
    const factory = createContainerFactory({ config: configFromObject({ NATS_PREFIX: "factory" }), log });
    expect(factory(AlphaService).config.prefix).toBe("factory");
    const own = factory(AlphaService, configFromObject({ NATS_PREFIX: "own" }));
    expect(own.config.prefix).toBe("own");
    expect(own.running).toBe(false);
  });

  it("cleanup discards containers never started, and forgets them", async () => {
    const factory = createContainerFactory({ log });
    const container = factory(AlphaService);
    await factory.cleanup();
    await expect(container.start()).rejects.toThrow("cannot start: it is stopped");
    await factory.cleanup();
  });
});

describe("createRunnerFactory", () => {
  const config = configFromObject({ NATS_PREFIX: "runners" });

  it("takes a config first, as Nameko's fixture does, or uses the factory's", () => {
    const runnerFactory = createRunnerFactory({ config, log });
    const withConfig = runnerFactory(configFromObject({ NATS_PREFIX: "own" }), AlphaService, BetaService);
    expect(withConfig.config.prefix).toBe("own");
    expect(withConfig.containers.map((c) => c.serviceName)).toEqual(["alpha", "beta"]);
    expect(runnerFactory(AlphaService).config.prefix).toBe("runners");
  });

  it("getContainer finds the container of a class, or throws ContainerNotFound naming what it hosts", () => {
    const runner = createRunnerFactory({ config, log })(AlphaService);
    expect(getContainer(runner, AlphaService).serviceClass).toBe(AlphaService);
    expect(() => getContainer(runner, BetaService)).toThrow(ContainerNotFound);
    expect(() => getContainer(runner, BetaService)).toThrow(
      "the runner hosts no container of BetaService (it hosts: alpha)",
    );
  });
});

describe("useContainerFactory", () => {
  it("without jest's global afterEach, says what to use instead", () => {
    const global = globalThis as { afterEach?: unknown };
    const saved = global.afterEach;
    delete global.afterEach;
    try {
      expect(() => useContainerFactory()).toThrow(
        "useContainerFactory needs jest's global afterEach; without it, use createContainerFactory and call cleanup()",
      );
    } finally {
      global.afterEach = saved;
    }
  });
});
