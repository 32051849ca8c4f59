import { type ContextData, extendCallIdStack, type Logger, newCallId } from "../../compat";
import type { IncomingContext, WorkerContext } from "./extension";

/**
 * One execution of an entrypoint. The call id, the stack and the child logger are built on first
 * use, and the incoming context is only read then (it may decode headers lazily, LazyNatsContext):
 * most RPC workers never read them, and the hot path should not pay for a uuid, an array, a logger
 * and a header decode per call (BENCHMARKS.md, Profiles). Once built they never change.
 */
export class Worker implements WorkerContext {
  private _callId?: string;
  private _stack?: readonly string[];
  private _log?: Logger;

  constructor(
    readonly serviceName: string,
    readonly methodName: string,
    private readonly incoming: IncomingContext,
    private readonly parentCallsTracked: number,
    private readonly parentLog: Logger,
  ) {}

  /** The incoming context data (`nameko.*` headers); the same object on every read. */
  get data(): ContextData {
    return this.incoming.data;
  }

  /** `service.method.uuid4` (docs/nameko-wire.md, Call id stack). */
  get callId(): string {
    return (this._callId ??= newCallId(this.serviceName, this.methodName));
  }

  /** Parent stack + own call id, keeping the last parent_calls_tracked + 1 entries. */
  get callIdStack(): readonly string[] {
    return (this._stack ??= extendCallIdStack(this.incoming.parentStack, this.callId, this.parentCallsTracked));
  }

  /** Child logger carrying service, method and call id. */
  get log(): Logger {
    return (this._log ??= this.parentLog.child({ method: this.methodName, call_id: this.callId }));
  }
}
