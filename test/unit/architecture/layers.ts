/**
 * The layer rules of the repository and a checker for them (docs/architecture.md). Each top-level
 * folder is one layer; a layer may import only the layers listed under it, and only through their
 * entry modules. Specifiers are resolved the way the compiler and the package resolve them:
 * relative paths, the package's own names (`cliffracer`, `cliffracer/*`), static and dynamic
 * `import`, `export ... from`, `import x = require()` and `require()`.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, posix, relative, resolve } from "node:path";
import ts from "typescript";

export const root = resolve(__dirname, "../../..");

/** Layers from the bottom up, with what each may import. */
export const LAYERS: Record<string, { uses: string[]; forbiddenPackages: RegExp }> = {
  compat: {
    uses: [],
    forbiddenPackages:
      /^(amqplib|@nats-io\/.*|fastify|winston|prom-client|commander|pg|ioredis|node:(net|http|https|fs|dgram|child_process))$/,
  },
  amqp: { uses: ["compat"], forbiddenPackages: /^(@nats-io\/.*|fastify|prom-client|commander|pg|ioredis)$/ },
  // The storage clients are optional peers: only the provider entries (cliffracer/sql, cliffracer/redis) load them.
  // prom-client is allowed since `cliffracer run` serves /metrics: its metrics and ops server live in
  // src/observability/, shared with the bridge (one implementation), and only the `run` command
  // loads them, never `import "cliffracer"` (import-boundaries.test.ts).
  src: { uses: ["compat"], forbiddenPackages: /^(amqplib|pg|ioredis)$/ },
  providers: { uses: ["compat", "src"], forbiddenPackages: /^(amqplib|prom-client|@nats-io\/.*|commander)$/ },
  sidebyside: { uses: ["compat", "amqp", "src"], forbiddenPackages: /^(pg|ioredis)$/ },
  // Shadow traffic (docs/shadow.md) is the side-by-side engine run on live calls inside the bridge's
  // process, ops port and config: the bridge starts it through sidebyside/shadow.ts; sidebyside
  // never uses the bridge.
  bridge: { uses: ["compat", "amqp", "src", "sidebyside"], forbiddenPackages: /^(pg|ioredis)$/ },
  // Reads Python and writes TypeScript: no broker, no storage.
  port: { uses: ["compat", "src"], forbiddenPackages: /^(amqplib|@nats-io\/.*|fastify|prom-client|pg|ioredis)$/ },
  cli: { uses: ["compat", "src", "bridge", "sidebyside", "port"], forbiddenPackages: /^(pg|ioredis)$/ },
};

/** The modules through which another layer may enter a layer. */
export const ENTRIES = new Set([
  "compat/index.ts",
  "amqp/index.ts",
  "src/index.ts",
  "src/internal.ts",
  "src/cli/index.ts",
  "src/testing/index.ts",
  "bridge/index.ts",
  "bridge/cli.ts",
  "providers/sql/index.ts",
  "providers/redis/index.ts",
  "sidebyside/index.ts",
  "sidebyside/cli.ts",
  "sidebyside/testing.ts",
  "sidebyside/shadow.ts",
  "port/index.ts",
  "port/cli.ts",
]);

/** The package's own names, as tsconfig.json maps them (the package's `exports`). */
export const PACKAGE_ENTRIES: Record<string, string> = {
  cliffracer: "src/index.ts",
  "cliffracer/testing": "sidebyside/testing.ts",
  "cliffracer/compat": "compat/index.ts",
  "cliffracer/amqp": "amqp/index.ts",
  "cliffracer/bridge": "bridge/index.ts",
  "cliffracer/sql": "providers/sql/index.ts",
  "cliffracer/redis": "providers/redis/index.ts",
};

