// NATS for integration tests: a private subject prefix per test, connections and containers that
// are always cleaned up, and a quiet logger.
import { randomBytes } from "node:crypto";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "winston";
import { RpcClient } from "../../src/client/rpc-client";
import { ClusterRpcProxy, type ClusterRpcProxyOptions } from "../../src/client/standalone";
import { defaultConfig, type RuntimeConfig } from "../../src/config/defaults";
import type { ServiceClass } from "../../src/core/metadata";
import { ServiceContainer } from "../../src/core/service-container";
import { ServiceRunner } from "../../src/core/service-runner";
import { createLogger } from "../../src/logging";
import { largeBodiesOf } from "../../src/nats/body-store";

/** The NATS server the integration tests use. */
export const NATS_URL = process.env.NATS_URL ?? "nats://127.0.0.1:4222";

/** A subject prefix no other test uses (`t` + 12 hex digits). */
export function uniquePrefix(): string {
  return `t${randomBytes(6).toString("hex")}`;
}

/** A service name no other test uses, for tests that need to avoid the $SRV namespace of others. */
export function uniqueName(base: string): string {
  return `${base}_${randomBytes(4).toString("hex")}`;
}

/** Runtime config for one test's prefix. */
export function testConfig(prefix: string, overrides: Partial<RuntimeConfig> = {}): RuntimeConfig {
  const base = defaultConfig();
  return { ...base, natsUrl: NATS_URL, prefix, ...overrides, nats: { ...base.nats, ...overrides.nats } };
}

/** Logger for containers under test: silent unless LOG_LEVEL asks, since many tests fail calls on purpose. */
export function testLogger(): Logger {
  return createLogger({ level: process.env.LOG_LEVEL ?? "silent" });
}

/** Everything one test starts on NATS; cleanup() stops and closes it all. */
export class NatsFixture {
  readonly prefix = uniquePrefix();
  private readonly containers: ServiceContainer[] = [];
  private readonly runners: ServiceRunner[] = [];
  private readonly connections: NatsConnection[] = [];
  private readonly proxies: ClusterRpcProxy[] = [];

  constructor(readonly overrides: Partial<RuntimeConfig> = {}) {}

  get config(): RuntimeConfig {
    return testConfig(this.prefix, this.overrides);
  }

  /** Start a container of `cls` on this test's prefix (its own connection). */
  async start(cls: ServiceClass, overrides: Partial<RuntimeConfig> = {}): Promise<ServiceContainer> {
    const container = new ServiceContainer(cls, { ...this.config, ...overrides }, { log: testLogger() });
    this.containers.push(container);
    await container.start();
    return container;
  }

  /** A started runner hosting `classes` on one connection. */
  async runner(classes: ServiceClass[], overrides: Partial<RuntimeConfig> = {}): Promise<ServiceRunner> {
    const runner = new ServiceRunner({ ...this.config, ...overrides }, { log: testLogger() });
    for (const cls of classes) runner.addService(cls);
    this.runners.push(runner);
    await runner.start();
    return runner;
  }

  /** A plain NATS connection (not the runtime's). */
  async connection(): Promise<NatsConnection> {
    const nc = await connect({ servers: this.config.natsUrl, noAsyncTraces: true });
    this.connections.push(nc);
    return nc;
  }

  /** An RpcClient on this test's prefix, with this fixture's large-body settings. */
  async client(timeoutMs = 10_000): Promise<RpcClient> {
    return new RpcClient(await this.connection(), {
      prefix: this.prefix,
      timeoutMs,
      largeBodies: largeBodiesOf(this.config),
    });
  }

  /** A standalone cluster proxy on this test's prefix. */
  async cluster(options: ClusterRpcProxyOptions = {}): Promise<ClusterRpcProxy> {
    const proxy = await ClusterRpcProxy.connect({
      natsUrl: this.config.natsUrl,
      prefix: this.prefix,
      timeoutMs: 10_000,
      ...options,
    });
    this.proxies.push(proxy);
    return proxy;
  }

  async cleanup(): Promise<void> {
    await Promise.allSettled(this.containers.map((c) => c.stop()));
    await Promise.allSettled(this.runners.map((r) => r.stop()));
    await Promise.allSettled(this.proxies.map((p) => p.close()));
    await Promise.allSettled(this.connections.map((nc) => (nc.isClosed() ? undefined : nc.close())));
  }
}
