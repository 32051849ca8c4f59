// The examples import "cliffracer" as user code does; in a source checkout that name is src/index.ts.
// Imported first by run-demo.ts, so it runs before any module that imports "cliffracer".
import path from "node:path";
import { register } from "tsconfig-paths";

register({ baseUrl: path.join(__dirname, "..", ".."), paths: { cliffracer: ["src/index.ts"] } });
