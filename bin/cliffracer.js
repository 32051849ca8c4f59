#!/usr/bin/env node
"use strict";
// In a source checkout run the TypeScript CLI directly; an installed package runs the build.
const path = require("path");
const fs = require("fs");
const root = path.join(__dirname, "..");
const sourceMain = path.join(root, "cli", "main.ts");
if (fs.existsSync(sourceMain)) {
  require("ts-node").register({ transpileOnly: true, project: path.join(root, "tsconfig.json") });
  // The public entries ("cliffracer", "cliffracer/bridge", ...) map to sources as tsconfig.json
  // says; only those: its other paths exist for the type checker alone.
  const paths = require("tsconfig-paths");
  const tsconfig = paths.loadConfig(root);
  const entries = Object.fromEntries(Object.entries(tsconfig.paths).filter(([name]) => /^cliffracer(\/|$)/.test(name)));
  paths.register({ baseUrl: tsconfig.absoluteBaseUrl, paths: entries });
  require(sourceMain).main(process.argv);
} else {
  require(path.join(root, "dist", "cli", "main.js")).main(process.argv);
}
