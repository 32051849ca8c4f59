import type { NatsConnection } from "@nats-io/transport-node";
import { defaultConfig, type RuntimeConfig } from "../config/defaults";
import { rootLogger } from "../logging";
import { connectNats, drainNats } from "../nats/connection";
import type { ServiceClass } from "./metadata";
import { ServiceContainer, type MetricsSource } from "./service-container";
import type { Logger } from "../../compat";

/**
 * Longest connection name a runner gives: nats-server refuses a CONNECT line over its
 * max_control_line (4 KB by default) and nats.js then reports only a timeout, which a process
 * hosting a few hundred services would hit with every name in.
 */
export const MAX_CONNECTION_NAME = 256;

/** The runner's connection name: its services' names, the first ones only when they are many ("a,b,+48 more"). */
export function runnerConnectionName(serviceNames: readonly string[]): string {
  const all = serviceNames.join(",");
  if (all.length <= MAX_CONNECTION_NAME) return all;
  const shown: string[] = [];
  let length = 0;
  for (const name of serviceNames) {
    // Room for this name, its comma, and the "+N more" of the names after it.
    const rest = `+${serviceNames.length - shown.length - 1} more`;
    if (length + name.length + 1 + rest.length > MAX_CONNECTION_NAME) break;
    shown.push(name);
    length += name.length + 1;
  }
  // A first name too long to show whole is cut instead.
  if (shown.length === 0) return all.slice(0, MAX_CONNECTION_NAME);
  return `${shown.join(",")},+${serviceNames.length - shown.length} more`;
}

/** Options of a runner. */
export interface RunnerOptions {
  /** Use this connection instead of opening one; the runner then leaves it open at stop. */
  nats?: NatsConnection;
  log?: Logger;
  /** Counts every container's workers, outgoing calls and event lag (docs/metrics.md). */
  metrics?: MetricsSource;
}

/** Several service containers in one process on one NATS connection (Nameko's ServiceRunner). */
export class ServiceRunner {
  readonly containers: ServiceContainer[] = [];
  private readonly log: Logger;
  private nc?: NatsConnection;
  private ownsConnection: boolean;
  private stopping?: Promise<void>;

  constructor(
    readonly config: RuntimeConfig = defaultConfig(),
    private readonly options: RunnerOptions = {},
  ) {
    this.log = options.log ?? rootLogger;
    this.nc = options.nats;
    this.ownsConnection = options.nats === undefined;
  }

  /** Add a service class; validated now (a bad name fails here, before anything connects). */
  addService<T extends object>(cls: ServiceClass<T>): ServiceContainer<T> {
    const container = new ServiceContainer<T>(cls, this.config, { log: this.log, metrics: this.options.metrics });
    this.containers.push(container);
    return container;
  }

  /** Connect once, then start every container. If one fails to start, the others are killed. */
  async start(): Promise<void> {
    this.nc ??= await connectNats(this.config, {
      name: runnerConnectionName(this.containers.map((c) => c.serviceName)),
      log: this.log,
    });
    for (const c of this.containers) c.useConnection(this.nc);
    const results = await Promise.allSettled(this.containers.map((c) => c.start()));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) {
      await this.kill();
      throw failed.reason;
    }
    this.log.info("services running", {
      services: this.containers.map((c) => c.serviceName),
      nats: this.nc.getServer(),
    });
  }

  /** True once every container started, until one stops or is killed (the `/ready` of docs/metrics.md). */
  get ready(): boolean {
    return this.containers.length > 0 && this.containers.every((c) => c.running);
  }

  /** Graceful stop of every container, then the connection is drained (pending replies flushed). */
  stop(): Promise<void> {
    return (this.stopping ??= (async () => {
      await Promise.allSettled(this.containers.map((c) => c.stop()));
      if (this.nc && this.ownsConnection) await drainNats(this.nc);
    })());
  }

  /**
   * Resolves once every container stopped. When one is killed by an error (a managed task failed),
   * the others are killed too and this rejects with the error (Nameko's ServiceRunner.wait).
   */
  async wait(): Promise<void> {
    try {
      await Promise.all(this.containers.map((c) => c.wait()));
    } catch (err) {
      await this.kill();
      throw err;
    }
  }

  /** Stop at once. */
  async kill(): Promise<void> {
    await Promise.allSettled(this.containers.map((c) => c.kill()));
    if (this.nc && this.ownsConnection && !this.nc.isClosed()) await this.nc.close();
  }
}
