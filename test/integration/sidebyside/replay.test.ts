// `replay` against real brokers: a cassette recorded from the independent Nameko peer on RabbitMQ
// (a service that calls another service and dispatches events) replayed against TypeScript ports on
// NATS under a private prefix: the faithful port matches, and each fault is named by the diff.
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { appendFileSync, copyFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  EventDispatcher,
  KeyError,
  kwargs,
  rpc,
  RpcProxy,
  ValueError,
  type Dispatch,
  type ServiceProxy,
} from "cliffracer";
import { parseCassette, type ParsedCassette } from "../../../compat";
import { formatDifference, record, replay, type ReplayReport } from "../../../sidebyside";
import { NATS_URL, testLogger } from "../../helpers/brokers";
import { EventsFixture } from "../../helpers/jetstream";
import { createVhost, type TestVhost } from "../../helpers/rabbit";
import { deferred, withTimeout } from "../../helpers/waiters";
import {
  PeerCaller,
  PeerDispatcher,
  PeerRemoteError,
  startPeerService,
  type PeerService,
  type PeerWorker,
} from "../../interop/nameko-peer";

const BIN = join(__dirname, "..", "..", "..", "bin", "cliffracer.js");
const MANAGEMENT = "http://guest:guest@127.0.0.1:15672";
const CALLS = 200;
const EVENTS = 50;
const CALLERS = 4;
/** Every request is recorded twice, so the random `ref` of a reply is noise the replay ignores. */
const DISTINCT = CALLS / 2;

type Fault = "none" | "wrongResult" | "errorType" | "missingEvent" | "extraCall" | "renamedKwarg" | "hang";
let fault: Fault = "none";
let release = deferred();

/** The TypeScript port of the peer's `orders`, with one fault switched on at a time. */
class Orders {
  name = "orders";
  @RpcProxy("stock") stock!: ServiceProxy;
  @EventDispatcher() dispatch!: Dispatch;

  @rpc()
  async place(n: number, card: string): Promise<{ n: number; reserved: number; ref: string }> {
    if (card === "") throw new ValueError("no card");
    if (n % 10 === 9) throw fault === "errorType" ? new KeyError("no") : new ValueError("no");
    if (fault === "hang" && n === 2) await release.promise;
    const reserved = (await this.stock.reserve(
      kwargs(fault === "renamedKwarg" && n === 3 ? { count: n } : { n }),
    )) as number;
    if (fault === "extraCall" && n === 4) await this.stock.reserve(kwargs({ n }));
    if (!(fault === "missingEvent" && n === 5)) await this.dispatch("placed", { n });
    return { n, reserved: fault === "wrongResult" && n === 6 ? reserved + 1 : reserved, ref: randomUUID() };
  }
}

/** The failed calls' request `n` with their differences, one line each. */
function failures(report: ReplayReport): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const c of report.calls.filter((call) => !call.ok)) out[c.label] = c.differences.map(formatDifference);
  return out;
}

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, LOG_LEVEL: "error" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  return withTimeout(
    new Promise((resolve) => child.on("exit", (code) => resolve({ code, stdout, stderr }))),
    30_000,
    `cliffracer ${args[0]} to exit`,
  );
}

