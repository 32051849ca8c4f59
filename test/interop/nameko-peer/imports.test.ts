import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

// The peer is the independent yardstick: it may import only node built-ins, amqplib and its own files.
describe("nameko-peer independence", () => {
  const dir = __dirname;
  const files = readdirSync(dir).filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts"));

  it("has source files", () => {
    expect(files.length).toBeGreaterThan(0);
  });

  it.each(files)("%s imports nothing from the project", (file) => {
    const src = readFileSync(join(dir, file), "utf8");
    const specifiers = [...src.matchAll(/(?:from\s+|import\s*\(\s*|require\s*\(\s*|import\s+)["']([^"']+)["']/g)].map(
      (m) => m[1],
    );
    for (const s of specifiers) {
      const allowed = s.startsWith("node:") || s === "amqplib" || /^\.\/[\w-]+$/.test(s);
      expect({ file, specifier: s, allowed }).toEqual({ file, specifier: s, allowed: true });
    }
  });
});
