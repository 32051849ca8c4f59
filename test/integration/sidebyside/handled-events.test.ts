// Events as inputs, against real brokers: events handled by the independent Nameko peer's `shipping`
// (a handler that calls another service and dispatches an event) are recorded from RabbitMQ's
// firehose, then replayed against TypeScript ports on NATS (the faithful port matches, and a port
// whose handler dispatches a different payload is named by the diff) and against the original
// itself on RabbitMQ.
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EventDispatcher, eventHandler, RpcProxy, type Dispatch, type ServiceProxy } from "cliffracer";
import { parseCassette, type HandledEvent, type ParsedCassette } from "../../../compat";
import { formatDifference, formatReport, record, replay, type ReplayReport } from "../../../sidebyside";
import { NATS_URL, testLogger } from "../../helpers/brokers";
import { EventsFixture } from "../../helpers/jetstream";
import { createVhost, type TestVhost } from "../../helpers/rabbit";
import { deferred, withTimeout } from "../../helpers/waiters";
import {
  PeerCaller,
  PeerDispatcher,
  pyContextHeaders,
  pyDumps,
  startPeerHandler,
  startPeerService,
  type PeerHandler,
  type PeerService,
} from "../../interop/nameko-peer";

const MANAGEMENT = "http://guest:guest@127.0.0.1:15672";
const EVENTS = 20;

type Fault = "none" | "payload";
let fault: Fault = "none";

/** The TypeScript port of the peer's `shipping`, with one fault switched on at a time. */
class Shipping {
  name = "shipping";
  @RpcProxy("stock") stock!: ServiceProxy;
  @EventDispatcher() dispatch!: Dispatch;

  @eventHandler("orders", "placed")
  async onPlaced(payload: { n: number }): Promise<void> {
    const reserved = (await this.stock.reserve(payload.n)) as number;
    const shipped = fault === "payload" && payload.n === 3 ? reserved + 1 : reserved;
    await this.dispatch("shipped", { n: payload.n, reserved: shipped });
  }
}

function failures(report: ReplayReport): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const c of report.calls.filter((call) => !call.ok)) out[c.label] = c.differences.map(formatDifference);
  return out;
}

