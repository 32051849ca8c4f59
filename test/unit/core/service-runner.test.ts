// ServiceRunner.wait (Nameko's runner.wait): a container killed by an error takes the others down; and the
// connection name of a runner of many services.
import type { NatsConnection } from "@nats-io/transport-node";
import { defaultConfig } from "../../../src/config/defaults";
import type { ContainerHandle, DependencyProvider, Entrypoint } from "../../../src/core/extension";
import { registerDependency, registerEntrypoint } from "../../../src/core/metadata";
import { MAX_CONNECTION_NAME, runnerConnectionName, ServiceRunner } from "../../../src/core/service-runner";
import { createLogger } from "../../../src/logging";

const log = createLogger({ level: "silent" });
const fakeNats = {
  getServer: () => "nats://stand-in:4222",
  flush: () => Promise.resolve(),
} as unknown as NatsConnection;

function entry(method: string): MethodDecorator {
  return (target) => registerEntrypoint(target, (): Entrypoint => ({ methodName: method }));
}

/** A dependency whose background task fails as soon as it starts. */
function failingTask(): PropertyDecorator {
  return (target, key) => {
    let container: ContainerHandle | undefined;
    registerDependency(target, (): DependencyProvider => ({
      attrName: String(key),
      getDependency: () => undefined,
      setup: (c) => void (container = c),
      start: () =>
        void container!.spawnManagedTask("watcher", () => {
          throw new Error("watched resource vanished");
        }),
    }));
  };
}

class Healthy {
  name = "healthy";
  @entry("noop") noop() {}
}

class Doomed {
  name = "doomed";
  @failingTask() watcher!: unknown;
  @entry("noop") noop() {}
}

describe("ServiceRunner.wait", () => {
  it("resolves once every container stopped", async () => {
    const runner = new ServiceRunner({ ...defaultConfig(), announce: false }, { nats: fakeNats, log });
    runner.addService(Healthy);
    await runner.start();
    const waiting = runner.wait();
    await runner.stop();
    await expect(waiting).resolves.toBeUndefined();
  });

  it("kills every container and rejects when a managed task kills one", async () => {
    const runner = new ServiceRunner({ ...defaultConfig(), announce: false }, { nats: fakeNats, log });
    const healthy = runner.addService(Healthy);
    runner.addService(Doomed);
    await runner.start();
    await expect(runner.wait()).rejects.toThrow("watched resource vanished");
    expect(healthy.running).toBe(false);
  });
});

describe("runnerConnectionName", () => {
  it("names every service when the names fit", () => {
    expect(runnerConnectionName(["orders", "payments"])).toBe("orders,payments");
  });

  it("names the first services and counts the rest when all would pass the limit", () => {
    const names = Array.from({ length: 1000 }, (_, i) => `service_number_${i}`);
    const name = runnerConnectionName(names);
    expect(name.length).toBeLessThanOrEqual(MAX_CONNECTION_NAME);
    const parts = name.split(",");
    const more = parts.pop();
    expect(parts).toEqual(names.slice(0, parts.length));
    expect(more).toBe(`+${names.length - parts.length} more`);
  });

  it("cuts a single name longer than the limit", () => {
    expect(runnerConnectionName(["x".repeat(1000)])).toBe("x".repeat(MAX_CONNECTION_NAME));
  });
});
