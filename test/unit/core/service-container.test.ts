// The container's worker machinery, without a broker: spawnWorker is driven directly.
import { registerDependency, registerEntrypoint } from "../../../src/core/metadata";
import { describeService, type ServiceClass } from "../../../src/core/metadata";
import type { NatsConnection } from "@nats-io/transport-node";
import { defaultConfig, type RuntimeConfig } from "../../../src/config/defaults";
import type { DependencyProvider, Entrypoint, WorkerContext, WorkerOutcome } from "../../../src/core/extension";
import { ServiceContainer } from "../../../src/core/service-container";
import { ContainerBeingKilled, ServiceDefinitionError } from "../../../src/errors";
import { createLogger } from "../../../src/logging";
import { deferred } from "../../helpers/waiters";

const log = createLogger({ level: "silent" });

/** A do-nothing entrypoint for `method`, so the class counts as a service. */
function entry(method: string): MethodDecorator {
  return (target) => registerEntrypoint(target, (): Entrypoint => ({ methodName: method }));
}

const calls: string[] = [];

function recorder(): PropertyDecorator {
  return (target, key) =>
    registerDependency(target, (): DependencyProvider => ({
      attrName: String(key),
      getDependency: (worker: WorkerContext) => worker,
      workerSetup: (w) => void calls.push(`setup ${w.methodName}`),
      workerResult: (w, o: WorkerOutcome) => void calls.push(`result ${w.methodName} ${o.ok}`),
      workerTeardown: (w) => void calls.push(`teardown ${w.methodName}`),
    }));
}

/** A dependency recording its workerCommit and workerResult calls; its commit throws while `fail.on`. */
function committer(label: string, order: string[], fail: { on: boolean }): PropertyDecorator {
  return (target, key) =>
    registerDependency(target, (): DependencyProvider => ({
      attrName: String(key),
      getDependency: () => label,
      workerCommit: (_w, o: WorkerOutcome) => {
        order.push(`commit ${label} ${o.ok}`);
        if (fail.on && o.ok) throw new Error(`${label} commit failed`);
      },
      workerResult: (_w, o: WorkerOutcome) => void order.push(`result ${label} ${o.ok}`),
    }));
}

let gate = deferred();
let active = 0;
let peak = 0;

class Svc {
  name = "svc";
  @recorder() worker!: WorkerContext;
  seen = 0;

  @entry("work")
  async work(n: number) {
    active++;
    peak = Math.max(peak, active);
    await gate.promise;
    active--;
    return n;
  }

  @entry("whoami")
  whoami() {
    this.seen++;
    return { stack: this.worker.callIdStack, data: this.worker.data, seen: this.seen };
  }

  @entry("boom")
  boom() {
    throw new Error("boom");
  }
}

const ep = (name: string): Entrypoint => ({ methodName: name });

describe("describeService", () => {
  it("reads the name from an instance field and validates it", () => {
    expect(describeService(Svc).name).toBe("svc");
  });

  it("refuses a class without a name, or with one NATS cannot route, clearly", () => {
    class NoName {}
    class Wild {
      name = "a.*";
    }
    expect(() => describeService(NoName)).toThrow(ServiceDefinitionError);
    expect(() => describeService(NoName)).toThrow(/NoName has no name: declare `name = "my_service"`/);
    expect(() => describeService(Wild)).toThrow(/Wild has an invalid name/);
  });
});

