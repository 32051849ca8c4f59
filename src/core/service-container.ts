import type { NatsConnection } from "@nats-io/transport-node";
import { errorLogFields, InFlight, type Logger } from "../../compat";
import { defaultConfig, DEFAULT_SERVICE_VERSION, type RuntimeConfig } from "../config/defaults";
import { ContainerBeingKilled, ServiceDefinitionError } from "../errors";
import { rootLogger } from "../logging";
import { connectNats, drainNats } from "../nats/connection";
import { ServiceAnnouncer } from "../nats/service-announcer";
import type {
  ContainerHandle,
  DependencyProvider,
  Entrypoint,
  IncomingContext,
  WorkerContext,
  WorkerOutcome,
} from "./extension";
import { describeService, type ServiceClass, type ServiceDescription } from "./metadata";
import { Worker } from "./worker-context";

/** How a container gets its NATS connection and logger. */
export interface ContainerOptions {
  /** A shared connection (the runner's); without one the container connects, and drains at stop. */
  nats?: NatsConnection;
  /** Parent logger; the container logs on `log.child({ service })`. Default: the root logger. */
  log?: Logger;
}

/** What observers of finished workers are told (used by cliffracer/testing). */
export interface WorkerEvent {
  entrypoint: Entrypoint;
  worker: WorkerContext;
  args: readonly unknown[];
  outcome: WorkerOutcome;
}

type State = "created" | "starting" | "running" | "stopping" | "stopped" | "killed";

type ServiceInstance = Record<string, unknown>;

/**
 * Runs one service class (Nameko's ServiceContainer): builds its extensions, starts and stops them,
 * and runs each call in a worker on a fresh service instance, at most max_workers at a time across
 * all entrypoints.
 */
export class ServiceContainer implements ContainerHandle {
  readonly serviceName: string;
  readonly config: RuntimeConfig;
  readonly log: Logger;
  readonly maxWorkers: number;
  readonly entrypoints: readonly Entrypoint[];
  readonly dependencies: readonly DependencyProvider[];
  readonly description: ServiceDescription;
  private _announcer?: ServiceAnnouncer;
  private _nats?: NatsConnection;
  private ownsConnection: boolean;
  private state: State = "created";
  private stopping?: Promise<void>;
  /** Workers running now (holding a max_workers slot). */
  private active = 0;
  /** Workers asked for and not finished, running or queued for a slot. */
  private readonly pending = new InFlight();
  private readonly queue: Array<() => void> = [];
  private readonly withSetup: DependencyProvider[];
  private readonly withCommit: DependencyProvider[];
  private readonly withResult: DependencyProvider[];
  private readonly withTeardown: DependencyProvider[];
  private readonly observers = new Set<(event: WorkerEvent) => void>();

  constructor(cls: ServiceClass, config: RuntimeConfig = defaultConfig(), options: ContainerOptions = {}) {
    this.description = describeService(cls);
    this.serviceName = this.description.name;
    this.config = config;
    // Nameko: any falsy max_workers means the default.
    this.maxWorkers = config.maxWorkers > 0 ? Math.floor(config.maxWorkers) : defaultConfig().maxWorkers;
    this.log = (options.log ?? rootLogger).child({ service: this.serviceName });
    this._nats = options.nats;
    this.ownsConnection = options.nats === undefined;
    this.entrypoints = this.description.entrypoints.map((f) => f());
    this.dependencies = this.description.dependencies.map((f) => f());
    const attrs = new Set<string>();
    for (const d of this.dependencies) {
      if (attrs.has(d.attrName))
        throw new ServiceDefinitionError(`${this.serviceName}: two dependencies on property ${d.attrName}`);
      attrs.add(d.attrName);
    }
    this.withSetup = this.dependencies.filter((d) => d.workerSetup);
    this.withCommit = this.dependencies.filter((d) => d.workerCommit);
    this.withResult = this.dependencies.filter((d) => d.workerResult);
    this.withTeardown = this.dependencies.filter((d) => d.workerTeardown);
  }

  /** The NATS connection; available once start() began. */
  get nats(): NatsConnection {
    if (!this._nats) throw new Error(`container ${this.serviceName} has no NATS connection before start()`);
    return this._nats;
  }

  /** Use a shared connection (the runner's); only before start(). The container will not drain it. */
  useConnection(nc: NatsConnection): void {
    if (this.state !== "created")
      throw new Error(`container ${this.serviceName}: connection can only be set before start()`);
    this._nats = nc;
    this.ownsConnection = false;
  }

