// Resilience policies on an injected clock: the breaker's state machine, backoff, the bulkhead, and
// which calls a policy retries (docs/resilience.md). Integration tests over NATS are in
// test/integration/runtime/resilience.test.ts.
import { errors } from "@nats-io/transport-node";
import {
  BulkheadFull,
  CircuitOpen,
  ConfigurationError,
  deserializeError,
  RemoteError,
  RpcTimeout,
  serializeError,
  UnknownService,
  ValueError,
} from "../../../compat";
import {
  Bulkhead,
  CircuitBreaker,
  DEFAULT_CIRCUIT_BREAKER,
  DEFAULT_RETRY,
  isTransientFailure,
  observeResilience,
  retryDelay,
  ServicePolicy,
  type ResilienceClock,
  type ResilienceEvent,
} from "../../../src/client/resilience";
import { createLogger } from "../../../src/logging";

const log = createLogger({ level: "error" });

/** A clock whose time moves only when told; sleep() moves it and records the wait. */
class FakeClock implements ResilienceClock {
  t = 0;
  readonly slept: number[] = [];
  now = () => this.t;
  random = () => 0.5;
  sleep = (ms: number) => {
    this.slept.push(ms);
    this.t += ms;
    return Promise.resolve();
  };
}

describe("CircuitBreaker", () => {
  const policy = { threshold: 0.5, minRequestCount: 4, windowMs: 1000, halfOpenAfterMs: 500 };
  const make = () => {
    const clock = new FakeClock();
    return { clock, breaker: new CircuitBreaker(policy, clock.now) };
  };

  it("stays closed below the minimum number of calls however many fail", () => {
    const { breaker } = make();
    for (let i = 0; i < 3; i++) breaker.record(breaker.admit() as "call", "failure");
    expect(breaker.state).toBe("closed");
  });

  it("opens when the failed share of a window reaches the threshold", () => {
    const { breaker } = make();
    breaker.record("call", "success");
    breaker.record("call", "success");
    breaker.record("call", "failure");
    expect(breaker.state).toBe("closed");
    breaker.record("call", "failure");
    expect(breaker.state).toBe("open");
    expect(breaker.admit()).toBe("refuse");
  });

  it("starts counting again in a new window", () => {
    const { clock, breaker } = make();
    for (let i = 0; i < 3; i++) breaker.record("call", "failure");
    clock.t = 1000;
    breaker.record("call", "failure");
    expect(breaker.state).toBe("closed");
  });

  it("ignores neutral calls and calls that end after the circuit opened", () => {
    const { breaker } = make();
    for (let i = 0; i < 10; i++) breaker.record("call", "neutral");
    expect(breaker.state).toBe("closed");
    for (let i = 0; i < 4; i++) breaker.record("call", "failure");
    breaker.record("call", "success");
    expect(breaker.state).toBe("open");
  });

  it("lets one probe through after the cooldown and refuses the rest while it runs", () => {
    const { clock, breaker } = make();
    for (let i = 0; i < 4; i++) breaker.record("call", "failure");
    clock.t = 499;
    expect(breaker.admit()).toBe("refuse");
    clock.t = 500;
    expect(breaker.admit()).toBe("probe");
    expect(breaker.state).toBe("half-open");
    expect(breaker.admit()).toBe("refuse");
  });

  it("closes when the probe succeeds, with a fresh window", () => {
    const { clock, breaker } = make();
    for (let i = 0; i < 4; i++) breaker.record("call", "failure");
    clock.t = 600;
    breaker.record(breaker.admit() as "probe", "success");
    expect(breaker.state).toBe("closed");
    for (let i = 0; i < 3; i++) breaker.record("call", "failure");
    expect(breaker.state).toBe("closed");
  });

  it("opens again for a full cooldown when the probe fails", () => {
    const { clock, breaker } = make();
    for (let i = 0; i < 4; i++) breaker.record("call", "failure");
    clock.t = 600;
    breaker.record(breaker.admit() as "probe", "failure");
    expect(breaker.state).toBe("open");
    clock.t = 1099;
    expect(breaker.admit()).toBe("refuse");
    clock.t = 1100;
    expect(breaker.admit()).toBe("probe");
  });

  it("stays half-open after a probe that never left, letting the next call probe", () => {
    const { clock, breaker } = make();
    for (let i = 0; i < 4; i++) breaker.record("call", "failure");
    clock.t = 600;
    breaker.record(breaker.admit() as "probe", "neutral");
    expect(breaker.state).toBe("half-open");
    expect(breaker.admit()).toBe("probe");
  });

  it("defaults to Moleculer's figures", () => {
    expect(DEFAULT_CIRCUIT_BREAKER).toEqual({
      threshold: 0.5,
      minRequestCount: 20,
      windowMs: 60_000,
      halfOpenAfterMs: 10_000,
    });
  });
});

