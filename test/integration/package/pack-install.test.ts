// The package as a user gets it: `npm pack` (which builds, through prepack), the tarball installed
// into a fresh project outside the repository, then the files of docs/getting-started.md
// type-checked with the installed tsc and run with the installed `cliffracer` bin against the real
// NATS, and every entry imported from CommonJS and from ESM.
import { execFile, spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { promisify } from "node:util";
import { NATS_URL, uniquePrefix } from "../../helpers/brokers";
import { waitForLine, withTimeout } from "../../helpers/waiters";
import { projectForTarball } from "./offline-lockfile";

// Packing builds the whole package (tsc) and installing extracts about 130 packages from the npm cache.
jest.setTimeout(120_000);

const run = promisify(execFile);
const root = resolve(__dirname, "../../..");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
  name: string;
  version: string;
  exports: Record<string, string | { types: string; default: string }>;
  typesVersions: Record<string, Record<string, string[]>>;
};

/** The package's subpath entries (`cliffracer`, `cliffracer/testing`, ...), from its `exports`. */
const entries = Object.keys(pkg.exports)
  .filter((key) => key !== "./package.json")
  .map((key) => (key === "." ? pkg.name : `${pkg.name}/${key.slice(2)}`));

/** The blocks of docs/getting-started.md marked `<!-- file: path -->`, by path. */
function documentedFiles(): Map<string, string> {
  const text = readFileSync(join(root, "docs", "getting-started.md"), "utf8");
  const files = new Map<string, string>();
  for (const match of text.matchAll(/<!-- file: (\S+) -->\n```\w*\n([\s\S]*?)```/g)) files.set(match[1]!, match[2]!);
  return files;
}

let work: string;
let project: string;
let installWarnings: string;
let packed: { filename: string; size: number; entryCount: number; files: { path: string }[] };
const children = new Set<ChildProcessWithoutNullStreams>();

/** The environment of a user's shell: nothing of this repository's jest or ts-node set-up. */
function userEnv(prefix: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NATS_URL, NATS_PREFIX: prefix, LOG_LEVEL: "info" };
  for (const key of Object.keys(env)) if (key === "NODE_PATH" || key.startsWith("TS_NODE_")) delete env[key];
  env.PATH = `${dirname(process.execPath)}:${env.PATH ?? ""}`;
  return env;
}

/** The installed bin, `node_modules/.bin/cliffracer`, run in the project. */
const bin = (): string => join(project, "node_modules", ".bin", "cliffracer");

/** `cliffracer run <module>` in the project, resolved once it logs that its services run. */
async function startService(module: string, prefix: string): Promise<ChildProcessWithoutNullStreams> {
  const child = spawn(bin(), ["run", module], { cwd: project, env: userEnv(prefix) });
  children.add(child);
  child.once("exit", () => children.delete(child));
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  await waitForLine(child.stdout, /"message":"services running"/, 30_000).catch((err: unknown) => {
    throw new Error(`cliffracer run ${module} did not start: ${String(err)}\n${stderr}`);
  });
  return child;
}

/** `cliffracer call ...` in the project; resolves with stdout. */
async function call(prefix: string, ...args: string[]): Promise<string> {
  const { stdout } = await run(bin(), ["call", ...args], { cwd: project, env: userEnv(prefix) });
  return stdout;
}

/** SIGTERM, as Ctrl-C would; resolves with the exit code. */
function stop(child: ChildProcessWithoutNullStreams): Promise<number | null> {
  const exited = new Promise<number | null>((done) => child.once("exit", (code) => done(code)));
  child.kill("SIGTERM");
  return withTimeout(exited, 20_000, "cliffracer run to exit");
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "cliff-pack-"));
  // Lifecycle output (the prepack build) goes to stderr; stdout is the JSON report.
  const { stdout } = await run("npm", ["pack", "--json", "--pack-destination", work], {
    cwd: root,
    maxBuffer: 16 * 1024 * 1024,
  });
  packed = (JSON.parse(stdout) as (typeof packed)[])[0]!;

  project = join(work, "project");
  mkdirSync(project);
  const { packageJson, packageLock } = projectForTarball(root, `../${basename(packed.filename)}`, ["typescript"]);
  writeFileSync(join(project, "package.json"), JSON.stringify(packageJson, null, 2));
  writeFileSync(join(project, "package-lock.json"), JSON.stringify(packageLock, null, 2));
  // Offline when the npm cache holds every tarball (as after `npm ci` in this repository).
  const install = await run("npm", ["ci", "--prefer-offline", "--no-audit", "--no-fund"], {
    cwd: project,
    env: userEnv(""),
  });
  installWarnings = install.stderr;
  for (const [path, text] of documentedFiles()) {
    mkdirSync(dirname(join(project, path)), { recursive: true });
    writeFileSync(join(project, path), text);
  }
}, 300_000);

