/**
 * Per-process CPU and memory from /proc, so every process of a case (ours and the brokers) is
 * measured the same way, without asking it.
 */
import { readdirSync, readFileSync } from "node:fs";
import { execFileSync } from "node:child_process";

let ticksPerSecond: number | undefined;

/** Clock ticks per second for /proc/<pid>/stat times (almost always 100). */
export function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** User + system CPU seconds a process has used so far, or undefined if it is gone. */
export function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may contain spaces and parentheses: split after its closing ')'.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return (utime + stime) / clockTicks();
  } catch {
    return undefined;
  }
}

/** Read and write system calls a process has made so far (/proc/<pid>/io), or undefined. */
export function syscalls(pid: number): { reads: number; writes: number } | undefined {
  try {
    const io = readFileSync(`/proc/${pid}/io`, "utf8");
    const reads = Number(/^syscr:\s+(\d+)/m.exec(io)?.[1]);
    const writes = Number(/^syscw:\s+(\d+)/m.exec(io)?.[1]);
    return Number.isFinite(reads) && Number.isFinite(writes) ? { reads, writes } : undefined;
  } catch {
    return undefined;
  }
}

/** When a process started, in clock ticks since boot (/proc/<pid>/stat field 22). */
function startTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]);
  } catch {
    return undefined;
  }
}

/** A `Vm*` figure of /proc/<pid>/status in MB (VmHWM = peak RSS, VmRSS = current RSS). */
export function memoryMb(pid: number, field: "VmHWM" | "VmRSS"): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status);
    return match ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Pids whose command name (/proc/<pid>/comm) is exactly `comm`. */
export function pidsByComm(comm: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, "utf8").trim() === comm) pids.push(Number(entry));
    } catch {
      // The process ended while we listed /proc.
    }
  }
  return pids;
}

/** The broker processes on this machine, for their CPU share of a case (they are shared by others too). */
export function brokerPids(): { name: string; pid: number }[] {
  const out: { name: string; pid: number }[] = [];
  // Tests start private nats-servers, and rabbitmqctl runs short-lived beam.smp processes: the
  // shared server of each kind is the oldest one.
  const oldest = (comm: string) =>
    pidsByComm(comm).sort((a, b) => (startTicks(a) ?? Infinity) - (startTicks(b) ?? Infinity))[0];
  const nats = oldest("nats-server");
  if (nats !== undefined) out.push({ name: "nats-server", pid: nats });
  const beam = oldest("beam.smp");
  if (beam !== undefined) out.push({ name: "rabbitmq (beam.smp)", pid: beam });
  return out;
}

/** CPU model, cores and memory of this machine, for the report. */
export function machineInfo(): { cpuModel: string; cores: number; memoryGb: number } {
  let cpuModel = "unknown";
  let cores = 0;
  try {
    const cpuinfo = readFileSync("/proc/cpuinfo", "utf8");
    cpuModel = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? cpuModel;
    cores = (cpuinfo.match(/^processor\s*:/gm) ?? []).length;
  } catch {
    // Not Linux: leave unknown.
  }
  let memoryGb = 0;
  try {
    const kb = Number(/^MemTotal:\s+(\d+) kB/m.exec(readFileSync("/proc/meminfo", "utf8"))?.[1] ?? 0);
    memoryGb = Math.round((kb / 1024 / 1024) * 10) / 10;
  } catch {
    // Not Linux.
  }
  return { cpuModel, cores, memoryGb };
}
