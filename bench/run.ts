/**
 * `npm run bench [-- --quick] [--rounds N] [--only id,id] [--profile] [--heap-survivors] [--memory] [--verbose]`
 *
 * Starts what each case needs (every service, peer and caller in its own process), warms up, then
 * measures; cases run in turn, round after round, and are reported as median [min-max]. Prints the
 * tables, writes bench/results/latest.json, and exits non-zero if any available case failed.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join, resolve } from "node:path";
import { CASES } from "./cases";
import { buildForChildren, removeBuild } from "./lib/build";
import { Child } from "./lib/children";
import { availability, parseNeed, type Probe, type Timing } from "./lib/case";
import { machineInfo } from "./lib/proc";
import {
  caseReport,
  checkTargets,
  renderLimits,
  renderTables,
  renderTargets,
  summarize,
  type CaseReport,
} from "./lib/report";
import { runRound, type RoundResult } from "./lib/runner";
import { summarizeProfiles } from "./lib/profile-summary";
import { describeError } from "./lib/role";

const ROOT = resolve(__dirname, "..");
const RESULTS = join(__dirname, "results");

interface Options {
  quick: boolean;
  rounds: number;
  only: string[];
  profile: boolean;
  /** Profile what survives a scavenge (V8's sampling heap profiler) instead of CPU. */
  heapSurvivors: boolean;
  profileProcess: string;
  /** Sample each child's memory by kind every this many ms (0: off). */
  memorySampleMs: number;
  verbose: boolean;
  out: string;
}

function parseArgs(argv: string[]): Options {
  const o: Options = {
    quick: false,
    rounds: 3,
    only: [],
    profile: false,
    heapSurvivors: false,
    profileProcess: "service",
    memorySampleMs: 0,
    verbose: false,
    out: join(RESULTS, "latest.json"),
  };
  let roundsGiven = false;
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split("=", 2);
    const value = () => inline ?? argv[++i];
    switch (flag) {
      case "--quick":
        o.quick = true;
        break;
      case "--rounds":
        o.rounds = Math.max(1, Number(value()));
        roundsGiven = true;
        break;
      case "--only":
        o.only = value().split(",").filter(Boolean);
        break;
      case "--profile":
        o.profile = true;
        break;
      case "--heap-survivors":
        o.profile = true;
        o.heapSurvivors = true;
        break;
      case "--profile-process":
        o.profileProcess = value();
        break;
      case "--memory":
        o.memorySampleMs = 20;
        break;
      case "--verbose":
        o.verbose = true;
        break;
      case "--out":
        o.out = resolve(value());
        break;
      case "--help":
        process.stdout.write(
          "npm run bench -- [--quick] [--rounds N] [--only id,prefix] [--profile | --heap-survivors [--profile-process NAME,NAME|all]] [--memory] [--verbose] [--out file.json]\n" +
            `cases: ${CASES.map((c) => c.id).join(", ")}\n`,
        );
        process.exit(0);
        break;
      default:
        throw new Error(`unknown option ${argv[i]} (try --help)`);
    }
  }
  if (o.quick && !roundsGiven) o.rounds = 1;
  return o;
}

function timingFor(o: Options): Timing {
  return o.quick
    ? { warmupMs: 300, phaseMs: 500, concurrencies: [1, 16, 128], drainTimeoutMs: 20_000 }
    : { warmupMs: 1500, phaseMs: 2000, concurrencies: [1, 16, 128], drainTimeoutMs: 60_000 };
}

async function probeOurCode(): Promise<{ probe: Probe; versions: Record<string, string> }> {
  const modules = [...new Set(CASES.flatMap((c) => c.needs.map((n) => parseNeed(n)[0])))];
  const child = await Child.spawn("probe", "probe", {});
  try {
    return await child.command<{ probe: Probe; versions: Record<string, string> }>("probe", modules, 120_000);
  } finally {
    await child.stop();
  }
}

