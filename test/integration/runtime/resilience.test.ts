// Resilience policies of proxies over real NATS, against a service that fails on purpose: it hangs
// past the caller's timeout, raises, or is not there (docs/resilience.md). Executions are counted
// on the service's side.
import {
  BulkheadFull,
  CircuitOpen,
  observeResilience,
  rpc,
  RpcProxy,
  RpcTimeout,
  UnknownService,
  ValueError,
  type ResilienceEvent,
  type ServiceProxy,
} from "cliffracer";
import { ServiceRunner } from "../../../src/core/service-runner";
import { ServiceMetrics } from "../../../src/observability/service-metrics";
import { NatsFixture, testLogger } from "../../helpers/brokers";
import { deferred, waitFor } from "../../helpers/waiters";

/** Released in afterAll: every hanging worker ends then, so the containers stop at once. */
const release = deferred();
/** Executions of each method of Flaky. */
const runs = { read: 0, write: 0, boom: 0, hang: 0, slow: 0 };
/** How many first executions of read hang. */
let hangingReads = 2;
let hangCalls = true;
let gate = deferred();

class Flaky {
  name = "flaky";

  @rpc()
  async read() {
    if (++runs.read <= hangingReads) await release.promise;
    return "fresh";
  }

  @rpc()
  async write() {
    runs.write++;
    await release.promise;
    return "written";
  }

  @rpc()
  boom() {
    runs.boom++;
    throw new ValueError("boom");
  }

  @rpc()
  async hang() {
    runs.hang++;
    if (hangCalls) await release.promise;
    return "up";
  }

  @rpc()
  async slow() {
    runs.slow++;
    await gate.promise;
    return "done";
  }

  @rpc()
  count(method: keyof typeof runs) {
    return runs[method];
  }
}

class Caller {
  name = "caller";
  @RpcProxy("flaky", { timeoutMs: 150, idempotent: ["read", "boom"], retry: { maxAttempts: 3, delayMs: 10 } })
  flaky!: ServiceProxy;

  @RpcProxy("ghost_of_caller", { circuitBreaker: { minRequestCount: 1 } })
  ghost!: ServiceProxy;

  @rpc()
  readVia() {
    return this.flaky.read();
  }

  /** Calls a service that is not there, returning the error's name. */
  @rpc()
  ghostVia() {
    return this.ghost.call("anything").then(
      () => "none",
      (err: Error) => err.name,
    );
  }

  /** The error of `method`, then its executions, asked on the same connection after every attempt was sent. */
  @rpc()
  async failVia(method: "write" | "boom") {
    const error = await this.flaky.call(method).then(
      () => "none",
      (err: Error) => err.name,
    );
    return { error, runs: await this.flaky.count(method) };
  }
}

