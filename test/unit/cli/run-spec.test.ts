import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadServiceClasses } from "../../../src/cli/run";
import { CommandError } from "../../../src/errors";

// Plain CommonJS modules, as a compiled service is: an idle class (a name, no entrypoints) and a
// class with no name at all.
const MODULE = `
class Idle { constructor() { this.name = "idle_service"; } }
class Payload { constructor() { this.amount = 1; } }
module.exports = { Idle, Payload };
`;

describe("cliffracer run: which classes a module spec names", () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "cliff-run-spec-"));
    writeFileSync(join(dir, "idle.js"), MODULE);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("runs a class named after ':' even with no entrypoints, idle, as `nameko run module:Class` does", () => {
    const classes = loadServiceClasses("idle.js:Idle", dir);
    expect(classes.map((c) => c.name)).toEqual(["Idle"]);
  });

  it("refuses a named class without a service name", () => {
    expect(() => loadServiceClasses("idle.js:Payload", dir)).toThrow(CommandError);
    expect(() => loadServiceClasses("idle.js:Payload", dir)).toThrow(/exports no service class Payload/);
    expect(() => loadServiceClasses("idle.js:Missing", dir)).toThrow(/exports no service class Missing/);
  });

  it("finds only classes with entrypoints when no class is named, as Nameko does", () => {
    expect(() => loadServiceClasses("idle.js", dir)).toThrow(/exports no service class \(a class with a name and @rpc/);
  });
});
