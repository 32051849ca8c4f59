import type { DependencyProvider, WorkerContext } from "../../../src/core/extension";
import { registerDependency } from "../../../src/core/metadata";
import { timer } from "../../../src/entrypoints/timer";
import { EventsFixture } from "../../helpers/jetstream";
import { deferred } from "../../helpers/waiters";

class WorkerProvider implements DependencyProvider {
  constructor(readonly attrName: string) {}
  getDependency(worker: WorkerContext): WorkerContext {
    return worker;
  }
}
function Worker(): PropertyDecorator {
  return (target, key) => registerDependency(target, () => new WorkerProvider(String(key)));
}

describe("timer entrypoint", () => {
  let fx: EventsFixture;

  beforeEach(() => {
    fx = new EventsFixture();
  });
  afterEach(async () => {
    await fx.cleanup();
  });

  it("fires on schedule", async () => {
    let ticks = 0;
    const fifth = deferred();
    class Ticker {
      name = "ticker";
      @timer({ interval: 0.05 })
      tick() {
        if (++ticks === 5) fifth.resolve();
      }
    }
    await fx.start(Ticker);
    await fifth.promise;
    expect(ticks).toBeGreaterThanOrEqual(5);
  });

  it("never overlaps runs of the same timer, even when a run outlasts the interval", async () => {
    let running = 0;
    let maxRunning = 0;
    let runs = 0;
    const enough = deferred();
    class Slow {
      name = "slow_ticker";
      @timer({ interval: 0.01 })
      async tick() {
        running++;
        maxRunning = Math.max(maxRunning, running);
        await new Promise((r) => setTimeout(r, 30));
        running--;
        if (++runs === 6) enough.resolve();
      }
    }
    await fx.start(Slow);
    await enough.promise;
    expect(maxRunning).toBe(1);
  });

  it("eager fires at start; a non-eager timer waits for its interval", async () => {
    const eagerFired = deferred();
    let lazyTicks = 0;
    class Eager {
      name = "eager_ticker";
      @timer({ interval: 3600, eager: true })
      now() {
        eagerFired.resolve();
      }
      @timer({ interval: 3600 })
      later() {
        lazyTicks++;
      }
    }
    await fx.start(Eager);
    await eagerFired.promise;
    expect(lazyTicks).toBe(0);
  });

  it("a tick has no inbound context: its stack is its own call id", async () => {
    const seen = deferred<{ stack: readonly string[]; data: Record<string, unknown>; callId: string }>();
    class Ctx {
      name = "ctx_ticker";
      @Worker() worker!: WorkerContext;
      @timer({ interval: 3600, eager: true })
      tick() {
        seen.resolve({
          stack: [...this.worker.callIdStack],
          data: { ...this.worker.data },
          callId: this.worker.callId,
        });
      }
    }
    await fx.start(Ctx);
    const s = await seen.promise;
    expect(s.callId).toMatch(/^ctx_ticker\.tick\.[0-9a-f-]{36}$/);
    expect(s.stack).toEqual([s.callId]);
    expect(s.data).toEqual({});
  });

  it("stop waits for a running tick, and no tick starts after it", async () => {
    const entered = deferred();
    const release = deferred();
    const order: string[] = [];
    let ticks = 0;
    class Blocking {
      name = "blocking_ticker";
      @timer({ interval: 0.01, eager: true })
      async tick() {
        ticks++;
        entered.resolve();
        await release.promise;
        order.push("tick finished");
      }
    }
    const c = await fx.start(Blocking);
    await entered.promise;
    const stopped = c.stop().then(() => order.push("stop resolved"));
    // Let stop() run as far as it can while the tick is still blocked.
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual([]);
    release.resolve();
    await stopped;
    expect(order).toEqual(["tick finished", "stop resolved"]);
    expect(ticks).toBe(1);
  });
});
