import { randomUUID } from "node:crypto";
import type { Command } from "commander";
import { decodeJson, describeError, encodeJson } from "../../compat";
import type { ContextData } from "../../compat";
import { RpcClient } from "../client/rpc-client";
import { loadConfig } from "../config/load-config";
import { CommandError } from "../errors";
import { createLogger } from "../logging";
import { connectNats, drainNats } from "../nats/connection";
import { largeBodiesOf } from "../nats/body-store";

/** `service.method` -> its two parts (a service name never contains a dot). */
function parseTarget(target: string): { service: string; method: string } {
  const dot = target.indexOf(".");
  if (dot <= 0 || dot === target.length - 1)
    throw new CommandError(`Expected <service>.<method>, got ${JSON.stringify(target)}`);
  return { service: target.slice(0, dot), method: target.slice(dot + 1) };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function parseJson(text: string, what: string): unknown {
  try {
    return decodeJson(text);
  } catch (err) {
    throw new CommandError(`${what}: not valid JSON: ${describeError(err)}`);
  }
}

/** A JSON list (args), an object (kwargs), or `{"args": [...], "kwargs": {...}}`. */
export function parseCallArguments(json: string | undefined): { args: unknown[]; kwargs: Record<string, unknown> } {
  if (json === undefined || json.trim() === "") return { args: [], kwargs: {} };
  const value = parseJson(json, "Arguments");
  if (Array.isArray(value)) return { args: value, kwargs: {} };
  if (!isPlainObject(value))
    throw new CommandError(
      'Arguments must be a JSON list (args), an object (kwargs) or {"args": [...], "kwargs": {...}}',
    );
  const keys = Object.keys(value);
  const explicit =
    keys.length > 0 &&
    keys.every((k) => k === "args" || k === "kwargs") &&
    (value.args === undefined || Array.isArray(value.args)) &&
    (value.kwargs === undefined || isPlainObject(value.kwargs));
  if (explicit)
    return { args: (value.args as unknown[]) ?? [], kwargs: (value.kwargs as Record<string, unknown>) ?? {} };
  return { args: [], kwargs: value };
}

/** The `--context` option: a JSON object of context data, sent as `nameko.*` headers. */
export function parseContextOption(json: string): ContextData {
  const parsed = parseJson(json, "--context");
  if (!isPlainObject(parsed)) throw new CommandError("--context must be a JSON object");
  return parsed;
}

/** `cliffracer call <service>.<method> [json]`: print the result as JSON, or the error and exit 1. */
export function registerCall(program: Command): void {
  program
    .command("call")
    .description("call an RPC method and print its result as JSON")
    .argument("<target>", "service.method")
    .argument("[json]", 'a JSON list (args), an object (kwargs) or {"args": [...], "kwargs": {...}}')
    .option("-c, --config <file>", "YAML config file")
    .option("-t, --timeout <seconds>", "seconds to wait for the reply", parseFloat)
    .option("--context <json>", 'context data sent as nameko.* headers, e.g. \'{"user_id": "u-1"}\'')
    .action(
      async (
        target: string,
        json: string | undefined,
        opts: { config?: string; timeout?: number; context?: string },
      ) => {
        const { service, method } = parseTarget(target);
        const { args, kwargs } = parseCallArguments(json);
        const contextData = opts.context === undefined ? undefined : parseContextOption(opts.context);
        if (opts.timeout !== undefined && !(opts.timeout > 0))
          throw new CommandError("--timeout must be a positive number of seconds");
        const config = loadConfig({ file: opts.config });
        // Logs go to stderr: stdout carries the result only.
        const nc = await connectNats(config, { name: "cliffracer call", log: createLogger({ stderr: true }) });
        try {
          const client = new RpcClient(nc, {
            prefix: config.prefix,
            timeoutMs: config.rpcTimeoutMs,
            largeBodies: largeBodiesOf(config),
          });
          const stack = [`standalone_rpc_proxy.call.${randomUUID()}`];
          const result = await client.call(service, method, args, kwargs, {
            timeoutMs: opts.timeout !== undefined ? opts.timeout * 1000 : undefined,
            contextData,
            callIdStack: stack,
          });
          process.stdout.write(`${encodeJson(result)}\n`);
        } finally {
          await drainNats(nc);
        }
      },
    );
}
