import type { Command } from "commander";
import YAML from "yaml";
import { loadConfig } from "../config/load-config";
import { maskSecrets } from "../logging";

/** `cliffracer show-config [--config file]`: the resolved config as YAML, credentials masked. */
export function registerShowConfig(program: Command): void {
  program
    .command("show-config")
    .description("print the resolved configuration (credentials masked)")
    .option("-c, --config <file>", "YAML config file")
    .action((opts: { config?: string }) => {
      const config = loadConfig({ file: opts.config });
      process.stdout.write(YAML.stringify(maskSecrets(config)));
    });
}