describe("ServiceContainer workers", () => {
  beforeEach(() => {
    calls.length = 0;
    gate = deferred();
    active = 0;
    peak = 0;
  });

  it("runs at most max_workers at once and queues the rest", async () => {
    const container = new ServiceContainer(Svc, { ...defaultConfig(), maxWorkers: 2 }, { log });
    const outcomes = [1, 2, 3, 4, 5].map((n) => container.spawnWorker(ep("work"), [n], { data: {}, parentStack: [] }));
    expect(container.activeWorkers).toBe(2);
    expect(container.pendingWorkers).toBe(5);
    gate.resolve();
    expect(await Promise.all(outcomes)).toEqual([1, 2, 3, 4, 5].map((n) => ({ ok: true, result: n })));
    expect(peak).toBe(2);
    expect(container.pendingWorkers).toBe(0);
  });

  it("gives each worker a fresh instance, its context, and a stack truncated to parent_calls_tracked + 1", async () => {
    const container = new ServiceContainer(Svc, { ...defaultConfig(), parentCallsTracked: 2 }, { log });
    const parents = ["a.b.1", "a.b.2", "a.b.3", "a.b.4", "a.b.5"];
    const first = await container.spawnWorker(ep("whoami"), [], { data: { user_id: "u" }, parentStack: parents });
    const second = await container.spawnWorker(ep("whoami"), [], { data: {}, parentStack: [] });
    const r1 = (first as { result: { stack: string[]; data: object; seen: number } }).result;
    const r2 = (second as { result: { stack: string[]; seen: number } }).result;
    expect(r1.stack.slice(0, 2)).toEqual(["a.b.4", "a.b.5"]);
    expect(r1.stack[2]).toMatch(/^svc\.whoami\.[0-9a-f-]{36}$/);
    expect(r1.data).toEqual({ user_id: "u" });
    expect(r1.seen).toBe(1);
    expect(r2.seen).toBe(1);
    expect(r2.stack).toHaveLength(1);
  });

  it("reports a thrown error as an outcome and calls the dependency hooks in order", async () => {
    const container = new ServiceContainer(Svc, defaultConfig(), { log });
    const outcome = await container.spawnWorker(ep("boom"), [], { data: {}, parentStack: [] });
    expect(outcome.ok).toBe(false);
    expect((outcome as { error: Error }).error.message).toBe("boom");
    expect(calls).toEqual(["setup boom", "result boom false", "teardown boom"]);
  });

  it("runs workerCommit before the outcome is handed on; a failing commit turns success into its error", async () => {
    const order: string[] = [];
    const failCommit = { on: false };
    class Committing {
      name = "committing";
      @committer("db", order, failCommit) db!: unknown;
      @committer("cache", order, { on: false }) cache!: unknown;
      @entry("ok")
      ok() {
        order.push("method");
        return 1;
      }
      @entry("bad")
      bad() {
        throw new Error("method failed");
      }
    }
    const container = new ServiceContainer(Committing, defaultConfig(), { log });
    const incoming = { data: {}, parentStack: [] };
    expect(await container.spawnWorker(ep("ok"), [], incoming)).toEqual({ ok: true, result: 1 });
    expect(order).toEqual(["method", "commit db true", "commit cache true", "result db true", "result cache true"]);
    order.length = 0;
    failCommit.on = true;
    const failed = await container.spawnWorker(ep("ok"), [], incoming);
    expect(failed.ok).toBe(false);
    expect((failed as { error: Error }).error.message).toBe("db commit failed");
    // The providers after the failed one, and workerResult, see the failure.
    expect(order).toEqual(["method", "commit db true", "commit cache false", "result db false", "result cache false"]);
    order.length = 0;
    const bad = await container.spawnWorker(ep("bad"), [], incoming);
    expect((bad as { error: Error }).error.message).toBe("method failed");
    expect(order).toEqual(["commit db false", "commit cache false", "result db false", "result cache false"]);
  });

  it("tells observers about finished workers", async () => {
    const container = new ServiceContainer(Svc, defaultConfig(), { log });
    const seen: string[] = [];
    const stop = container.observeWorkers((e) => seen.push(`${e.worker.methodName}:${e.outcome.ok}`));
    await container.spawnWorker(ep("whoami"), [], { data: {}, parentStack: [] });
    stop();
    await container.spawnWorker(ep("whoami"), [], { data: {}, parentStack: [] });
    expect(seen).toEqual(["whoami:true"]);
  });
});

