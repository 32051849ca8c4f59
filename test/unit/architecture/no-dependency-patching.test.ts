// Loading Cliffracer changes nothing inside nats.js or amqplib (docs/write-batching.md): a process
// that loads "cliffracer", "cliffracer/amqp" and "cliffracer/bridge" sees the same exported classes,
// prototypes and functions of @nats-io/transport-node and amqplib's lib/ as a process that never
// loaded Cliffracer. Each case runs in a fresh child process, so nothing else loaded them first.
import { execFile } from "node:child_process";
import { join, resolve } from "node:path";

const ROOT = resolve(__dirname, "../../..");
const SHAPES = join(ROOT, "test/helpers/dependency-shapes.ts");

// Runs TypeScript as bin/cliffracer.js does in a checkout: ts-node, and the package's own names
// mapped to the sources (only those; tsconfig.json's other paths are for the type checker).
const CHILD = `
require("ts-node").register({ transpileOnly: true, project: ${JSON.stringify(join(ROOT, "tsconfig.json"))} });
const paths = require("tsconfig-paths");
const tsconfig = paths.loadConfig(${JSON.stringify(ROOT)});
const entries = Object.fromEntries(Object.entries(tsconfig.paths).filter(([n]) => /^cliffracer(\\/|$)/.test(n)));
paths.register({ baseUrl: tsconfig.absoluteBaseUrl, paths: entries });
const { dependencyShape, changedSince } = require(${JSON.stringify(SHAPES)});
const loadCliffracer = () => ["cliffracer", "cliffracer/amqp", "cliffracer/bridge"].forEach((m) => require(m));
const mode = process.argv[1];
let out;
if (mode === "never") out = dependencyShape().described;
if (mode === "cliffracer-first") { loadCliffracer(); out = dependencyShape().described; }
if (mode === "dependencies-first") { const before = dependencyShape(); loadCliffracer(); out = changedSince(before, dependencyShape()); }
process.stdout.write(JSON.stringify(out));
`;

function child(mode: string): Promise<unknown> {
  return new Promise((resolvePromise, reject) => {
    execFile(
      process.execPath,
      ["-e", CHILD, mode],
      { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`${mode}: ${err.message}\n${stderr}`));
        else resolvePromise(JSON.parse(stdout) as unknown);
      },
    );
  });
}

// Three cold ts-node processes on a shared machine.
jest.setTimeout(180_000);

describe("loading Cliffracer leaves its dependencies as they are", () => {
  let never: Record<string, string>;
  let cliffracerFirst: Record<string, string>;
  let changedWhenDependenciesFirst: string[];

  beforeAll(async () => {
    [never, cliffracerFirst, changedWhenDependenciesFirst] = (await Promise.all([
      child("never"),
      child("cliffracer-first"),
      child("dependencies-first"),
    ])) as [Record<string, string>, Record<string, string>, string[]];
  });

  it("the shape covers the classes and functions that matter", () => {
    for (const path of [
      "@nats-io/transport-node/lib/node_transport.js#NodeTransport.prototype._send",
      "@nats-io/transport-node#ProtocolHandler.prototype.flushPending",
      "amqplib/lib/mux.js#Mux.prototype._readIncoming",
      "amqplib/lib/codec.js#decodeFields",
      "amqplib/lib/connection.js#Connection.prototype.recvFrame",
    ])
      expect({ path, recorded: path in never }).toEqual({ path, recorded: true });
  });

  it("a process that loaded Cliffracer before them sees what a process that never loaded it sees", () => {
    expect(cliffracerFirst).toEqual(never);
  });

  it("loading Cliffracer after them replaces no function and adds none", () => {
    expect(changedWhenDependenciesFirst).toEqual([]);
  });
});
