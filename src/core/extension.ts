import type { NatsConnection } from "@nats-io/transport-node";
import type { ContextData, ErrorClass, Logger } from "../../compat";
import type { RuntimeConfig } from "../config/defaults";
import type { ServiceAnnouncer } from "../nats/service-announcer";
import type { EntrypointSpan } from "../tracing/tracing";

/** What a worker is told about the call that started it. */
export interface IncomingContext {
  /** Context data (`nameko.*` headers without the prefix, call_id_stack excluded). */
  data: ContextData;
  /** The caller's call id stack (empty for a call from outside any worker). */
  parentStack: string[];
  /**
   * Where the caller's trace context is read from when it is not in `data` (an HTTP request's
   * headers); default `data`, whose `traceparent`/`tracestate` came as `nameko.*` headers
   * (docs/tracing.md, Interoperating with Nameko).
   */
  traceCarrier?: Readonly<Record<string, unknown>>;
}

/** The result of one worker run; a worker never rejects, it reports. */
export type WorkerOutcome = { ok: true; result: unknown } | { ok: false; error: unknown };

/**
 * An entrypoint's handling of its worker's outcome (Nameko's `handle_result`): reply, ack, respond.
 * Called once per spawned worker, as soon as the method has returned or thrown and before any
 * dependency's workerResult or workerTeardown, so a slow teardown never delays a reply. It may
 * return a different outcome (e.g. the reply could not be sent), which is what workerResult then
 * sees. A handler that throws is logged and its error becomes the outcome.
 */
export type ResultHandler = (
  worker: WorkerContext,
  outcome: WorkerOutcome,
) => WorkerOutcome | void | PromiseLike<WorkerOutcome | void>;

/**
 * A background task run on behalf of an extension (Nameko's `spawn_managed_thread`). It should end
 * when `signal` aborts: at the end of a graceful stop (after the extensions stopped) or on kill.
 */
export type ManagedTask = (signal: AbortSignal) => Promise<void> | void;

/**
 * A class whose one instance per container (and key) is shared by several extensions (Nameko's
 * SharedExtension); see {@link ContainerHandle.shared}.
 */
export type SharedExtensionClass<T extends object> = new (container: ContainerHandle) => T & Extension;

/** One execution of an entrypoint (Nameko's WorkerContext). */
export interface WorkerContext {
  readonly serviceName: string;
  readonly methodName: string;
  /** `service.method.uuid4` */
  readonly callId: string;
  /** Parent stack + own call id, truncated to parent_calls_tracked + 1. */
  readonly callIdStack: readonly string[];
  /** Context data, propagated on every outgoing call and event. */
  readonly data: ContextData;
  /** Child logger carrying service, method and call_id. */
  readonly log: Logger;
}

/**
 * What extensions report for the service's Prometheus metrics (docs/metrics.md). A container has it
 * when its process serves /metrics (`cliffracer run` with `METRICS_ADDRESS`); extensions check for it.
 */
export interface ExtensionMetrics {
  /**
   * An outgoing RPC call to `targetService.method` starts now; call the returned function once it
   * settled, with its error when it failed.
   */
  outgoingCall(targetService: string, method: string): (error?: unknown) => void;
  /** An event of `sourceService.eventType` reached `entrypoint` `seconds` after it was published. */
  eventLag(entrypoint: Entrypoint, sourceService: string, eventType: string, seconds: number): void;
}

/** What a container reports to its metrics: {@link ExtensionMetrics} and every worker it ran. */
export interface ContainerMetrics extends ExtensionMetrics {
  /** A worker of `entrypoint` ended with `outcome` (its result handled), `seconds` after it started. */
  workerFinished(entrypoint: Entrypoint, outcome: WorkerOutcome, seconds: number): void;
}

