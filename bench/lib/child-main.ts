/**
 * Entry point of every bench child process: loads one role module, reports "ready", then runs the
 * runner's commands one by one over IPC. argv: <role module path> <options JSON>.
 */
import "reflect-metadata";
import { writeFileSync, mkdirSync } from "node:fs";
import { Session } from "node:inspector";
import { getHeapSpaceStatistics } from "node:v8";
import { dirname, resolve } from "node:path";
import { register } from "tsconfig-paths";
import { describeError, type ChildMessage, type CommandMessage, type StartRole } from "./role";

// "cliffracer" names our compiled src/ (this file runs from the compiled tree, lib/build.ts). Only
// these names are mapped: tsconfig-paths/register with the tsconfig's baseUrl also remaps imports
// inside node_modules (it sent @nats-io/nats-core to a .d.ts file).
register({
  baseUrl: resolve(__dirname, "..", ".."),
  paths: { cliffracer: ["src/index"], "cliffracer/testing": ["src/testing/index"] },
  addMatchAll: false,
});

function send(message: ChildMessage): void {
  if (process.send) process.send(message);
}

function fatal(err: unknown): void {
  send({ type: "fatal", error: describeError(err) });
  // Give the IPC message a moment to leave before the process goes.
  setTimeout(() => process.exit(1), 50);
}

process.on("uncaughtException", fatal);
process.on("unhandledRejection", fatal);
// The runner went away (crashed or killed): nothing left to report to.
process.on("disconnect", () => process.exit(2));

/**
 * CPU profiling of the measured window only (not start-up or warm-up), on the runner's request:
 * "profile-start", then "profile-stop" with the file to write. With BENCH_HEAP_SURVIVORS
 * (`--heap-survivors`) V8's sampling heap profiler runs instead, keeping only allocations that
 * outlived a scavenge: what fills the old generation between full collections (BENCHMARKS.md,
 * Peak RSS (issue 17)).
 */
let session: Session | undefined;

function post<T>(method: string, params?: object): Promise<T> {
  return new Promise<T>((done, fail) => {
    session?.post(method, params ?? {}, (err, result) => (err ? fail(err) : done(result as T)));
  });
}

async function profileCommand(command: string, arg: unknown): Promise<unknown> {
  const survivors = process.env.BENCH_HEAP_SURVIVORS === "1";
  if (command === "profile-start" && survivors) {
    session = new Session();
    session.connect();
    await post("HeapProfiler.enable");
    await post("HeapProfiler.startSampling", {
      samplingInterval: 2048,
      includeObjectsCollectedByMinorGC: false,
      includeObjectsCollectedByMajorGC: true,
    });
    return null;
  }
  if (command === "profile-stop" && survivors) {
    const { file } = arg as { file: string };
    const { profile } = await post<{ profile: object }>("HeapProfiler.stopSampling");
    session?.disconnect();
    session = undefined;
    const out = file.replace(/\.cpuprofile$/, ".heapprofile");
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, JSON.stringify(profile));
    return out;
  }
  if (command === "profile-start") {
    session = new Session();
    session.connect();
    await post("Profiler.enable");
    await post("Profiler.setSamplingInterval", { interval: 250 });
    await post("Profiler.start");
    return null;
  }
  const { file } = arg as { file: string };
  const { profile } = await post<{ profile: object }>("Profiler.stop");
  session?.disconnect();
  session = undefined;
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(profile));
  return file;
}

/**
 * Peak memory by kind (`--memory`): process.memoryUsage() and V8's heap spaces sampled every
 * BENCH_MEMORY_SAMPLE_MS from start-up, so the peak RSS the runner reads from VmHWM can be split
 * into the JavaScript heap (young and old generation), Buffers (external, arrayBuffers) and the rest.
 */
const memoryPeaks: Record<string, number> = {};

function sampleMemory(): void {
  const keep = (key: string, bytes: number) => {
    const mb = bytes / 1048576;
    if (!(memoryPeaks[key] >= mb)) memoryPeaks[key] = mb;
  };
  const usage = process.memoryUsage();
  keep("rss", usage.rss);
  keep("heapTotal", usage.heapTotal);
  keep("heapUsed", usage.heapUsed);
  keep("external", usage.external);
  keep("arrayBuffers", usage.arrayBuffers);
  // Each space's committed size: the young generation's semi-spaces grow under allocation load.
  for (const space of getHeapSpaceStatistics()) keep(space.space_name, space.space_size);
}

const memorySampleMs = Number(process.env.BENCH_MEMORY_SAMPLE_MS);
if (memorySampleMs > 0) {
  sampleMemory();
  setInterval(sampleMemory, memorySampleMs).unref();
}

async function main(): Promise<void> {
  const [modulePath, optionsJson] = process.argv.slice(2);
  const mod = (await import(modulePath)) as { start?: StartRole };
  if (typeof mod.start !== "function") throw new Error(`${modulePath} exports no start()`);
  const role = await mod.start(JSON.parse(optionsJson ?? "{}") as Record<string, unknown>);
  process.on("message", (raw: CommandMessage) => {
    const { id, command, arg } = raw;
    const work =
      command === "stop"
        ? role.stop()
        : command.startsWith("profile-")
          ? profileCommand(command, arg)
          : command === "memory-peaks"
            ? Promise.resolve(memorySampleMs > 0 ? { ...memoryPeaks } : null)
            : role.handle(command, arg);
    work.then(
      (value) => {
        send({ type: "reply", id, ok: true, value: value ?? null });
        if (command === "stop") setTimeout(() => process.exit(0), 20);
      },
      (err: unknown) => {
        send({ type: "reply", id, ok: false, error: describeError(err) });
        if (command === "stop") setTimeout(() => process.exit(1), 20);
      },
    );
  });
  send({ type: "ready", extraPids: role.extraPids?.() ?? [] });
}

main().catch(fatal);
