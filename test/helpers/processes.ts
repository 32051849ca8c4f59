// `cliffracer bridge` as a child process, the way an operator runs it: its own YAML config file,
// JSON log lines on stdout kept for waits and assertions, /ready polled over HTTP, and `kill -9`. Every child is tracked so afterEach/afterAll (and, failing that, the
// test process's exit) can kill what a failed test left running.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import YAML from "yaml";
import { freePort } from "./private-servers";
import { waitFor } from "./waiters";

const REPO_ROOT = resolve(__dirname, "..", "..");
const CLI = join(REPO_ROOT, "bin", "cliffracer.js");

/** One JSON log line of the child. */
export type ChildLogLine = Record<string, unknown> & { level: string; message: string };

/** Children still running, killed if the test process exits without stopping them. */
const running = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

/** How a child process ended. */
export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** What the bridge child is started with. */
export interface BridgeProcessOptions {
  /** The config file's mapping (AMQP_URI, NATS_URL, NATS_PREFIX, EVENTS, BRIDGE...), written as YAML. */
  config: Record<string, unknown>;
  /** Extra environment for the child (LOG_LEVEL defaults to info, so its state changes are logged). */
  env?: NodeJS.ProcessEnv;
}

/** A running `node bin/cliffracer.js bridge --config <file> --http-port <port>`. */
export class BridgeProcess {
  readonly logs: ChildLogLine[] = [];
  /** Lines that were not JSON (stack traces, warnings from node), for failure messages. */
  readonly otherOutput: string[] = [];
  readonly exited: Promise<ExitInfo>;
  private exitInfo?: ExitInfo;

  private constructor(
    readonly child: ChildProcess,
    readonly opsUrl: string,
    dir: string,
  ) {
    running.add(child);
    let buffer = "";
    const onData = (chunk: Buffer): void => {
      buffer += chunk.toString("utf8");
      const lines = buffer.split("\n");
      buffer = lines.pop() ?? "";
      for (const line of lines) this.onLine(line);
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", (chunk: Buffer) => {
      for (const line of chunk.toString("utf8").split("\n")) if (line.trim()) this.onLine(line);
    });
    this.exited = new Promise((resolveExit) =>
      child.once("exit", (code, signal) => {
        running.delete(child);
        this.exitInfo = { code, signal };
        rmSync(dir, { recursive: true, force: true });
        resolveExit(this.exitInfo);
      }),
    );
  }

  /** Spawns the bridge with `options.config` and a free ops port; does not wait for it to be ready. */
  static async spawn(options: BridgeProcessOptions): Promise<BridgeProcess> {
    const dir = mkdtempSync(join(tmpdir(), "cliff-bridge-"));
    const file = join(dir, "bridge.yaml");
    writeFileSync(file, YAML.stringify(options.config));
    const port = await freePort();
    const child = spawn(process.execPath, [CLI, "bridge", "--config", file, "--http-port", String(port)], {
      cwd: REPO_ROOT,
      env: { ...process.env, LOG_LEVEL: "info", ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    return new BridgeProcess(child, `http://127.0.0.1:${port}`, dir);
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get alive(): boolean {
    return this.exitInfo === undefined;
  }

  /** The last lines of output, for failure messages. */
  tail(n = 30): string {
    const lines = [...this.logs.map((l) => JSON.stringify(l)), ...this.otherOutput];
    return lines.slice(-n).join("\n");
  }

  /** Resolves with the first log line whose message matches `pattern` and whose fields equal `where`. */
  waitForLog(pattern: RegExp, where: Record<string, unknown> = {}, timeoutMs = 20_000): Promise<ChildLogLine> {
    return waitFor(
      () => {
        const hit = this.logs.find(
          (e) => pattern.test(e.message) && Object.entries(where).every(([k, v]) => e[k] === v),
        );
        if (!hit && !this.alive)
          throw new Error(
            `bridge exited (${JSON.stringify(this.exitInfo)}) before logging ${pattern}:\n${this.tail()}`,
          );
        return hit;
      },
      { what: `bridge log line matching ${pattern}`, timeoutMs, intervalMs: 25 },
    );
  }

  /** GET /ready: true on 200, false on 503 or when the ops server does not answer. */
  async ready(): Promise<boolean> {
    try {
      const res = await fetch(`${this.opsUrl}/ready`, { signal: AbortSignal.timeout(2_000) });
      await res.body?.cancel();
      return res.status === 200;
    } catch {
      return false;
    }
  }

  /** The /ready body (details of what is up), or undefined when the ops server does not answer. */
  async readiness(): Promise<Record<string, unknown> | undefined> {
    try {
      const res = await fetch(`${this.opsUrl}/ready`, { signal: AbortSignal.timeout(2_000) });
      return (await res.json()) as Record<string, unknown>;
    } catch {
      return undefined;
    }
  }

  /** Polls /ready (there is no push for it) until it answers `want`; fails early if the bridge exits. */
  async waitReady(want = true, timeoutMs = 30_000): Promise<void> {
    await waitFor(
      async () => {
        if (!this.alive)
          throw new Error(
            `bridge exited (${JSON.stringify(this.exitInfo)}) while waiting for /ready=${want}:\n${this.tail()}`,
          );
        return (await this.ready()) === want;
      },
      { what: `bridge /ready ${want ? "200" : "503"}`, timeoutMs, intervalMs: 50 },
    ).catch(async (err: unknown) => {
      throw new Error(
        `${err instanceof Error ? err.message : String(err)}; last /ready: ${JSON.stringify(await this.readiness())}\n${this.tail()}`,
      );
    });
  }

  /** The Prometheus text of /metrics. */
  async metrics(): Promise<string> {
    const res = await fetch(`${this.opsUrl}/metrics`, { signal: AbortSignal.timeout(5_000) });
    return res.text();
  }

  /** Sends `signal` (default SIGKILL, `kill -9`) and resolves once the process exited. */
  async kill(signal: NodeJS.Signals = "SIGKILL"): Promise<ExitInfo> {
    if (this.alive) this.child.kill(signal);
    return this.exited;
  }

  private onLine(line: string): void {
    if (line.trim() === "") return;
    try {
      const parsed: unknown = JSON.parse(line);
      if (parsed && typeof parsed === "object" && typeof (parsed as ChildLogLine).message === "string") {
        this.logs.push(parsed as ChildLogLine);
        return;
      }
    } catch {
      // not a log line
    }
    this.otherOutput.push(line);
    if (this.otherOutput.length > 200) this.otherOutput.shift();
  }
}

/** Kills (SIGKILL) every bridge child still running and waits for them to exit; for afterEach/afterAll. */
export async function killAllChildren(): Promise<void> {
  const children = [...running];
  const exits = children.map(
    (c) => new Promise<void>((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.once("exit", () => r()))),
  );
  for (const c of children) c.kill("SIGKILL");
  await Promise.all(exits);
}
