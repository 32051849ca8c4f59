// `cliffracer port` and `cliffracer types` as commands: what they write and print, and how they fail.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Command } from "commander";
import { registerPort } from "../../../port/cli";

const GREETING = path.resolve(__dirname, "../../../examples/greeting/greeting_service.py");

describe("the port and types commands", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "cliff-port-cli-"));
  let out: string[];
  let err: string[];

  const run = (...args: string[]): Promise<unknown> => {
    const program = new Command("cliffracer").exitOverride();
    registerPort(program);
    return program.parseAsync(["node", "cliffracer", ...args]);
  };

  beforeEach(() => {
    out = [];
    err = [];
    jest.spyOn(process.stdout, "write").mockImplementation((chunk) => (out.push(String(chunk)), true));
    jest.spyOn(process.stderr, "write").mockImplementation((chunk) => (err.push(String(chunk)), true));
  });
  afterEach(() => jest.restoreAllMocks());
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("port writes <module>.ts into --out, prints the report, and keeps an existing file without --force", async () => {
    const py = path.join(dir, "inventory.py");
    writeFileSync(
      py,
      "from nameko.rpc import rpc\nfrom .stores import Stock\n\n\nclass Inventory:\n    name = 'inventory'\n    stock = Stock()\n\n    @rpc\n    def count(self, sku):\n        return 0\n",
    );
    await run("port", `${py}:Inventory`, "--out", path.join(dir, "out"));
    const written = readFileSync(path.join(dir, "out", "inventory.ts"), "utf8");
    expect(written).toContain('name = "inventory";');
    expect(out.join("")).toBe(
      [
        `wrote ${path.join(dir, "out", "inventory.ts")}: Inventory (inventory)`,
        `${py}:2: warning: \`Stock\` comes from \`stores\`, which is not read (port reads one file): what it is could not be checked`,
        `${py}:7: unmapped: Inventory.stock: custom dependency provider \`Stock\`: write it as a DependencyProvider (docs/extensions.md)`,
        "",
      ].join("\n"),
    );
    await expect(run("port", py, "--out", path.join(dir, "out"))).rejects.toThrow(/inventory\.ts exists: give --force/);
    await run("port", py, "--out", path.join(dir, "out"), "--force");
  });

  it("types prints the interface on stdout and the report on stderr", async () => {
    await run("types", GREETING);
    expect(out.join("")).toContain("export interface GreetingServiceApi {");
    expect(err).toEqual([]);
  });

  it("a file that does not parse fails with PythonSyntaxError and its line, writing nothing", async () => {
    const py = path.join(dir, "broken.py");
    writeFileSync(py, "class Broken:\n    name = 'broken'\n    def f(self, (:\n        pass\n");
    await expect(run("port", py, "--out", path.join(dir, "broken-out"))).rejects.toMatchObject({
      name: "PythonSyntaxError",
      line: 3,
    });
    expect(() => readFileSync(path.join(dir, "broken-out", "broken.ts"))).toThrow();
  });
});
