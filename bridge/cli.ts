import type { Command } from "commander";
import { rootLogger, stopOnSignals } from "../src/cli";
import { describeError } from "../compat";
import type { RouteCommandOptions } from "./route-command";

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new Error(`--http-port must be a port number, got ${JSON.stringify(value)}`);
  return n;
}

function share(value: string): number {
  const n = Number(value);
  if (!(n > 0 && n <= 1))
    throw new Error(`--shadow-rate must be greater than 0 and at most 1, got ${JSON.stringify(value)}`);
  return n;
}

interface BridgeCommandOptions {
  config?: string;
  amqpUri?: string;
  natsUrl?: string;
  natsService: string[];
  amqpService: string[];
  httpPort?: number;
  shadow?: string;
  shadowPrefix?: string;
  shadowRate?: number;
}

/**
 * `cliffracer bridge [--config f] [--amqp-uri URI] [--nats-url URL] [--nats-service NAME]...
 * [--amqp-service NAME]... [--http-port N] [--shadow NAME [--shadow-prefix P] [--shadow-rate R]]`: run the RabbitMQ <-> NATS bridge until SIGTERM/SIGINT
 * (docs/bridge-contract.md, Command and configuration). The bridge is loaded only when this command runs: it is the one
 * place the runtime's CLI reaches into bridge/.
 */
export function registerBridge(program: Command): void {
  program
    .command("bridge")
    .description("carry Nameko RPC and events between RabbitMQ and NATS")
    .option("-c, --config <file>", "YAML config file (AMQP_URI, NATS_URL, BRIDGE: ...)")
    .option("--amqp-uri <uri>", "RabbitMQ URI (default: AMQP_URI, then amqp://guest:guest@localhost)")
    .option("--nats-url <url>", "NATS server(s) (default: NATS_URL, then nats://127.0.0.1:4222)")
    .option("--nats-service <name>", "a service that lives on NATS (repeatable)", collect, [])
    .option("--amqp-service <name>", "a service that lives on RabbitMQ (repeatable)", collect, [])
    .option("--http-port <port>", "port of /health, /ready, /metrics (and /shadow)", port)
    .option("--shadow <name>", "compare a Nameko service's live calls with its port (docs/shadow.md)")
    .option("--shadow-prefix <prefix>", "the private NATS subject prefix the port runs under (default: shadow)")
    .option("--shadow-rate <share>", "share of the calls sent to the port, 0 < share <= 1 (default: 1)", share)
    .action(async (opts: BridgeCommandOptions) => {
      const { loadBridgeConfig } = await import("./config");
      const { createBridge } = await import("./bridge");
      const config = loadBridgeConfig({
        config: opts.config,
        amqpUri: opts.amqpUri,
        natsUrl: opts.natsUrl,
        natsService: opts.natsService,
        amqpService: opts.amqpService,
        httpPort: opts.httpPort,
        shadow: opts.shadow,
        shadowPrefix: opts.shadowPrefix,
        shadowRate: opts.shadowRate,
      });
      const bridge = createBridge(config, { log: rootLogger });
      // Signals are handled from before the start, so a SIGTERM during start-up stops the bridge.
      const stopped = stopOnSignals(bridge, rootLogger);
      const code = await Promise.race([
        stopped,
        bridge.start().then(
          () => stopped,
          (err: unknown) => {
            rootLogger.error("bridge failed to start", { error: describeError(err) });
            return 1;
          },
        ),
      ]);
      // Exit explicitly, as `run` does: nothing left over may keep a stopped bridge alive.
      process.exit(code);
    });
}

/**
 * `cliffracer route <service> [method=weight]... [--default W] [--rollback [--to REV]] [--show] [--bridge-url URL]`:
 * show, set or roll back a routed service's table through a bridge's ops port (docs/routing.md,
 * The route table). Exits 0 when done, 1 when the bridge refused, 2 when it could not be reached.
 */
export function registerRoute(program: Command): void {
  program
    .command("route")
    .description("show, set or roll back the route table of a service cut over by weight")
    .argument("<service>", "the routed service (BRIDGE.ROUTING.services)")
    .argument(
      "[weights...]",
      "method=weight: percent of the method's calls sent to the port; unnamed methods get --default",
    )
    .option("--default <weight>", "percent of the other methods' calls sent to the port (default: 0)")
    .option("--rollback", "put back the table before the current one")
    .option("--to <revision>", "with --rollback: put back that revision's table (see --show) in one step")
    .option("--show", "print the table in force and its recent history (what no weights do too)")
    .option("--json", "print the bridge's JSON answer")
    .option("--bridge-url <url>", "a bridge's ops port (default: CLIFFRACER_BRIDGE_URL, then http://127.0.0.1:9400)")
    .action(async (service: string, weights: string[], opts: RouteCommandOptions) => {
      const { runRoute, ROUTE_REFUSED } = await import("./route-command");
      const code = await runRoute(service, weights, opts).catch((err: unknown) => {
        process.stderr.write(`${err instanceof Error ? err.name : "Error"}: ${describeError(err)}\n`);
        return ROUTE_REFUSED;
      });
      process.exitCode = code;
    });
}
