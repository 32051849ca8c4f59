#!/usr/bin/env node
"use strict";
// An installed package runs the compiled CLI (dist/) and loads a TypeScript loader only when the
// user's own module is a `.ts` file; a source checkout (cli/main.ts present) runs the sources.
const path = require("path");
const fs = require("fs");
const root = path.join(__dirname, "..");
const sourceMain = path.join(root, "cli", "main.ts");

/** ts-node for the user's modules, with the decorator settings Cliffracer's decorators need. */
function registerTypeScript(options) {
  require("ts-node").register({
    transpileOnly: true,
    // Cliffracer's own TypeScript compiles (transpiles) the user's modules: the user's may be one
    // without the compiler API ts-node needs (TypeScript 7 has none), and type checking is theirs.
    compiler: require.resolve("typescript", { paths: [root] }),
    // The CLI loads modules with require(): CommonJS, whatever module setting a tsconfig has.
    compilerOptions: {
      experimentalDecorators: true,
      emitDecoratorMetadata: true,
      module: "commonjs",
      moduleResolution: "node10",
    },
    ...options,
  });
}

if (fs.existsSync(sourceMain)) {
  registerTypeScript({ project: path.join(root, "tsconfig.json") });
  // The public entries ("cliffracer", "cliffracer/bridge", ...) map to sources as tsconfig.json
  // says; only those: its other paths exist for the type checker alone.
  const paths = require("tsconfig-paths");
  const tsconfig = paths.loadConfig(root);
  const entries = Object.fromEntries(Object.entries(tsconfig.paths).filter(([name]) => /^cliffracer(\/|$)/.test(name)));
  paths.register({ baseUrl: tsconfig.absoluteBaseUrl, paths: entries });
  require(sourceMain).main(process.argv);
} else {
  // `cliffracer run service.ts[:Class]`: only then is the TypeScript compiler worth loading.
  if (process.argv.slice(2).some((arg) => /\.[cm]?ts(:[\w$]+)?$/.test(arg))) registerTypeScript({});
  require(path.join(root, "dist", "cli", "main.js")).main(process.argv);
}
