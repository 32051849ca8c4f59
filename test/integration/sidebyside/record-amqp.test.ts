// `record` against a real RabbitMQ, with the independent Nameko peer as the original: a service that
// calls another service and dispatches events, recorded through the firehose without changing routing.
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ManagementApi } from "../../../amqp";
import { MASK, parseCassette, type RecordedCall, type RecordedEvent } from "../../../compat";
import { ManagementUnavailable, record, type RecordSummary } from "../../../sidebyside";
import { testLogger } from "../../helpers/brokers";
import { createVhost, type TestVhost } from "../../helpers/rabbit";
import { deferred, waitForLine, withTimeout } from "../../helpers/waiters";
import {
  PeerCaller,
  PeerDispatcher,
  PeerRemoteError,
  PeerUnknownService,
  startPeerService,
  type PeerService,
  type PeerWorker,
} from "../../interop/nameko-peer";

const BIN = join(__dirname, "..", "..", "..", "bin", "cliffracer.js");
const MANAGEMENT = "http://guest:guest@127.0.0.1:15672";
const CALLS = 200;
const EVENTS = 50;
const CALLERS = 4;

describe("cliffracer record (RabbitMQ)", () => {
  let vhost: TestVhost;
  let dir: string;
  let dispatcher: PeerDispatcher;
  const services: PeerService[] = [];
  const api = new ManagementApi(MANAGEMENT);
  const tracing = async (): Promise<boolean> => (await api.vhost(vhost.name)).tracing;

  beforeAll(async () => {
    vhost = await createVhost("cliff-record");
    dir = mkdtempSync(join(tmpdir(), "cliff-record-"));
    dispatcher = await PeerDispatcher.start(vhost.uri);
    services.push(
      await startPeerService({ uri: vhost.uri, name: "stock", methods: { reserve: (n: number) => n % 7 } }),
      await startPeerService({
        uri: vhost.uri,
        name: "orders",
        methods: {
          place: {
            params: ["n", "card"],
            async fn(this: PeerWorker, n: number) {
              if (n % 10 === 9) throw new PeerRemoteError("ValueError", "builtins.ValueError", ["no"], "no");
              const reserved = await this.call("stock", "reserve", [n]);
              await dispatcher.dispatch("orders", "placed", { n }, { service: { callIdStack: this.callIdStack } });
              return { n, reserved };
            },
          },
        },
      }),
    );
  });

  afterAll(async () => {
    for (const s of services) await s.stop();
    await dispatcher.close();
    await vhost.delete();
    rmSync(dir, { recursive: true, force: true });
  });

  it("records 200 calls with their outgoing calls and events and 50 events, routing and tracing unchanged", async () => {
    const out = join(dir, "orders.jsonl");
    const listening = deferred();
    const recording = record({
      side: "amqp",
      services: ["orders"],
      out,
      amqpUri: vhost.uri,
      managementUrl: MANAGEMENT,
      natsUrl: "",
      max: CALLS + EVENTS,
      seconds: 50,
      masks: { "orders.place": ["card"] },
      onListening: () => listening.resolve(),
      log: testLogger(),
    });
    await withTimeout(listening.promise, 10_000, "the recording to start");
    expect(await tracing()).toBe(true);

    // Several callers at once, each calling in turn: every call's worker is told apart by its stack.
    const callers = await Promise.all(Array.from({ length: CALLERS }, () => PeerCaller.start({ uri: vhost.uri })));
    const replies = await Promise.all(
      callers.map(async (caller, c) => {
        const got: unknown[] = [];
        for (let i = c; i < CALLS; i += CALLERS) {
          got.push(await caller.call("orders", "place", [i], { card: `4111-${i}` }).catch((e: Error) => e.name));
        }
        return got;
      }),
    );
    expect(replies.flat().filter((r) => r === "PeerRemoteError")).toHaveLength(CALLS / 10);
    // A service nobody serves is still unknown at once: nothing was bound to nameko-rpc.
    await expect(callers[0]!.call("ghost_service", "anything", [], {}, 5_000)).rejects.toBeInstanceOf(
      PeerUnknownService,
    );
    for (let i = 0; i < EVENTS; i++)
      await dispatcher.dispatch("orders", "tick", { i }, { service: { callIdStack: [`orders.tick.${randomUUID()}`] } });

    const summary: RecordSummary = await withTimeout(recording, 30_000, "the recording to end");
    await Promise.all(callers.map((c) => c.close()));
    expect(summary).toMatchObject({ calls: CALLS, events: EVENTS, skipped: 0, endedBy: "max" });
    expect(await tracing()).toBe(false);

    const cassette = parseCassette(readFileSync(out, "utf8"));
    expect(cassette.problems).toEqual([]);
    expect(cassette.header).toMatchObject({ side: "amqp", services: ["orders"], masks: { "orders.place": ["card"] } });
    const calls = cassette.entries.filter((e): e is RecordedCall => e.kind === "call");
    const events = cassette.entries.filter((e): e is RecordedEvent => e.kind === "event");
    expect(calls).toHaveLength(CALLS);
    expect(events.map((e) => (e.payload as { i: number }).i)).toEqual(Array.from({ length: EVENTS }, (_, i) => i));
    for (const call of calls) {
      const n = call.args[0] as number;
      expect(call.kwargs).toEqual({ card: MASK });
      expect(call.callIdStack).toHaveLength(1);
      expect(call.ambiguous).toBeUndefined();
      expect(call.durationMs).toBeGreaterThanOrEqual(0);
      if (n % 10 === 9) {
        expect(call.reply).toEqual({
          result: null,
          error: { exc_type: "ValueError", exc_path: "builtins.ValueError", exc_args: ["no"], value: "no" },
        });
        expect(call.calls).toEqual([]);
        expect(call.events).toEqual([]);
        continue;
      }
      expect(call.reply).toEqual({ result: { n, reserved: n % 7 }, error: null });
      expect(call.workerCallId).toMatch(/^orders\.place\./);
      expect(call.calls).toMatchObject([
        {
          service: "stock",
          method: "reserve",
          args: [n],
          callIdStack: [...call.callIdStack, call.workerCallId],
          reply: { result: n % 7, error: null },
        },
      ]);
      expect(call.events).toMatchObject([{ source: "orders", type: "placed", payload: { n } }]);
    }
  });

  it("leaves tracing on when it was on before", async () => {
    const vhostRecord = await api.vhost(vhost.name);
    await api.setTracing(vhostRecord, true);
    const summary = await record({
      side: "amqp",
      services: ["orders"],
      out: join(dir, "empty.jsonl"),
      amqpUri: vhost.uri,
      managementUrl: MANAGEMENT,
      natsUrl: "",
      seconds: 0.2,
      log: testLogger(),
    });
    expect(summary).toMatchObject({ calls: 0, events: 0, endedBy: "seconds" });
    expect(await tracing()).toBe(true);
    await api.setTracing(vhostRecord, false);
  });

  it("says what to enable when the management API does not answer, and leaves no file", async () => {
    const out = join(dir, "none.jsonl");
    const failed = record({
      side: "amqp",
      services: ["orders"],
      out,
      amqpUri: vhost.uri,
      managementUrl: "http://guest:guest@127.0.0.1:1",
      natsUrl: "",
      log: testLogger(),
    });
    await expect(failed).rejects.toBeInstanceOf(ManagementUnavailable);
    await expect(failed).rejects.toThrow(/enable the rabbitmq_management plugin/);
    expect(() => readFileSync(out)).toThrow(/ENOENT/);
  });

  it("switches tracing off again when the record command gets SIGTERM", async () => {
    const out = join(dir, "sigterm.jsonl");
    const child = spawn(
      process.execPath,
      [BIN, "record", "--service", "orders", "--out", out, "--amqp-uri", vhost.uri, "--management-url", MANAGEMENT],
      { env: { ...process.env, LOG_LEVEL: "info" }, stdio: ["ignore", "pipe", "pipe"] },
    );
    const exited = deferred<number | null>();
    child.on("exit", (code) => exited.resolve(code));
    try {
      await waitForLine(child.stdout!, /"message":"recording"/, 30_000);
      expect(await tracing()).toBe(true);
      const caller = await PeerCaller.start({ uri: vhost.uri });
      await caller.call("orders", "place", [1], { card: "x" });
      await caller.close();
      child.kill("SIGTERM");
      expect(await withTimeout(exited.promise, 20_000, "record to exit")).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
    expect(await tracing()).toBe(false);
    expect(parseCassette(readFileSync(out, "utf8")).problems).toEqual([]);
  });
});
