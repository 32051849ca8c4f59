import type { ContainerHandle, Entrypoint, IncomingContext, WorkerOutcome } from "../../../src/core/extension";
import { Timer } from "../../../src/entrypoints/timer";

/** A container whose workers take `durationMs` of (fake) time and record when they ran. */
function fakeContainer(durationMs: number) {
  const runs: Array<{ start: number; end?: number; context: IncomingContext }> = [];
  let running = 0;
  let maxRunning = 0;
  const handle = {
    serviceName: "svc",
    maxWorkers: 10,
    spawnWorker(_e: Entrypoint, _args: unknown[], context: IncomingContext): Promise<WorkerOutcome> {
      const run: { start: number; end?: number; context: IncomingContext } = { start: Date.now(), context };
      runs.push(run);
      running++;
      maxRunning = Math.max(maxRunning, running);
      return new Promise((resolve) =>
        setTimeout(() => {
          running--;
          run.end = Date.now();
          resolve({ ok: true, result: undefined });
        }, durationMs),
      );
    },
  } as unknown as ContainerHandle;
  return { handle, runs, maxRunning: () => maxRunning };
}

describe("timer schedule", () => {
  beforeEach(() => jest.useFakeTimers({ now: 0 }));
  afterEach(() => jest.useRealTimers());

  it("ticks every interval from the start, first after one interval", async () => {
    const c = fakeContainer(10);
    const t = new Timer("tick", { interval: 1 });
    t.setup(c.handle);
    t.start();
    await jest.advanceTimersByTimeAsync(3500);
    expect(c.runs.map((r) => r.start)).toEqual([1000, 2000, 3000]);
    await t.stop();
  });

  it("eager ticks at once", async () => {
    const c = fakeContainer(10);
    const t = new Timer("tick", { interval: 1, eager: true });
    t.setup(c.handle);
    t.start();
    await jest.advanceTimersByTimeAsync(1500);
    expect(c.runs.map((r) => r.start)).toEqual([0, 1000]);
    await t.stop();
  });

  it("keeps the grid: a slow run delays the next tick, which then catches up without overlapping", async () => {
    const c = fakeContainer(2500);
    const t = new Timer("tick", { interval: 1 });
    t.setup(c.handle);
    t.start();
    await jest.advanceTimersByTimeAsync(8600);
    // Each overdue tick starts right after the previous run (setTimeout(0) rounds up to 1 ms).
    const starts = c.runs.map((r) => r.start);
    expect(starts).toHaveLength(4);
    [1000, 3500, 6000, 8500].forEach((expected, i) => expect(starts[i] - expected).toBeGreaterThanOrEqual(0));
    [1000, 3500, 6000, 8500].forEach((expected, i) => expect(starts[i] - expected).toBeLessThan(10));
    expect(c.maxRunning()).toBe(1);
    const stopping = t.stop();
    await jest.advanceTimersByTimeAsync(2500);
    await stopping;
  });

  it("gives workers no inbound context", async () => {
    const c = fakeContainer(0);
    const t = new Timer("tick", { interval: 1, eager: true });
    t.setup(c.handle);
    t.start();
    await jest.advanceTimersByTimeAsync(1);
    expect(c.runs[0].context).toEqual({ data: {}, parentStack: [] });
    await t.stop();
  });

  it("stop waits for the running tick and schedules nothing more", async () => {
    const c = fakeContainer(500);
    const t = new Timer("tick", { interval: 1 });
    t.setup(c.handle);
    t.start();
    await jest.advanceTimersByTimeAsync(1100);
    let stopped = false;
    const stopping = t.stop().then(() => (stopped = true));
    await jest.advanceTimersByTimeAsync(100);
    expect(stopped).toBe(false);
    await jest.advanceTimersByTimeAsync(400);
    await stopping;
    expect(c.runs[0].end).toBe(1500);
    await jest.advanceTimersByTimeAsync(5000);
    expect(c.runs).toHaveLength(1);
  });

  it.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY])("refuses interval %p at setup", (interval) => {
    const t = new Timer("tick", { interval });
    expect(() => t.setup(fakeContainer(0).handle)).toThrow(/positive number of seconds/);
  });
});
