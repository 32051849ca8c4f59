import { performance } from "node:perf_hooks";
import type { NatsConnection } from "@nats-io/transport-node";
import { errorLogFields, InFlight, type Logger, RuntimeError } from "../../compat";
import { defaultConfig, DEFAULT_SERVICE_VERSION, type RuntimeConfig } from "../config/defaults";
import { ContainerBeingKilled, ServiceDefinitionError } from "../errors";
import { rootLogger } from "../logging";
import { connectNats, drainNats } from "../nats/connection";
import { ServiceAnnouncer } from "../nats/service-announcer";
import type {
  ContainerHandle,
  ContainerMetrics,
  DependencyProvider,
  Entrypoint,
  Extension,
  IncomingContext,
  ManagedTask,
  ResultHandler,
  SharedExtensionClass,
  WorkerContext,
  WorkerOutcome,
} from "./extension";
import { WorkerSpan, tracingOn } from "../tracing/tracing";
import { workerSpanName } from "../tracing/attributes";
import { describeService, type ServiceClass, type ServiceDescription } from "./metadata";
import { Worker } from "./worker-context";

/** How a container gets its NATS connection and logger. */
export interface ContainerOptions {
  /** A shared connection (the runner's); without one the container connects, and drains at stop. */
  nats?: NatsConnection;
  /** Parent logger; the container logs on `log.child({ service })`. Default: the root logger. */
  log?: Logger;
  /** Where the container's workers, outgoing calls and event lag are counted (docs/metrics.md). */
  metrics?: MetricsSource;
}

/** Gives each container its {@link ContainerMetrics} (src/observability/service-metrics.ts). */
export interface MetricsSource {
  forContainer(container: ServiceContainer): ContainerMetrics;
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
 * all entrypoints. `T` is the service's type (what cliffracer/testing types hooks and mocks from).
 */
export class ServiceContainer<T extends object = object> implements ContainerHandle {
  readonly serviceName: string;
  readonly config: RuntimeConfig;
  readonly log: Logger;
  readonly maxWorkers: number;
  private _entrypoints: readonly Entrypoint[] = [];
  private _dependencies: readonly DependencyProvider[] = [];
  readonly description: ServiceDescription;
  private _announcer?: ServiceAnnouncer;
  readonly metrics?: ContainerMetrics;
  private _nats?: NatsConnection;
  private ownsConnection: boolean;
  private state: State = "created";
  private stopping?: Promise<void>;
  /** Workers running now (holding a max_workers slot). */
  private active = 0;
  /** Workers asked for and not finished, running or queued for a slot. */
  private readonly pending = new InFlight();
  private readonly queue: Array<() => void> = [];
  private withSetup: DependencyProvider[] = [];
  private withCommit: DependencyProvider[] = [];
  private withResult: DependencyProvider[] = [];
  private withTeardown: DependencyProvider[] = [];
  private readonly observers = new Set<(event: WorkerEvent) => void>();
  /** Shared extensions by class and key, and the order they were built in, per group of users. */
  private readonly sharedByClass = new Map<SharedExtensionClass<object>, Map<string, Extension>>();
  private readonly sharedOfDependencies: Extension[] = [];
  private readonly sharedOfEntrypoints: Extension[] = [];
  /** Which extensions are being set up now; shared extensions may only be requested then. */
  private settingUp?: Extension[];
  private readonly tasks = new Map<Promise<void>, { name: string; abort: AbortController }>();
  /** Settled when the container stopped (resolved) or was killed (rejected with the error, if any). */
  private readonly died: Promise<void>;
  private settleDeath!: (error?: unknown) => void;

  constructor(cls: ServiceClass<T>, config: RuntimeConfig = defaultConfig(), options: ContainerOptions = {}) {
    this.description = describeService(cls);
    this.serviceName = this.description.name;
    this.config = config;
    // Nameko: any falsy max_workers means the default.
    this.maxWorkers = config.maxWorkers > 0 ? Math.floor(config.maxWorkers) : defaultConfig().maxWorkers;
    this.log = (options.log ?? rootLogger).child({ service: this.serviceName });
    this._nats = options.nats;
    this.ownsConnection = options.nats === undefined;
    this.replaceExtensions(
      this.description.entrypoints.map((f) => f()),
      this.description.dependencies.map((f) => f()),
    );
    this.metrics = options.metrics?.forContainer(this);
    this.died = new Promise<void>((resolve, reject) => {
      this.settleDeath = (error) => (error === undefined ? resolve() : reject(error));
    });
    // wait() is optional: a death nobody waits for must not be an unhandled rejection.
    this.died.catch(() => undefined);
  }

