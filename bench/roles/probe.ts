/**
 * Looks, in a child process, at what of our code is there to benchmark (the exports of the modules
 * the cases need) and at the broker versions. Loading our code here keeps the runner free of it.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { connect as natsConnect } from "@nats-io/transport-node";
import * as amqp from "amqplib";
import type { ModuleProbe, Probe } from "../lib/case";
import { AMQP_SOCKET_OPTIONS, AMQP_URI, NAMEKO_PYTHON, NAMEKO_PYTHONPATH, NATS_URL } from "../lib/env";
import { describeError, type StartRole } from "../lib/role";

// This file runs from the compiled tree (bench/results/build/<pid>/bench/roles); the runner names the repository.
const BUILD = join(__dirname, "..", "..");
const ROOT = process.env.BENCH_REPO_ROOT ?? process.cwd();

/** `python:<module>`: whether Nameko's Python (lib/env.ts) imports it. */
function probePython(module: string): ModuleProbe {
  try {
    execFileSync(NAMEKO_PYTHON, ["-c", `import ${module}`], {
      env: { ...process.env, PYTHONPATH: NAMEKO_PYTHONPATH },
      stdio: ["ignore", "ignore", "pipe"],
      timeout: 30_000,
    });
    return { exists: true, exports: [] };
  } catch (err) {
    return {
      exists: false,
      exports: [],
      error: `${NAMEKO_PYTHON} cannot import ${module} (set NAMEKO_PYTHON / NAMEKO_PYTHONPATH): ${String(err).split("\n")[0]}`,
    };
  }
}

async function probeModule(module: string): Promise<ModuleProbe> {
  if (module.startsWith("python:")) return probePython(module.slice("python:".length));
  if (!existsSync(join(ROOT, `${module}.ts`))) return { exists: false, exports: [] };
  try {
    const mod = (await import(join(BUILD, module))) as Record<string, unknown>;
    return {
      exists: true,
      exports: Object.keys(mod)
        .filter((k) => k !== "__esModule" && k !== "default" && mod[k] !== undefined)
        .sort(),
    };
  } catch (err) {
    return { exists: true, exports: [], error: describeError(err) };
  }
}

/** Read from the file: some packages do not export their package.json. */
function packageVersion(name: string): string {
  try {
    return (JSON.parse(readFileSync(join(ROOT, "node_modules", name, "package.json"), "utf8")) as { version: string })
      .version;
  } catch {
    return "?";
  }
}

async function natsVersion(): Promise<string> {
  const nc = await natsConnect({ servers: NATS_URL });
  const info = nc.info;
  await nc.close();
  return `${info?.version ?? "?"}${info?.jetstream ? " (JetStream on)" : ""}`;
}

async function rabbitVersion(): Promise<string> {
  const conn = await amqp.connect(AMQP_URI, AMQP_SOCKET_OPTIONS);
  const props = conn.connection.serverProperties;
  await conn.close();
  return `${props.product ?? "RabbitMQ"} ${props.version ?? "?"}`;
}

export const start: StartRole = async () => ({
  async handle(command, arg) {
    if (command !== "probe") throw new Error(`unknown command ${command}`);
    const probe: Probe = {};
    for (const module of arg as string[]) probe[module] = await probeModule(module);
    const versions = {
      node: process.version,
      natsServer: await natsVersion().catch((e: unknown) => `unreachable: ${String(e)}`),
      rabbitmq: await rabbitVersion().catch((e: unknown) => `unreachable: ${String(e)}`),
      natsJs: packageVersion("@nats-io/transport-node"),
      amqplib: packageVersion("amqplib"),
      moleculer: packageVersion("moleculer"),
    };
    return { probe, versions };
  },
  stop: () => Promise.resolve(),
});
