/**
 * Runs a Nameko original from its Python module, so a port can be compared with the real thing
 * (docs/cassettes.md, Recording the examples). Nothing here installs Nameko: the Python comes from
 * `NAMEKO_PYTHON` (or the caller) and must already import `nameko`; without one, callers skip.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { basename, dirname, resolve } from "node:path";
import type { Readable } from "node:stream";
import { describeError, encodeJson } from "../compat";

/** How long a stopping original may take before it is killed. */
const STOP_GRACE_MS = 5_000;

/** The environment variable naming a Python that imports nameko. */
export const NAMEKO_PYTHON_ENV = "NAMEKO_PYTHON";

/** Options of {@link startNamekoOriginal}. */
export interface NamekoOriginalOptions {
  /** The Python module file, e.g. `examples/greeting/greeting_service.py`. */
  module: string;
  /** The service classes of that module to run. */
  classes: string[];
  amqpUri: string;
  /** More Nameko configuration (merged over `AMQP_URI`). */
  config?: Record<string, unknown>;
  /** The Python interpreter; default `NAMEKO_PYTHON`. */
  python?: string;
  /** Extra entries for PYTHONPATH (e.g. a Nameko source checkout). */
  pythonPath?: string[];
  /** How long start-up may take; default 30 s. */
  timeoutMs?: number;
}

/** A running Nameko original. */
export interface NamekoOriginal {
  readonly process: ChildProcess;
  /** Stop gracefully (SIGTERM, Nameko's runner.stop()), killed after a grace period, and wait for the end. */
  stop(): Promise<void>;
}

/** Nameko could not be started (no Python, no nameko, a bad module, or it did not come up in time). */
export class NamekoOriginalFailed extends Error {
  override readonly name = "NamekoOriginalFailed";
}

/** The Python that imports nameko, from `NAMEKO_PYTHON`, or undefined when none is configured. */
export function namekoPython(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const python = env[NAMEKO_PYTHON_ENV];
  return python === undefined || python === "" ? undefined : python;
}

// Nameko's own ServiceRunner, 2.x or 3.x (the `nameko run` command needs an installed distribution,
// which a source checkout on PYTHONPATH is not). "started" on stdout is the signal start-up finished.
const RUNNER = `
import eventlet
eventlet.monkey_patch()
import importlib, json, signal, sys
from nameko.runners import ServiceRunner
spec = json.loads(sys.argv[1])
try:
    from nameko import config as nameko_config  # Nameko 3: one global config
    nameko_config.setup(spec["config"])
    runner = ServiceRunner()
except ImportError:  # Nameko 2: the runner takes it
    runner = ServiceRunner(config=spec["config"])
module = importlib.import_module(spec["module"])
for name in spec["classes"]:
    runner.add_service(getattr(module, name))
runner.start()
print("started", flush=True)
signal.signal(signal.SIGTERM, lambda *_: eventlet.spawn_n(runner.stop))
runner.wait()
`;

/** Starts the original's service classes on `amqpUri`; resolves once Nameko says they are running. */
export function startNamekoOriginal(options: NamekoOriginalOptions): Promise<NamekoOriginal> {
  const python = options.python ?? namekoPython();
  if (python === undefined || python === "")
    return Promise.reject(new NamekoOriginalFailed(`no Python for Nameko: set ${NAMEKO_PYTHON_ENV}`));
  const file = resolve(options.module);
  const spec = {
    module: basename(file).replace(/\.py$/, ""),
    classes: options.classes,
    config: { ...options.config, AMQP_URI: options.amqpUri },
  };
  const pythonPath = [dirname(file), ...(options.pythonPath ?? []), process.env.PYTHONPATH ?? ""].filter(Boolean);
  let child: ChildProcess & { stdout: Readable; stderr: Readable };
  try {
    child = spawn(python, ["-c", RUNNER, encodeJson(spec)], {
      env: { ...process.env, PYTHONPATH: pythonPath.join(":"), PYTHONUNBUFFERED: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
  } catch (err) {
    return Promise.reject(new NamekoOriginalFailed(`cannot run ${python}: ${describeError(err)}`));
  }
  const exited = new Promise<void>((done) => child.once("exit", () => done()));
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    // Nameko's graceful stop can wait on its web server's sockets; it gets a grace period, no more.
    const force = setTimeout(() => child.kill("SIGKILL"), STOP_GRACE_MS);
    await exited;
    clearTimeout(force);
  };
  return new Promise((resolveStart, rejectStart) => {
    let stderr = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      rejectStart(new NamekoOriginalFailed(`Nameko did not start within ${options.timeoutMs ?? 30_000} ms: ${stderr}`));
    }, options.timeoutMs ?? 30_000);
    child.stderr.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
    child.stdout.on("data", (chunk: Buffer) => {
      if (!chunk.toString().includes("started")) return;
      clearTimeout(timer);
      resolveStart({ process: child, stop });
    });
    child.once("error", (err) => {
      clearTimeout(timer);
      rejectStart(new NamekoOriginalFailed(`cannot run ${python}: ${err.message}`));
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      rejectStart(new NamekoOriginalFailed(`Nameko exited (${signal ?? code}) before starting: ${stderr.trim()}`));
    });
  });
}
