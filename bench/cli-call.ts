/**
 * `npm run bench:cli [-- --rounds N]`: `cliffracer call` end to end, process start to printed
 * result, against a plain Node script making the same request with nats.js (the floor), and
 * `node -e 0` for the cost of starting node at all.
 *
 * The installed form is built as `npm pack` ships it (lib/installed.ts); the source-checkout form is bin/cliffracer.js of this repo (ts-node). The echo service is a
 * nats.js responder in this process answering in the Nameko reply shape. Commands run one after
 * another, each once per round, so every ratio is taken within the same rounds; medians over rounds.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { connect } from "@nats-io/transport-node";
import { NATS_URL } from "./lib/env";
import { buildInstalled, median } from "./lib/installed";

const ROOT = resolve(__dirname, "..");

interface Command {
  label: string;
  args: string[];
  /** Whether its stdout must be the call's result. */
  calls: boolean;
}

function run(args: string[], cwd: string): Promise<{ ms: number; stdout: string }> {
  const t0 = process.hrtime.bigint();
  return new Promise((done, fail) => {
    execFile(process.execPath, args, { cwd, encoding: "utf8" }, (err, stdout, stderr) => {
      if (err) fail(new Error(`node ${args.join(" ")}: ${err.message}\n${stderr}`));
      else done({ ms: Number(process.hrtime.bigint() - t0) / 1e6, stdout });
    });
  });
}

async function main(): Promise<void> {
  const roundsAt = process.argv.indexOf("--rounds");
  const rounds = roundsAt > 0 ? Math.max(1, Number(process.argv[roundsAt + 1])) : 10;
  const dir = mkdtempSync(join(tmpdir(), "cliffracer-bench-cli-"));
  const service = `bench_cli_${process.pid}`;
  const nc = await connect({ servers: NATS_URL, noAsyncTraces: true, name: "bench-cli-echo" });
  try {
    buildInstalled(dir);
    const subject = `rpc.${service}.echo`;
    writeFileSync(
      join(dir, "plain-call.js"),
      `const { connect } = require("@nats-io/transport-node");
(async () => {
  const nc = await connect({ servers: ${JSON.stringify(NATS_URL)} });
  const reply = await nc.request(${JSON.stringify(subject)}, JSON.stringify({ args: ["hi"], kwargs: {} }), { timeout: 5000 });
  process.stdout.write(JSON.stringify(JSON.parse(reply.string()).result) + "\\n");
  await nc.drain();
})();
`,
    );
    nc.subscribe(subject, {
      callback: (_err, msg) => {
        const { args } = JSON.parse(msg.string()) as { args: unknown[] };
        msg.respond(JSON.stringify({ result: args[0], error: null }));
      },
    });
    await nc.flush();
    const call = ["call", `${service}.echo`, '["hi"]'];
    const commands: Command[] = [
      { label: "node -e 0", args: ["-e", "0"], calls: false },
      { label: "plain nats.js script (floor)", args: ["plain-call.js"], calls: true },
      { label: "cliffracer call, installed (dist/)", args: ["bin/cliffracer.js", ...call], calls: true },
      { label: "cliffracer --version, installed", args: ["bin/cliffracer.js", "--version"], calls: false },
      {
        label: "cliffracer call, source checkout (ts-node)",
        args: [join(ROOT, "bin", "cliffracer.js"), ...call],
        calls: true,
      },
    ];
    const times = commands.map((): number[] => []);
    const loadBefore = loadavg();
    for (let r = 0; r < rounds; r++) {
      for (const [i, c] of commands.entries()) {
        const { ms, stdout } = await run(c.args, dir);
        if (c.calls && stdout.trim() !== '"hi"') throw new Error(`${c.label} printed ${JSON.stringify(stdout)}`);
        times[i].push(ms);
      }
    }
    const floor = median(times[1]);
    process.stdout.write(`\n${rounds} rounds; load average before ${loadBefore.map((x) => x.toFixed(2)).join(" ")}, `);
    process.stdout.write(
      `after ${loadavg()
        .map((x) => x.toFixed(2))
        .join(" ")}\n\n`,
    );
    process.stdout.write("| command | median ms | min-max ms | x plain script |\n| --- | --- | --- | --- |\n");
    for (const [i, c] of commands.entries()) {
      const m = median(times[i]);
      const span = `${Math.min(...times[i]).toFixed(0)}-${Math.max(...times[i]).toFixed(0)}`;
      process.stdout.write(`| ${c.label} | ${m.toFixed(0)} | ${span} | ${(m / floor).toFixed(2)} |\n`);
    }
  } finally {
    await nc.drain();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
