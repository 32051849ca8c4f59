/**
 * (8) The path Cliffracer replaces, measured in the same run: Nameko-protocol AMQP caller -> a real
 * Nameko 2.14.1 service (Python, eventlet, default max_workers 10). Not available where Nameko for
 * Python is not installed (NAMEKO_PYTHON / NAMEKO_PYTHONPATH).
 */
import { measureRpc, type BenchCase } from "../lib/case";

export const namekoPython: BenchCase = {
  id: "rpc.nameko-python",
  title: "(8) AMQP caller -> Nameko 2.14.1 (Python)",
  kind: "rpc",
  floor: "rpc.amqp-floor",
  limits:
    "Python: eventlet and kombu run every call on one core, max_workers 10; RabbitMQ with Nameko's confirmed persistent messages.",
  needs: ["python:nameko"],
  async run(ctx) {
    const service = `bench_nameko_echo_${ctx.token}`;
    const [, caller] = await ctx.spawnAll([
      ["Nameko service", "nameko-python-service", { service }],
      ["caller", "nameko-amqp-caller", { service }],
    ]);
    return measureRpc(ctx, caller);
  },
};
