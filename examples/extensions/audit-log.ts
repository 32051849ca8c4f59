// A dependency provider (docs/extensions.md, Writing a dependency provider): `@AuditLog()` gives each
// worker an `Audit` whose records are published on NATS subject `audit.<service>` once the worker
// succeeded, each carrying the worker's context. One AuditWriter per container, shared by every
// @AuditLog property, publishes them from a managed background task.
import {
  contextHeaders,
  registerDependency,
  SharedExtension,
  type ContainerHandle,
  type DependencyProvider,
  type MsgHdrs,
  type WorkerContext,
  type WorkerOutcome,
} from "cliffracer";

/** What a service method sees: `this.audit.record("order_placed", { id })`. */
export interface Audit {
  record(action: string, detail?: Record<string, unknown>): void;
}

interface AuditEntry {
  subject: string;
  body: string;
  headers: MsgHdrs;
}

/**
 * The container's one writer: a queue, and a managed task that publishes what is queued. At a
 * graceful stop the task is aborted after every extension stopped, and publishes what is left first.
 */
export class AuditWriter extends SharedExtension {
  private readonly queue: AuditEntry[] = [];
  private wake?: () => void;

  start(): void {
    void this.container.spawnManagedTask("audit writer", (signal) => this.run(signal));
  }

  enqueue(entries: AuditEntry[]): void {
    this.queue.push(...entries);
    this.wake?.();
  }

  private async run(signal: AbortSignal): Promise<void> {
    signal.addEventListener("abort", () => this.wake?.());
    while (!signal.aborted || this.queue.length > 0) {
      for (const entry of this.queue.splice(0)) {
        this.container.nats.publish(entry.subject, entry.body, { headers: entry.headers });
      }
      if (signal.aborted) break;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
    await this.container.nats.flush();
  }
}

/** The provider behind `@AuditLog()`: buffers a worker's records, hands them on only if it succeeded. */
export class AuditLogProvider implements DependencyProvider {
  private writer?: AuditWriter;
  private subject = "";
  private readonly pending = new Map<WorkerContext, AuditEntry[]>();

  constructor(readonly attrName: string) {}

  setup(container: ContainerHandle): void {
    this.writer = container.shared(AuditWriter);
    const prefix = container.config.prefix;
    this.subject = `${prefix ? `${prefix}.` : ""}audit.${container.serviceName}`;
  }

  getDependency(worker: WorkerContext): Audit {
    const entries: AuditEntry[] = [];
    this.pending.set(worker, entries);
    return {
      record: (action, detail = {}) =>
        entries.push({
          subject: this.subject,
          body: JSON.stringify({ action, detail, method: worker.methodName }),
          // The worker's context data and call id stack, as they are when the record is made.
          headers: contextHeaders(worker),
        }),
    };
  }

  workerResult(worker: WorkerContext, outcome: WorkerOutcome): void {
    if (outcome.ok) this.writer!.enqueue(this.pending.get(worker) ?? []);
  }

  workerTeardown(worker: WorkerContext): void {
    this.pending.delete(worker);
  }
}

/** Inject an {@link Audit}. */
export function AuditLog(): PropertyDecorator {
  return (target, propertyKey) => registerDependency(target, () => new AuditLogProvider(String(propertyKey)));
}
