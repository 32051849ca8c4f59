// Shared extensions (Nameko's SharedExtension and ProviderCollector): one instance per container and
// key, its lifecycle run once, set up after the extensions that asked for it, started before and
// stopped after them.
import type { NatsConnection } from "@nats-io/transport-node";
import { defaultConfig } from "../../../src/config/defaults";
import type { ContainerHandle, DependencyProvider, Entrypoint } from "../../../src/core/extension";
import { registerDependency, registerEntrypoint, type ServiceClass } from "../../../src/core/metadata";
import { ServiceContainer } from "../../../src/core/service-container";
import { ProviderCollector, SharedExtension } from "../../../src/core/shared-extension";
import { createLogger } from "../../../src/logging";

const log = createLogger({ level: "silent" });
const order: string[] = [];

function brokerless(cls: ServiceClass): ServiceContainer {
  return new ServiceContainer(
    cls,
    { ...defaultConfig(), announce: false },
    { log, nats: { flush: () => Promise.resolve() } as unknown as NatsConnection },
  );
}

/** What several entrypoints register with; records its lifecycle and what registered before its setup. */
class Intake extends ProviderCollector<string> {
  setup(): void {
    order.push(`intake setup [${[...this.providers].join(",")}]`);
  }
  start(): void {
    order.push("intake start");
  }
  stop(): void {
    order.push("intake stop");
  }
}

/** A pool shared by dependencies, that itself asks for another shared extension in its setup. */
class Pool extends SharedExtension {
  setup(container: ContainerHandle): void {
    container.shared(Metrics);
    order.push(`pool setup for ${this.container.serviceName}`);
  }
  start(): void {
    order.push("pool start");
  }
  stop(): void {
    order.push("pool stop");
  }
}

class Metrics extends SharedExtension {
  start(): void {
    order.push("metrics start");
  }
}

function endpoint(method: string): MethodDecorator {
  return (target) =>
    registerEntrypoint(target, (): Entrypoint => {
      let intake: Intake | undefined;
      return {
        methodName: method,
        setup(container) {
          intake = container.shared(Intake);
          intake.register(method);
          order.push(`${method} setup`);
        },
        start: () => void order.push(`${method} start (intake has ${intake?.providers.size})`),
        stop: () => void order.push(`${method} stop`),
      };
    });
}

const pools: Pool[] = [];
function pooled(key = ""): PropertyDecorator {
  return (target, attr) =>
    registerDependency(target, (): DependencyProvider => ({
      attrName: String(attr),
      setup(container) {
        pools.push(container.shared(Pool, key));
        order.push(`${String(attr)} setup`);
      },
      start: () => void order.push(`${String(attr)} start`),
      stop: () => void order.push(`${String(attr)} stop`),
      getDependency: () => undefined,
    }));
}

class Service {
  name = "service";
  @pooled() a!: unknown;
  @pooled() b!: unknown;
  @pooled("replica") c!: unknown;
  @endpoint("one") one() {}
  @endpoint("two") two() {}
}

beforeEach(() => {
  order.length = 0;
  pools.length = 0;
});

describe("shared extensions", () => {
  it("gives every extension asking with the same class and key one instance", async () => {
    const container = brokerless(Service);
    await container.start();
    expect(pools[0]).toBe(pools[1]);
    expect(pools[2]).not.toBe(pools[0]);
    await container.stop();
  });

  it("sets a shared extension up after its users, starts it before them and stops it after them", async () => {
    const container = brokerless(Service);
    await container.start();
    await container.stop();
    expect(order).toEqual([
      "a setup",
      "b setup",
      "c setup",
      // Two pools (keys "" and "replica"), each asking for the one Metrics.
      "pool setup for service",
      "pool setup for service",
      "one setup",
      "two setup",
      "intake setup [one,two]",
      // Metrics, asked for by the pools, starts before them.
      "metrics start",
      "pool start",
      "pool start",
      "a start",
      "b start",
      "c start",
      "intake start",
      "one start (intake has 2)",
      "two start (intake has 2)",
      "one stop",
      "two stop",
      "intake stop",
      "a stop",
      "b stop",
      "c stop",
      "pool stop",
      "pool stop",
    ]);
  });

  it("refuses a request made outside an extension's setup", async () => {
    const container = brokerless(Service);
    await container.start();
    expect(() => container.shared(Metrics, "late")).toThrow(/requested outside an extension's setup/);
    await container.stop();
  });

  it("keeps one container's shared extensions apart from another's", async () => {
    const first = brokerless(Service);
    const second = brokerless(Service);
    await Promise.all([first.start(), second.start()]);
    expect(pools).toHaveLength(6);
    expect(new Set(pools).size).toBe(4);
    await Promise.all([first.stop(), second.stop()]);
  });
});
