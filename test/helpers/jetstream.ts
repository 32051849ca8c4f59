// JetStream additions to brokers.ts for the events, timer and bridge-events tests: the test's
// prefix gives it a private events stream, deleted at cleanup; consumer state can be read to wait
// on acks; logs can be captured to assert on what was logged.
import { Writable } from "node:stream";
import { jetstreamManager, type ConsumerInfo, type JetStreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import winston, { type Logger } from "winston";
import { eventsStreamName } from "../../compat/naming";
import { defaultConfig, type RuntimeConfig } from "../../src/config/defaults";
import type { ServiceClass } from "../../src/core/metadata";
import { ServiceContainer } from "../../src/core/service-container";
import { standaloneDispatcher, type StandaloneDispatcher } from "../../src/client/standalone-dispatcher";
import { NATS_URL, testConfig, testLogger, uniquePrefix } from "./brokers";
import { waitFor as waitForCondition } from "./waiters";

/** One log line captured by captureLogger. */
export type LogEntry = Record<string, unknown> & { level: string; message: string };

/** A logger that keeps every entry in memory, for assertions on what was logged. */
export function captureLogger(): { log: Logger; entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString("utf8").split("\n"))
        if (line.trim()) entries.push(JSON.parse(line) as LogEntry);
      done();
    },
  });
  const log = winston.createLogger({
    level: "debug",
    format: winston.format.json(),
    transports: [new winston.transports.Stream({ stream })],
  });
  return { log, entries };
}

/** Everything one events test starts on NATS: containers, plain connections, and its events stream, deleted at cleanup. */
export class EventsFixture {
  readonly prefix = uniquePrefix();
  private readonly containers: ServiceContainer[] = [];
  private readonly connections: NatsConnection[] = [];
  private readonly dispatchers: StandaloneDispatcher[] = [];
  private jsmPromise?: Promise<JetStreamManager>;

  constructor(readonly configOverrides: Partial<RuntimeConfig> = {}) {}

  /** A fixture and a standalone dispatcher on its prefix: what most events tests start with. */
  static async withDispatcher(
    configOverrides: Partial<RuntimeConfig> = {},
  ): Promise<{ fx: EventsFixture; dispatch: StandaloneDispatcher }> {
    const fx = new EventsFixture(configOverrides);
    return { fx, dispatch: await fx.dispatcher() };
  }

  /** A standalone event dispatcher on this test's prefix, closed at cleanup. */
  async dispatcher(): Promise<StandaloneDispatcher> {
    const d = await standaloneDispatcher({ natsUrl: this.config.natsUrl, prefix: this.prefix });
    this.dispatchers.push(d);
    return d;
  }

  get config(): RuntimeConfig {
    const base = testConfig(this.prefix, this.configOverrides);
    // Announcing on $SRV is not what these tests look at.
    return {
      ...base,
      announce: this.configOverrides.announce ?? false,
      events: { ...defaultConfig().events, ...this.configOverrides.events },
    };
  }

  get streamName(): string {
    return eventsStreamName(this.prefix);
  }

  /** A plain client connection (not the runtime's), closed at cleanup. */
  async client(): Promise<NatsConnection> {
    const nc = await connect({ servers: NATS_URL, noAsyncTraces: true });
    this.connections.push(nc);
    return nc;
  }

  jsm(): Promise<JetStreamManager> {
    return (this.jsmPromise ??= this.client().then((nc) => jetstreamManager(nc)));
  }

  /** Start a container of `cls` on this test's prefix, logging to `options.log` (default: quiet). */
  async start(
    cls: ServiceClass,
    options: { log?: Logger; config?: Partial<RuntimeConfig> } = {},
  ): Promise<ServiceContainer> {
    const config = { ...this.config, ...options.config, events: { ...this.config.events, ...options.config?.events } };
    const container = new ServiceContainer(cls, config, { log: options.log ?? testLogger() });
    this.containers.push(container);
    await container.start();
    return container;
  }

  /** Info of a consumer of this test's stream, or undefined when it does not exist. */
  async consumer(name: string): Promise<ConsumerInfo | undefined> {
    const jsm = await this.jsm();
    try {
      return await jsm.consumers.info(this.streamName, name);
    } catch {
      return undefined;
    }
  }

  async cleanup(): Promise<void> {
    await Promise.allSettled(this.dispatchers.map((d) => d.close()));
    await Promise.allSettled(this.containers.map((c) => c.stop()));
    const jsm = await this.jsm().catch(() => undefined);
    await jsm?.streams.delete(this.streamName).catch(() => undefined);
    await Promise.allSettled(this.connections.map((nc) => (nc.isClosed() ? undefined : nc.close())));
  }
}

/** waitFor with a positional description, as the bridge tests call it; see waiters.ts. */
export function waitFor<T>(check: () => T | Promise<T>, what: string, timeoutMs = 15_000): Promise<NonNullable<T>> {
  return waitForCondition(check, { what, timeoutMs });
}
