import type { NatsConnection } from "@nats-io/transport-node";
import type { ContextData, ErrorClass, Logger } from "../../compat";
import type { RuntimeConfig } from "../config/defaults";
import type { ServiceAnnouncer } from "../nats/service-announcer";

/** What a worker is told about the call that started it. */
export interface IncomingContext {
  /** Context data (`nameko.*` headers without the prefix, call_id_stack excluded). */
  data: ContextData;
  /** The caller's call id stack (empty for a call from outside any worker). */
  parentStack: string[];
}

/** The result of one worker run; a worker never rejects, it reports. */
export type WorkerOutcome = { ok: true; result: unknown } | { ok: false; error: unknown };

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

/** What extensions see of the container that hosts them. */
export interface ContainerHandle {
  readonly serviceName: string;
  readonly config: RuntimeConfig;
  readonly nats: NatsConnection;
  readonly log: Logger;
  /** Concurrency bound for workers (max_workers). */
  readonly maxWorkers: number;
  /** The services-protocol announcement of this container, when announcing is enabled. */
  readonly announcer?: ServiceAnnouncer;
  /**
   * Run the entrypoint's method in a worker, bounded by max_workers, with dependencies injected.
   * Resolves once the worker finished; never rejects.
   */
  spawnWorker(entrypoint: Entrypoint, args: unknown[], context: IncomingContext): Promise<WorkerOutcome>;
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
