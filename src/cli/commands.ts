import type { Command } from "commander";
import { registerCall } from "./call";
import { registerDispatch } from "./dispatch";
import { registerRun } from "./run";
import { registerShell } from "./shell";
import { registerShowConfig } from "./show-config";

/** Adds the runtime's commands (`run`, `call`, `dispatch`, `shell`, `show-config`) to the `cliffracer` program. */
export function registerRuntimeCommands(program: Command): void {
  registerRun(program);
  registerCall(program);
  registerDispatch(program);
  registerShell(program);
  registerShowConfig(program);
}
