/** Top self-time functions of V8 .cpuprofile files (written by node --cpu-prof). */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  hitCount?: number;
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

const ROOT = resolve(__dirname, "..", "..");

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? filesUnder(p) : p.endsWith(".cpuprofile") ? [p] : [];
  });
}

function where(frame: CallFrame): string {
  const url = frame.url.replace(/^file:\/\//, "");
  const short = url.startsWith(ROOT) ? relative(ROOT, url) : url;
  return short ? `${short}:${frame.lineNumber + 1}` : "";
}

/** Self time per function (and per file) of one profile, top `limit`, as text. */
export function summarizeProfile(file: string, limit: number): string {
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const total = profile.samples?.length ?? profile.nodes.reduce((s, n) => s + (n.hitCount ?? 0), 0);
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  for (const n of profile.nodes) {
    const hits = n.hitCount ?? 0;
    if (hits === 0) continue;
    const name = n.callFrame.functionName || "(anonymous)";
    const key = `${name}  ${where(n.callFrame)}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + hits);
    const f = where(n.callFrame).replace(/:\d+$/, "") || name;
    const pkg = f.includes("node_modules/") ? f.replace(/^.*node_modules\/((@[^/]+\/)?[^/]+).*$/, "node_modules/$1") : f;
    byFile.set(pkg, (byFile.get(pkg) ?? 0) + hits);
  }
  const pct = (h: number) => `${((h / Math.max(1, total)) * 100).toFixed(1).padStart(5)}%`;
  const top = (m: Map<string, number>, n: number) =>
    [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, h]) => `  ${pct(h)}  ${k}`);
  const seconds = (profile.endTime - profile.startTime) / 1e6;
  return [
    `${relative(ROOT, file)} — ${total} samples over ${seconds.toFixed(1)} s`,
    "self time by function:",
    ...top(byFunction, limit),
    "self time by file / package:",
    ...top(byFile, 15),
  ].join("\n");
}

/** Summaries of every profile under dir. */
export function summarizeProfiles(dir: string, limit: number): string {
  const files = filesUnder(dir);
  if (files.length === 0) return "(no profiles were written)";
  return files.map((f) => summarizeProfile(f, limit)).join("\n\n");
}

if (require.main === module) {
  const target = process.argv[2];
  if (!target) {
    process.stderr.write("usage: ts-node bench/lib/profile-summary.ts <file.cpuprofile | dir> [top]\n");
    process.exit(2);
  }
  const limit = Number(process.argv[3] ?? 30);
  process.stdout.write(`${statSync(target).isDirectory() ? summarizeProfiles(target, limit) : summarizeProfile(target, limit)}\n`);
}
