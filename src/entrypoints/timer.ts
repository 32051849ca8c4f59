import { ConfigurationError, type ErrorClass } from "../../compat";
import type { ContainerHandle, Entrypoint, WorkerOutcome } from "../core/extension";
import { registerEntrypoint } from "../core/metadata";
import { timerSpan } from "../tracing/attributes";
import type { EntrypointSpan } from "../tracing/tracing";

/** Options of @timer. */
export interface TimerOptions {
  /** Seconds between ticks, as in Nameko. */
  interval: number;
  /** Fire once at start instead of after the first interval (default false). */
  eager?: boolean;
  /** Errors the method is expected to throw: logged as warnings (Nameko's expected_exceptions). */
  expectedExceptions?: readonly ErrorClass[];
}

// setTimeout keeps 32-bit delays; longer waits are taken in steps.
const MAX_DELAY_MS = 2 ** 31 - 1;

/**
 * The @timer entrypoint (docs/nameko-wire.md, Timer): runs in every instance, ticks on a fixed grid
 * from the start time, and the next tick waits for the previous worker, so runs never overlap and a
 * slow run is followed by catch-up ticks rather than drift.
 */
export class Timer implements Entrypoint {
  readonly interval: number;
  readonly eager: boolean;
  readonly expectedExceptions?: readonly ErrorClass[];
  readonly traceSpan: EntrypointSpan;
  private container?: ContainerHandle;
  private timeout?: NodeJS.Timeout;
  private running?: Promise<WorkerOutcome>;
  private stopped = false;
  private startMs = 0;
  private count = 0;

  constructor(
    readonly methodName: string,
    options: TimerOptions,
  ) {
    this.interval = options.interval;
    this.eager = options.eager ?? false;
    this.expectedExceptions = options.expectedExceptions;
    this.traceSpan = timerSpan(this.interval);
  }

  setup(container: ContainerHandle): void {
    if (typeof this.interval !== "number" || !Number.isFinite(this.interval) || this.interval <= 0) {
      throw new ConfigurationError(
        `${container.serviceName}.${this.methodName}: timer interval must be a positive number of seconds, got ${String(this.interval)}`,
      );
    }
    this.container = container;
  }

  start(): void {
    this.stopped = false;
    this.startMs = performance.now();
    this.count = this.eager ? 0 : 1;
    this.schedule();
  }

  /** Stop scheduling; resolves once a tick that is running has finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timeout);
    await this.running;
  }

  kill(): void {
    this.stopped = true;
    clearTimeout(this.timeout);
  }

  private schedule(): void {
    if (this.stopped) return;
    const due = this.startMs + this.count * this.interval * 1000;
    const wait = Math.max(due - performance.now(), 0);
    this.timeout = setTimeout(
      () => (wait > MAX_DELAY_MS ? this.schedule() : void this.tick()),
      Math.min(wait, MAX_DELAY_MS),
    );
    // A pending tick alone must not keep a stopped process alive.
    this.timeout.unref();
  }

  private async tick(): Promise<void> {
    if (this.stopped || !this.container) return;
    // No inbound context: the worker's stack is its own call id only.
    this.running = this.container.spawnWorker(this, [], { data: {}, parentStack: [] });
    await this.running;
    this.running = undefined;
    this.count++;
    this.schedule();
  }
}

/** Run the method every `interval` seconds (Nameko's @timer). */
export function timer(options: TimerOptions): MethodDecorator {
  return (target, propertyKey) => {
    const methodName = String(propertyKey);
    registerEntrypoint(target, () => new Timer(methodName, options));
  };
}
