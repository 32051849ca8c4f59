// A provider whose client library is not installed says which package to install.
import { ConfigurationError } from "../../../compat";
import { loadPeer } from "../../../providers/peer";

describe("loadPeer", () => {
  it("resolves with the loaded module", async () => {
    await expect(loadPeer("cliffracer/sql", "pg", () => Promise.resolve({ Pool: 1 }))).resolves.toEqual({ Pool: 1 });
  });

  it("turns a missing package into a ConfigurationError naming it", async () => {
    const missing = () => Promise.reject(new Error("Cannot find module 'pg'"));
    await expect(loadPeer("cliffracer/sql", "pg", missing)).rejects.toThrow(ConfigurationError);
    await expect(loadPeer("cliffracer/sql", "pg", missing)).rejects.toThrow(
      "cliffracer/sql needs the pg package, an optional peer dependency of cliffracer: npm install pg (Cannot find module 'pg')",
    );
  });
});
