import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import type { Command } from "commander";
import { CommandError } from "../src/cli";

interface PortCommandOptions {
  out: string;
  force?: boolean;
  modulePath?: string;
}

interface TypesCommandOptions {
  out?: string;
  modulePath?: string;
}

const MODULE_PATH_HELP = "the module's dotted path, for exc_paths (default: from the file and its packages)";

/**
 * `cliffracer port module.py[:Class] [--out dir] [--force]` and `cliffracer types module.py[:Class]
 * [--out file]` (docs/porting.md). The scaffolder loads only when one of them runs.
 */
export function registerPort(program: Command): void {
  program
    .command("port")
    .description("scaffold a TypeScript port of a Nameko module's services, and report what could not be mapped")
    .argument("<module>", "path/to/module.py, optionally :ServiceClass")
    .option("--out <dir>", "directory to write <module>.ts into", ".")
    .option("--force", "overwrite an existing file")
    .option("--module-path <dotted>", MODULE_PATH_HELP)
    .action(async (spec: string, opts: PortCommandOptions) => {
      const { parseModuleSpec, scaffoldPort } = await import("./index");
      const scaffold = scaffoldPort(spec, { modulePath: opts.modulePath });
      const target = join(opts.out, `${basename(parseModuleSpec(spec).file, ".py")}.ts`);
      if (existsSync(target) && !opts.force)
        throw new CommandError(`${target} exists: give --force to overwrite it, or another --out`);
      mkdirSync(opts.out, { recursive: true });
      writeFileSync(target, scaffold.text);
      const services = scaffold.model.services.map((s) => `${s.className} (${s.name})`).join(", ");
      const lines = [`wrote ${target}: ${services}`, ...scaffold.report];
      if (scaffold.report.length === 0) lines.push("everything was mapped");
      process.stdout.write(`${lines.join("\n")}\n`);
    });
  program
    .command("types")
    .description("TypeScript interfaces for calling a Nameko module's services through a typed proxy")
    .argument("<module>", "path/to/module.py, optionally :ServiceClass")
    .option("--out <file>", "write to this file instead of stdout")
    .option("--module-path <dotted>", MODULE_PATH_HELP)
    .action(async (spec: string, opts: TypesCommandOptions) => {
      const { scaffoldTypes } = await import("./index");
      const scaffold = scaffoldTypes(spec, { modulePath: opts.modulePath });
      if (opts.out) writeFileSync(opts.out, scaffold.text);
      else process.stdout.write(scaffold.text);
      // Warnings go to stderr, so stdout stays a TypeScript file.
      if (scaffold.report.length) process.stderr.write(`${scaffold.report.join("\n")}\n`);
    });
}