/** A container that starts without a broker: a stand-in connection it never uses, and no announcement. */
function brokerless(cls: ServiceClass, overrides: Partial<RuntimeConfig> = {}): ServiceContainer {
  const config = { ...defaultConfig(), announce: false, ...overrides };
  return new ServiceContainer(cls, config, { log, nats: standIn() });
}

/** A stand-in connection: only flush() is used (start waits for the server to have the subscriptions). */
function standIn(flush: () => Promise<void> = () => Promise.resolve()): NatsConnection {
  return { flush } as unknown as NatsConnection;
}

describe("ServiceContainer start", () => {
  class Flushed {
    name = "flushed";
    @entry("noop") noop() {}
  }

  it("is running only once the connection flushed, so the server has every subscription", async () => {
    const flushed = deferred();
    const container = new ServiceContainer(
      Flushed,
      { ...defaultConfig(), announce: false },
      { log, nats: standIn(() => flushed.promise) },
    );
    let started = false;
    const starting = container.start().then(() => (started = true));
    await settle();
    expect(started).toBe(false);
    expect(container.running).toBe(false);
    flushed.resolve();
    await starting;
    expect(container.running).toBe(true);
    await container.stop();
  });
});

/** Lets every pending promise callback and timer-free continuation run. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe("ServiceContainer result handling (Nameko's handle_result)", () => {
  let teardownGate = deferred();
  const order: string[] = [];

  function slowTeardown(): PropertyDecorator {
    return (target, key) =>
      registerDependency(target, (): DependencyProvider => ({
        attrName: String(key),
        getDependency: () => undefined,
        workerResult: (_w, o) => void order.push(`result ${o.ok ? String(o.result) : "error"}`),
        workerTeardown: async () => {
          order.push("teardown begins");
          await teardownGate.promise;
          order.push("teardown ends");
        },
        stop: () => void order.push("dependency stop"),
      }));
  }

  class Slow {
    name = "slow";
    @slowTeardown() dep!: unknown;

    @entry("work")
    work(n: number) {
      order.push(`method ${n}`);
      return n;
    }
  }

  beforeEach(() => {
    order.length = 0;
    teardownGate = deferred();
  });

  it("hands the outcome to the entrypoint before workerResult and teardown, and resolves after teardown", async () => {
    const container = brokerless(Slow);
    const done = container.spawnWorker(ep("work"), [1], { data: {}, parentStack: [] }, (_w, o) => {
      order.push(`handled ${o.ok ? String(o.result) : "error"}`);
      return { ok: true, result: 10 };
    });
    await settle();
    expect(order).toEqual(["method 1", "handled 1", "result 10", "teardown begins"]);
    teardownGate.resolve();
    expect(await done).toEqual({ ok: true, result: 10 });
    expect(order).toEqual(["method 1", "handled 1", "result 10", "teardown begins", "teardown ends"]);
  });

  it("holds the max_workers slot until teardown ended", async () => {
    const container = brokerless(Slow, { maxWorkers: 1 });
    const first = container.spawnWorker(ep("work"), [1], { data: {}, parentStack: [] }, () => undefined);
    const second = container.spawnWorker(ep("work"), [2], { data: {}, parentStack: [] });
    await settle();
    expect(container.activeWorkers).toBe(1);
    expect(order).not.toContain("method 2");
    teardownGate.resolve();
    await Promise.all([first, second]);
    expect(order.indexOf("method 2")).toBeGreaterThan(order.indexOf("teardown ends"));
  });

  it("lets a graceful stop wait for teardown before stopping dependencies", async () => {
    const container = brokerless(Slow);
    await container.start();
    const done = container.spawnWorker(ep("work"), [1], { data: {}, parentStack: [] }, () => undefined);
    await settle();
    const stopped = container.stop();
    await settle();
    expect(order).not.toContain("dependency stop");
    teardownGate.resolve();
    await stopped;
    await done;
    expect(order.slice(-2)).toEqual(["teardown ends", "dependency stop"]);
  });

  it("makes an error thrown by the result handler the outcome dependencies see", async () => {
    const container = brokerless(Slow);
    teardownGate.resolve();
    const outcome = await container.spawnWorker(ep("work"), [1], { data: {}, parentStack: [] }, () => {
      throw new Error("reply failed");
    });
    expect(outcome.ok).toBe(false);
    expect((outcome as { error: Error }).error.message).toBe("reply failed");
    expect(order).toContain("result error");
  });

  it("waits for an async result handler before workerResult, and takes its outcome or its rejection", async () => {
    const container = brokerless(Slow);
    teardownGate.resolve();
    const replaced = await container.spawnWorker(ep("work"), [1], { data: {}, parentStack: [] }, async () => {
      await settle();
      order.push("handled");
      return { ok: true, result: 2 };
    });
    expect(replaced).toEqual({ ok: true, result: 2 });
    expect(order.slice(0, 3)).toEqual(["method 1", "handled", "result 2"]);
    const rejected = await container.spawnWorker(ep("work"), [3], { data: {}, parentStack: [] }, () =>
      Promise.reject(new Error("socket closed")),
    );
    expect((rejected as { error: Error }).error.message).toBe("socket closed");
  });

  it("still hands a worker refused by a killed container to the result handler", async () => {
    const container = brokerless(Slow);
    await container.kill();
    const handled: WorkerOutcome[] = [];
    const outcome = await container.spawnWorker(ep("work"), [1], { data: {}, parentStack: [] }, (_w, o) => {
      handled.push(o);
    });
    expect(handled).toEqual([outcome]);
    expect((outcome as { error: Error }).error).toBeInstanceOf(ContainerBeingKilled);
    expect(order).not.toContain("method 1");
  });
});

describe("ServiceContainer managed tasks (Nameko's spawn_managed_thread)", () => {
  const order: string[] = [];

  function stopRecorder(): PropertyDecorator {
    return (target, key) =>
      registerDependency(target, (): DependencyProvider => ({
        attrName: String(key),
        getDependency: () => undefined,
        stop: () => void order.push("dependency stop"),
      }));
  }

  class Tasks {
    name = "tasks";
    @stopRecorder() dep!: unknown;
    @entry("noop")
    noop() {}
  }

  beforeEach(() => void (order.length = 0));

  it("aborts a task after the extensions stopped, and the stop waits for it to end", async () => {
    const container = brokerless(Tasks);
    await container.start();
    const ended = container.spawnManagedTask("poller", async (signal) => {
      await new Promise((resolve) => signal.addEventListener("abort", resolve));
      order.push("task saw abort");
      await settle();
      order.push("task ended");
    });
    await container.stop();
    expect(order).toEqual(["dependency stop", "task saw abort", "task ended"]);
    await expect(ended).resolves.toBeUndefined();
    await expect(container.wait()).resolves.toBeUndefined();
  });

  it("kills the container when a task fails, and wait() rejects with the error", async () => {
    const container = brokerless(Tasks);
    await container.start();
    void container.spawnManagedTask("doomed", () => {
      throw new Error("lost the database");
    });
    await expect(container.wait()).rejects.toThrow("lost the database");
    expect(container.running).toBe(false);
    expect(() => container.spawnManagedTask("late", () => undefined)).toThrow(ContainerBeingKilled);
  });

  it("does not count an error after the abort as a failure", async () => {
    const container = brokerless(Tasks);
    await container.start();
    void container.spawnManagedTask("reader", async (signal) => {
      await new Promise((resolve) => signal.addEventListener("abort", resolve));
      throw new Error("connection closed");
    });
    await container.stop();
    await expect(container.wait()).resolves.toBeUndefined();
  });
});
