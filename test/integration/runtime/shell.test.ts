// `cliffracer shell` as a user drives it: the real command in a terminal (a private tmux server),
// keys sent, the screen read back, against services on real NATS under this test's prefix.
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { Context, eventHandler, rpc, type WorkerContext } from "cliffracer";
import { ValueError } from "cliffracer/compat";
import { NATS_URL } from "../../helpers/brokers";
import { EventsFixture } from "../../helpers/jetstream";
import { deferred, waitFor, withTimeout } from "../../helpers/waiters";

jest.setTimeout(60_000);

const root = path.resolve(__dirname, "../../..");
const bin = path.join(root, "bin", "cliffracer.js");
const run = promisify(execFile);

class Users {
  name = "users";
  @Context() ctx!: WorkerContext;

  @rpc()
  get_user(id: number, verbose = false) {
    if (id <= 0) throw new ValueError(`no user ${id}`);
    return verbose ? { id, name: `User ${id}`, roles: ["admin"] } : { id, name: `User ${id}` };
  }

  @rpc()
  whoami() {
    return this.ctx.data.user_id;
  }
}

const pinged = deferred<unknown>();

class Audit {
  name = "audit";

  @rpc()
  count() {
    return 0;
  }

  @eventHandler("shell_src", "ping")
  on_ping(payload: unknown) {
    pinged.resolve(payload);
  }
}

describe("cliffracer shell", () => {
  const fx = new EventsFixture({ announce: true });
  const dir = mkdtempSync(path.join(tmpdir(), "cliffracer-shell-"));
  const history = path.join(dir, "history");
  const exitFile = path.join(dir, "exit-status");
  const socket = `cliffracer-${fx.prefix}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NATS_URL,
    NATS_PREFIX: fx.prefix,
    CLIFFRACER_HISTORY: history,
    LOG_LEVEL: "warn",
  };
  delete env.TMUX; // a private server even when the tests run inside tmux

  const tmux = (...args: string[]) => run("tmux", ["-L", socket, ...args], { env });
  const screen = async () => (await tmux("capture-pane", "-p", "-J", "-S", "-", "-t", "shell")).stdout;
  const type = (text: string) => tmux("send-keys", "-t", "shell", "-l", text);
  const press = (...keys: string[]) => tmux("send-keys", "-t", "shell", ...keys);
  const shows = (pattern: RegExp, what: string) =>
    waitFor(async () => pattern.test(await screen()), { timeoutMs: 15_000, intervalMs: 50, what });
  /** Type a line and wait for the shell to print what it should. */
  const enter = async (line: string, expected: RegExp) => {
    await type(line);
    await press("Enter");
    await shows(expected, `${line} to print ${expected}`);
  };
  /** TAB until the completion list shows: the first TAB of an ambiguous name lists nothing, the second does. */
  const tabUntil = (pattern: RegExp, what: string) =>
    waitFor(
      async () => {
        if (pattern.test(await screen())) return true;
        await press("Tab");
        return false;
      },
      { timeoutMs: 15_000, intervalMs: 300, what },
    );

  beforeAll(async () => {
    await fx.start(Users);
    await fx.start(Audit);
    // Keep the pane after the shell exits, to read what it printed last.
    const conf = path.join(dir, "tmux.conf");
    writeFileSync(conf, "set -g remain-on-exit on\n");
    // The exit status is written by the pane's sh: tmux's #{pane_dead_status} is sometimes never
    // filled in (3.3a marks the pane dead when its pty closes and can lose the status).
    const command =
      [process.execPath, bin, "shell", "--context", '{"user_id": "u-7"}'].map((arg) => `'${arg}'`).join(" ") +
      `; echo $? > '${exitFile}'`;
    await tmux("-f", conf, "new-session", "-d", "-s", "shell", "-x", "200", "-y", "50", "-c", root, command);
    await shows(/^>>>/m, "the shell's prompt");
  }, 40_000);

  afterAll(async () => {
    await tmux("kill-server").catch(() => undefined);
    await fx.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it("calls a method and prints its result, with keywords and the --context data", async () => {
    await enter("n.rpc.users.get_user(41)", /^\{ id: 41, name: 'User 41' \}$/m);
    await enter("n.rpc.users.get_user(42, kwargs({ verbose: true }))", /roles: \[ 'admin' \]/);
    await enter("await n.rpc.users.whoami()", /^'u-7'$/m);
  });

  it("prints a remote error the way Nameko does and keeps working", async () => {
    await enter("n.rpc.users.get_user(0)", /^Uncaught RemoteError: ValueError no user 0$/m);
    await enter("n.rpc.users.get_user(43)", /name: 'User 43'/);
  });

  it("dispatches an event that a service's handler receives", async () => {
    await type('n.dispatch_event("shell_src", "ping", { n: 5 })');
    await press("Enter");
    expect(await withTimeout(pinged.promise, 15_000, "the handler to receive the event")).toEqual({ n: 5 });
    await shows(/n\.dispatch_event\(.*\)\n>>>/, "the prompt after the dispatch");
  });

  it("completes service names after n.rpc. and method names after n.rpc.<service>.", async () => {
    await type("n.rpc.");
    await tabUntil(/n\.rpc\.audit +n\.rpc\.users/, "the services listed");
    await type("us");
    await press("Tab");
    await shows(/^>>> n\.rpc\.users$/m, "the service name completed");
    await type(".");
    await tabUntil(/n\.rpc\.users\.get_user +n\.rpc\.users\.whoami/, "the methods listed");
    await press("C-u");
  });

  it("exits cleanly on Ctrl-D and keeps the history", async () => {
    await press("C-d");
    const status = await waitFor(
      () => (existsSync(exitFile) ? readFileSync(exitFile, "utf8").trim() || undefined : undefined),
      { timeoutMs: 15_000, intervalMs: 50, what: "the shell to exit" },
    );
    expect(status).toBe("0");
    expect(readFileSync(history, "utf8")).toContain("n.rpc.users.get_user(41)");
  });
});
