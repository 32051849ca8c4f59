// Graceful stop: intake stops, calls in flight finish and are answered, then the connection drains.
import { rpc, UnknownService } from "cliffracer";
import { NatsFixture } from "../../helpers/brokers";
import { deferred, waitFor } from "../../helpers/waiters";

let gate = deferred();

class Slow {
  name = "slow";

  @rpc()
  async work(n: number) {
    await gate.promise;
    return n * 10;
  }
}

describe("graceful shutdown", () => {
  const fx = new NatsFixture();
  afterAll(() => fx.cleanup());

  it("a container stop lets in-flight calls finish and reply", async () => {
    gate = deferred();
    const container = await fx.start(Slow);
    const client = await fx.client();
    const calls = [1, 2, 3, 4, 5].map((n) => client.call("slow", "work", [n]));
    await waitFor(() => container.activeWorkers === 5, { what: "5 running workers" });
    const stopped = container.stop();
    // Intake is closed while the workers still run: a new call soon finds nobody. (A probe that
    // raced the unsubscribe would just wait for the gate and time out; the next one sees the close.)
    await waitFor(
      async () =>
        (await client.call("slow", "work", [0], {}, { timeoutMs: 2000 }).catch((e: unknown) => e)) instanceof
        UnknownService,
      { what: "intake to close" },
    );
    expect(container.running).toBe(false);
    gate.resolve();
    expect(await Promise.all(calls)).toEqual([10, 20, 30, 40, 50]);
    await stopped;
    expect(container.running).toBe(false);
  });

  it("a runner stop finishes in-flight calls, then drains its connection", async () => {
    gate = deferred();
    const runner = await fx.runner([Slow]);
    const [container] = runner.containers;
    const client = await fx.client();
    const calls = [1, 2, 3].map((n) => client.call("slow", "work", [n]));
    await waitFor(() => container.activeWorkers === 3, { what: "3 running workers" });
    const stopped = runner.stop();
    gate.resolve();
    expect(await Promise.all(calls)).toEqual([10, 20, 30]);
    await stopped;
    expect(container.nats.isClosed()).toBe(true);
  });

  it("a stop with a worker stuck past SHUTDOWN_TIMEOUT still ends, and the stuck call gets no reply", async () => {
    gate = deferred();
    const container = await fx.start(Slow, { shutdownTimeoutMs: 300 });
    const client = await fx.client();
    const stuck = client.call("slow", "work", [1], {}, { timeoutMs: 1_000 }).catch((e: unknown) => e);
    await waitFor(() => container.activeWorkers === 1, { what: "the stuck worker" });
    await container.stop();
    expect(container.running).toBe(false);
    expect(container.pendingWorkers).toBe(1);
    gate.resolve();
    expect(await stuck).toBeInstanceOf(Error);
  });
});
