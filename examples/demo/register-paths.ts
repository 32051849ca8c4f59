// The examples import "cliffracer" (and "cliffracer/amqp", "cliffracer/bridge", ...) as user code
// does; in a source checkout tsconfig.json maps those names to the sources. Imported first by
// run-demo.ts, so it runs before any module that imports them.
import path from "node:path";
import { loadConfig, register } from "tsconfig-paths";

const tsconfig = loadConfig(path.join(__dirname, "..", ".."));
if (tsconfig.resultType === "success") {
  // Only the public entries: tsconfig's other paths exist for the type checker alone.
  const entries = Object.entries(tsconfig.paths).filter(([name]) => /^cliffracer(\/|$)/.test(name));
  register({ baseUrl: tsconfig.absoluteBaseUrl, paths: Object.fromEntries(entries) });
}
