// A package-lock.json for a fresh project that depends on the packed tarball, taken from the
// repository's own lock: the same dependency versions the repository is tested with, and an
// install that needs no registry metadata (`npm ci` fetches nothing the npm cache already holds,
// while resolving a fresh project's ranges needs every package's metadata from the registry).
import { readFileSync } from "node:fs";
import { join } from "node:path";

interface LockEntry {
  version?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  dev?: boolean;
  peer?: boolean;
  [field: string]: unknown;
}

interface PackageJson {
  name: string;
  version: string;
  license?: string;
  bin?: Record<string, string>;
  engines?: Record<string, string>;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

/** The project's package.json and package-lock.json, as objects to write. */
export interface ProjectFiles {
  packageJson: object;
  packageLock: object;
}

/** Where `name` required from the package at lock path `from` is installed (Node's lookup, upwards). */
function resolveIn(packages: Record<string, LockEntry>, from: string, name: string): string | undefined {
  for (let base = from; ;) {
    const key = `${base ? `${base}/` : ""}node_modules/${name}`;
    if (packages[key]) return key;
    if (!base) return undefined;
    const up = base.lastIndexOf("/node_modules/");
    base = up === -1 ? "" : base.slice(0, up);
  }
}

/**
 * A project depending on the tarball (`file:<tarball>`, relative to the project), on `extra`
 * packages at the repository's locked versions, and on every peer of the package the repository
 * locks (so that each entry of the package can load), with the lock entries of all of them and
 * of what they need (dependencies, optional dependencies and required peers).
 */
export function projectForTarball(repoRoot: string, tarball: string, extra: readonly string[]): ProjectFiles {
  const pkg = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as PackageJson;
  const lock = JSON.parse(readFileSync(join(repoRoot, "package-lock.json"), "utf8")) as {
    packages: Record<string, LockEntry>;
  };
  const repo = lock.packages;
  const picked: Record<string, LockEntry> = {};
  const visit = (key: string): void => {
    if (picked[key]) return;
    const entry = repo[key];
    if (!entry) throw new Error(`package-lock.json has no ${key}`);
    const { dev: _dev, peer: _peer, ...rest } = entry;
    picked[key] = rest;
    const optional = new Set(Object.keys(entry.optionalDependencies ?? {}));
    const needs = [...Object.keys(entry.dependencies ?? {}), ...optional];
    for (const [peer] of Object.entries(entry.peerDependencies ?? {}))
      if (!entry.peerDependenciesMeta?.[peer]?.optional) needs.push(peer);
    for (const name of needs) {
      const found = resolveIn(repo, key, name);
      if (found) visit(found);
      else if (!optional.has(name)) throw new Error(`package-lock.json: ${key} needs ${name}, which is not locked`);
    }
  };

  const rootDependencies: Record<string, string> = { [pkg.name]: `file:${tarball}` };
  for (const name of Object.keys(pkg.dependencies ?? {})) visit(`node_modules/${name}`);
  for (const name of [...extra, ...Object.keys(pkg.peerDependencies ?? {})]) {
    const key = `node_modules/${name}`;
    const version = repo[key]?.version;
    if (!version) {
      if (extra.includes(name)) throw new Error(`package-lock.json does not lock ${name}`);
      continue;
    }
    rootDependencies[name] = version;
    visit(key);
  }

  const project = { name: "cliffracer-user", version: "1.0.0", private: true, dependencies: rootDependencies };
  const packages: Record<string, object> = {
    "": { name: project.name, version: project.version, dependencies: rootDependencies },
    [`node_modules/${pkg.name}`]: {
      version: pkg.version,
      resolved: `file:${tarball}`,
      license: pkg.license,
      dependencies: pkg.dependencies,
      bin: pkg.bin,
      engines: pkg.engines,
      peerDependencies: pkg.peerDependencies,
      peerDependenciesMeta: pkg.peerDependenciesMeta,
    },
    ...picked,
  };
  return { packageJson: project, packageLock: { name: project.name, lockfileVersion: 3, requires: true, packages } };
}
