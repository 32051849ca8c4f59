// nameko-redis's Redis dependency on ioredis (docs/providers.md, Redis).
import type { Command, Redis as IORedis, RedisOptions } from "ioredis";
import { describeError, maskUrlCredentials, NamekoError } from "../../compat/index";
import {
  registerDependency,
  type ContainerHandle,
  type DependencyProvider,
  type Logger,
  type WorkerContext,
} from "../../src/index";
import { configEntry } from "../config";
import { loadPeer } from "../peer";

/** Nameko's config key mapping a name (`development`) to a Redis URI. */
export const REDIS_URIS_KEY = "REDIS_URIS";
/** How long connecting may take before it fails, in milliseconds. */
export const DEFAULT_REDIS_CONNECT_TIMEOUT_MS = 5_000;
/**
 * How long a command may wait for its reply before it fails, in milliseconds: a Redis that
 * accepts connections and stops answering fails calls instead of hanging them. Raise it (or set
 * `commandTimeout: undefined`) for blocking commands that wait longer.
 */
export const DEFAULT_REDIS_COMMAND_TIMEOUT_MS = 10_000;
/**
 * Reconnect attempts a command waits through while Redis is unreachable before it fails. ioredis
 * waits through 20 by default, well past an RPC timeout; one lets a quick restart pass.
 */
export const DEFAULT_REDIS_MAX_RETRIES_PER_REQUEST = 1;

/** The client a worker gets: ioredis's `Redis`. */
export type RedisClient = IORedis;

/** The Redis named in `REDIS_URIS` cannot be reached when the service starts. */
export class RedisUnavailable extends NamekoError {
  constructor(message: string) {
    super(message);
  }
}

/**
 * One ioredis client per container (nameko-redis's Redis): made and connected at setup, closed at
 * stop (QUIT) or kill (disconnect). Each worker gets the client as seen by that worker: the same
 * connection, with the commands it sends logged under its call id. Extend it and override
 * getDependency to inject a wrapper around the client instead.
 */
export class RedisProvider implements DependencyProvider {
  private _client?: IORedis;

  constructor(
    readonly attrName: string,
    readonly key: string,
    private readonly options: RedisOptions = {},
  ) {}

  /** The container's client; available from setup until stop. */
  get client(): RedisClient {
    if (!this._client) throw new Error(`${this.attrName}: the Redis client is used before setup or after stop`);
    return this._client;
  }

  async setup(container: ContainerHandle): Promise<void> {
    const uri = configEntry(container, REDIS_URIS_KEY, this.key);
    const log = container.log.child({ dependency: this.attrName, redis: this.key });
    const { Redis: Client } = await loadPeer("cliffracer/redis", "ioredis", () => import("ioredis"));
    const client = new Client(uri, {
      connectionName: container.serviceName,
      connectTimeout: DEFAULT_REDIS_CONNECT_TIMEOUT_MS,
      commandTimeout: DEFAULT_REDIS_COMMAND_TIMEOUT_MS,
      maxRetriesPerRequest: DEFAULT_REDIS_MAX_RETRIES_PER_REQUEST,
      ...this.options,
      lazyConnect: true,
    });
    // ioredis's connectTimeout ends at the TCP connection; a server that accepts and never answers
    // would hold connect() forever, so the whole handshake gets the same bound.
    const connectTimeoutMs = client.options.connectTimeout ?? DEFAULT_REDIS_CONNECT_TIMEOUT_MS;
    let lastError: unknown;
    // ioredis reports each failed (re)connection here; unheard, it prints to the console.
    client.on("error", (err: unknown) => {
      lastError = err;
      if (this._client) log.warn("redis connection failed", { error: describeError(err) });
    });
    let timer: NodeJS.Timeout | undefined;
    const noAnswer = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${connectTimeoutMs} ms`)), connectTimeoutMs);
    });
    try {
      await Promise.race([client.connect(), noAnswer]);
    } catch (err) {
      client.disconnect();
      throw new RedisUnavailable(
        `Cannot connect to Redis ${this.key} at ${maskUrlCredentials(uri)}: ${describeError(lastError ?? err)}`,
      );
    } finally {
      clearTimeout(timer);
    }
    this._client = client;
  }

  getDependency(worker: WorkerContext): unknown {
    return this.clientFor(worker);
  }

  /** The client as `worker` sees it: the shared connection, its failed commands logged with the worker's call id. */
  clientFor(worker: WorkerContext): RedisClient {
    return workerView(this.client, worker.log);
  }

  /** Close the connection once the replies to what was sent are in. */
  async stop(): Promise<void> {
    const client = this._client;
    this._client = undefined;
    await client?.quit().catch(() => client.disconnect());
  }

  kill(): void {
    this._client?.disconnect();
    this._client = undefined;
  }
}

/**
 * `client` as one worker sees it: every command it sends goes through the shared connection, and
 * one that fails is logged on the worker's logger, which carries its call id.
 */
function workerView(client: IORedis, log: Logger): RedisClient {
  return new Proxy(client, {
    get(target, prop, receiver) {
      if (prop !== "sendCommand") return Reflect.get(target, prop, receiver) as unknown;
      // Commands and pipelines call `this.sendCommand`, `this` being the view.
      return (command: Command, stream?: Parameters<IORedis["sendCommand"]>[1]): unknown => {
        if (log.isDebugEnabled()) log.debug("redis command", { command: command.name });
        command.promise.catch((err: unknown) =>
          log.warn("redis command failed", { command: command.name, error: describeError(err) }),
        );
        return target.sendCommand(command, stream);
      };
    },
  });
}

/**
 * Inject the container's Redis client: `@Redis("development") redis!: RedisClient`, with the URI in
 * `REDIS_URIS.development`. `options` are ioredis's (`db`, `keyPrefix`, `commandTimeout`, ...).
 */
export function Redis(key: string, options: RedisOptions = {}): PropertyDecorator {
  return (target, propertyKey) => {
    const attrName = String(propertyKey);
    registerDependency(target, () => new RedisProvider(attrName, key, options));
  };
}
