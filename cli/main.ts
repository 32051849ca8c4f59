import { Command } from "commander";
import pkg from "../package.json";
import { registerBridge, registerRoute } from "../bridge/cli";
import { registerPort } from "../port/cli";
import { registerSideBySide } from "../sidebyside/cli";
import { registerRuntimeCommands } from "../src/cli";

/** The command table of `cliffracer`: the runtime's commands, the bridge's, side by side's and the porting tools', each in its own layer. */
export function buildProgram(): Command {
  const program = new Command("cliffracer")
    .description("Nameko-compatible microservices on NATS")
    .version(pkg.version, "-V, --version", "print the version")
    .showHelpAfterError();
  registerRuntimeCommands(program);
  registerBridge(program);
  registerRoute(program);
  registerSideBySide(program);
  registerPort(program);
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
