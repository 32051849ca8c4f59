/** How many calls a proxy lets run at once to a service, and how many wait (docs/resilience.md, Bulkhead). */
export interface BulkheadOptions {
  /** Calls running at once (default 10). */
  concurrency?: number;
  /** Calls waiting for a slot; one more is refused with BulkheadFull (default 100). */
  maxQueue?: number;
}

/** BulkheadOptions with every default filled in. */
export type BulkheadPolicy = Readonly<Required<BulkheadOptions>>;

export const DEFAULT_BULKHEAD: BulkheadPolicy = Object.freeze({ concurrency: 10, maxQueue: 100 });

const NOW = Promise.resolve();

/** Slots for concurrent calls with a bounded FIFO queue; a freed slot passes straight to the next waiter. */
export class Bulkhead {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly policy: BulkheadPolicy) {}

  /** Calls holding a slot. */
  get running(): number {
    return this.active;
  }

  /** Calls waiting for a slot. */
  get queued(): number {
    return this.waiting.length;
  }

  /** A promise settled when the caller holds a slot (release() it after), or undefined at once when the queue is full. */
  acquire(): Promise<void> | undefined {
    if (this.active < this.policy.concurrency) {
      this.active++;
      return NOW;
    }
    if (this.waiting.length >= this.policy.maxQueue) return undefined;
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** Give a slot back. */
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active--;
  }
}