  /** The service class this container runs. */
  get serviceClass(): ServiceClass<T> {
    return this.description.cls as ServiceClass<T>;
  }

  get entrypoints(): readonly Entrypoint[] {
    return this._entrypoints;
  }

  get dependencies(): readonly DependencyProvider[] {
    return this._dependencies;
  }

  /**
   * Run these extensions instead of the class's; only before start() (cliffracer/testing's
   * replaceDependencies and restrictEntrypoints, as Nameko's helpers edit its container's sets).
   */
  replaceExtensions(entrypoints: readonly Entrypoint[], dependencies: readonly DependencyProvider[]): void {
    if (this.state !== "created")
      throw new RuntimeError(`container ${this.serviceName}: extensions can only be replaced before start()`);
    const attrs = new Set<string>();
    for (const d of dependencies) {
      if (attrs.has(d.attrName))
        throw new ServiceDefinitionError(`${this.serviceName}: two dependencies on property ${d.attrName}`);
      attrs.add(d.attrName);
    }
    this._entrypoints = entrypoints;
    this._dependencies = dependencies;
    this.withSetup = dependencies.filter((d) => d.workerSetup);
    this.withCommit = dependencies.filter((d) => d.workerCommit);
    this.withResult = dependencies.filter((d) => d.workerResult);
    this.withTeardown = dependencies.filter((d) => d.workerTeardown);
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

  /**
   * Set up every extension, then start dependencies, then entrypoints (so a worker never meets an
   * unstarted dependency). Shared extensions are set up after their users and started before them.
   */
  async start(): Promise<void> {
    if (this.state !== "created") throw new Error(`container ${this.serviceName} cannot start: it is ${this.state}`);
    this.state = "starting";
    try {
      this._nats ??= await connectNats(this.config, { name: this.serviceName, log: this.log });
      await this.setUp(this.dependencies, this.sharedOfDependencies);
      await this.setUp(this.entrypoints, this.sharedOfEntrypoints);
      if (this.config.announce) {
        this._announcer = await ServiceAnnouncer.start(this.nats, this.announcement(), this.log);
      }
      // Reversed: a shared extension built by another one's setup starts before the one using it.
      for (const s of [...this.sharedOfDependencies].reverse()) await s.start?.();
      for (const d of this.dependencies) await d.start?.();
      for (const s of [...this.sharedOfEntrypoints].reverse()) await s.start?.();
      for (const e of this.entrypoints) await e.start?.();
      // Subscriptions leave in nats.js's outbound buffer: until the server has them, a request
      // finds no responder. Running (the log line, /ready) means callers can reach the service.
      await this.nats.flush();
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

  /**
   * Resolves once the container stopped or was killed; rejects with the error that killed it when
   * a managed task failed (Nameko's ServiceContainer.wait).
   */
  wait(): Promise<void> {
    return this.died;
  }

  private async stopGracefully(): Promise<void> {
    this.state = "stopping";
    // One deadline for the whole wait: an entrypoint's stop() waits for its own requests to be
    // answered (the RPC consumer does), so it must not outlast SHUTDOWN_TIMEOUT either.
    const deadline = performance.now() + this.config.shutdownTimeoutMs;
    const intakeStopped = await this.within(
      deadline,
      (async () => {
        await this.each(this.entrypoints, (e) => e.stop?.(), "stop");
        await this.each(this.sharedOfEntrypoints, (s) => s.stop?.(), "stop");
      })(),
    );
    const finished = intakeStopped && (await this.waitIdle(Math.max(0, deadline - performance.now())));
    if (!finished)
      this.log.warn("stop: workers still running after the shutdown timeout", { workers: this.pending.count });
    await this.each(this.dependencies, (d) => d.stop?.(), "stop");
    await this.each(this.sharedOfDependencies, (s) => s.stop?.(), "stop");
    await this.endTasks(this.config.shutdownTimeoutMs);
    await this._announcer?.stop().catch(() => undefined);
    if (this.ownsConnection && this._nats) await drainNats(this._nats);
    this.state = "stopped";
    this.log.info("service stopped");
    this.settleDeath();
  }

  /**
   * Stop at once: queued workers are refused, running ones abandoned, managed tasks aborted. With
   * an error (a managed task failed), wait() rejects with it.
   */
  async kill(error?: unknown): Promise<void> {
    if (this.state === "killed" || this.state === "stopped") return;
    this.state = "killed";
    if (error !== undefined) this.log.error("killing the service", errorLogFields(error));
    for (const next of this.queue.splice(0)) next();
    const kill = (x: Extension): unknown => (x.kill ?? x.stop)?.call(x);
    await this.each(this.entrypoints, kill, "kill");
    await this.each(this.sharedOfEntrypoints, kill, "kill");
    await this.each(this.dependencies, kill, "kill");
    await this.each(this.sharedOfDependencies, kill, "kill");
    await this.endTasks(0);
    await this._announcer?.stop().catch(() => undefined);
    if (this.ownsConnection && this._nats && !this._nats.isClosed()) await this._nats.close();
    this.log.info("service killed");
    this.settleDeath(error);
  }

  /** Run an entrypoint's method in a worker (see ContainerHandle.spawnWorker); never rejects. */
  spawnWorker(
    entrypoint: Entrypoint,
    args: unknown[],
    context: IncomingContext,
    handleResult?: ResultHandler,
  ): Promise<WorkerOutcome> {
    if (this.state === "killed") return this.refuse(entrypoint, context, handleResult);
    this.pending.enter();
    if (this.active < this.maxWorkers) {
      this.active++;
      return this.runWorker(entrypoint, args, context, handleResult);
    }
    return new Promise((resolve) => {
      this.queue.push(() => {
        if (this.state === "killed") {
          this.finish();
          resolve(this.refuse(entrypoint, context, handleResult));
          return;
        }
        this.active++;
        resolve(this.runWorker(entrypoint, args, context, handleResult));
      });
    });
  }

  /** See ContainerHandle.shared. */
  shared<T extends object>(cls: SharedExtensionClass<T>, key = ""): T {
    let byKey = this.sharedByClass.get(cls);
    const found = byKey?.get(key);
    if (found) return found as T;
    if (!this.settingUp)
      throw new Error(`${this.serviceName}: shared extension ${cls.name} requested outside an extension's setup()`);
    if (!byKey) this.sharedByClass.set(cls, (byKey = new Map()));
    const instance = new cls(this);
    byKey.set(key, instance);
    this.settingUp.push(instance);
    return instance;
  }

  /** See ContainerHandle.spawnManagedTask. */
  spawnManagedTask(name: string, task: ManagedTask): Promise<void> {
    if (this.state === "killed" || this.state === "stopped") throw new ContainerBeingKilled(this.serviceName);
    const abort = new AbortController();
    // Started from a microtask, so a task that throws at once is handled like one that rejects.
    const run: Promise<void> = Promise.resolve()
      .then(() => task(abort.signal))
      .then(
        () => undefined,
        (err: unknown) => {
          if (abort.signal.aborted) {
            this.log.debug("managed task ended with an error after it was aborted", {
              task: name,
              ...errorLogFields(err),
            });
            return;
          }
          this.log.error("managed task failed", { task: name, ...errorLogFields(err) });
          void this.kill(err);
        },
      )
      .finally(() => this.tasks.delete(run));
    this.tasks.set(run, { name, abort });
    return run;
  }

  /** Abort every managed task; wait up to timeoutMs for them to end. */
  private async endTasks(timeoutMs: number): Promise<void> {
    if (this.tasks.size === 0) return;
    for (const { abort } of this.tasks.values()) abort.abort();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    const ended = await Promise.race([Promise.all(this.tasks.keys()).then(() => true), timeout]);
    clearTimeout(timer);
    if (!ended)
      this.log.warn("managed tasks still running after they were aborted", {
        tasks: [...this.tasks.values()].map((t) => t.name),
      });
  }

  /**
   * Set up a group of extensions, then the shared extensions they asked for (and those asked for
   * by those, as the list grows while it is walked).
   */
  private async setUp(extensions: readonly Extension[], shared: Extension[]): Promise<void> {
    this.settingUp = shared;
    try {
      for (const x of extensions) await x.setup?.(this);
      for (let i = 0; i < shared.length; i++) await shared[i].setup?.(this);
    } finally {
      this.settingUp = undefined;
    }
  }

  /** A worker refused because the container is being killed: the entrypoint still gets its outcome. */
  private async refuse(
    entrypoint: Entrypoint,
    context: IncomingContext,
    handleResult: ResultHandler | undefined,
  ): Promise<WorkerOutcome> {
    const outcome: WorkerOutcome = { ok: false, error: new ContainerBeingKilled(this.serviceName) };
    if (!handleResult) return outcome;
    return this.handle(handleResult, this.newWorker(entrypoint, context), outcome);
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

  private newWorker(entrypoint: Entrypoint, context: IncomingContext): Worker {
    return new Worker(this.serviceName, entrypoint.methodName, context, this.config.parentCallsTracked, this.log);
  }

  /**
   * With an OpenTelemetry SDK registered, the worker runs inside its span (docs/tracing.md, Spans);
   * without one, nothing is allocated for tracing.
   */
  private runWorker(
    entrypoint: Entrypoint,
    args: unknown[],
    context: IncomingContext,
    handleResult: ResultHandler | undefined,
  ): Promise<WorkerOutcome> {
    if (!tracingOn()) return this.work(entrypoint, args, context, handleResult);
    const span = WorkerSpan.start(
      workerSpanName(this.serviceName, entrypoint.methodName),
      entrypoint.traceSpan,
      context.traceCarrier ?? context.data,
    );
    return span.run(() => this.work(entrypoint, args, context, handleResult, span));
  }

  /** Nameko's _run_worker: the method, then the entrypoint's result handling, then workerResult and teardown. */
  private async work(
    entrypoint: Entrypoint,
    args: unknown[],
    context: IncomingContext,
    handleResult: ResultHandler | undefined,
    span?: WorkerSpan,
  ): Promise<WorkerOutcome> {
    const worker = this.newWorker(entrypoint, context);
    span?.span.setAttribute("nameko.call_id", worker.callId);
    const metrics = this.metrics;
    const startedAt = metrics === undefined ? 0 : performance.now();
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
    if (handleResult) {
      // Awaited only when the handler is async: the RPC reply path stays free of an extra tick.
      const handled = this.handle(handleResult, worker, outcome);
      outcome = isThenable(handled) ? await handled : handled;
    }
    // Ended once the caller has its answer, as Nameko's instrumentation ends it at worker_result.
    span?.end(outcome.ok ? undefined : { error: outcome.error, expected: isExpected(entrypoint, outcome.error) });
    // Timed as nameko-prometheus times a worker: from its start to its result handled, teardown excluded.
    metrics?.workerFinished(entrypoint, outcome, (performance.now() - startedAt) / 1000);
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

  /** The entrypoint's result handler, guarded: what it throws becomes the outcome. */
  private handle(
    handleResult: ResultHandler,
    worker: WorkerContext,
    outcome: WorkerOutcome,
  ): WorkerOutcome | Promise<WorkerOutcome> {
    try {
      const handled = handleResult(worker, outcome);
      if (!isThenable(handled)) return handled ?? outcome;
      return Promise.resolve(handled).then(
        (h) => h ?? outcome,
        (error: unknown) => handlerFailed(worker, error),
      );
    } catch (error) {
      return handlerFailed(worker, error);
    }
  }

  /** A worker left (or a queued one was refused): hand the slot on, wake stop() when idle. */
  private finish(): void {
    this.pending.leave();
    if (this.active < this.maxWorkers && this.queue.length > 0) this.queue.shift()!();
  }

  /** True once `work` settled, false if `deadline` (performance.now() time) came first. */
  private within(deadline: number, work: Promise<unknown>): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), Math.max(0, deadline - performance.now()));
      const settled = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      work.then(settled, settled);
    });
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
    const expected = isExpected(entrypoint, error);
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

/** What a result handler that threw (or rejected) leaves as the outcome; a function, not a closure per call. */
function handlerFailed(worker: WorkerContext, error: unknown): WorkerOutcome {
  worker.log.error("entrypoint failed to handle the worker result", errorLogFields(error));
  return { ok: false, error };
}

function isExpected(entrypoint: Entrypoint, error: unknown): boolean {
  return entrypoint.expectedExceptions?.some((cls) => error instanceof cls) ?? false;
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return v !== null && typeof v === "object" && typeof (v as { then?: unknown }).then === "function";
}