async function main(): Promise<number> {
  const options = parseArgs(process.argv.slice(2));
  // Children inherit the environment: each samples its own memory (bench/lib/child-main.ts).
  if (options.memorySampleMs > 0) process.env.BENCH_MEMORY_SAMPLE_MS = String(options.memorySampleMs);
  if (options.heapSurvivors) process.env.BENCH_HEAP_SURVIVORS = "1";
  const timing = timingFor(options);
  const began = Date.now();
  execFileSync("bash", [join(ROOT, "scripts", "ensure-servers.sh")], { stdio: ["ignore", "ignore", "inherit"] });
  buildForChildren();
  const machine = machineInfo();
  const loadBefore = loadavg();
  const { probe, versions } = await probeOurCode();
  process.stdout.write(
    `cliffracer bench — ${options.quick ? "quick" : "full"}, ${options.rounds} round(s); ${machine.cpuModel}, ${machine.cores} cores; ` +
      `node ${versions.node}; nats-server ${versions.natsServer}; ${versions.rabbitmq}; load ${loadBefore.map((l) => l.toFixed(2)).join(" ")}\n`,
  );
  const selected = (id: string) => options.only.length === 0 || options.only.some((o) => id === o || id.startsWith(o));
  const profileDir = join(RESULTS, "profiles", new Date().toISOString().replace(/[:.]/g, "-"));
  const rounds = new Map<string, RoundResult[]>(CASES.map((c) => [c.id, []]));
  const avail = new Map(CASES.map((c) => [c.id, availability(c.needs, probe)]));
  for (let round = 1; round <= options.rounds; round++) {
    for (const c of CASES) {
      if (!selected(c.id) || avail.get(c.id)?.status !== "available") continue;
      process.stdout.write(`round ${round}/${options.rounds}  ${c.id} ... `);
      const result = await runRound(c, round, {
        timing,
        verbose: options.verbose,
        memory: options.memorySampleMs > 0,
        profile: options.profile
          ? {
              dir: profileDir,
              processes: (name) => options.profileProcess.split(",").some((p) => p === "all" || name.includes(p)),
            }
          : undefined,
      });
      rounds.get(c.id)?.push(result);
      const top = Math.max(...(c.timing ? c.timing(timing) : timing).concurrencies);
      process.stdout.write(
        result.status === "ok"
          ? `ok, ${Math.round(result.measurement?.rates[top] ?? 0)}/s @${top}, p50 ${((result.measurement?.latency.p50 ?? 0) / 1000).toFixed(3)} ms (${(result.durationMs / 1000).toFixed(1)} s)\n`
          : `ERROR\n${result.error}\n`,
      );
    }
  }
  const reports: CaseReport[] = CASES.map((c) =>
    caseReport(c, rounds.get(c.id) ?? [], avail.get(c.id) ?? { status: "available" }, selected(c.id), timing),
  );
  summarize(reports);
  const targets = checkTargets(reports, timing.concurrencies);
  const loadAfter = loadavg();
  process.stdout.write(`\n${renderTables(reports, timing.concurrencies)}\n\nTargets\n${renderTargets(targets)}\n`);
  process.stdout.write(
    `\nload average before ${loadBefore.map((l) => l.toFixed(2)).join(" ")}, after ${loadAfter.map((l) => l.toFixed(2)).join(" ")}; ${((Date.now() - began) / 1000).toFixed(0)} s in all\n`,
  );
  if (options.profile)
    process.stdout.write(
      `\n${options.heapSurvivors ? "Heap" : "CPU"} profiles in ${profileDir}\n${summarizeProfiles(profileDir, 25)}\n`,
    );
  mkdirSync(RESULTS, { recursive: true });
  const json = {
    startedAt: new Date(began).toISOString(),
    durationS: (Date.now() - began) / 1000,
    mode: options.quick ? "quick" : "full",
    rounds: options.rounds,
    timing,
    machine,
    versions,
    loadAverage: { before: loadBefore, after: loadAfter },
    probe,
    cases: reports,
    targets,
  };
  writeFileSync(options.out, JSON.stringify(json, null, 2));
  const md = [
    `# Bench run ${json.startedAt} (${json.mode}, ${options.rounds} round(s), ${json.durationS.toFixed(0)} s)`,
    "",
    `Machine: ${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGb} GB; node ${versions.node}; nats-server ${versions.natsServer}; ` +
      `${versions.rabbitmq}; nats.js ${versions.natsJs}, amqplib ${versions.amqplib}, moleculer ${versions.moleculer}; ` +
      `load average before ${loadBefore.map((l) => l.toFixed(2)).join(" ")}, after ${loadAfter.map((l) => l.toFixed(2)).join(" ")}.`,
    "",
    renderTables(reports, timing.concurrencies),
    "",
    "Targets",
    "",
    renderTargets(targets),
    "",
    "What limits each case",
    "",
    renderLimits(reports),
    "",
  ].join("\n");
  writeFileSync(options.out.replace(/\.json$/, "") + ".md", md);
  process.stdout.write(`results written to ${options.out} and ${options.out.replace(/\.json$/, "")}.md\n`);
  const failed = reports.filter((r) => r.status === "error");
  if (failed.length > 0) {
    process.stderr.write(`\nFAILED: ${failed.map((r) => r.id).join(", ")}\n`);
    for (const r of failed) process.stderr.write(`--- ${r.id}\n${r.reason}\n`);
    return 1;
  }
  return 0;
}

main().then(
  (code) => {
    removeBuild();
    process.exit(code);
  },
  (err: unknown) => {
    removeBuild();
    process.stderr.write(`bench failed: ${describeError(err)}\n`);
    process.exit(1);
  },
);
