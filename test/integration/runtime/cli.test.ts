// The README's commands, run exactly as a user runs them: `cliffracer run` in a child process,
// `cliffracer call` against it, SIGTERM for a clean exit.
import { execFile, spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { Context, rpc, type WorkerContext } from "cliffracer";
import pkg from "../../../package.json";
import { NatsFixture, NATS_URL } from "../../helpers/brokers";
import { deferred, waitForLine, withTimeout } from "../../helpers/waiters";

// Each command starts a ts-node process (a second or two); the per-project testTimeout of
// jest.config.js is not applied by jest 30, so the budget is set here.
jest.setTimeout(60_000);

const root = path.resolve(__dirname, "../../..");
const bin = path.join(root, "bin", "cliffracer.js");
const run = promisify(execFile);

class UserService {
  name = "user_service";
  @Context() ctx!: WorkerContext;

  @rpc()
  whoami() {
    return { data: this.ctx.data, caller: this.ctx.callIdStack[0].split(".").slice(0, 2).join(".") };
  }

  @rpc()
  get_user(id: number) {
    return { id, name: `User ${id}` };
  }
}

describe("cliffracer CLI", () => {
  const fx = new NatsFixture();
  const env = { ...process.env, NATS_URL, NATS_PREFIX: fx.prefix, LOG_LEVEL: "info" };
  let child: ChildProcessWithoutNullStreams;
  let exited: Promise<number | null>;
  let opsUrl: string;

  const cli = (...args: string[]) => run(process.execPath, [bin, ...args], { cwd: root, env });
  const cliError = (...args: string[]) =>
    cli(...args).then(
      () => {
        throw new Error("expected the command to fail");
      },
      (err: { code: number; stdout: string; stderr: string }) => err,
    );

  beforeAll(async () => {
    await fx.start(UserService);
    const args = [bin, "run", "examples/greeting/greeting-service.ts", "--metrics", "127.0.0.1:0"];
    child = spawn(process.execPath, args, { cwd: root, env });
    const done = deferred<number | null>();
    child.on("exit", (code) => done.resolve(code));
    exited = done.promise;
    const opsLine = waitForLine(child.stdout, /"message":"ops server listening"/, 30_000);
    await waitForLine(child.stdout, /"message":"services running"/, 30_000);
    opsUrl = (JSON.parse(await opsLine) as { url: string }).url;
  }, 40_000);

  afterAll(async () => {
    if (child.exitCode === null) child.kill("SIGKILL");
    await fx.cleanup();
  });

  it("prints --version from package.json", async () => {
    const { stdout } = await cli("--version");
    expect(stdout.trim()).toBe(pkg.version);
  });

  it("calls a method with positional args and prints the result as JSON", async () => {
    const { stdout } = await cli("call", "greeting_service.hello", '["Ada"]');
    expect(stdout).toBe('"Hello, Ada!"\n');
  });

  it("accepts kwargs and the explicit args/kwargs form", async () => {
    expect((await cli("call", "greeting_service.hello", '{"name": "Bo", "punctuation": "?"}')).stdout).toBe(
      '"Hello, Bo?"\n',
    );
    expect(
      (await cli("call", "greeting_service.hello", '{"args": ["Cy"], "kwargs": {"punctuation": "."}}')).stdout,
    ).toBe('"Hello, Cy."\n');
  });

  it("reaches another service through the example's RpcProxy", async () => {
    expect((await cli("call", "greeting_service.greet_user", "[7]")).stdout).toBe('"Hello, User 7!"\n');
  });

  it("sends --context as context data, from a standalone call id", async () => {
    const { stdout } = await cli(
      "call",
      "user_service.whoami",
      "[]",
      "--context",
      '{"user_id": "u-9", "language": "fr"}',
    );
    expect(JSON.parse(stdout)).toEqual({
      data: { user_id: "u-9", language: "fr" },
      caller: "standalone_rpc_proxy.call",
    });
  });

  it("exits non-zero with the error type and message on a remote error", async () => {
    const err = await cliError("call", "greeting_service.welcome", '{"name": "", "language": "de"}');
    expect(err.code).toBe(1);
    expect(err.stdout).toBe("");
    expect(err.stderr).toMatch(/^ValidationFailed: .*name should not be empty/);
    const missing = await cliError("call", "nobody_here.hello", "[]", "--timeout", "20");
    expect(missing.stderr).toBe("UnknownService: Unknown service `nobody_here`\n");
  });

  it("shows the config with credentials masked", async () => {
    const { stdout } = await run(process.execPath, [bin, "show-config"], {
      cwd: root,
      env: { ...env, NATS_URL: "nats://alice:s3cret@127.0.0.1:4222" },
    });
    expect(stdout).toContain("natsUrl: nats://alice:***@127.0.0.1:4222");
    expect(stdout).not.toContain("s3cret");
  });

  it("serves /ready and /metrics with --metrics, counting the calls made", async () => {
    expect((await fetch(`${opsUrl}/ready`)).status).toBe(200);
    const text = await (await fetch(`${opsUrl}/metrics`)).text();
    expect(text).toMatch(/^cliffracer_rpc_requests_total\{service="greeting_service",method_name="hello"\} [1-9]/m);
  });

  it("stops gracefully on SIGTERM and exits 0", async () => {
    child.kill("SIGTERM");
    expect(await withTimeout(exited, 20_000, "the service to exit")).toBe(0);
  });
});