/** Every module specifier a TypeScript or JavaScript source names, however it imports it. */
export function specifiersOf(fileName: string, text: string): string[] {
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (
      (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) &&
      node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier)
    ) {
      found.push(node.moduleSpecifier.text);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      const expr = node.moduleReference.expression;
      if (ts.isStringLiteral(expr)) found.push(expr.text);
    } else if (ts.isCallExpression(node) && node.arguments.length > 0) {
      const isImport = node.expression.kind === ts.SyntaxKind.ImportKeyword;
      const isRequire = ts.isIdentifier(node.expression) && node.expression.text === "require";
      const arg = node.arguments[0];
      if ((isImport || isRequire) && arg !== undefined && ts.isStringLiteralLike(arg)) found.push(arg.text);
    } else if (
      ts.isImportTypeNode(node) &&
      ts.isLiteralTypeNode(node.argument) &&
      ts.isStringLiteral(node.argument.literal)
    ) {
      found.push(node.argument.literal.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

/** A repository file (posix, relative to the root) that `specifier` names from `from`; undefined for a package outside the repo. */
export function resolveSpecifier(
  from: string,
  specifier: string,
  exists: (file: string) => boolean,
): string | undefined {
  const packageEntry = PACKAGE_ENTRIES[specifier];
  if (packageEntry !== undefined) return packageEntry;
  if (specifier === "cliffracer" || specifier.startsWith("cliffracer/")) return `cliffracer-unknown-entry:${specifier}`;
  if (!specifier.startsWith(".")) return undefined;
  const base = posix.normalize(posix.join(posix.dirname(from), specifier));
  const candidates = [base, `${base}.ts`, `${base}.js`, `${base}/index.ts`, `${base}/index.js`];
  return candidates.find(exists) ?? `unresolved:${base}`;
}

const layerOf = (file: string): string => file.split("/")[0] ?? "";

/** What breaks the layer rules in `files` (posix paths relative to the root, with their text). */
export function layerViolations(files: ReadonlyMap<string, string>, exists: (file: string) => boolean): string[] {
  const out: string[] = [];
  for (const [file, text] of files) {
    const layer = LAYERS[layerOf(file)];
    if (layer === undefined) continue;
    for (const specifier of specifiersOf(file, text)) {
      const target = resolveSpecifier(file, specifier, exists);
      if (target === undefined) {
        if (layer.forbiddenPackages.test(specifier))
          out.push(`${file}: imports package ${specifier}, which layer ${layerOf(file)} may not use`);
        continue;
      }
      if (target.includes(":")) {
        out.push(`${file}: ${specifier} does not resolve to a module of the repository (${target})`);
        continue;
      }
      // The package's own metadata (the CLI prints its version) belongs to no layer.
      if (target === "package.json") continue;
      const targetLayer = layerOf(target);
      if (targetLayer === layerOf(file)) {
        // Inside a layer any module may import any other, but never through the package's own name.
        if (!specifier.startsWith("."))
          out.push(`${file}: imports its own layer through the package name ${specifier}`);
        continue;
      }
      if (!layer.uses.includes(targetLayer)) {
        out.push(`${file}: imports ${target} (${specifier}); layer ${layerOf(file)} may not use ${targetLayer}`);
      } else if (!ENTRIES.has(target)) {
        out.push(`${file}: imports ${target} (${specifier}), which is not an entry of ${targetLayer}`);
      }
    }
  }
  return out;
}

/** The TypeScript and JavaScript sources under `dir` (relative to the root). */
export function sourcesUnder(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (rel: string): void => {
    for (const entry of readdirSync(join(root, rel))) {
      const path = posix.join(rel, entry);
      if (statSync(join(root, path)).isDirectory()) walk(path);
      else if (/\.(ts|js)$/.test(entry)) files.set(path, readFileSync(join(root, path), "utf8"));
    }
  };
  walk(dir);
  return files;
}

export const existsInRepo = (file: string): boolean =>
  existsSync(join(root, file)) && statSync(join(root, file)).isFile();
export const relativeToRoot = (path: string): string => relative(root, path).split("\\").join("/");