describe("resilience policies of proxies", () => {
  const fx = new NatsFixture();
  const events: ResilienceEvent[] = [];
  let stopObserving: () => void;

  const metrics = new ServiceMetrics({ processMetrics: false });
  let runner: ServiceRunner;

  beforeAll(async () => {
    stopObserving = observeResilience((e) => events.push(e));
    runner = new ServiceRunner(fx.config, { log: testLogger(), metrics });
    runner.addService(Flaky);
    runner.addService(Caller);
    await runner.start();
  });
  afterAll(async () => {
    stopObserving();
    release.resolve();
    gate.resolve();
    await runner.stop();
    await fx.cleanup();
  });

  it("retries an idempotent method that timed out until the service answers", async () => {
    hangingReads = runs.read + 2;
    const client = await fx.client();
    expect(await client.call("caller", "readVia")).toBe("fresh");
    expect(runs.read).toBe(hangingReads + 1);
    const retries = events.filter((e) => e.type === "retry" && e.method === "read");
    expect(retries.map((e) => e.type === "retry" && e.attempt)).toEqual([2, 3]);
    expect(retries[0].callId).toMatch(/^caller\.readVia\./);
  });

  it("shows retries, refusals and circuit states of @RpcProxy policies in the services' metrics", async () => {
    const client = await fx.client();
    expect(await client.call("caller", "ghostVia")).toBe("UnknownService");
    expect(await client.call("caller", "ghostVia")).toBe("CircuitOpen");
    const text = await metrics.registry.metrics();
    const ghost = 'service="caller",target_service="ghost_of_caller"';
    expect(text).toContain(`cliffracer_circuit_state{${ghost}} 2`);
    expect(text).toContain(`cliffracer_rpc_outgoing_refused_total{${ghost},reason="circuit_open"} 1`);
    // The retries of the first test.
    expect(text).toContain('cliffracer_rpc_outgoing_retries_total{service="caller",target_service="flaky"} 2');
    expect(text).not.toContain('cliffracer_circuit_state{service="caller",target_service="flaky"}');
  });

  it("calls a method not declared idempotent exactly once even when it times out", async () => {
    const client = await fx.client();
    expect(await client.call("caller", "failVia", ["write"])).toEqual({ error: "RpcTimeout", runs: 1 });
  });

  it("never retries an error reply, even of an idempotent method", async () => {
    const client = await fx.client();
    expect(await client.call("caller", "failVia", ["boom"])).toEqual({ error: "RemoteError", runs: 1 });
  });

  it("opens the circuit after timeouts, refuses at once without reaching the service, and a probe closes it", async () => {
    const cluster = await fx.cluster({
      resilience: { flaky: { circuitBreaker: { minRequestCount: 2, threshold: 1, halfOpenAfterMs: 200 } } },
    });
    const flaky = cluster.service("flaky").withOptions({ timeoutMs: 100 });
    const before = runs.hang;
    await expect(flaky.hang()).rejects.toBeInstanceOf(RpcTimeout);
    await expect(flaky.hang()).rejects.toBeInstanceOf(RpcTimeout);
    expect(cluster.policyOf("flaky")!.stats().circuit).toBe("open");

    const started = performance.now();
    await expect(flaky.hang()).rejects.toBeInstanceOf(CircuitOpen);
    expect(performance.now() - started).toBeLessThan(50);
    // Asked past the policy, after the refused call, on the same connection: had that call been
    // sent, it would have reached the service first.
    expect(await cluster.client.call("flaky", "count", ["hang"])).toBe(before + 2);

    hangCalls = false;
    const answer = await waitFor(
      () => flaky.hang().catch((err: unknown) => (err instanceof CircuitOpen ? undefined : Promise.reject(err))),
      { intervalMs: 25, what: "the half-open probe" },
    );
    expect(answer).toBe("up");
    expect(runs.hang).toBe(before + 3);
    expect(cluster.policyOf("flaky")!.stats().circuit).toBe("closed");
    const changes = events
      .filter((e) => e.type === "circuit" && e.service === "flaky")
      .map((e) => e.type === "circuit" && e.to);
    expect(changes).toEqual(["open", "half-open", "closed"]);
  });

  it("opens the circuit to a service that is not there", async () => {
    const cluster = await fx.cluster({ resilience: { ghost: { circuitBreaker: { minRequestCount: 2 } } } });
    await expect(cluster.service("ghost").call("x")).rejects.toBeInstanceOf(UnknownService);
    await expect(cluster.service("ghost").call("x")).rejects.toBeInstanceOf(UnknownService);
    await expect(cluster.service("ghost").call("x")).rejects.toBeInstanceOf(CircuitOpen);
  });

  it("refuses the call beyond the bulkhead's slots and queue with BulkheadFull, and runs the others", async () => {
    gate = deferred();
    const cluster = await fx.cluster({ resilience: { flaky: { bulkhead: { concurrency: 2, maxQueue: 1 } } } });
    const flaky = cluster.service("flaky");
    const before = runs.slow;
    const calls = [flaky.slow(), flaky.slow(), flaky.slow()];
    await waitFor(() => runs.slow === before + 2, { what: "two calls running" });
    expect(cluster.policyOf("flaky")!.stats()).toMatchObject({ running: 2, queued: 1 });
    await expect(flaky.slow()).rejects.toBeInstanceOf(BulkheadFull);
    gate.resolve();
    expect(await Promise.all(calls)).toEqual(["done", "done", "done"]);
    expect(runs.slow).toBe(before + 3);
  });
});
