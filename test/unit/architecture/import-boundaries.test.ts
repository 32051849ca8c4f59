import {
  ENTRIES,
  existsInRepo,
  LAYERS,
  layerViolations,
  PACKAGE_ENTRIES,
  resolveSpecifier,
  sourcesUnder,
  specifiersOf,
} from "./layers";

const production = (): Map<string, string> => new Map(Object.keys(LAYERS).flatMap((layer) => [...sourcesUnder(layer)]));

/** The production tree with `line` added at the top of `file`. */
function withLine(file: string, line: string): Map<string, string> {
  const files = production();
  files.set(file, `${line}\n${files.get(file) ?? ""}`);
  return files;
}

describe("layer boundaries", () => {
  it("hold on the tree as committed", () => {
    expect(layerViolations(production(), existsInRepo)).toEqual([]);
  });

  it("every declared entry and package name points at a file that exists", () => {
    for (const entry of [...ENTRIES, ...Object.values(PACKAGE_ENTRIES)])
      expect({ entry, exists: existsInRepo(entry) }).toEqual({ entry, exists: true });
  });

  it.each([
    ["a relative import", 'import { createBridge } from "../bridge/bridge";'],
    ["a relative import of an entry", 'export { createBridge } from "../bridge";'],
    ["the package name", 'import { createBridge } from "cliffracer/bridge";'],
    ["a dynamic import()", 'export const load = () => import("cliffracer/bridge");'],
    ["a relative dynamic import()", 'export const load = () => import("../bridge/config");'],
    ["require()", 'export const bridge = require("../bridge/bridge");'],
    ["import = require()", 'import bridge = require("cliffracer/bridge");'],
    ["an import type", 'export type B = import("../bridge/bridge").Bridge;'],
  ])("fail when the runtime reaches up into the bridge through %s", (_kind, line) => {
    const found = layerViolations(withLine("src/errors.ts", line), existsInRepo);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/^src\/errors\.ts: imports bridge\/.* layer src may not use bridge$/);
  });

  it("fail when the bridge reaches into the runtime past its entries", () => {
    const found = layerViolations(
      withLine("bridge/bridge.ts", 'import { RpcClient } from "../src/client/rpc-client";'),
      existsInRepo,
    );
    expect(found).toEqual([
      "bridge/bridge.ts: imports src/client/rpc-client.ts (../src/client/rpc-client), which is not an entry of src",
    ]);
  });

  it("fail when compat, the bottom layer, imports any layer or an I/O package", () => {
    expect(
      layerViolations(withLine("compat/codec.ts", 'import { AmqpConnection } from "../amqp";'), existsInRepo),
    ).toHaveLength(1);
    expect(layerViolations(withLine("compat/codec.ts", 'import amqp from "amqplib";'), existsInRepo)).toEqual([
      "compat/codec.ts: imports package amqplib, which layer compat may not use",
    ]);
  });

  it("fail when the AMQP layer and the runtime import each other", () => {
    expect(
      layerViolations(withLine("amqp/connection.ts", 'import { rpc } from "cliffracer";'), existsInRepo),
    ).toHaveLength(1);
    expect(
      layerViolations(withLine("src/errors.ts", 'import { AmqpConnection } from "cliffracer/amqp";'), existsInRepo),
    ).toHaveLength(1);
  });

  it("fail on a specifier that resolves to no module", () => {
    expect(layerViolations(withLine("src/errors.ts", 'import "./no-such-module";'), existsInRepo)).toEqual([
      "src/errors.ts: ./no-such-module does not resolve to a module of the repository (unresolved:src/no-such-module)",
    ]);
  });

  it("find every kind of import in a source", () => {
    const text = [
      'import a from "./a";',
      'export { b } from "./b";',
      'import c = require("./c");',
      'const d = require("./d");',
      'const e = import("./e");',
      'type F = import("./f").F;',
    ].join("\n");
    expect(specifiersOf("x.ts", text)).toEqual(["./a", "./b", "./c", "./d", "./e", "./f"]);
    expect(resolveSpecifier("bridge/x.ts", "cliffracer", existsInRepo)).toBe("src/index.ts");
  });
});

describe("packages the public entry loads", () => {
  /** The packages a module and everything it imports from the repository name, however they are imported. */
  function packagesReachedFrom(entry: string): Set<string> {
    const files = production();
    const seen = new Set<string>();
    const packages = new Set<string>();
    const visit = (file: string): void => {
      if (seen.has(file)) return;
      seen.add(file);
      for (const specifier of specifiersOf(file, files.get(file) ?? "")) {
        const target = resolveSpecifier(file, specifier, existsInRepo);
        if (target === undefined) packages.add(specifier);
        else if (files.has(target)) visit(target);
      }
    };
    visit(entry);
    return packages;
  }

  it('import "cliffracer" never loads prom-client, which only `cliffracer run` with metrics needs', () => {
    expect(packagesReachedFrom("src/index.ts").has("prom-client")).toBe(false);
    // The check can see prom-client where it is used.
    expect(packagesReachedFrom("src/internal.ts").has("prom-client")).toBe(true);
  });
});

describe("imports outside the layers", () => {
  it("examples use the framework only through its public package names", () => {
    const found = [...sourcesUnder("examples")].flatMap(([file, text]) =>
      specifiersOf(file, text)
        .filter(
          (s) =>
            (s.startsWith(".") && /(^|\/)(compat|amqp|src|bridge|cli)(\/|$)/.test(s)) || s === "cliffracer/internal",
        )
        .map((s) => `${file} imports ${s}`),
    );
    expect(found).toEqual([]);
  });

  it("the Nameko peer used by interop tests imports nothing from the project", () => {
    const found = [...sourcesUnder("test/interop/nameko-peer")]
      .filter(([file]) => !file.endsWith(".test.ts"))
      .flatMap(([file, text]) =>
        specifiersOf(file, text)
          .filter((s) => !(s.startsWith("node:") || s === "amqplib" || /^\.\/[\w-]+$/.test(s)))
          .map((s) => `${file} imports ${s}`),
      );
    expect(found).toEqual([]);
  });
});
