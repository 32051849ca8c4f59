import type { StandaloneDispatcher } from "../../../src/client/standalone-dispatcher";
import { eventHandler } from "../../../src/entrypoints/events";
import { EventsFixture } from "../../helpers/jetstream";
import { deferred, waitFor } from "../../helpers/waiters";

describe("event handlers and max_workers", () => {
  let fx: EventsFixture;
  let dispatch: StandaloneDispatcher;

  beforeEach(async () => ({ fx, dispatch } = await EventsFixture.withDispatcher({ maxWorkers: 2 })));
  afterEach(() => fx.cleanup());

  it("never runs more handlers at once than max_workers, across entrypoints, and handles every event", async () => {
    let running = 0;
    let maxRunning = 0;
    const handled: string[] = [];
    const release = deferred();
    const track = async (tag: string) => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      await release.promise;
      running--;
      handled.push(tag);
    };
    class Busy {
      name = "busy";
      @eventHandler("src", "a")
      async onA(p: { n: number }) {
        await track(`a${p.n}`);
      }
      @eventHandler("src", "b")
      async onB(p: { n: number }) {
        await track(`b${p.n}`);
      }
    }
    await fx.start(Busy);
    for (let n = 0; n < 6; n++) {
      await dispatch("src", "a", { n });
      await dispatch("src", "b", { n });
    }
    // Both slots fill up while every handler is held; the rest wait for a slot.
    await waitFor(() => running === 2, { what: "two handlers running" });
    release.resolve();
    await waitFor(() => handled.length === 12, { what: "all 12 events handled" });
    expect(maxRunning).toBe(2);
  });

  it("a stop waits for running handlers, and events not yet started go back to the stream", async () => {
    const started: number[] = [];
    const finished: number[] = [];
    const release = deferred();
    class Slow {
      name = "slow_events";
      @eventHandler("src", "a")
      async onA(p: { n: number }) {
        started.push(p.n);
        await release.promise;
        finished.push(p.n);
      }
    }
    const first = await fx.start(Slow);
    for (let n = 0; n < 5; n++) await dispatch("src", "a", { n });
    await waitFor(() => started.length === 2, { what: "two handlers running" });
    const stopped = first.stop();
    release.resolve();
    await stopped;
    expect(finished.sort()).toEqual(started.sort());

    await fx.start(Slow);
    await waitFor(() => finished.length === 5, { what: "the other events handled by the next instance" });
    expect([...finished].sort()).toEqual([0, 1, 2, 3, 4]);
  });
});
