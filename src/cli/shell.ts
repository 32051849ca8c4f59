import { homedir } from "node:os";
import path from "node:path";
import repl, { type REPLEval, type REPLServer } from "node:repl";
import type { AsyncCompleter } from "node:readline";
import { inspect } from "node:util";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Command } from "commander";
import { describeError, maskUrlCredentials, NamekoError } from "../../compat";
import { loadConfig } from "../config/load-config";
import { CommandError } from "../errors";
import { createLogger } from "../logging";
import { connectNats } from "../nats/connection";
import { discoverServices } from "../nats/service-discovery";
import { parseContextOption } from "./call";
import { rpcCompletions, rpcCompletionTarget } from "./shell-completion";
import { createShellHelper, type ShellHelper } from "./shell-helper";

/** How long TAB waits for `$SRV.INFO` answers; the stall strategy ends sooner once answers stop. */
const DISCOVERY_WAIT_MS = 1000;

/** Options of `cliffracer shell`. */
interface ShellOptions {
  config?: string;
  natsUrl?: string;
  prefix?: string;
  context?: string;
  timeout?: number;
}

/** The history file: `CLIFFRACER_HISTORY`, else `~/.cliffracer_history`; an empty `CLIFFRACER_HISTORY` keeps none. */
export function historyFile(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const file = env.CLIFFRACER_HISTORY;
  if (file === undefined) return path.join(homedir(), ".cliffracer_history");
  return file.trim() === "" ? undefined : file;
}

/**
 * How the shell prints a value. Nameko's errors (a remote error, UnknownService, RpcTimeout) print
 * as Nameko's shell shows them, one line without a stack: `RemoteError: ValueError no such user`.
 */
export function shellWriter(value: unknown, colors = false): string {
  if (value instanceof NamekoError) return `${value.name}: ${describeError(value)}`;
  return inspect(value, { depth: null, colors });
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === "object" || typeof value === "function") &&
    typeof (value as { then?: unknown }).then === "function"
  );
}

/**
 * `cliffracer shell`: Nameko's `nameko shell` on NATS (docs/shell.md), a Node REPL with `n` for
 * calls (`n.rpc.<service>.<method>(...)`, awaited), events (`n.dispatch_event`) and the config;
 * TAB completes service and method names from `$SRV` discovery.
 */
export function registerShell(program: Command): void {
  program
    .command("shell")
    .description("an interactive shell for calling services and dispatching events, like `nameko shell`")
    .option("-c, --config <file>", "YAML config file")
    .option("--nats-url <url>", "NATS server(s), instead of the config's")
    .option("--prefix <prefix>", "subject prefix, instead of the config's")
    .option("--context <json>", 'context data sent with every call, e.g. \'{"user_id": "u-1"}\'')
    .option("-t, --timeout <seconds>", "seconds a call waits for its reply", parseFloat)
    .action((opts: ShellOptions) => runShell(opts));
}

async function runShell(opts: ShellOptions): Promise<void> {
  const contextData = opts.context === undefined ? undefined : parseContextOption(opts.context);
  if (opts.timeout !== undefined && !(opts.timeout > 0))
    throw new CommandError("--timeout must be a positive number of seconds");
  const config = loadConfig({ file: opts.config });
  if (opts.natsUrl !== undefined) config.natsUrl = opts.natsUrl;
  if (opts.prefix !== undefined) config.prefix = opts.prefix;
  if (opts.timeout !== undefined) config.rpcTimeoutMs = opts.timeout * 1000;
  // Warnings only (unless LOG_LEVEL says otherwise), on stderr: the terminal belongs to the REPL.
  const log = createLogger({ stderr: true, level: process.env.LOG_LEVEL?.toLowerCase() ?? "warn" });
  const nc = await connectNats(config, { name: "cliffracer shell", log });
  const n = await createShellHelper({ nc, config, contextData, log });

  const where = `${maskUrlCredentials(config.natsUrl)}${config.prefix === "" ? "" : `, prefix ${config.prefix}`}`;
  process.stdout.write(
    `Cliffracer shell on NATS ${where}\n` +
      "n.rpc.<service>.<method>(...), n.dispatch_event(source, type, payload), n.config, n.disconnect()\n",
  );
  const server = repl.start({
    prompt: ">>> ",
    ignoreUndefined: true,
    // No eager preview: it would show the pending promise of a call under the line being typed.
    preview: false,
    writer: (value) => shellWriter(value, Boolean(process.stdout.isTTY)),
  });
  setUp(server, n, nc, config.prefix);
  const onRejection = (err: unknown): void => {
    server.output.write(`Uncaught ${shellWriter(err)}\n`);
  };
  // A call left un-awaited that fails must not end the process.
  process.on("unhandledRejection", onRejection);

  const file = historyFile();
  if (file !== undefined)
    server.setupHistory(file, (err) => {
      if (err) server.output.write(`history not kept: ${describeError(err)}\n`);
    });

  await new Promise<void>((resolve) => server.once("exit", resolve));
  process.off("unhandledRejection", onRejection);
  await n.disconnect();
}

/**
 * Put `n` (and `kwargs`) in the REPL's context, await what a line returns, and complete `n.rpc`
 * names from discovery. Node's REPL reads `eval` and `completer` from the server on every line and
 * TAB, and does not export its defaults, so they are wrapped in place.
 */
function setUp(server: REPLServer, n: ShellHelper, nc: NatsConnection, prefix: string): void {
  const install = (): void => {
    Object.assign(server.context, { n, kwargs: n.kwargs });
  };
  install();
  server.on("reset", install);
  const writable = server as REPLServer & { eval: REPLEval; completer: AsyncCompleter };

  const evaluate = server.eval;
  writable.eval = (code, context, file, done) => {
    evaluate.call(server, code, context, file, (err, result) => {
      if (err || !isThenable(result)) done(err, result);
      // A call's promise: its result is what the line shows; its error the REPL reports as any other.
      else
        Promise.resolve(result).then(
          (value) => done(null, value),
          (failure: Error) => done(failure, undefined),
        );
    });
  };

  // The REPL's own completer takes a callback (readline's AsyncCompleter form).
  const fallback = server.completer as AsyncCompleter;
  writable.completer = (line, callback) => {
    const target = rpcCompletionTarget(line);
    if (target === undefined) {
      fallback.call(server, line, callback);
      return;
    }
    discoverServices(nc, prefix, DISCOVERY_WAIT_MS).then(
      (services) => callback(null, rpcCompletions(target, services)),
      // Nothing answers $SRV.INFO (no service at all): nothing to complete.
      () => callback(null, rpcCompletions(target, new Map())),
    );
  };
}
