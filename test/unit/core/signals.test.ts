import type { Logger } from "../../../compat";
import { stopOnSignals, type Stoppable } from "../../../src/core/signals";
import { deferred } from "../../helpers/waiters";

const quiet: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => quiet,
  isDebugEnabled: () => false,
};

/** A target whose stop() waits for `stopDone`, recording what was asked of it. */
function target(stopDone: Promise<void>): Stoppable & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    stop: () => {
      calls.push("stop");
      return stopDone;
    },
    kill: () => {
      calls.push("kill");
      return Promise.resolve();
    },
  };
}

// process.emit calls the listeners only: no signal reaches the process.
const signal = (name: NodeJS.Signals): boolean => process.emit(name, name);

describe("stopOnSignals", () => {
  let baseline: { term: number; int: number };

  beforeEach(() => {
    baseline = { term: process.listenerCount("SIGTERM"), int: process.listenerCount("SIGINT") };
  });

  afterEach(() => {
    expect({ term: process.listenerCount("SIGTERM"), int: process.listenerCount("SIGINT") }).toEqual(baseline);
  });

  it("stops gracefully on SIGTERM, exits 0 and stops listening", async () => {
    const t = target(Promise.resolve());
    const code = stopOnSignals(t, quiet);
    expect(process.listenerCount("SIGTERM")).toBe(baseline.term + 1);
    signal("SIGTERM");
    await expect(code).resolves.toBe(0);
    expect(t.calls).toEqual(["stop"]);
  });

  it("exits 1 when the graceful stop fails", async () => {
    const t = target(Promise.reject(new Error("stuck")));
    const code = stopOnSignals(t, quiet);
    signal("SIGINT");
    await expect(code).resolves.toBe(1);
  });

  it("kills at once on a second signal while stopping, and exits 1", async () => {
    const stopDone = deferred();
    const t = target(stopDone.promise);
    const code = stopOnSignals(t, quiet);
    signal("SIGTERM");
    signal("SIGINT");
    await expect(code).resolves.toBe(1);
    expect(t.calls).toEqual(["stop", "kill"]);
    stopDone.resolve();
  });

  it("exits 1 when the kill fails too", async () => {
    const t: Stoppable = { stop: () => new Promise(() => undefined), kill: () => Promise.reject(new Error("gone")) };
    const code = stopOnSignals(t, quiet);
    signal("SIGTERM");
    signal("SIGTERM");
    await expect(code).resolves.toBe(1);
  });
});
