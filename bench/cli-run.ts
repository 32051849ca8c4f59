/**
 * `npm run bench:cli-run [-- --rounds N] [--profile DIR]`: `cliffracer run` of a compiled service
 * (a .js module compiled ahead of time, run by the installed bin), process start to ready: the
 * runner's "services running" log line, written once every entrypoint is subscribed; each round
 * then checks that the service answers a call (not timed). Against `node -e 0` (starting node at
 * all, to its exit) and a plain nats.js script that connects, subscribes and flushes (the floor).
 *
 * The installed package is lib/installed.ts's; the service module requires "cliffracer" through
 * app/node_modules/cliffracer, a link to it, as an application that depends on the package would.
 * Commands run one after another, each once per round, so the ratios are taken within the same
 * rounds; medians over rounds. "CPU ms" is the process's user+system CPU when it was ready: on a
 * shared machine the wall time also holds waiting for a core, the CPU time does not.
 * `--profile DIR` writes a V8 CPU profile of each `cliffracer run` (node --cpu-prof) into DIR.
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import * as ts from "typescript";
import { NATS_URL } from "./lib/env";
import { buildInstalled, median } from "./lib/installed";
import { cpuSeconds } from "./lib/proc";

/** The target (BENCHMARKS.md, `cliffracer run`: ready time). */
const TARGET_MS = 1000;
const READY_TIMEOUT_MS = 30_000;

interface Command {
  label: string;
  args: string[];
  /** Output that says the process is ready; none: the process is timed to its exit. */
  readyMarker?: string;
  /** Whether it serves the echo service once ready. */
  serves: boolean;
}

interface Timed {
  ms: number;
  cpuMs?: number;
}

/** The service, as its author writes it; compiled ahead of time, as for production. */
function serviceSource(service: string): string {
  return `import { rpc } from "cliffracer";

export class EchoService {
  name = ${JSON.stringify(service)};

  @rpc()
  async echo(text: string): Promise<string> {
    return text;
  }
}
`;
}

function compiledService(service: string): string {
  return ts.transpileModule(serviceSource(service), {
    compilerOptions: {
      module: ts.ModuleKind.CommonJS,
      target: ts.ScriptTarget.ES2022,
      experimentalDecorators: true,
      emitDecoratorMetadata: true,
    },
  }).outputText;
}

/** The floor: the least a NATS service does before it can answer (connect, subscribe, flush). */
function plainServiceSource(subject: string): string {
  return `const { connect } = require("@nats-io/transport-node");
(async () => {
  const nc = await connect({ servers: ${JSON.stringify(NATS_URL)} });
  nc.subscribe(${JSON.stringify(subject)}, {
    callback: (_err, msg) => {
      const { args } = JSON.parse(msg.string());
      msg.respond(JSON.stringify({ result: args[0], error: null }));
    },
  });
  await nc.flush();
  process.stdout.write("ready\\n");
  process.on("SIGTERM", () => nc.drain().then(() => process.exit(0)));
})();
`;
}

