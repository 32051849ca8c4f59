/**
 * The package as `npm pack` ships it, for the CLI benches (cli-call.ts, cli-run.ts): tsc -p
 * tsconfig.build.json into dist/, with bin/ and package.json beside it, in a scratch directory
 * whose node_modules links to the repo's.
 */
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, symlinkSync } from "node:fs";
import { join, resolve } from "node:path";

const ROOT = resolve(__dirname, "..", "..");

/** Build the installed form into `dir` (which must exist); returns the path of its bin. */
export function buildInstalled(dir: string): string {
  execFileSync(
    join(ROOT, "node_modules", ".bin", "tsc"),
    ["-p", "tsconfig.build.json", "--outDir", join(dir, "dist")],
    { cwd: ROOT, stdio: "inherit" },
  );
  mkdirSync(join(dir, "bin"));
  copyFileSync(join(ROOT, "bin", "cliffracer.js"), join(dir, "bin", "cliffracer.js"));
  copyFileSync(join(ROOT, "package.json"), join(dir, "package.json"));
  symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"));
  return join(dir, "bin", "cliffracer.js");
}

/** Median of a non-empty list. */
export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}
