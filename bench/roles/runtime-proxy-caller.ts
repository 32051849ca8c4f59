/**
 * Runtime -> runtime through @RpcProxy: this process runs a caller service whose `relay(payload)`
 * returns `await this.echo.echo(payload)`. Each bench operation is one worker of that service
 * (container.spawnWorker, the ContainerHandle contract), so it pays what a call made inside a
 * service pays: a worker, its injected proxy with the worker's context, the NATS round trip.
 * max_workers is raised to 256 so the in-flight level, not the semaphore, is what the bench sets.
 */
import { rpc, RpcProxy, ServiceRunner, type ServiceProxy } from "cliffracer";
import { loadRole } from "../lib/load";
import { echoArguments, PAYLOAD_COUNT } from "../lib/payload";
import type { StartRole } from "../lib/role";
import { benchConfig } from "./runtime-service";

function callerServiceClass(name: string, target: string) {
  class BenchCallerService {
    name = name;

    @RpcProxy(target, { timeoutMs: 10_000 })
    echo!: ServiceProxy;

    @rpc()
    async relay(payload: string): Promise<unknown> {
      return this.echo.echo(payload);
    }
  }
  return BenchCallerService;
}

export const start: StartRole = async (options) => {
  const runner = new ServiceRunner(benchConfig(256));
  const container = runner.addService(callerServiceClass(String(options.name), String(options.target)));
  await runner.start();
  const relay = container.entrypoints.find((e) => e.methodName === "relay");
  if (!relay) throw new Error("relay entrypoint missing");
  const payloads = echoArguments();
  return loadRole(
    async (i) => {
      const payload = payloads[i % PAYLOAD_COUNT];
      const outcome = await container.spawnWorker(relay, [payload], { data: {}, parentStack: [] });
      if (!outcome.ok) throw outcome.error;
      if (outcome.result !== payload) throw new Error(`wrong echo: ${JSON.stringify(outcome.result).slice(0, 200)}`);
    },
    () => runner.stop(),
  );
};
