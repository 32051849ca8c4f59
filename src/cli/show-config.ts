import type { Command } from "commander";
import { loadConfig } from "../config/load-config";
import { maskSecrets } from "../logging";

/** `cliffracer show-config [--config file]`: the resolved config as YAML, credentials masked. */
export function registerShowConfig(program: Command): void {
  program
    .command("show-config")
    .description("print the resolved configuration (credentials masked)")
    .option("-c, --config <file>", "YAML config file")
    .action(async (opts: { config?: string }) => {
      const config = loadConfig({ file: opts.config });
      // Imported here: yaml is no part of what the other commands load.
      const { default: YAML } = await import("yaml");
      process.stdout.write(YAML.stringify(maskSecrets(config)));
    });
}
