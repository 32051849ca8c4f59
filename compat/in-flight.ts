/**
 * A count of work in progress that can be awaited down to zero: what every consumer's stop()
 * needs (stop intake, then wait for what it already took). No transport here, so the runtime,
 * the AMQP compat layer and the bridge all share it.
 */

/** Counts work entered and not yet left; {@link idle} resolves when the count is back at zero. */
export class InFlight {
  private n = 0;
  private waiters: Array<() => void> = [];

  /** Work entered and not yet left. */
  get count(): number {
    return this.n;
  }

  /** One more piece of work started (no allocation: this sits on every message's path). */
  enter(): void {
    this.n++;
  }

  /** One piece of work finished; wakes every idle() waiter when it was the last. */
  leave(): void {
    if (--this.n === 0 && this.waiters.length > 0) {
      const waiters = this.waiters;
      this.waiters = [];
      for (const w of waiters) w();
    }
  }

  /** Runs `work`, counted from its start until it settles. */
  async track<T>(work: () => Promise<T>): Promise<T> {
    this.enter();
    try {
      return await work();
    } finally {
      this.leave();
    }
  }

  /** Resolves once the count is zero (at once if it is zero now). */
  idle(): Promise<void> {
    if (this.n === 0) return Promise.resolve();
    return new Promise<void>((resolve) => this.waiters.push(resolve));
  }
}
