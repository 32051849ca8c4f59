// Helpers for the events and timer integration tests: a private subject prefix (so a private
// events stream) per test, containers that are always stopped, and waits that poll state with a
// deadline instead of sleeping.
import { randomBytes } from "node:crypto";
import { Writable } from "node:stream";
import { jetstreamManager, type ConsumerInfo, type JetStreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import winston, { type Logger } from "winston";
import { eventsStreamName } from "../../compat/naming";
import { defaultConfig, type RuntimeConfig } from "../../src/config/defaults";
import type { ServiceClass } from "../../src/core/metadata";
import { ServiceContainer } from "../../src/core/service-container";

/** The NATS server the integration tests use. */
export const NATS_URL = process.env.NATS_URL ?? "nats://127.0.0.1:4222";

/** A subject prefix no other test uses, so the test gets its own events stream. */
export function uniquePrefix(): string {
  return `t${randomBytes(6).toString("hex")}`;
}

/** A runtime config for one test's prefix; events settings may be tightened per test. */
export function testConfig(prefix: string, overrides: Partial<RuntimeConfig> = {}): RuntimeConfig {
  const base = defaultConfig();
  return { ...base, natsUrl: NATS_URL, prefix, announce: false, ...overrides, events: { ...base.events, ...overrides.events } };
}

/** One log line captured by captureLogger. */
export type LogEntry = Record<string, unknown> & { level: string; message: string };

/** A logger that keeps every entry in memory, for assertions on what was logged. */
export function captureLogger(): { log: Logger; entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString("utf8").split("\n")) if (line.trim()) entries.push(JSON.parse(line) as LogEntry);
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

/** Everything one test starts on NATS, torn down by cleanup(): containers, connections, the stream. */
export class EventsFixture {
  readonly prefix = uniquePrefix();
  readonly containers: ServiceContainer[] = [];
  private readonly connections: NatsConnection[] = [];
  private jsmPromise?: Promise<JetStreamManager>;

  constructor(readonly configOverrides: Partial<RuntimeConfig> = {}) {}

  get config(): RuntimeConfig {
    return testConfig(this.prefix, this.configOverrides);
  }

  get streamName(): string {
    return eventsStreamName(this.prefix);
  }

  /** A plain client connection (not the runtime's), closed at cleanup. */
  async client(): Promise<NatsConnection> {
    const nc = await connect({ servers: NATS_URL });
    this.connections.push(nc);
    return nc;
  }

  async jsm(): Promise<JetStreamManager> {
    return (this.jsmPromise ??= this.client().then((nc) => jetstreamManager(nc)));
  }

  /** Start a container of `cls` on this test's prefix. */
  async start(cls: ServiceClass, options: { log?: Logger; config?: Partial<RuntimeConfig> } = {}): Promise<ServiceContainer> {
    const container = new ServiceContainer(cls, { ...this.config, ...options.config, events: { ...this.config.events, ...options.config?.events } }, { log: options.log });
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
    await Promise.allSettled(this.containers.map((c) => c.stop()));
    const jsm = await this.jsm().catch(() => undefined);
    await jsm?.streams.delete(this.streamName).catch(() => undefined);
    await Promise.allSettled(this.connections.map((nc) => nc.close()));
  }
}

/** Poll `check` until it returns a value other than undefined/false, or fail after timeoutMs. */
export async function waitFor<T>(check: () => T | undefined | false | Promise<T | undefined | false>, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A promise with its resolve function, for handlers to signal tests. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}