  get announcer(): ServiceAnnouncer | undefined {
    return this._announcer;
  }

  /** True between a successful start() and stop()/kill(). */
  get running(): boolean {
    return this.state === "running";
  }

  /** Workers currently holding a slot; never above maxWorkers. */
  get activeWorkers(): number {
    return this.active;
  }

  /** Workers asked for and not finished: running plus queued for a slot. */
  get pendingWorkers(): number {
    return this.pending.count;
  }

  /** Set up every extension, then start dependencies, then entrypoints (so a worker never meets an unstarted dependency). */
  async start(): Promise<void> {
    if (this.state !== "created") throw new Error(`container ${this.serviceName} cannot start: it is ${this.state}`);
    this.state = "starting";
    try {
      this._nats ??= await connectNats(this.config, { name: this.serviceName, log: this.log });
      for (const d of this.dependencies) await d.setup?.(this);
      for (const e of this.entrypoints) await e.setup?.(this);
      if (this.config.announce) {
        this._announcer = await ServiceAnnouncer.start(this.nats, this.announcement(), this.log);
      }
      for (const d of this.dependencies) await d.start?.();
      for (const e of this.entrypoints) await e.start?.();
    } catch (err) {
      await this.kill();
      throw err;
    }
    this.state = "running";
    this.log.info("service started", {
      entrypoints: this.entrypoints.map((e) => e.methodName),
      max_workers: this.maxWorkers,
    });
  }

  /**
   * Graceful stop: entrypoints stop taking work, in-flight workers finish (they still reply),
   * dependencies stop, and an own connection is drained.
   */
  stop(): Promise<void> {
    if (this.state === "created") this.state = "stopped";
    if (this.state === "stopped" || this.state === "killed") return Promise.resolve();
    return (this.stopping ??= this.stopGracefully());
  }

  private async stopGracefully(): Promise<void> {
    this.state = "stopping";
    await this.each(this.entrypoints, (e) => e.stop?.(), "stop");
    const finished = await this.waitIdle(this.config.shutdownTimeoutMs);
    if (!finished)
      this.log.warn("stop: workers still running after the shutdown timeout", { workers: this.pending.count });
    await this.each(this.dependencies, (d) => d.stop?.(), "stop");
    await this._announcer?.stop().catch(() => undefined);
    if (this.ownsConnection && this._nats) await drainNats(this._nats);
    this.state = "stopped";
    this.log.info("service stopped");
  }

  /** Stop at once: queued workers are refused, running ones abandoned. */
  async kill(): Promise<void> {
    if (this.state === "killed" || this.state === "stopped") return;
    this.state = "killed";
    for (const next of this.queue.splice(0)) next();
    await this.each(this.entrypoints, (e) => (e.kill ?? e.stop)?.call(e), "kill");
    await this.each(this.dependencies, (d) => (d.kill ?? d.stop)?.call(d), "kill");
    await this._announcer?.stop().catch(() => undefined);
    if (this.ownsConnection && this._nats && !this._nats.isClosed()) await this._nats.close();
    this.log.info("service killed");
  }

  /** Run an entrypoint's method in a worker, bounded by max_workers; resolves with the outcome, never rejects. */
  spawnWorker(entrypoint: Entrypoint, args: unknown[], context: IncomingContext): Promise<WorkerOutcome> {
    if (this.state === "killed")
      return Promise.resolve({ ok: false, error: new ContainerBeingKilled(this.serviceName) });
    this.pending.enter();
    if (this.active < this.maxWorkers) {
      this.active++;
      return this.runWorker(entrypoint, args, context);
    }
    return new Promise((resolve) => {
      this.queue.push(() => {
        if (this.state === "killed") {
          this.finish();
          resolve({ ok: false, error: new ContainerBeingKilled(this.serviceName) });
          return;
        }
        this.active++;
        resolve(this.runWorker(entrypoint, args, context));
      });
    });
  }

  /** Watch finished workers; returns the function that stops watching. */
  observeWorkers(observer: (event: WorkerEvent) => void): () => void {
    this.observers.add(observer);
    return () => this.observers.delete(observer);
  }

  /** The service instance a worker runs on: fresh per worker, dependencies injected (Nameko's model). */
  private instantiate(worker: WorkerContext): ServiceInstance {
    const instance = new this.description.cls() as ServiceInstance;
    for (const d of this.dependencies) instance[d.attrName] = d.getDependency(worker);
    return instance;
  }

