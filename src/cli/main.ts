import { Command } from "commander";
import pkg from "../../package.json";
import { registerBridge } from "./bridge";
import { registerCall } from "./call";
import { registerDispatch } from "./dispatch";
import { registerRun } from "./run";
import { registerShowConfig } from "./show-config";

/** The command table of `cliffracer`; each command lives in its own module. */
export function buildProgram(): Command {
  const program = new Command("cliffracer")
    .description("Nameko-compatible microservices on NATS")
    .version(pkg.version, "-V, --version", "print the version")
    .showHelpAfterError();
  registerRun(program);
  registerCall(program);
  registerDispatch(program);
  registerShowConfig(program);
  registerBridge(program);
  return program;
}

/** Entry point used by bin/cliffracer.js; `argv` is process.argv. */
export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}\n`);
    process.exitCode = 1;
  }
}
