// The bench fails loudly: a case whose calls get a wrong answer makes `npm run bench`
// exit non-zero and name the case, against the real nats-server. Speed is never asserted here.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { NATS_URL } from "../../helpers/brokers";

jest.setTimeout(180_000);

const ROOT = join(__dirname, "..", "..", "..");

interface BenchRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** `npm run bench -- --quick --only rpc.nats-floor`, its results written to a scratch directory. */
function runFloorCase(outDir: string): Promise<BenchRun> {
  const args = [
    "--transpile-only",
    "bench/run.ts",
    "--quick",
    "--only",
    "rpc.nats-floor",
    "--out",
    join(outDir, "run.json"),
  ];
  return new Promise((resolve) => {
    execFile(
      join(ROOT, "node_modules", ".bin", "ts-node"),
      args,
      { cwd: ROOT, env: { ...process.env, NATS_URL } },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe("npm run bench on a wrong answer", () => {
  let outDir: string;
  let rogue: NatsConnection | undefined;

  beforeEach(() => {
    outDir = mkdtempSync(join(tmpdir(), "cliffracer-bench-"));
  });
  afterEach(async () => {
    await rogue?.close();
    rogue = undefined;
    rmSync(outDir, { recursive: true, force: true });
  });

  it("exits 0 when every call of the case gets its own payload back", async () => {
    const run = await runFloorCase(outDir);
    expect(run.stdout).toMatch(/rpc\.nats-floor \.\.\. ok/);
    expect(run.code).toBe(0);
  });

  it("exits non-zero and names the case when a second responder answers with the wrong bytes", async () => {
    // Subscribed outside the echo's queue group: every request also reaches this responder, and the
    // caller takes whichever reply comes first.
    rogue = await connect({ servers: NATS_URL, noAsyncTraces: true });
    rogue.subscribe("bench.*.echo", {
      callback: (_err, msg) => {
        msg.respond("not the payload");
      },
    });
    await rogue.flush();
    const run = await runFloorCase(outDir);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/FAILED: rpc\.nats-floor/);
    expect(run.stderr).toMatch(/wrong echo/);
  });
});