/** Run one command: time to its ready marker (or exit), check it serves, stop it. */
async function runOnce(c: Command, cwd: string, nc: NatsConnection, subject: string): Promise<Timed> {
  const t0 = process.hrtime.bigint();
  const child = spawn(process.execPath, c.args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
  const exited = new Promise<number | null>((done) => child.on("exit", (code) => done(code)));
  let output = "";
  const timed = await new Promise<Timed>((done, fail) => {
    const timer = setTimeout(
      () => fail(new Error(`${c.label}: not ready within ${READY_TIMEOUT_MS} ms\n${output}`)),
      READY_TIMEOUT_MS,
    );
    const ready = () => {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      const cpu = child.pid !== undefined ? cpuSeconds(child.pid) : undefined;
      clearTimeout(timer);
      done({ ms, cpuMs: cpu !== undefined ? cpu * 1000 : undefined });
    };
    const watch = (chunk: Buffer) => {
      output += chunk.toString("utf8");
      if (c.readyMarker && output.includes(c.readyMarker)) ready();
    };
    child.stdout.on("data", watch);
    child.stderr.on("data", watch);
    if (!c.readyMarker) {
      void exited.then((code) => {
        clearTimeout(timer);
        if (code === 0) done({ ms: Number(process.hrtime.bigint() - t0) / 1e6 });
        else fail(new Error(`${c.label} exited with ${code}\n${output}`));
      });
    } else {
      void exited.then((code) => fail(new Error(`${c.label} exited (${code}) before ready\n${output}`)));
    }
  }).catch((err: unknown) => {
    child.kill("SIGKILL");
    throw err;
  });
  if (c.serves) {
    const reply = await nc.request(subject, JSON.stringify({ args: ["hi"], kwargs: {} }), { timeout: 5000 });
    const result = (JSON.parse(reply.string()) as { result?: unknown }).result;
    if (result !== "hi") throw new Error(`${c.label} answered ${reply.string()}`);
  }
  if (c.readyMarker) {
    child.kill("SIGTERM");
    const stopTimer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(stopTimer);
  }
  return timed;
}

function option(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at > 0 ? process.argv[at + 1] : undefined;
}

async function main(): Promise<void> {
  const rounds = Math.max(1, Number(option("--rounds") ?? 10));
  const profileDir = option("--profile");
  const dir = mkdtempSync(join(tmpdir(), "cliffracer-bench-run-"));
  const service = `bench_run_${process.pid}`;
  const subject = `rpc.${service}.echo`;
  const nc = await connect({ servers: NATS_URL, noAsyncTraces: true, name: "bench-cli-run" });
  try {
    const pkg = join(dir, "package");
    mkdirSync(pkg);
    const bin = buildInstalled(pkg);
    mkdirSync(join(dir, "app", "node_modules"), { recursive: true });
    symlinkSync(pkg, join(dir, "app", "node_modules", "cliffracer"));
    writeFileSync(join(dir, "app", "echo-service.js"), compiledService(service));
    // Beside the package, whose node_modules has nats.js.
    writeFileSync(join(pkg, "plain-service.js"), plainServiceSource(subject));
    if (profileDir) mkdirSync(resolve(profileDir), { recursive: true });
    const profile = profileDir ? ["--cpu-prof", "--cpu-prof-dir", resolve(profileDir)] : [];
    const commands: Command[] = [
      { label: "node -e 0 (to exit)", args: ["-e", "0"], serves: false },
      {
        label: "plain nats.js service (floor)",
        args: [join("package", "plain-service.js")],
        readyMarker: "ready\n",
        serves: true,
      },
      {
        label: "cliffracer run, compiled service, installed",
        args: [...profile, bin, "run", join("app", "echo-service.js")],
        readyMarker: "services running",
        serves: true,
      },
    ];
    const times = commands.map((): Timed[] => []);
    const loadBefore = loadavg();
    for (let r = 0; r < rounds; r++) {
      for (const [i, c] of commands.entries()) times[i].push(await runOnce(c, dir, nc, subject));
    }
    const fmt = (xs: number[]) =>
      `${median(xs).toFixed(0)} (${Math.min(...xs).toFixed(0)}-${Math.max(...xs).toFixed(0)})`;
    const floor = median(times[1].map((t) => t.ms));
    const ours = median(times[2].map((t) => t.ms));
    const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(" ");
    process.stdout.write(`\n${rounds} rounds; load average before ${load(loadBefore)}, after ${load(loadavg())}\n\n`);
    process.stdout.write(
      "| command | ready ms, median (min-max) | CPU ms at ready, median | x plain service |\n| --- | --- | --- | --- |\n",
    );
    for (const [i, c] of commands.entries()) {
      const cpu = times[i].map((t) => t.cpuMs).filter((v): v is number => v !== undefined);
      const ms = times[i].map((t) => t.ms);
      process.stdout.write(
        `| ${c.label} | ${fmt(ms)} | ${cpu.length ? median(cpu).toFixed(0) : "-"} | ${(median(ms) / floor).toFixed(2)} |\n`,
      );
    }
    process.stdout.write(
      `\ntarget: cliffracer run ready < ${TARGET_MS} ms: ${ours.toFixed(0)} ms, ${ours < TARGET_MS ? "met" : "not met"}\n`,
    );
    if (profileDir) process.stdout.write(`CPU profiles of cliffracer run in ${resolve(profileDir)}\n`);
  } finally {
    await nc.drain();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