  private async runWorker(entrypoint: Entrypoint, args: unknown[], context: IncomingContext): Promise<WorkerOutcome> {
    const worker = new Worker(
      this.serviceName,
      entrypoint.methodName,
      context,
      this.config.parentCallsTracked,
      this.log,
    );
    let outcome: WorkerOutcome;
    try {
      const instance = this.instantiate(worker);
      for (const d of this.withSetup) await d.workerSetup!(worker);
      const method = instance[entrypoint.methodName];
      if (typeof method !== "function") {
        throw new ServiceDefinitionError(`${this.serviceName} has no method ${entrypoint.methodName}`);
      }
      const value: unknown = method.apply(instance, args);
      outcome = { ok: true, result: isThenable(value) ? await value : value };
    } catch (error) {
      outcome = { ok: false, error };
      this.logWorkerError(entrypoint, worker, error);
    }
    if (this.withCommit.length > 0) outcome = await this.commitWorker(entrypoint, worker, outcome);
    for (const d of this.withResult) await this.guard(() => d.workerResult!(worker, outcome), worker, "worker_result");
    for (const d of this.withTeardown) await this.guard(() => d.workerTeardown!(worker), worker, "worker_teardown");
    this.active--;
    this.finish();
    if (this.observers.size > 0) for (const o of this.observers) this.notify(o, { entrypoint, worker, args, outcome });
    return outcome;
  }

  /** Run the workerCommit hooks; the first one to throw turns a success into its error. */
  private async commitWorker(
    entrypoint: Entrypoint,
    worker: WorkerContext,
    outcome: WorkerOutcome,
  ): Promise<WorkerOutcome> {
    for (const d of this.withCommit) {
      try {
        await d.workerCommit!(worker, outcome);
      } catch (error) {
        if (outcome.ok) {
          outcome = { ok: false, error };
          this.logWorkerError(entrypoint, worker, error);
        } else worker.log.error("dependency worker_commit failed", errorLogFields(error));
      }
    }
    return outcome;
  }

  /** A worker left (or a queued one was refused): hand the slot on, wake stop() when idle. */
  private finish(): void {
    this.pending.leave();
    if (this.active < this.maxWorkers && this.queue.length > 0) this.queue.shift()!();
  }

  /** Resolves true once no worker is pending, or false after timeoutMs. */
  private waitIdle(timeoutMs?: number): Promise<boolean> {
    if (this.pending.count === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = timeoutMs === undefined ? undefined : setTimeout(() => resolve(false), timeoutMs);
      void this.pending.idle().then(() => {
        if (timer) clearTimeout(timer);
        resolve(true);
      });
    });
  }

  private logWorkerError(entrypoint: Entrypoint, worker: WorkerContext, error: unknown): void {
    const expected = entrypoint.expectedExceptions?.some((cls) => error instanceof cls) ?? false;
    const detail = errorLogFields(error);
    if (expected) worker.log.warn("(expected) error handling worker", detail);
    else worker.log.error("error handling worker", detail);
  }

  private async guard(fn: () => unknown, worker: WorkerContext, hook: string): Promise<void> {
    try {
      await fn();
    } catch (err) {
      worker.log.error(`dependency ${hook} failed`, errorLogFields(err));
    }
  }

  private notify(observer: (event: WorkerEvent) => void, event: WorkerEvent): void {
    try {
      observer(event);
    } catch (err) {
      this.log.error("worker observer failed", errorLogFields(err));
    }
  }

  private async each<T>(items: readonly T[], fn: (item: T) => unknown, what: string): Promise<void> {
    const results = await Promise.allSettled(items.map(async (i) => fn(i)));
    for (const r of results) {
      if (r.status === "rejected") this.log.error(`extension ${what} failed`, errorLogFields(r.reason));
    }
  }

  private announcement(): { name: string; version: string; description?: string } {
    const cls = this.description.cls as unknown as { version?: unknown; description?: unknown };
    return {
      name: this.serviceName,
      version: typeof cls.version === "string" ? cls.version : DEFAULT_SERVICE_VERSION,
      description: typeof cls.description === "string" ? cls.description : undefined,
    };
  }
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return v !== null && typeof v === "object" && typeof (v as { then?: unknown }).then === "function";
}
