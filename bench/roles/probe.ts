/**
 * Looks, in a child process, at what of our code is there to benchmark (exports of "cliffracer",
 * the bridge, compat) and at the broker versions. Loading our code here keeps the runner itself free
 * of it.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { connect as natsConnect } from "@nats-io/transport-node";
import * as amqp from "amqplib";
import { AMQP_SOCKET_OPTIONS, AMQP_URI, NATS_URL } from "../lib/env";
import { describeError, type StartRole } from "../lib/role";

const ROOT = join(__dirname, "..", "..");

async function exportsOf(file: string, specifier: string): Promise<{ names: string[]; error?: string }> {
  if (!existsSync(join(ROOT, file))) return { names: [], error: `${file} does not exist yet` };
  try {
    const mod = (await import(specifier)) as Record<string, unknown>;
    return { names: Object.keys(mod).filter((k) => k !== "__esModule" && k !== "default").sort() };
  } catch (err) {
    return { names: [], error: describeError(err) };
  }
}

/** Read from the file: some packages do not export their package.json. */
function packageVersion(name: string): string {
  try {
    return (JSON.parse(readFileSync(join(ROOT, "node_modules", name, "package.json"), "utf8")) as { version: string }).version;
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
  async handle(command) {
    if (command !== "probe") throw new Error(`unknown command ${command}`);
    const runtime = await exportsOf("src/index.ts", "cliffracer");
    const bridge = await exportsOf("bridge/bridge.ts", join(ROOT, "bridge", "bridge"));
    const compat = await exportsOf("compat/index.ts", join(ROOT, "compat"));
    const versions = {
      node: process.version,
      natsServer: await natsVersion().catch((e: unknown) => `unreachable: ${String(e)}`),
      rabbitmq: await rabbitVersion().catch((e: unknown) => `unreachable: ${String(e)}`),
      natsJs: packageVersion("@nats-io/transport-node"),
      amqplib: packageVersion("amqplib"),
      moleculer: packageVersion("moleculer"),
    };
    return {
      probe: {
        runtimeExports: runtime.names,
        runtimeError: runtime.error,
        bridgeExports: bridge.names,
        bridgeError: bridge.error,
        compatExports: compat.names,
      },
      versions,
    };
  },
  stop: () => Promise.resolve(),
});