describe("retryDelay", () => {
  const policy = { maxAttempts: 10, delayMs: 100, maxDelayMs: 1000, factor: 2 };

  it("doubles from the base delay up to the cap", () => {
    const top = (n: number) => retryDelay(n, policy, () => 1 - Number.EPSILON);
    expect([1, 2, 3, 4, 5, 6].map((n) => Math.round(top(n)))).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it("jitters between half and all of the delay", () => {
    expect(retryDelay(3, policy, () => 0)).toBe(200);
    expect(retryDelay(3, policy, () => 0.5)).toBe(300);
    expect(retryDelay(3, policy, () => 0.999)).toBeCloseTo(399.8);
  });
});

describe("Bulkhead", () => {
  it("runs up to its concurrency, queues up to its limit, refuses beyond, and hands slots on in order", async () => {
    const bulkhead = new Bulkhead({ concurrency: 2, maxQueue: 1 });
    const order: string[] = [];
    await bulkhead.acquire();
    await bulkhead.acquire();
    const third = bulkhead.acquire()!.then(() => order.push("third"));
    expect(bulkhead.acquire()).toBeUndefined();
    expect([bulkhead.running, bulkhead.queued]).toEqual([2, 1]);
    bulkhead.release();
    await third;
    expect(order).toEqual(["third"]);
    expect([bulkhead.running, bulkhead.queued]).toEqual([2, 0]);
    bulkhead.release();
    bulkhead.release();
    expect(bulkhead.running).toBe(0);
  });
});

describe("isTransientFailure", () => {
  it("counts a timeout, no responder and a lost connection, never an error reply", () => {
    expect(isTransientFailure(new RpcTimeout(1))).toBe(true);
    expect(isTransientFailure(new UnknownService("x"))).toBe(true);
    expect(isTransientFailure(new errors.RequestError("connection closed"))).toBe(true);
    expect(isTransientFailure(new ValueError("bad"))).toBe(false);
    // A service that itself timed out replies with an error: that is an answer.
    expect(isTransientFailure(deserializeError(serializeError(new RpcTimeout(1))))).toBe(false);
    expect(isTransientFailure(new errors.ClosedConnectionError())).toBe(false);
  });
});

describe("ServicePolicy", () => {
  const events: ResilienceEvent[] = [];
  let stop: () => void;
  beforeEach(() => {
    events.length = 0;
    stop = observeResilience((e) => events.push(e));
  });
  afterEach(() => stop());

  const failing = (errs: Error[], result = "ok") => {
    let calls = 0;
    const send = () => {
      const err = errs[calls++];
      return err ? Promise.reject(err) : Promise.resolve(result);
    };
    return { send, calls: () => calls };
  };

  it("is absent when nothing is turned on: calls go as Nameko's do", () => {
    expect(ServicePolicy.of("users", {}, log)).toBeUndefined();
    expect(ServicePolicy.of("users", { idempotent: ["get"] }, log)).toBeUndefined();
  });

  it("retries an idempotent method after timeouts, with growing delays, and succeeds", async () => {
    const clock = new FakeClock();
    const policy = ServicePolicy.of("users", { idempotent: ["get"], retry: { maxAttempts: 3 } }, log, clock)!;
    const { send, calls } = failing([new RpcTimeout(1), new UnknownService("users")]);
    await expect(policy.call("get", "caller.x.1", send)).resolves.toBe("ok");
    expect(calls()).toBe(3);
    expect(clock.slept).toEqual([75, 150]);
    expect(events.map((e) => e.type === "retry" && [e.attempt, e.callId])).toEqual([
      [2, "caller.x.1"],
      [3, "caller.x.1"],
    ]);
    expect(policy.stats()).toMatchObject({ attempts: 3, failures: 2, retries: 2 });
  });

  it("gives up after maxAttempts with the last error", async () => {
    const policy = ServicePolicy.of("users", { idempotent: ["get"], retry: { maxAttempts: 2 } }, log, new FakeClock())!;
    const { send, calls } = failing([new RpcTimeout(1), new RpcTimeout(2), new RpcTimeout(3)]);
    await expect(policy.call("get", undefined, send)).rejects.toEqual(new RpcTimeout(2));
    expect(calls()).toBe(2);
  });

  it("never retries a method not declared idempotent", async () => {
    const policy = ServicePolicy.of("users", { idempotent: ["get"], retry: true }, log, new FakeClock())!;
    const { send, calls } = failing([new RpcTimeout(1)]);
    await expect(policy.call("create", undefined, send)).rejects.toBeInstanceOf(RpcTimeout);
    expect(calls()).toBe(1);
    expect(events).toEqual([]);
  });

  it("never retries an error reply", async () => {
    const policy = ServicePolicy.of("users", { idempotent: ["get"], retry: true }, log, new FakeClock())!;
    const { send, calls } = failing([new RemoteError("ValueError", "bad")]);
    await expect(policy.call("get", undefined, send)).rejects.toBeInstanceOf(RemoteError);
    expect(calls()).toBe(1);
  });

  it("refuses with CircuitOpen without sending once the circuit opened, and does not retry that", async () => {
    const clock = new FakeClock();
    const policy = ServicePolicy.of(
      "users",
      { idempotent: ["get"], retry: true, circuitBreaker: { minRequestCount: 2, threshold: 1 } },
      log,
      clock,
    )!;
    const { send, calls } = failing([new RpcTimeout(1), new RpcTimeout(1)]);
    const err = await policy.call("get", "c1", send).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CircuitOpen);
    expect((err as CircuitOpen).serviceName).toBe("users");
    expect(calls()).toBe(2);
    expect(policy.stats()).toMatchObject({ circuit: "open", refusedCircuitOpen: 1, attempts: 2 });
    expect(events.filter((e) => e.type !== "retry")).toEqual([
      { type: "circuit", service: "users", method: "get", callId: "c1", from: "closed", to: "open" },
      { type: "refused", reason: "circuit-open", service: "users", method: "get", callId: "c1" },
    ]);
  });

  it("refuses with BulkheadFull at once when the slots and the queue are taken", async () => {
    const policy = ServicePolicy.of("users", { bulkhead: { concurrency: 1, maxQueue: 0 } }, log, new FakeClock())!;
    let finish!: (v: string) => void;
    const running = policy.call("get", undefined, () => new Promise<string>((r) => (finish = r)));
    const err = await policy.call("get", undefined, () => Promise.resolve("no")).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BulkheadFull);
    expect((err as BulkheadFull).message).toBe("Bulkhead full for service `users`: 1 calls running, 0 queued");
    finish("yes");
    await expect(running).resolves.toBe("yes");
    expect(policy.stats()).toMatchObject({ running: 0, queued: 0, refusedBulkheadFull: 1 });
  });

  it("refuses options that cannot work with ConfigurationError", () => {
    expect(() => ServicePolicy.of("users", { retry: true }, log)).toThrow(ConfigurationError);
    expect(() => ServicePolicy.of("users", { idempotent: ["a"], retry: { maxAttempts: 0 } }, log)).toThrow(
      "retry.maxAttempts",
    );
    expect(() => ServicePolicy.of("users", { circuitBreaker: { threshold: 2 } }, log)).toThrow("threshold");
    expect(() => ServicePolicy.of("users", { bulkhead: { concurrency: 0 } }, log)).toThrow("concurrency");
  });

  it("keeps DEFAULT_RETRY at three attempts from 100 ms", () => {
    expect(DEFAULT_RETRY).toEqual({ maxAttempts: 3, delayMs: 100, maxDelayMs: 2000, factor: 2 });
  });

  it("sends CircuitOpen and BulkheadFull over the wire as themselves", () => {
    const open = deserializeError(serializeError(new CircuitOpen("users")));
    expect(open).toBeInstanceOf(CircuitOpen);
    expect((open as CircuitOpen).serviceName).toBe("users");
    const full = deserializeError(serializeError(new BulkheadFull("users", 2, 3)));
    expect(full).toBeInstanceOf(BulkheadFull);
    expect([(full as BulkheadFull).concurrency, (full as BulkheadFull).maxQueue]).toEqual([2, 3]);
    expect(serializeError(new CircuitOpen("users")).exc_path).toBe("cliffracer.exceptions.CircuitOpen");
  });
});
