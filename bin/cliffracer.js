#!/usr/bin/env node
"use strict";
// In a source checkout run the TypeScript CLI directly; an installed package runs the build.
const path = require("path");
const fs = require("fs");
const root = path.join(__dirname, "..");
const sourceMain = path.join(root, "src", "cli", "main.ts");
if (fs.existsSync(sourceMain)) {
  require("ts-node").register({ transpileOnly: true, project: path.join(root, "tsconfig.json") });
  require("tsconfig-paths").register({ baseUrl: root, paths: { cliffracer: ["src/index.ts"], "cliffracer/testing": ["src/testing/index.ts"] } });
  require(sourceMain).main(process.argv);
} else {
  require(path.join(root, "dist", "src", "cli", "main.js")).main(process.argv);
}
