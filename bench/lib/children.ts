/** Runner side of a bench child process: spawn, command with a deadline, stop. */
import { fork, type ChildProcess } from "node:child_process";
import { join, resolve } from "node:path";
import type { ChildMessage } from "./role";
import { BUILD_DIR } from "./build";

const REPO_ROOT = resolve(__dirname, "..", "..");
// Children run the compiled tree (lib/build.ts), not ts-node.
const CHILD_MAIN = join(BUILD_DIR, "bench", "lib", "child-main.js");
const ROLES_DIR = join(BUILD_DIR, "bench", "roles");
const TAIL_LINES = 40;

/** Options for one child. */
export interface SpawnOptions {
  /** Extra node flags, e.g. --cpu-prof. */
  nodeFlags?: string[];
  /** How long to wait for "ready". */
  readyTimeoutMs?: number;
}

/** A forked role process. */
export class Child {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly tail: string[] = [];
  private exited = false;
  private exitInfo = "";
  private readonly exitWaiters: (() => void)[] = [];

  private constructor(
    /** Name in reports, e.g. "service". */
    readonly name: string,
    /** Role module, relative to bench/roles (compiled). */
    readonly role: string,
    private readonly proc: ChildProcess,
  ) {
    const keep = (chunk: Buffer) => {
      for (const line of chunk.toString("utf8").split("\n")) {
        if (line.trim() === "") continue;
        this.tail.push(line.length > 500 ? `${line.slice(0, 500)}…` : line);
        if (this.tail.length > TAIL_LINES) this.tail.shift();
      }
    };
    proc.stdout?.on("data", keep);
    proc.stderr?.on("data", keep);
    proc.on("message", (m: ChildMessage) => this.onMessage(m));
    proc.on("exit", (code, signal) => {
      this.exited = true;
      this.exitInfo = signal ? `signal ${signal}` : `exit code ${code}`;
      const err = this.failure(`exited (${this.exitInfo})`);
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
      for (const w of this.exitWaiters.splice(0)) w();
    });
  }

  /** Fork to "ready", ms: node's start, loading the role's modules and the role's own start-up. */
  readyMs?: number;

  /** Processes the role started itself, measured with it. */
  extraPids: { name: string; pid: number }[] = [];

  /** The OS pid, for /proc sampling. */
  get pid(): number {
    return this.proc.pid ?? -1;
  }

  /** Whether the process is still running. */
  get alive(): boolean {
    return !this.exited;
  }

  /** Fork `role` (a module under bench/roles, compiled by buildForChildren) and wait until it says it is ready. */
  static async spawn(
    name: string,
    role: string,
    options: Record<string, unknown>,
    spawnOptions: SpawnOptions = {},
  ): Promise<Child> {
    const forkedAt = performance.now();
    const proc = fork(CHILD_MAIN, [join(ROLES_DIR, role), JSON.stringify(options)], {
      cwd: REPO_ROOT,
      execArgv: spawnOptions.nodeFlags ?? [],
      env: { ...process.env, BENCH_REPO_ROOT: REPO_ROOT },
      stdio: ["ignore", "pipe", "pipe", "ipc"],
    });
    const child = new Child(name, role, proc);
    await child.waitReady(spawnOptions.readyTimeoutMs ?? 60_000);
    child.readyMs = performance.now() - forkedAt;
    return child;
  }

  private readyResolve?: () => void;
  private readyReject?: (e: Error) => void;

  private waitReady(timeoutMs: number): Promise<void> {
    return new Promise<void>((resolveReady, rejectReady) => {
      const timer = setTimeout(() => {
        this.kill();
        rejectReady(this.failure(`not ready within ${timeoutMs} ms`));
      }, timeoutMs);
      this.readyResolve = () => {
        clearTimeout(timer);
        resolveReady();
      };
      this.readyReject = (e) => {
        clearTimeout(timer);
        rejectReady(e);
      };
      this.proc.once("exit", () => this.readyReject?.(this.failure(`exited before ready (${this.exitInfo})`)));
    });
  }

  private onMessage(m: ChildMessage): void {
    if (m.type === "ready") {
      this.extraPids = m.extraPids ?? [];
      this.readyResolve?.();
      this.readyResolve = undefined;
      this.readyReject = undefined;
    } else if (m.type === "fatal") {
      const err = this.failure(`fatal: ${m.error}`);
      this.readyReject?.(err);
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    } else if (m.type === "reply") {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.value);
      else p.reject(this.failure(m.error));
    }
  }

  private failure(what: string): Error {
    const tail = this.tail.length ? `\n  last output of ${this.name}:\n    ${this.tail.slice(-12).join("\n    ")}` : "";
    return new Error(`${this.name} (${this.role}): ${what}${tail}`);
  }

  /** Send a command and wait for its reply; rejects after timeoutMs or if the child dies. */
  command<T>(command: string, arg: unknown = null, timeoutMs = 60_000): Promise<T> {
    if (this.exited) return Promise.reject(this.failure(`already exited (${this.exitInfo})`));
    const id = this.nextId++;
    return new Promise<T>((resolveCmd, rejectCmd) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        rejectCmd(this.failure(`command "${command}" got no reply within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolveCmd(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          rejectCmd(e);
        },
      });
      this.proc.send({ id, command, arg });
    });
  }

  /** Ask the role to clean up and exit; kill it if it does not within timeoutMs. */
  async stop(timeoutMs = 15_000): Promise<void> {
    if (this.exited) return;
    try {
      await this.command("stop", null, timeoutMs);
    } finally {
      await this.waitExit(3_000);
      if (!this.exited) {
        this.kill();
        await this.waitExit(3_000);
      }
    }
  }

  /** SIGKILL this child (only this pid). */
  kill(): void {
    if (!this.exited) this.proc.kill("SIGKILL");
  }

  private waitExit(timeoutMs: number): Promise<void> {
    if (this.exited) return Promise.resolve();
    return new Promise<void>((done) => {
      const timer = setTimeout(done, timeoutMs);
      this.exitWaiters.push(() => {
        clearTimeout(timer);
        done();
      });
    });
  }
}
