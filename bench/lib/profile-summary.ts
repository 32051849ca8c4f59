/**
 * Top functions of V8 .cpuprofile files (self time; written by node --cpu-prof or `--profile`) and
 * of sampling heap profiles, .heapprofile (bytes allocated; written by `--heap-survivors`).
 */
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
  children?: number[];
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
    return statSync(p).isDirectory() ? filesUnder(p) : /\.(cpu|heap)profile$/.test(p) ? [p] : [];
  });
}

function where(frame: CallFrame): string {
  const url = frame.url.replace(/^file:\/\//, "");
  const short = url.startsWith(ROOT) ? relative(ROOT, url) : url;
  return short ? `${short}:${frame.lineNumber + 1}` : "";
}

const NOT_BUSY = new Set(["(idle)", "(program)", "(garbage collector)", "(root)"]);

function keyOf(frame: CallFrame): string {
  return `${frame.functionName || "(anonymous)"}  ${where(frame)}`;
}

/** The package (or our folder) a frame's file belongs to. */
function packageOf(frame: CallFrame): string {
  const f = where(frame)
    .replace(/:\d+$/, "")
    .replace(/^bench\/results\/build\/\d+\//, "");
  return f.includes("node_modules/") ? f.replace(/^.*node_modules\/((@[^/]+\/)?[^/]+).*$/, "node_modules/$1") : f;
}

/** A file of ours (in this checkout or the bench's compiled copy of it), not a dependency's. */
function isOurs(url: string): boolean {
  return /^(bench\/results\/build\/\d+\/)?(compat|amqp|src|bridge|cli)\//.test(url);
}

/** The `n` largest entries of `m`, each as its share of `whole`. */
function topShares(m: Map<string, number>, whole: number, n: number): string[] {
  return [...m.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(
      ([k, v]) =>
        `  ${((v / Math.max(1, whole)) * 100).toFixed(1).padStart(5)}%  ${k.replace(/bench\/results\/build\/\d+\//, "")}`,
    );
}

/**
 * Self time per function and per package, and inclusive time of our own functions (src/, compat/,
 * bridge/), as shares of the busy samples (idle excluded), top `limit`.
 */
export function summarizeProfile(file: string, limit: number): string {
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const samples = profile.samples ?? profile.nodes.flatMap((n) => Array<number>(n.hitCount ?? 0).fill(n.id));
  const self = new Map<string, number>();
  const byPackage = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let busy = 0;
  let idle = 0;
  let gc = 0;
  for (const id of samples) {
    const node = byId.get(id);
    if (!node) continue;
    const name = node.callFrame.functionName;
    if (name === "(idle)") {
      idle++;
      continue;
    }
    if (name === "(garbage collector)") gc++;
    busy++;
    const key = keyOf(node.callFrame);
    self.set(key, (self.get(key) ?? 0) + 1);
    const pkg = packageOf(node.callFrame) || name;
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + 1);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const frame = byId.get(cur)?.callFrame;
      if (!frame || NOT_BUSY.has(frame.functionName)) continue;
      const url = where(frame);
      if (!isOurs(url)) continue;
      const k = keyOf(frame);
      if (seen.has(k)) continue;
      seen.add(k);
      inclusive.set(k, (inclusive.get(k) ?? 0) + 1);
    }
  }
  const seconds = (profile.endTime - profile.startTime) / 1e6;
  return [
    `${relative(ROOT, file)} — ${seconds.toFixed(1)} s, ${samples.length} samples, ${((idle / Math.max(1, samples.length)) * 100).toFixed(0)}% idle, GC ${((gc / Math.max(1, busy)) * 100).toFixed(1)}% of busy`,
    "self time by function (% of busy samples):",
    ...topShares(self, busy, limit),
    "self time by file / package:",
    ...topShares(byPackage, busy, 15),
    "inclusive time of our functions (src/, compat/, bridge/):",
    ...topShares(inclusive, busy, 20),
  ].join("\n");
}

interface HeapProfileNode {
  callFrame: CallFrame;
  selfSize: number;
  children: HeapProfileNode[];
}

/**
 * Bytes sampled by allocating function and by package, and under each of our functions
 * (inclusive), as shares of all sampled bytes, top `limit`.
 */
export function summarizeHeapProfile(file: string, limit: number): string {
  const { head } = JSON.parse(readFileSync(file, "utf8")) as { head: HeapProfileNode };
  const self = new Map<string, number>();
  const byPackage = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let total = 0;
  const add = (m: Map<string, number>, k: string, bytes: number) => m.set(k, (m.get(k) ?? 0) + bytes);
  const walk = (node: HeapProfileNode, ours: readonly string[]): void => {
    const url = where(node.callFrame);
    const key = keyOf(node.callFrame);
    const mine = isOurs(url) && !ours.includes(key);
    const stack = mine ? [...ours, key] : ours;
    if (node.selfSize > 0) {
      total += node.selfSize;
      add(self, key, node.selfSize);
      add(byPackage, packageOf(node.callFrame) || node.callFrame.functionName, node.selfSize);
      for (const k of stack) add(inclusive, k, node.selfSize);
    }
    for (const child of node.children) walk(child, stack);
  };
  walk(head, []);
  return [
    `${relative(ROOT, file)} — ${(total / 1048576).toFixed(1)} MB sampled`,
    "bytes by allocating function:",
    ...topShares(self, total, limit),
    "bytes by file / package:",
    ...topShares(byPackage, total, 15),
    "bytes under our functions (src/, compat/, amqp/, bridge/), inclusive:",
    ...topShares(inclusive, total, 20),
  ].join("\n");
}

function summarize(file: string, limit: number): string {
  return file.endsWith(".heapprofile") ? summarizeHeapProfile(file, limit) : summarizeProfile(file, limit);
}

/** Summaries of every profile under dir. */
export function summarizeProfiles(dir: string, limit: number): string {
  const files = filesUnder(dir);
  if (files.length === 0) return "(no profiles were written)";
  return files.map((f) => summarize(f, limit)).join("\n\n");
}

if (require.main === module) {
  const target = process.argv[2];
  if (!target) {
    process.stderr.write(
      "usage: ts-node bench/lib/profile-summary.ts <file.cpuprofile | file.heapprofile | dir> [top]\n",
    );
    process.exit(2);
  }
  const limit = Number(process.argv[3] ?? 30);
  process.stdout.write(
    `${statSync(target).isDirectory() ? summarizeProfiles(target, limit) : summarize(target, limit)}\n`,
  );
}