/** What extensions see of the container that hosts them. */
export interface ContainerHandle {
  readonly serviceName: string;
  readonly config: RuntimeConfig;
  readonly nats: NatsConnection;
  readonly log: Logger;
  /** Concurrency bound for workers (max_workers). */
  readonly maxWorkers: number;
  /** The services-protocol announcement of this container, when announcing is enabled (set at start). */
  readonly announcer?: ServiceAnnouncer;
  /** Where extensions report outgoing calls and event lag, when the process serves metrics. */
  readonly metrics?: ExtensionMetrics;
  /**
   * Run the entrypoint's method in a worker, bounded by max_workers, with dependencies injected
   * (docs/extensions.md, The worker). `handleResult` gets the outcome as soon as the method ended,
   * before dependencies' workerResult and workerTeardown; the returned promise resolves with the
   * (possibly handled) outcome once teardown finished too, and never rejects. The worker holds its
   * max_workers slot until teardown finished, and a graceful stop waits for it.
   */
  spawnWorker(
    entrypoint: Entrypoint,
    args: unknown[],
    context: IncomingContext,
    handleResult?: ResultHandler,
  ): Promise<WorkerOutcome>;
  /**
   * The container's one instance of `cls` for `key` (default ""), built with `new cls(container)` on
   * the first request (Nameko's SharedExtension). Request it from an extension's setup(); the
   * container then sets it up after the extensions that asked for it (so they may register with
   * it), starts it before them, and stops and kills it after them (docs/extensions.md, Shared
   * extensions).
   */
  shared<T extends object>(cls: SharedExtensionClass<T>, key?: string): T;
  /**
   * Run `task` in the background, tracked by the container (Nameko's spawn_managed_thread;
   * docs/extensions.md, Managed tasks): at the end of a graceful stop, after every extension
   * stopped, its signal aborts and the stop waits for it (up to SHUTDOWN_TIMEOUT); a kill aborts it
   * without waiting. A task that fails before its
   * signal aborted kills the container, as in Nameko, and `wait()` rejects with its error. Resolves
   * when the task ended; never rejects.
   */
  spawnManagedTask(name: string, task: ManagedTask): Promise<void>;
}

/** Lifecycle shared by every extension (Nameko's Extension). */
export interface Extension {
  setup?(container: ContainerHandle): Promise<void> | void;
  /** Start taking work. */
  start?(): Promise<void> | void;
  /** Stop taking new work; in-flight workers are awaited by the container. */
  stop?(): Promise<void> | void;
  /** Stop at once, abandoning work. */
  kill?(): Promise<void> | void;
}

/** Something that starts workers: @rpc, @eventHandler, @timer, @http. */
export interface Entrypoint extends Extension {
  /** The service method this entrypoint runs. */
  readonly methodName: string;
  /** Errors the method is expected to throw: logged as warnings, not errors (Nameko's expected_exceptions). */
  readonly expectedExceptions?: readonly ErrorClass[];
  /**
   * Kind and attributes of its workers' spans when an OpenTelemetry SDK is registered
   * (docs/tracing.md, Spans); without it a worker's span is INTERNAL with no attributes.
   */
  readonly traceSpan?: EntrypointSpan;
}

/** Something injected into the service instance of each worker: @RpcProxy, @EventDispatcher, @Config. */
export interface DependencyProvider extends Extension {
  /** The property of the service instance that receives the dependency. */
  readonly attrName: string;
  getDependency(worker: WorkerContext): unknown;
  workerSetup?(worker: WorkerContext): Promise<void> | void;
  /**
   * The worker's commit point: runs once the service method finished and before the entrypoint acts
   * on the outcome (before an RPC reply is sent or an event acked), in declaration order. For work
   * the caller must not hear "success" before, such as committing a database transaction (or
   * rolling it back when `outcome.ok` is false). A throw turns a successful outcome into that error;
   * the providers after it then see the failed outcome.
   */
  workerCommit?(worker: WorkerContext, outcome: WorkerOutcome): Promise<void> | void;
  workerResult?(worker: WorkerContext, outcome: WorkerOutcome): Promise<void> | void;
  workerTeardown?(worker: WorkerContext): Promise<void> | void;
}