afterAll(async () => {
  const exits = [...children].map((child) => new Promise((done) => child.once("exit", done)));
  for (const child of children) child.kill("SIGKILL");
  await Promise.all(exits);
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("the packed package", () => {
  it("holds the build with its types, the bin, the docs and the licence, and no test or bench file", () => {
    const files = packed.files.map((f) => f.path);
    expect(files).toEqual(
      expect.arrayContaining([
        "package.json",
        "dist/src/index.js",
        "dist/src/index.d.ts",
        "dist/cli/main.js",
        "bin/cliffracer.js",
        "README.md",
        "LICENSE",
        "CHANGELOG.md",
        "docs/getting-started.md",
      ]),
    );
    for (const target of Object.values(pkg.exports).filter((t) => typeof t === "object"))
      expect(files).toEqual(expect.arrayContaining([target.types.slice(2), target.default.slice(2)]));
    const unwanted = files.filter(
      (f) => /(^|\/)(test|tests|bench|examples|__tests__)\//.test(f) || /\.(test|spec)\.|\.map$|\.ts$/.test(f),
    );
    expect(unwanted.filter((f) => !f.endsWith(".d.ts"))).toEqual([]);
  });

  it("installs on this Node without an engine warning", () => {
    expect(installWarnings).not.toMatch(/EBADENGINE/);
  });

  it("maps every subpath entry for TypeScript's node10 resolution to the declarations `exports` names", () => {
    const subpaths = Object.entries(pkg.exports).filter(([key, target]) => key !== "." && typeof target === "object");
    expect(pkg.typesVersions["*"]).toEqual(
      Object.fromEntries(subpaths.map(([key, target]) => [key.slice(2), [(target as { types: string }).types]])),
    );
  });

  it("type-checks the getting-started TypeScript service with the installed tsc under its tsconfig", async () => {
    const tsc = join(project, "node_modules", ".bin", "tsc");
    const result = await run(tsc, ["-p", ".", "--noEmit"], { cwd: project }).catch(
      (err: { stdout: string; code: number }) => err,
    );
    expect(result.stdout).toBe("");
  });

  it("runs the TypeScript service with the installed bin, and `cliffracer call` reaches it", async () => {
    const prefix = uniquePrefix();
    const child = await startService("src/greeting-service.ts", prefix);
    expect(await call(prefix, "greeting_service.hello", '["Ada"]')).toBe('"Hello, Ada!"\n');
    expect(await call(prefix, "greeting_service.whoami", "[]", "--context", '{"user_id": "u-1"}')).toBe('"u-1"\n');
    expect(await stop(child)).toBe(0);
  });

  it("runs the plain JavaScript service the same way; keyword calls bind, the ESM client calls it", async () => {
    const prefix = uniquePrefix();
    const child = await startService("greeting-service.js", prefix);
    expect(await call(prefix, "greeting_service.hello", '{"name": "Bo", "punctuation": "?"}')).toBe('"Hello, Bo?"\n');
    expect(await call(prefix, "greeting_service.whoami", "[]", "--context", '{"user_id": "u-2"}')).toBe('"u-2"\n');
    const esmClient = await run(process.execPath, ["hello.mjs"], { cwd: project, env: userEnv(prefix) });
    expect(esmClient.stdout).toBe("Hello, Ada!\n");
    expect(await stop(child)).toBe(0);
  });

  it("runs a .ts service with its own TypeScript when the user's has no compiler API, as TypeScript 7", async () => {
    // npm's layout when the user installs TypeScript 7: the user's at the top, Cliffracer's own
    // TypeScript 5 under it. TypeScript 7's package exports only its version to require().
    const modules = join(project, "node_modules");
    mkdirSync(join(modules, "cliffracer", "node_modules"), { recursive: true });
    renameSync(join(modules, "typescript"), join(modules, "cliffracer", "node_modules", "typescript"));
    mkdirSync(join(modules, "typescript"));
    writeFileSync(join(modules, "typescript", "package.json"), '{"name": "typescript", "version": "7.0.0"}');
    writeFileSync(join(modules, "typescript", "index.js"), 'module.exports = { version: "7.0.0" };\n');

    const prefix = uniquePrefix();
    const child = await startService("src/greeting-service.ts", prefix);
    expect(await call(prefix, "greeting_service.hello", '["Cy"]')).toBe('"Hello, Cy!"\n');
    expect(await stop(child)).toBe(0);
  });

  it("gives CommonJS and ESM the same named exports for every entry, the documented ones functions", async () => {
    const list = JSON.stringify(entries);
    // Each prints {entry: {name: typeof value}}; ESM names come from Node's reading of the CommonJS build.
    writeFileSync(
      join(project, "exports.cjs"),
      `const out = {};\nfor (const e of ${list}) out[e] = Object.fromEntries(Object.entries(require(e)).map(([k, v]) => [k, typeof v]));\nconsole.log(JSON.stringify(out));\n`,
    );
    writeFileSync(
      join(project, "exports.mjs"),
      `const out = {};\nfor (const e of ${list}) out[e] = Object.fromEntries(Object.entries(await import(e)).map(([k, v]) => [k, typeof v]));\nconsole.log(JSON.stringify(out));\n`,
    );
    writeFileSync(
      join(project, "named.mjs"),
      'import { rpc, decorate, ClusterRpcProxy } from "cliffracer";\nimport { workerFactory } from "cliffracer/testing";\n' +
        "console.log(JSON.stringify([rpc, decorate, ClusterRpcProxy, workerFactory].map((v) => typeof v)));\n",
    );
    const node = (file: string) => run(process.execPath, [file], { cwd: project, env: userEnv("") });
    const cjs = JSON.parse((await node("exports.cjs")).stdout) as Record<string, Record<string, string>>;
    const esm = JSON.parse((await node("exports.mjs")).stdout) as Record<string, Record<string, string>>;
    for (const entry of entries) {
      const { __esModule: _flag, ...named } = cjs[entry]!;
      const { default: _default, __esModule: _esmFlag, ...esmNamed } = esm[entry]!;
      expect({ entry, names: esmNamed }).toEqual({ entry, names: named });
      expect(Object.keys(named).length).toBeGreaterThan(0);
    }
    expect(cjs.cliffracer).toMatchObject({ rpc: "function", decorate: "function", ClusterRpcProxy: "function" });
    expect(cjs["cliffracer/testing"]).toMatchObject({ workerFactory: "function" });
    expect(JSON.parse((await node("named.mjs")).stdout)).toEqual(["function", "function", "function", "function"]);
  });
});
