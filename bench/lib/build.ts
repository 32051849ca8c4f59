/**
 * Compiles the bench and our code to plain JavaScript for the child processes, file by file
 * (ts.transpileModule, no type check). Children then run on node alone, as a deployed service would:
 * ts-node in a child costs about 45 MB of RSS and start-up time that no production process pays.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import * as ts from "typescript";

const ROOT = resolve(__dirname, "..", "..");

/**
 * Where this run's compiled tree goes (gitignored with bench/results/): one directory per runner
 * process, so two bench runs at once (several people share these machines) never rebuild under
 * each other's feet.
 */
export const BUILD_DIR = join(ROOT, "bench", "results", "build", String(process.pid));

/** Remove this run's compiled tree. */
export function removeBuild(): void {
  rmSync(BUILD_DIR, { recursive: true, force: true });
}

/** The folders children may load code from. */
const SOURCE_DIRS = ["bench", "compat", "amqp", "src", "bridge", "sidebyside", "cli"];

function compilerOptions(): ts.CompilerOptions {
  const configPath = join(ROOT, "tsconfig.json");
  const read = ts.readConfigFile(configPath, ts.sys.readFile);
  if (read.error) throw new Error(ts.flattenDiagnosticMessageText(read.error.messageText, "\n"));
  const parsed = ts.parseJsonConfigFileContent(read.config, ts.sys, ROOT);
  return {
    ...parsed.options,
    noEmit: false,
    declaration: false,
    sourceMap: false,
    inlineSourceMap: false,
    isolatedModules: true,
  };
}

function tsFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (name === "node_modules" || name === "results") return [];
    if (statSync(p).isDirectory()) return tsFiles(p);
    return p.endsWith(".ts") && !p.endsWith(".d.ts") ? [p] : [];
  });
}

/** Remove trees left by runs that were killed (their runner pid is gone). */
function removeStaleBuilds(): void {
  const parent = dirname(BUILD_DIR);
  if (!existsSync(parent)) return;
  for (const name of readdirSync(parent)) {
    if (/^\d+$/.test(name) && !existsSync(`/proc/${name}`))
      rmSync(join(parent, name), { recursive: true, force: true });
  }
}

/** Transpile every .ts file of SOURCE_DIRS into BUILD_DIR; returns the number of files. */
export function buildForChildren(): number {
  const options = compilerOptions();
  removeStaleBuilds();
  rmSync(BUILD_DIR, { recursive: true, force: true });
  let count = 0;
  for (const dir of SOURCE_DIRS) {
    for (const file of tsFiles(join(ROOT, dir))) {
      const out = join(BUILD_DIR, relative(ROOT, file)).replace(/\.ts$/, ".js");
      const { outputText } = ts.transpileModule(readFileSync(file, "utf8"), {
        compilerOptions: options,
        fileName: file,
      });
      mkdirSync(dirname(out), { recursive: true });
      writeFileSync(out, outputText);
      count++;
    }
  }
  return count;
}