describe("cliffracer replay (NATS target)", () => {
  let vhost: TestVhost;
  let dir: string;
  let cassetteFile: string;
  let cassette: ParsedCassette;
  const peers: PeerService[] = [];
  let dispatcher: PeerDispatcher;
  const fx = new EventsFixture();

  beforeAll(async () => {
    vhost = await createVhost("cliff-replay");
    dir = mkdtempSync(join(tmpdir(), "cliff-replay-"));
    dispatcher = await PeerDispatcher.start(vhost.uri);
    peers.push(
      await startPeerService({
        uri: vhost.uri,
        name: "stock",
        methods: { reserve: { params: ["n"], fn: (n: number) => n % 7 } },
      }),
      await startPeerService({
        uri: vhost.uri,
        name: "orders",
        methods: {
          place: {
            params: ["n", "card"],
            async fn(this: PeerWorker, n: number) {
              if (n % 10 === 9) throw new PeerRemoteError("ValueError", "builtins.ValueError", ["no"], "no");
              const reserved = await this.call("stock", "reserve", [], { n });
              // Faults are off while recording; the AMQP target replays to this same original.
              if (fault === "extraCall" && n === 4) await this.call("stock", "reserve", [], { n });
              if (!(fault === "missingEvent" && n === 5))
                await dispatcher.dispatch("orders", "placed", { n }, { service: { callIdStack: this.callIdStack } });
              return { n, reserved, ref: randomUUID() };
            },
          },
        },
      }),
    );
    cassetteFile = join(dir, "orders.jsonl");
    const listening = deferred();
    const recording = record({
      side: "amqp",
      services: ["orders"],
      out: cassetteFile,
      amqpUri: vhost.uri,
      managementUrl: MANAGEMENT,
      natsUrl: "",
      max: CALLS + EVENTS,
      seconds: 30,
      masks: { "orders.place": ["card"] },
      onListening: () => listening.resolve(),
      log: testLogger(),
    });
    await withTimeout(listening.promise, 10_000, "the recording to start");
    const callers = await Promise.all(Array.from({ length: CALLERS }, () => PeerCaller.start({ uri: vhost.uri })));
    await Promise.all(
      callers.map(async (caller, c) => {
        for (let i = c; i < CALLS; i += CALLERS)
          await caller.call("orders", "place", [i % DISTINCT], { card: `4111-${i}` }).catch(() => undefined);
      }),
    );
    for (let i = 0; i < EVENTS; i++)
      await dispatcher.dispatch("orders", "tick", { i }, { service: { callIdStack: [`orders.tick.${randomUUID()}`] } });
    await withTimeout(recording, 20_000, "the recording to end");
    await Promise.all(callers.map((c) => c.close()));
    cassette = parseCassette(readFileSync(cassetteFile, "utf8"));
    expect(cassette.problems).toEqual([]);
    await fx.start(Orders);
  }, 60_000);

  afterEach(() => {
    fault = "none";
  });

  afterAll(async () => {
    release.resolve();
    await fx.cleanup();
    for (const p of peers) await p.stop();
    await dispatcher?.close();
    await vhost?.delete();
    rmSync(dir, { recursive: true, force: true });
  });

  const run = (timeoutMs = 5_000): Promise<ReplayReport> =>
    replay({
      cassette,
      target: { side: "nats", natsUrl: NATS_URL, prefix: fx.prefix },
      timeoutMs,
      settleMs: 100,
      log: testLogger(),
    });

  it("a faithful port matches every recorded call, its outgoing call and its event; noise is ignored", async () => {
    const report = await run();
    expect(failures(report)).toEqual({});
    expect(report).toMatchObject({ ok: true, problems: [], eventsNotReplayed: EVENTS });
    expect(report.calls).toHaveLength(CALLS);
    // `ref` differed between the two recordings of each successful request, so it is not compared.
    expect(report.calls.filter((c) => c.ignored > 0)).toHaveLength(CALLS - CALLS / 10);
  });

  it("names a wrong result field", async () => {
    fault = "wrongResult";
    const report = await run();
    expect(report.ok).toBe(false);
    expect(failures(report)).toEqual({
      'orders.place(6, card="***masked***")': ["reply.result.reserved: expected 6, got 7"],
    });
    expect(report.calls.filter((c) => !c.ok)).toHaveLength(2);
  });

  it("names a different error type", async () => {
    fault = "errorType";
    const report = await run();
    const failed = failures(report);
    expect(Object.keys(failed)).toHaveLength(10);
    expect(failed['orders.place(19, card="***masked***")']).toEqual([
      'reply.error.exc_type: expected "ValueError", got "KeyError"',
      'reply.error.exc_path: expected "builtins.ValueError", got "builtins.KeyError"',
      'reply.error.value: expected "no", got "\'no\'"',
    ]);
  });

  it("names a missing event", async () => {
    fault = "missingEvent";
    expect(failures(await run())).toEqual({
      'orders.place(5, card="***masked***")': [
        'events[0]: missing, expected {"source": "orders", "type": "placed", "payload": {"n": 5}}',
      ],
    });
  });

  it("names an extra outgoing call", async () => {
    fault = "extraCall";
    expect(failures(await run())).toEqual({
      'orders.place(4, card="***masked***")': [
        'calls[1]: extra, got {"service": "stock", "method": "reserve", "args": [], "kwargs": {"n": 4}}',
      ],
    });
  });

  it("names a renamed kwarg: the stub has no recording of the call and says so at once", async () => {
    fault = "renamedKwarg";
    const failed = failures(await run());
    expect(Object.keys(failed)).toEqual(['orders.place(3, card="***masked***")']);
    const lines = failed['orders.place(3, card="***masked***")']!;
    expect(lines).toContain("calls[0].kwargs.n: missing, expected 3");
    expect(lines).toContain("calls[0].kwargs.count: extra, got 3");
    expect(lines).toContain(
      "calls[0]: no recording answers stock.reserve(count=3); the stub replied ReplayNoRecording",
    );
    // The port passed the stub's error on to its caller.
    expect(lines.some((l) => l.startsWith('reply.result: expected {"n": 3, "reserved": 3, "ref": '))).toBe(true);
    expect(lines.some((l) => l.startsWith('reply.error: expected null, got {"exc_type": '))).toBe(true);
  });

  it("reports a port that does not answer as a timeout of that call, and goes on", async () => {
    fault = "hang";
    release = deferred();
    const report = await run(300);
    release.resolve();
    const failed = failures(report);
    expect(Object.keys(failed)).toEqual(['orders.place(2, card="***masked***")']);
    // What the worker had not done yet when the wait ended is missing too.
    expect(failed['orders.place(2, card="***masked***")']).toEqual([
      "reply: no reply within 300 ms (RpcTimeout)",
      'events[0]: missing, expected {"source": "orders", "type": "placed", "payload": {"n": 2}}',
      'calls[0]: missing, expected {"service": "stock", "method": "reserve", "args": [], "kwargs": {"n": 2}}',
    ]);
    expect(report.calls.filter((c) => !c.ok)).toHaveLength(2);
  });

  it("the command exits 0 on a match, 1 with the diff, unreadable lines and JUnit, 2 for usage errors", async () => {
    // The usage errors run beside the matching replay: none of them reaches the port.
    const [matched, amqp, missing] = await Promise.all([
      runCli(["replay", cassetteFile, "--target", "nats", "--prefix", fx.prefix, "--nats-url", NATS_URL]),
      runCli(["replay", cassetteFile, "--target", "amqp", "--amqp-uri", "amqp://guest:guest@127.0.0.1:5672/"]),
      runCli(["replay", join(dir, "nope.jsonl"), "--target", "nats", "--prefix", fx.prefix]),
    ]);
    expect(matched.stdout).toContain(`${cassetteFile}: ${CALLS} calls replayed, ${CALLS} match, 0 differ`);
    expect(matched.code).toBe(0);
    expect(amqp.code).toBe(2);
    expect(amqp.stderr).toContain("CommandError: --target amqp needs --amqp-uri naming a vhost of the port's own");
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("cannot read the cassette");

    const broken = join(dir, "broken.jsonl");
    copyFileSync(cassetteFile, broken);
    appendFileSync(broken, '{"kind": "call", "service": "orders"}\n');
    const junit = join(dir, "junit.xml");
    fault = "wrongResult";
    const differed = await runCli([
      "replay",
      broken,
      "--target",
      "nats",
      "--prefix",
      fx.prefix,
      "--nats-url",
      NATS_URL,
      "--junit",
      junit,
    ]);
    expect(differed.code).toBe(1);
    expect(differed.stdout).toContain(`${CALLS} calls replayed, ${CALLS - 2} match, 2 differ, 1 unreadable line`);
    expect(differed.stdout).toContain(`line ${CALLS + EVENTS + 2}: line: a call needs service and method`);
    expect(differed.stdout).toContain(
      'orders.place(6, card="***masked***"):\n  reply.result.reserved: expected 6, got 7',
    );
    const xml = readFileSync(junit, "utf8");
    expect(xml).toContain(`tests="${CALLS + 1}" failures="3"`);
    expect(xml).toContain('<failure message="1 difference">reply.result.reserved: expected 6, got 7</failure>');
    expect(xml).toContain('name="call 1 orders.place(');
  }, 60_000);

  describe("against the Nameko original on RabbitMQ (AMQP target)", () => {
    const runAmqp = (): Promise<ReplayReport> =>
      replay({ cassette, target: { side: "amqp", amqpUri: vhost.uri }, settleMs: 200, log: testLogger() });

    beforeAll(async () => {
      // The recording's `stock` goes: in the port's vhost the replay's stubs answer for it.
      await peers.shift()!.stop();
    });

    it("the original matches its own recording, its calls answered by the stubs", async () => {
      const report = await runAmqp();
      expect(failures(report)).toEqual({});
      expect(report.ok).toBe(true);
      expect(report.calls).toHaveLength(CALLS);
    });

    it("names a missing event and an extra outgoing call", async () => {
      fault = "missingEvent";
      expect(failures(await runAmqp())).toEqual({
        'orders.place(5, card="***masked***")': [
          'events[0]: missing, expected {"source": "orders", "type": "placed", "payload": {"n": 5}}',
        ],
      });
      fault = "extraCall";
      expect(failures(await runAmqp())).toEqual({
        'orders.place(4, card="***masked***")': [
          'calls[1]: extra, got {"service": "stock", "method": "reserve", "args": [], "kwargs": {"n": 4}}',
        ],
      });
    });
  });
});
