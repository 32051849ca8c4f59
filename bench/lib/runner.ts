/** Runs one case for one round: spawns its processes, measures CPU and peak RSS, stops everything. */
import { join } from "node:path";
import { Child } from "./children";
import type { BenchCase, CaseContext, Measurement, Timing } from "./case";
import { brokerPids, cpuSeconds, memoryMb } from "./proc";
import { randomToken } from "./env";
import { describeError } from "./role";

/** CPU and memory of one process over one round. */
export interface ProcessFigures {
  name: string;
  /** CPU seconds inside the measured window. */
  cpuSeconds?: number;
  /** CPU µs per measured operation. */
  cpuPerOpUs?: number;
  /** Peak RSS (VmHWM) in MB at the end of the round; brokers report current RSS. */
  peakRssMb?: number;
  /** Shared with other users of the machine (a broker). */
  shared?: boolean;
}

/** The outcome of one round of one case. */
export interface RoundResult {
  round: number;
  status: "ok" | "error";
  error?: string;
  measurement?: Measurement;
  processes: ProcessFigures[];
  durationMs: number;
}

/** How to run rounds. */
export interface RunnerOptions {
  timing: Timing;
  verbose: boolean;
  /** CPU-profile the measured window of the processes whose name matches, into dir. */
  profile?: { dir: string; processes: (name: string) => boolean };
}

/** Run one round of a case; never throws (errors become the round's status). */
export async function runRound(benchCase: BenchCase, round: number, options: RunnerOptions): Promise<RoundResult> {
  const started = Date.now();
  const children: Child[] = [];
  const brokers = brokerPids();
  let cpuStart = new Map<number, number>();
  let cpuEnd = new Map<number, number>();
  const sampleCpu = () => {
    const m = new Map<number, number>();
    for (const c of children) {
      const s = cpuSeconds(c.pid);
      if (s !== undefined) m.set(c.pid, s);
    }
    for (const b of brokers) {
      const s = cpuSeconds(b.pid);
      if (s !== undefined) m.set(b.pid, s);
    }
    return m;
  };
  const token = `${randomToken(6)}${round}`;
  const profile = options.profile;
  const profiled = () => children.filter((c) => profile?.processes(c.name));
  const ctx: CaseContext = {
    token,
    timing: options.timing,
    async spawn(name, role, roleOptions = {}) {
      const child = await Child.spawn(name, role, roleOptions);
      children.push(child);
      return child;
    },
    async markMeasureStart() {
      if (profile) await Promise.all(profiled().map((c) => c.command("profile-start")));
      cpuStart = sampleCpu();
    },
    async markMeasureEnd() {
      cpuEnd = sampleCpu();
      if (profile) {
        await Promise.all(
          profiled().map((c) => c.command("profile-stop", { file: join(profile.dir, `${benchCase.id}-r${round}-${c.name.replace(/\W+/g, "_")}.cpuprofile`) })),
        );
      }
    },
    log(message) {
      if (options.verbose) process.stderr.write(`  [${benchCase.id} r${round}] ${message}\n`);
    },
  };
  let measurement: Measurement | undefined;
  let error: string | undefined;
  try {
    measurement = await benchCase.run(ctx);
  } catch (err) {
    error = describeError(err);
  }
  const processes: ProcessFigures[] = [];
  const ops = measurement?.operations ?? 0;
  const cpuOf = (pid: number) => {
    const a = cpuStart.get(pid);
    const b = cpuEnd.get(pid);
    return a !== undefined && b !== undefined ? b - a : undefined;
  };
  for (const c of children) {
    const cpu = cpuOf(c.pid);
    processes.push({
      name: c.name,
      cpuSeconds: cpu,
      cpuPerOpUs: cpu !== undefined && ops > 0 ? (cpu / ops) * 1e6 : undefined,
      peakRssMb: memoryMb(c.pid, "VmHWM"),
    });
  }
  for (const b of brokers) {
    const cpu = cpuOf(b.pid);
    processes.push({
      name: b.name,
      cpuSeconds: cpu,
      cpuPerOpUs: cpu !== undefined && ops > 0 ? (cpu / ops) * 1e6 : undefined,
      peakRssMb: memoryMb(b.pid, "VmRSS"),
      shared: true,
    });
  }
  // Stop in reverse order of start: callers before the services they call.
  for (const c of [...children].reverse()) {
    try {
      await c.stop();
    } catch (err) {
      c.kill();
      if (!error) error = `stopping ${c.name}: ${describeError(err)}`;
    }
  }
  return {
    round,
    status: error ? "error" : "ok",
    error,
    measurement: error ? undefined : measurement,
    processes,
    durationMs: Date.now() - started,
  };
}
