/**
 * Real Nameko 2.14.1 (Python, eventlet) running bench/nameko/bench_echo.py with `nameko run`,
 * default config (max_workers 10): the path Cliffracer replaces. Ready once its `rpc-<service>`
 * queue has a consumer. The Python process's pid is reported so its CPU and RSS are measured.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import * as amqp from "amqplib";
import { AMQP_SOCKET_OPTIONS, AMQP_URI, NAMEKO_PYTHON, NAMEKO_PYTHONPATH } from "../lib/env";
import type { StartRole } from "../lib/role";

const READY_TIMEOUT_MS = 60_000;

export const start: StartRole = async (options) => {
  const service = String(options.service);
  const root = process.env.BENCH_REPO_ROOT ?? process.cwd();
  const dir = join(root, "bench", "nameko");
  const python = spawn(
    NAMEKO_PYTHON,
    ["-c", "from nameko.cli.main import main; main()", "run", "--broker", AMQP_URI, "bench_echo"],
    {
      cwd: dir,
      env: {
        ...process.env,
        BENCH_SERVICE_NAME: service,
        PYTHONPATH: [dir, NAMEKO_PYTHONPATH].filter(Boolean).join(":"),
      },
      stdio: ["ignore", "inherit", "inherit"],
    },
  );
  let exited = false;
  const exit = new Promise<void>((resolve) => python.on("exit", () => ((exited = true), resolve())));
  const conn = await amqp.connect(AMQP_URI, AMQP_SOCKET_OPTIONS);
  const queue = `rpc-${service}`;
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (exited) throw new Error("nameko run exited before it consumed its queue");
    if (Date.now() > deadline) throw new Error(`nameko run did not consume ${queue} within ${READY_TIMEOUT_MS} ms`);
    // A channel per check: checkQueue on a missing queue closes the channel.
    const ch = await conn.createChannel();
    ch.on("error", () => undefined);
    const found = await ch.checkQueue(queue).catch(() => undefined);
    if (found) await ch.close();
    if (found && found.consumerCount > 0) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    extraPids: () => (python.pid ? [{ name: "nameko (python)", pid: python.pid }] : []),
    handle: (command) => Promise.reject(new Error(`unknown command ${command}`)),
    async stop() {
      python.kill("SIGTERM");
      const timer = setTimeout(() => python.kill("SIGKILL"), 10_000);
      await exit;
      clearTimeout(timer);
      const ch = await conn.createChannel();
      await ch.deleteQueue(queue);
      await conn.close();
    },
  };
};
