// Reply before teardown (Nameko's _run_worker: handle_result, then worker_result and worker_teardown),
// over a real nats-server and real HTTP: a teardown that cannot end until the caller has its answer.
import {
  http,
  registerDependency,
  rpc,
  type DependencyProvider,
  type ServiceClass,
  type WorkerContext,
  type WorkerOutcome,
} from "cliffracer";
import { HttpEntrypoint } from "../../../src/entrypoints/http";
import { NatsFixture, uniqueName } from "../../helpers/brokers";
import { deferred, waitFor, type Deferred } from "../../helpers/waiters";

/** Records the worker hooks; teardown waits on `latch`, which the test releases. */
class HeldTeardown implements DependencyProvider {
  static latch: Deferred<void> = deferred();
  static events: string[] = [];

  constructor(readonly attrName: string) {}

  getDependency(): undefined {
    return undefined;
  }

  workerResult(worker: WorkerContext, outcome: WorkerOutcome): void {
    HeldTeardown.events.push(`${worker.methodName} result ${outcome.ok}`);
  }

  async workerTeardown(worker: WorkerContext): Promise<void> {
    HeldTeardown.events.push(`${worker.methodName} teardown begins`);
    await HeldTeardown.latch.promise;
    HeldTeardown.events.push(`${worker.methodName} teardown ends`);
  }

  stop(): void {
    HeldTeardown.events.push("dependency stop");
  }
}

function Held(): PropertyDecorator {
  return (target, key) => registerDependency(target, () => new HeldTeardown(String(key)));
}

function slowService(name: string): ServiceClass {
  class Slow {
    name = name;
    @Held() held!: undefined;

    @rpc()
    ping(n: number) {
      HeldTeardown.events.push(`ping ${n}`);
      return `pong ${n}`;
    }

    @http("GET", "/ping")
    page() {
      return "pong";
    }
  }
  return Slow;
}

describe("a worker's reply comes before its teardown", () => {
  const fx = new NatsFixture({ webServerAddress: "127.0.0.1:0" });

  beforeEach(() => {
    HeldTeardown.latch = deferred();
    HeldTeardown.events = [];
  });
  afterEach(() => HeldTeardown.latch.resolve());
  afterAll(() => fx.cleanup());

  it("answers an RPC call while teardown is still held, keeps the slot, and stop waits for teardown", async () => {
    const service = uniqueName("held_rpc");
    const container = await fx.start(slowService(service), { maxWorkers: 1 });
    const client = await fx.client(5_000);

    // The latch is released only after the reply arrived: a reply that waited for teardown would time out.
    expect(await client.call(service, "ping", [1])).toBe("pong 1");
    expect(HeldTeardown.events).toEqual(["ping 1", "ping result true", "ping teardown begins"]);
    expect(container.activeWorkers).toBe(1);

    // max_workers is 1 and the first worker still holds its slot: the second call waits for teardown.
    const second = client.call(service, "ping", [2]);
    // Stopped before the request reached it, the service would unsubscribe first and the caller get
    // UnknownService (seen in a loaded CI run): wait until it is queued for the slot.
    await waitFor(() => container.pendingWorkers === 2, { what: "the second call queued for the slot" });
    const stopped = container.stop();
    HeldTeardown.latch.resolve();
    expect(await second).toBe("pong 2");
    await stopped;
    const events = HeldTeardown.events;
    expect(events.indexOf("ping 2")).toBeGreaterThan(events.indexOf("ping teardown ends"));
    expect(events.at(-1)).toBe("dependency stop");
    expect(events.filter((e) => e === "ping teardown ends")).toHaveLength(2);
  });

  it("answers an HTTP request while teardown is still held", async () => {
    const container = await fx.start(slowService(uniqueName("held_http")));
    const entrypoint = container.entrypoints.find((e) => e.methodName === "page") as HttpEntrypoint;

    const response = await fetch(`${entrypoint.baseUrl!}/ping`, { signal: AbortSignal.timeout(5_000) });
    expect(await response.text()).toBe("pong");
    expect(HeldTeardown.events).toEqual(["page result true", "page teardown begins"]);

    const stopped = container.stop();
    HeldTeardown.latch.resolve();
    await stopped;
    expect(HeldTeardown.events.slice(-2)).toEqual(["page teardown ends", "dependency stop"]);
  });
});
