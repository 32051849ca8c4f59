import type { Logger } from "../../compat";
import type { RuntimeConfig } from "../config/defaults";
import { loadConfig } from "../config/load-config";
import type { ServiceClass } from "../core/metadata";
import { ServiceContainer } from "../core/service-container";
import { ServiceRunner } from "../core/service-runner";
import { ContainerNotFound } from "./errors";

/** What the factories share: the config used when a call gives none, and the logger of what they make. */
export interface FactoryOptions {
  /** Default: loadConfig(), that is NATS_URL and NATS_PREFIX from the environment, else the defaults. */
  config?: RuntimeConfig;
  /** Default: the root logger. */
  log?: Logger;
}

/**
 * Makes containers for a test, not started, and kills every one it made at cleanup (Nameko's
 * container_factory fixture): `const container = containerFactory(MyService); await container.start()`.
 */
export interface ContainerFactory {
  <T extends object>(cls: ServiceClass<T>, config?: RuntimeConfig): ServiceContainer<T>;
  /** Kill every container made since the last cleanup (one never started is just discarded). */
  cleanup(): Promise<void>;
}

/**
 * Makes runners for a test, not started, and kills every one it made at cleanup (Nameko's
 * runner_factory fixture): `runnerFactory(config, ServiceA, ServiceB)` or, with the factory's
 * config, `runnerFactory(ServiceA, ServiceB)`.
 */
export interface RunnerFactory {
  (config: RuntimeConfig, ...classes: ServiceClass[]): ServiceRunner;
  (...classes: ServiceClass[]): ServiceRunner;
  /** Kill every runner made since the last cleanup. */
  cleanup(): Promise<void>;
}

/** A container factory with explicit cleanup; in jest, useContainerFactory() cleans up after each test. */
export function createContainerFactory(options: FactoryOptions = {}): ContainerFactory {
  const made: ServiceContainer[] = [];
  const factory = <T extends object>(cls: ServiceClass<T>, config?: RuntimeConfig): ServiceContainer<T> => {
    const container = new ServiceContainer(cls, config ?? options.config ?? loadConfig(), logOf(options));
    made.push(container);
    return container;
  };
  const cleanup = async (): Promise<void> => {
    const all = made.splice(0);
    // Nameko kills: a test's containers need no graceful stop. One never started only needs discarding.
    await Promise.allSettled(all.map((c) => (c.running ? c.kill() : c.stop())));
  };
  return Object.assign(factory, { cleanup });
}

/** A runner factory with explicit cleanup; in jest, useRunnerFactory() cleans up after each test. */
export function createRunnerFactory(options: FactoryOptions = {}): RunnerFactory {
  const made: ServiceRunner[] = [];
  const factory = (...args: Array<RuntimeConfig | ServiceClass>): ServiceRunner => {
    const [first, ...rest] = args;
    const [config, classes] =
      first !== undefined && typeof first !== "function"
        ? [first, rest as ServiceClass[]]
        : [options.config ?? loadConfig(), args as ServiceClass[]];
    const runner = new ServiceRunner(config, logOf(options));
    for (const cls of classes) runner.addService(cls);
    made.push(runner);
    return runner;
  };
  const cleanup = async (): Promise<void> => {
    const all = made.splice(0);
    await Promise.allSettled(all.map((r) => (r.containers.some((c) => c.running) ? r.kill() : r.stop())));
  };
  return Object.assign(factory, { cleanup }) as RunnerFactory;
}

/**
 * A container factory whose containers are killed after each test: call it at the top of a test
 * file or in a `describe` block (it registers jest's `afterEach`).
 */
export function useContainerFactory(options: FactoryOptions = {}): ContainerFactory {
  const factory = createContainerFactory(options);
  registerAfterEach(factory.cleanup, "useContainerFactory");
  return factory;
}

/**
 * A runner factory whose runners are killed after each test: call it at the top of a test file or
 * in a `describe` block (it registers jest's `afterEach`).
 */
export function useRunnerFactory(options: FactoryOptions = {}): RunnerFactory {
  const factory = createRunnerFactory(options);
  registerAfterEach(factory.cleanup, "useRunnerFactory");
  return factory;
}

/** The container of `cls` in a runner (Nameko's get_container); ContainerNotFound when it hosts none. */
export function getContainer<T extends object>(runner: ServiceRunner, cls: ServiceClass<T>): ServiceContainer<T> {
  const container = runner.containers.find((c) => c.serviceClass === cls);
  if (!container)
    throw new ContainerNotFound(
      cls.name,
      runner.containers.map((c) => c.serviceName),
    );
  return container as unknown as ServiceContainer<T>;
}

function logOf(options: FactoryOptions): { log?: Logger } {
  return options.log ? { log: options.log } : {};
}

/** jest's (or any jest-style runner's) global `afterEach`, or a clear error where there is none. */
function registerAfterEach(hook: () => Promise<void>, helper: string): void {
  const afterEach = (globalThis as { afterEach?: (fn: () => Promise<void>) => void }).afterEach;
  if (typeof afterEach !== "function") {
    throw new Error(
      `${helper} needs jest's global afterEach; without it, use create${helper.slice(3)} and call cleanup()`,
    );
  }
  afterEach(hook);
}
