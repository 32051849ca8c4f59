import { readdirSync, readFileSync, statSync } from "fs";
import { join, relative, resolve, dirname } from "path";

// STYLE.md §3: dependencies point compat <- src <- bridge, and nothing points back.
const root = resolve(__dirname, "../../..");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith(".ts") ? [path] : [];
  });
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const specifiers = [...text.matchAll(/(?:from\s+|import\s*\(\s*|require\s*\(\s*)["']([^"']+)["']/g)].map((m) => m[1]);
  return specifiers.map((s) => (s.startsWith(".") ? relative(root, resolve(dirname(file), s)) : s));
}

function violations(folder: string, forbidden: RegExp, skip: RegExp = /^$/): string[] {
  return sourceFiles(join(root, folder)).filter((file) => !skip.test(file)).flatMap((file) =>
    importsOf(file)
      .filter((target) => forbidden.test(target))
      .map((target) => `${relative(root, file)} imports ${target}`),
  );
}

describe("import boundaries", () => {
  it("compat imports nothing from src, bridge or the NATS client", () => {
    expect(violations("compat", /^(src|bridge)(\/|$)|^@nats-io\/|^cliffracer/)).toEqual([]);
  });

  it("src never imports bridge", () => {
    // Except the `cliffracer bridge` command (STYLE.md §3 puts it in src/cli/): the CLI is the
    // composition root, and it loads bridge/ lazily, only when that command runs.
    expect(violations("src", /^bridge(\/|$)/, /src\/cli\/bridge\.ts$/)).toEqual([]);
  });

  it("the Nameko peer used by interop tests imports nothing from the project", () => {
    // Its own self-test may use the shared test helpers; the peer itself may not.
    const peer = violations("test/interop/nameko-peer", /^(src|compat|bridge|test\/helpers)(\/|$)|^cliffracer/, /\.test\.ts$/);
    expect(peer).toEqual([]);
  });

  it("examples import the framework only through its public entry", () => {
    expect(violations("examples", /^(src|compat|bridge)(\/|$)/)).toEqual([]);
  });
});
