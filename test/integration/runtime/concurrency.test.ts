// max_workers and load sharing, measured with counters inside the workers.
import { rpc } from "cliffracer";
import type { ServiceContainer } from "../../../src/core/service-container";
import { NatsFixture } from "../../helpers/brokers";
import { deferred, waitFor } from "../../helpers/waiters";

let gate = deferred();
let active = 0;
let peak = 0;

async function occupy(): Promise<void> {
  active++;
  peak = Math.max(peak, active);
  await gate.promise;
  active--;
}

class Busy {
  name = "busy";

  @rpc()
  async work() {
    await occupy();
    return "done";
  }

  @rpc()
  async other() {
    await occupy();
    return "other";
  }
}

class Echo {
  name = "echo";

  @rpc()
  echo(n: number) {
    return n;
  }
}

describe("max_workers", () => {
  const fx = new NatsFixture({ maxWorkers: 3 });
  afterAll(() => fx.cleanup());

  it("never runs more workers than max_workers, shared by all entrypoints, and reaches it under load", async () => {
    gate = deferred();
    active = 0;
    peak = 0;
    const container = await fx.start(Busy);
    const client = await fx.client();
    const calls = [
      ...Array.from({ length: 6 }, () => client.call("busy", "work")),
      ...Array.from({ length: 6 }, () => client.call("busy", "other")),
    ];
    // Every request has reached the container (running or queued for a slot).
    await waitFor(() => container.pendingWorkers === 12, { what: "12 pending workers" });
    expect(container.activeWorkers).toBe(3);
    expect(active).toBe(3);
    gate.resolve();
    const results = await Promise.all(calls);
    expect(results.filter((r) => r === "done")).toHaveLength(6);
    expect(results.filter((r) => r === "other")).toHaveLength(6);
    expect(peak).toBe(3);
    expect(container.activeWorkers).toBe(0);
  });
});

describe("several instances of one service", () => {
  const fx = new NatsFixture();
  afterAll(() => fx.cleanup());

  async function spread(containers: ServiceContainer[]): Promise<number[]> {
    const counts = containers.map(() => 0);
    containers.forEach((c, i) => c.observeWorkers(() => counts[i]++));
    const client = await fx.client();
    const results = await Promise.all(Array.from({ length: 200 }, (_, n) => client.call("echo", "echo", [n])));
    expect(results).toEqual(Array.from({ length: 200 }, (_, n) => n));
    return counts;
  }

  it("shares the load between two containers on separate connections", async () => {
    const counts = await spread([await fx.start(Echo), await fx.start(Echo)]);
    expect(counts[0] + counts[1]).toBe(200);
    expect(counts[0]).toBeGreaterThan(0);
    expect(counts[1]).toBeGreaterThan(0);
  });
});

describe("several instances in one runner", () => {
  const fx = new NatsFixture();
  afterAll(() => fx.cleanup());

  it("shares the load between two containers of one runner", async () => {
    const runner = await fx.runner([Echo, Echo]);
    const counts = runner.containers.map(() => 0);
    runner.containers.forEach((c, i) => c.observeWorkers(() => counts[i]++));
    const client = await fx.client();
    await Promise.all(Array.from({ length: 200 }, (_, n) => client.call("echo", "echo", [n])));
    expect(counts[0] + counts[1]).toBe(200);
    expect(counts[0]).toBeGreaterThan(0);
    expect(counts[1]).toBeGreaterThan(0);
  });
});
