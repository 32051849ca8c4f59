/** Runs one case for one round: spawns its processes, measures CPU and peak RSS, stops everything. */
import { join } from "node:path";
import { Child } from "./children";
import type { BenchCase, CaseContext, Measurement, Timing } from "./case";
import { brokerPids, cpuSeconds, memoryMb, syscalls } from "./proc";
import { randomToken } from "./env";
import { describeError } from "./role";
import { DEFAULT_BODY_BYTES } from "./payload";

/** CPU and memory of one process over one round. */
export interface ProcessFigures {
  name: string;
  /** CPU seconds inside the measured window. */
  cpuSeconds?: number;
  /** CPU µs per measured operation. */
  cpuPerOpUs?: number;
  /** write() family system calls per measured operation (socket writes: how well sends are batched). */
  writesPerOp?: number;
  /** read() family system calls per measured operation. */
  readsPerOp?: number;
  /** Peak RSS (VmHWM) in MB at the end of the round; brokers report current RSS. */
  peakRssMb?: number;
  /** Fork to "ready", ms (start-up of the process and of what its role starts); brokers have none. */
  readyMs?: number;
  /** Shared with other users of the machine (a broker). */
  shared?: boolean;
  /** With `--memory`: the process's own peaks by kind in MB (rss, heapUsed, new_space, external...). */
  memoryPeaksMb?: Record<string, number>;
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
  /** Ask every child for its memory peaks by kind (children sample them when BENCH_MEMORY_SAMPLE_MS is set). */
  memory?: boolean;
}

/** Run one round of a case; never throws (errors become the round's status). */
export async function runRound(benchCase: BenchCase, round: number, options: RunnerOptions): Promise<RoundResult> {
  const started = Date.now();
  const children: Child[] = [];
  const brokers = brokerPids();
  interface Sample {
    cpu?: number;
    io?: { reads: number; writes: number };
  }
  let cpuStart = new Map<number, Sample>();
  let cpuEnd = new Map<number, Sample>();
  const sampleCpu = () => {
    const m = new Map<number, Sample>();
    const pids = [...children.flatMap((c) => [c.pid, ...c.extraPids.map((e) => e.pid)]), ...brokers.map((b) => b.pid)];
    for (const pid of pids) m.set(pid, { cpu: cpuSeconds(pid), io: syscalls(pid) });
    return m;
  };
  const token = `${randomToken(6)}${round}`;
  const profile = options.profile;
  const profiled = () => children.filter((c) => profile?.processes(c.name));
  const ctx: CaseContext = {
    token,
    timing: benchCase.timing ? benchCase.timing(options.timing) : options.timing,
    bodyBytes: benchCase.payloadBytes ?? DEFAULT_BODY_BYTES,
    async spawn(name, role, roleOptions = {}) {
      const child = await Child.spawn(name, role, roleOptions);
      children.push(child);
      return child;
    },
    async spawnAll(specs) {
      const settled = await Promise.allSettled(
        specs.map(([name, role, roleOptions]) => Child.spawn(name, role, roleOptions ?? {})),
      );
      for (const s of settled) if (s.status === "fulfilled") children.push(s.value);
      const failed = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
      if (failed) throw failed.reason;
      return settled.map((s) => (s as PromiseFulfilledResult<Child>).value);
    },
    async markMeasureStart() {
      if (profile) await Promise.all(profiled().map((c) => c.command("profile-start")));
      cpuStart = sampleCpu();
    },
    async markMeasureEnd() {
      cpuEnd = sampleCpu();
      if (profile) {
        await Promise.all(
          profiled().map((c) =>
            c.command("profile-stop", {
              file: join(profile.dir, `${benchCase.id}-r${round}-${c.name.replace(/\W+/g, "_")}.cpuprofile`),
            }),
          ),
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
  const figures = (pid: number): Omit<ProcessFigures, "name"> => {
    const a = cpuStart.get(pid);
    const b = cpuEnd.get(pid);
    const cpu = a?.cpu !== undefined && b?.cpu !== undefined ? b.cpu - a.cpu : undefined;
    const perOp = (x: number | undefined) => (x !== undefined && ops > 0 ? x / ops : undefined);
    return {
      cpuSeconds: cpu,
      cpuPerOpUs: perOp(cpu !== undefined ? cpu * 1e6 : undefined),
      writesPerOp: perOp(a?.io && b?.io ? b.io.writes - a.io.writes : undefined),
      readsPerOp: perOp(a?.io && b?.io ? b.io.reads - a.io.reads : undefined),
    };
  };
  for (const c of children) {
    const memoryPeaksMb =
      options.memory && c.alive
        ? ((await c.command<Record<string, number> | null>("memory-peaks").catch(() => null)) ?? undefined)
        : undefined;
    processes.push({
      name: c.name,
      ...figures(c.pid),
      peakRssMb: memoryMb(c.pid, "VmHWM"),
      readyMs: c.readyMs,
      memoryPeaksMb,
    });
    for (const e of c.extraPids)
      processes.push({ name: e.name, ...figures(e.pid), peakRssMb: memoryMb(e.pid, "VmHWM") });
  }
  for (const b of brokers)
    processes.push({ name: b.name, ...figures(b.pid), peakRssMb: memoryMb(b.pid, "VmRSS"), shared: true });
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
