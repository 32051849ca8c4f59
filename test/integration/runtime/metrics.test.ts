// The services' /metrics, /health and /ready (docs/metrics.md), as `cliffracer run` serves them:
// a runner on a real NATS with the ops server on a free port, known traffic, then a scrape whose
// counts must be exactly that traffic.
import { EventDispatcher, eventHandler, rpc, RpcClient, RpcProxy, type Dispatch, type ServiceProxy } from "cliffracer";
import { ServiceRunner } from "../../../src/core/service-runner";
import type { OpsServer } from "../../../src/observability/ops-server";
import { ServiceMetrics } from "../../../src/observability/service-metrics";
import { startServiceOps } from "../../../src/observability/service-ops";
import { testLogger } from "../../helpers/brokers";
import { EventsFixture } from "../../helpers/jetstream";
import { deferred, waitFor } from "../../helpers/waiters";

class Boom extends Error {
  override name = "Boom";
}

class Target {
  name = "target";

  @rpc()
  echo(value: string) {
    return value;
  }

  @rpc()
  explode() {
    throw new Boom("target exploded");
  }
}

const slowGate = { started: deferred(), release: deferred() };

class Svc {
  name = "svc";
  @RpcProxy("target") target!: ServiceProxy;
  @EventDispatcher() dispatch!: Dispatch;

  @rpc()
  ok(n: number) {
    return n;
  }

  @rpc()
  fail() {
    throw new Boom("failed on purpose");
  }

  @rpc()
  async call_out(explode: boolean) {
    return explode ? this.target.explode() : this.target.echo("hi");
  }

  @rpc()
  async emit() {
    await this.dispatch("ping", { n: 1 });
  }

  @rpc()
  async slow() {
    slowGate.started.resolve();
    await slowGate.release.promise;
    return "done";
  }
}

class Listener {
  name = "listener";

  @eventHandler("svc", "ping")
  on_ping() {
    return undefined;
  }
}

/** The value of the sample `name{labels...}` in Prometheus text (labels matched as a subset), or undefined. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split("\n")) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const found = Object.fromEntries([...(m[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) return Number(m[3]);
  }
  return undefined;
}

describe("services' /metrics, /health and /ready", () => {
  const fx = new EventsFixture({ maxWorkers: 4 });
  let runner: ServiceRunner;
  let ops: OpsServer;
  const get = (path: string) => fetch(`${ops.url}${path}`);
  const scrape = async () => (await get("/metrics")).text();

  beforeAll(async () => {
    const metrics = new ServiceMetrics({ processMetrics: false });
    runner = new ServiceRunner({ ...fx.config, metricsAddress: "127.0.0.1:0" }, { log: testLogger(), metrics });
    runner.addService(Target);
    runner.addService(Svc);
    runner.addService(Listener);
    ops = await startServiceOps(runner, metrics, runner.config, testLogger());
  });

  afterAll(async () => {
    slowGate.release.resolve();
    await runner.stop();
    await ops.close();
    await fx.cleanup();
  });

  it("answers /health but not /ready before the services have started", async () => {
    expect((await get("/health")).status).toBe(200);
    const ready = await get("/ready");
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ status: "unavailable", notRunning: ["target", "svc", "listener"] });
    await runner.start();
    expect((await get("/ready")).status).toBe(200);
  });

  it("counts calls, errors by type, an outgoing call and an event exactly", async () => {
    const client = await fx.client();
    const rpcClient = new RpcClient(client, { prefix: fx.prefix, timeoutMs: 10_000 });
    for (let i = 0; i < 3; i++) await rpcClient.call("svc", "ok", [i]);
    for (let i = 0; i < 2; i++) await expect(rpcClient.call("svc", "fail")).rejects.toMatchObject({ excType: "Boom" });
    expect(await rpcClient.call("svc", "call_out", [false])).toBe("hi");
    // Re-raised by the caller as RemoteError (Nameko's behaviour), whose own exc_type is the remote one.
    await expect(rpcClient.call("svc", "call_out", [true])).rejects.toMatchObject({ excType: "RemoteError" });
    await rpcClient.call("svc", "emit");

    const event = { service: "listener", method_name: "on_ping", source_service: "svc", event_type: "ping" };
    const text = await waitFor(
      async () => {
        const t = await scrape();
        return sample(t, "cliffracer_events_total", event) === 1 ? t : undefined;
      },
      { what: "the event counted", intervalMs: 20 },
    );
    const svc = (method_name: string) => ({ service: "svc", method_name });
    expect(sample(text, "cliffracer_rpc_requests_total", svc("ok"))).toBe(3);
    expect(sample(text, "cliffracer_rpc_request_latency_seconds_count", svc("ok"))).toBe(3);
    expect(sample(text, "cliffracer_rpc_request_latency_seconds_bucket", { ...svc("ok"), le: "+Inf" })).toBe(3);
    expect(sample(text, "cliffracer_rpc_requests_total", svc("fail"))).toBe(2);
    expect(sample(text, "cliffracer_worker_errors_total", { ...svc("fail"), exc_type: "Boom" })).toBe(2);
    expect(sample(text, "cliffracer_rpc_requests_total", svc("call_out"))).toBe(2);
    // The worker's error is the one its caller gets; the outgoing call's is what the called service raised.
    expect(sample(text, "cliffracer_worker_errors_total", { ...svc("call_out"), exc_type: "RemoteError" })).toBe(1);
    expect(sample(text, "cliffracer_worker_errors_total", svc("ok"))).toBeUndefined();
    // The service called: its own workers, and the caller's view of each outgoing call.
    expect(sample(text, "cliffracer_rpc_requests_total", { service: "target", method_name: "echo" })).toBe(1);
    const out = (method_name: string) => ({ service: "svc", target_service: "target", method_name });
    expect(sample(text, "cliffracer_rpc_outgoing_requests_total", out("echo"))).toBe(1);
    expect(sample(text, "cliffracer_rpc_outgoing_latency_seconds_count", out("echo"))).toBe(1);
    expect(sample(text, "cliffracer_rpc_outgoing_requests_total", out("explode"))).toBe(1);
    expect(sample(text, "cliffracer_rpc_outgoing_errors_total", { ...out("explode"), exc_type: "Boom" })).toBe(1);
    expect(sample(text, "cliffracer_rpc_outgoing_errors_total", out("echo"))).toBeUndefined();
    // The event: handled once, and its lag (publish to handler) observed once.
    expect(sample(text, "cliffracer_events_latency_seconds_count", event)).toBe(1);
    expect(sample(text, "cliffracer_events_lag_seconds_count", event)).toBe(1);
    expect(sample(text, "cliffracer_workers_max", { service: "svc" })).toBe(4);
    expect(sample(text, "cliffracer_workers_busy", { service: "svc" })).toBe(0);
  });

  it("shows a busy worker, and /ready false while the services stop", async () => {
    const client = await fx.client();
    const call = new RpcClient(client, { prefix: fx.prefix, timeoutMs: 10_000 }).call("svc", "slow");
    await slowGate.started.promise;
    expect(sample(await scrape(), "cliffracer_workers_busy", { service: "svc" })).toBe(1);
    const stopped = runner.stop();
    const ready = await get("/ready");
    expect(ready.status).toBe(503);
    expect((await get("/health")).status).toBe(200);
    slowGate.release.resolve();
    expect(await call).toBe("done");
    await stopped;
    expect((await get("/ready")).status).toBe(503);
  });
});
