/**
 * The runtime's entry for the command line: registering commands, and the little other layers'
 * command modules use before an action runs. Kept light on purpose: every `cliffracer` start
 * loads it, so a command's heavy modules (the service runner, the HTTP and metrics servers) are
 * imported in its action, and `cliffracer call` does not pay for `run`'s.
 */
export { registerRuntimeCommands } from "./commands";
export { CommandError } from "../errors";
export { rootLogger } from "../logging";
export { stopOnSignals } from "../core/signals";
