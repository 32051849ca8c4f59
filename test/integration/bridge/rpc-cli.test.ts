// `cliffracer bridge` as users run it: flags and environment, JSON logs, the ops endpoints, a call
// crossing it, and a clean exit on SIGTERM.
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { rpc } from "cliffracer";
import { NATS_URL } from "../../helpers/brokers";
import { deferred, waitFor, waitForLine, withTimeout } from "../../helpers/waiters";
import { BridgeFixture } from "./bridge-fixture";

const BIN = join(__dirname, "..", "..", "..", "bin", "cliffracer.js");

class Calc {
  name = "calc";

  @rpc()
  add(a: number, b: number): number {
    return a + b;
  }
}

describe("cliffracer bridge (CLI)", () => {
  const fx = new BridgeFixture();
  let child: ChildProcess | undefined;

  beforeAll(async () => {
    await fx.setup();
    await fx.nats.start(Calc);
  });
  afterAll(async () => {
    if (child && child.exitCode === null) child.kill("SIGKILL");
    await fx.cleanup();
  });

  it("serves the flags' routes, reports /ready and /metrics, and exits 0 on SIGTERM", async () => {
    child = spawn(
      process.execPath,
      [BIN, "bridge", "--nats-url", NATS_URL, "--nats-service", "calc", "--amqp-service", "legacy", "--http-port", "0"],
      {
        // AMQP_URI and NATS_PREFIX come from the environment, as Nameko reads AMQP_URI.
        env: { ...process.env, AMQP_URI: fx.vhost.uri, NATS_PREFIX: fx.prefix, LOG_LEVEL: "info" },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    const exited = deferred<number | null>();
    child.on("exit", (code) => exited.resolve(code));
    const running = JSON.parse(await waitForLine(child.stdout!, /"message":"bridge running"/, 30_000)) as Record<
      string,
      unknown
    >;
    expect(running).toMatchObject({ rpcToNats: ["calc"], rpcToAmqp: ["legacy"], discovery: false });
    expect(JSON.stringify(running)).not.toContain("guest:guest");
    const ops = String(running.ops);

    const caller = await fx.peerCaller();
    expect(await caller.call("calc", "add", [20, 22])).toBe(42);
    const ready = await fetch(`${ops}/ready`);
    expect(ready.status).toBe(200);
    // The bridge counts a call once RabbitMQ confirmed its reply, which may be after the caller has it.
    const counted = /cliffracer_bridge_rpc_total\{direction="amqp_to_nats",service="calc"[^}]*\} 1/;
    await waitFor(async () => counted.test(await (await fetch(`${ops}/metrics`)).text()) || undefined, {
      what: "the call counted on /metrics",
    });

    child.kill("SIGTERM");
    expect(await withTimeout(exited.promise, 20_000, "the bridge to exit")).toBe(0);
  });
});