describe("handled events: record from RabbitMQ, replay on NATS", () => {
  let vhost: TestVhost;
  let dir: string;
  let cassette: ParsedCassette;
  let stock: PeerService;
  let handler: PeerHandler;
  let caller: PeerCaller;
  let dispatcher: PeerDispatcher;
  const fx = new EventsFixture();

  beforeAll(async () => {
    vhost = await createVhost("cliff-handled");
    dir = mkdtempSync(join(tmpdir(), "cliff-handled-"));
    stock = await startPeerService({
      uri: vhost.uri,
      name: "stock",
      methods: { reserve: { params: ["n"], fn: (n: number) => n % 7 } },
    });
    caller = await PeerCaller.start({ uri: vhost.uri, timeoutMs: 5_000 });
    dispatcher = await PeerDispatcher.start(vhost.uri);
    // The original: shipping.on_placed calls stock.reserve and dispatches shipping.shipped, both
    // from its worker's stack, as a Nameko worker does.
    handler = await startPeerHandler({
      uri: vhost.uri,
      source: "orders",
      eventType: "placed",
      service: "shipping",
      method: "on_placed",
      handler: async (event) => {
        const n = (event.payload as { n: number }).n;
        const headers = pyContextHeaders(event.context.data, event.callIdStack);
        const m = await caller.send("stock.reserve", pyDumps({ args: [n], kwargs: {} }), { properties: { headers } });
        const reserved = (JSON.parse(m.content.toString("utf8")) as { result: number }).result;
        await dispatcher.dispatch(
          "shipping",
          "shipped",
          { n, reserved },
          { service: { data: event.context.data, callIdStack: event.callIdStack } },
        );
      },
    });
    const out = join(dir, "shipping.jsonl");
    const listening = deferred();
    const recording = record({
      side: "amqp",
      services: ["shipping"],
      out,
      amqpUri: vhost.uri,
      managementUrl: MANAGEMENT,
      natsUrl: "",
      max: EVENTS,
      seconds: 20,
      // The handler's worker may pause for a while on a loaded machine between the event and its call.
      handledQuietMs: 5_000,
      onListening: () => listening.resolve(),
      log: testLogger(),
    });
    await withTimeout(listening.promise, 10_000, "the recording to start");
    for (let n = 0; n < EVENTS; n++)
      await dispatcher.dispatch(
        "orders",
        "placed",
        { n },
        { service: { data: { user_id: `u-${n}` }, callIdStack: [`orders.place.${randomUUID()}`] } },
      );
    const summary = await withTimeout(recording, 20_000, "the recording to end");
    expect(summary).toMatchObject({ handled: EVENTS, calls: 0, endedBy: "max" });
    cassette = parseCassette(readFileSync(out, "utf8"));
    await fx.start(Shipping);
  }, 60_000);

  afterEach(() => {
    fault = "none";
  });

  afterAll(async () => {
    await fx.cleanup();
    await handler?.stop();
    await stock?.stop();
    await caller?.close();
    await dispatcher?.close();
    await vhost?.delete();
    rmSync(dir, { recursive: true, force: true });
  });

  it("records each handled event with its handler, the call its worker made and the event it dispatched", () => {
    expect(cassette.problems).toEqual([]);
    const handled = cassette.entries as HandledEvent[];
    expect(handled.map((h) => h.kind)).toEqual(Array(EVENTS).fill("handled"));
    const third = handled.find((h) => (h.payload as { n: number }).n === 3)!;
    expect(third).toMatchObject({
      service: "shipping",
      handler: "on_placed",
      source: "orders",
      type: "placed",
      context: { user_id: "u-3" },
      workerCallId: expect.stringMatching(/^shipping\.on_placed\./),
      calls: [{ service: "stock", method: "reserve", args: [3], reply: { result: 3, error: null } }],
      events: [{ source: "shipping", type: "shipped", payload: { n: 3, reserved: 3 }, context: { user_id: "u-3" } }],
    });
    expect(third.calls[0]!.callIdStack).toEqual([...third.callIdStack, third.workerCallId]);
  });

  const run = (): Promise<ReplayReport> =>
    replay({
      cassette,
      target: { side: "nats", natsUrl: NATS_URL, prefix: fx.prefix },
      timeoutMs: 5_000,
      settleMs: 100,
      log: testLogger(),
    });

  it("a faithful port's handler makes the same call and dispatches the same event for every event", async () => {
    const report = await run();
    expect(failures(report)).toEqual({});
    expect(report.ok).toBe(true);
    expect(report.calls).toHaveLength(EVENTS);
    expect(report.calls.every((c) => c.kind === "handled" && c.target === "shipping.on_placed")).toBe(true);
  });

  it("names the event payload a port's handler dispatched differently", async () => {
    fault = "payload";
    const report = await run();
    expect(report.ok).toBe(false);
    expect(failures(report)).toEqual({
      'orders.placed({"n": 3}) -> shipping.on_placed': ["events[0].payload.reserved: expected 3, got 4"],
    });
    expect(formatReport(report, "shipping.jsonl")).toContain(
      `0 calls and ${EVENTS} handled events replayed, ${EVENTS - 1} match, 1 differ`,
    );
  });

  it("on RabbitMQ the original's handler matches its own recording, its call answered by the stubs", async () => {
    // The recording's `stock` goes: in the original's vhost the replay's stubs answer for it.
    await stock.stop();
    const report = await replay({
      cassette,
      target: { side: "amqp", amqpUri: vhost.uri },
      timeoutMs: 5_000,
      settleMs: 200,
      log: testLogger(),
    });
    expect(failures(report)).toEqual({});
    expect(report.ok).toBe(true);
    expect(report.calls).toHaveLength(EVENTS);

    // A recorded handler whose queue the target does not have is missing there.
    const first = cassette.entries[0] as HandledEvent;
    const renamed = await replay({
      cassette: { ...cassette, entries: [{ ...first, handler: "on_gone" }] },
      target: { side: "amqp", amqpUri: vhost.uri },
      timeoutMs: 5_000,
      settleMs: 200,
      log: testLogger(),
    });
    expect(renamed.calls.map((c) => [c.target, c.differences[0]?.kind])).toEqual([
      ["shipping.on_gone", "missing"],
      ["shipping.on_placed", "extra"],
    ]);
  });
});
