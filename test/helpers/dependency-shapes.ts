// What Cliffracer must never change inside its NATS and AMQP clients (docs/write-batching.md): the
// exported classes and functions of @nats-io/transport-node (its entry and lib/node_transport.js)
// and of amqplib's lib/ modules. Nothing here loads them until asked, so a child process can load
// Cliffracer first and only then look.
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const requireHere = createRequire(__filename);

/** The watched modules: a name for reports and how to resolve the file. */
function watchedModules(): Array<[string, string]> {
  const transport = requireHere.resolve("@nats-io/transport-node");
  // amqplib's and nats.js's package "exports" hide lib/, so their files are named by path.
  const transportLib = join(dirname(transport), "lib");
  const amqpLib = join(dirname(requireHere.resolve("amqplib")), "lib");
  return [
    ["@nats-io/transport-node", transport],
    ["@nats-io/transport-node/lib/node_transport.js", join(transportLib, "node_transport.js")],
    ...["mux", "codec", "connection", "frame", "defs", "channel", "channel_model"].map((m): [string, string] => [
      `amqplib/lib/${m}.js`,
      join(amqpLib, `${m}.js`),
    ]),
  ];
}

/** Every function reachable from the watched modules' exports and their prototypes, by path. */
export interface DependencyShape {
  /** path -> the function itself (for identity checks inside one process). */
  functions: Map<string, unknown>;
  /** path -> its source text, and the own property names of each prototype (comparable across processes). */
  described: Record<string, string>;
}

function describeValue(value: unknown): string {
  return typeof value === "function" ? Function.prototype.toString.call(value) : typeof value;
}

/** Loads the watched modules (if not yet loaded) and records their shape. */
export function dependencyShape(): DependencyShape {
  const functions = new Map<string, unknown>();
  const described: Record<string, string> = {};
  const note = (path: string, value: unknown): void => {
    functions.set(path, value);
    described[path] = describeValue(value);
  };
  for (const [name, file] of watchedModules()) {
    const exports = requireHere(file) as Record<string, unknown>;
    described[name] = Object.getOwnPropertyNames(exports).sort().join(",");
    for (const key of Object.getOwnPropertyNames(exports)) {
      const value = exports[key];
      if (typeof value !== "function") continue;
      note(`${name}#${key}`, value);
      const proto = (value as { prototype?: object }).prototype;
      if (typeof proto !== "object" || proto === null) continue;
      described[`${name}#${key}.prototype`] = Object.getOwnPropertyNames(proto).sort().join(",");
      for (const prop of Object.getOwnPropertyNames(proto)) {
        const d = Object.getOwnPropertyDescriptor(proto, prop);
        if (d?.value !== undefined) note(`${name}#${key}.prototype.${prop}`, d.value);
        if (d?.get) note(`${name}#${key}.prototype.get ${prop}`, d.get);
        if (d?.set) note(`${name}#${key}.prototype.set ${prop}`, d.set);
      }
    }
  }
  return { functions, described };
}

/** Paths whose function is no longer the one `before` recorded (or is gone), and paths added since. */
export function changedSince(before: DependencyShape, after: DependencyShape): string[] {
  const changed: string[] = [];
  for (const [path, fn] of before.functions) if (after.functions.get(path) !== fn) changed.push(path);
  for (const path of after.functions.keys()) if (!before.functions.has(path)) changed.push(`added ${path}`);
  for (const [path, text] of Object.entries(before.described))
    if (after.described[path] !== text && !before.functions.has(path)) changed.push(`members of ${path}`);
  return changed;
}
