// `compare` against real brokers: the independent Nameko peer as the running original on RabbitMQ
// (it calls `stock` and dispatches an event) and a TypeScript port running on NATS under its own
// prefix get the same calls (and events for their handlers); a faithful port matches, a wrong one is
// named by the diff.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  EventDispatcher,
  eventHandler,
  kwargs,
  rpc,
  RpcProxy,
  ValueError,
  type Dispatch,
  type ServiceProxy,
} from "cliffracer";
import { compareLive, formatDifference, type CallSpec } from "../../../sidebyside";
import { NATS_URL, testLogger } from "../../helpers/brokers";
import { EventsFixture } from "../../helpers/jetstream";
import { createVhost, type TestVhost } from "../../helpers/rabbit";
import { withTimeout } from "../../helpers/waiters";
import {
  PeerDispatcher,
  PeerRemoteError,
  startPeerHandler,
  startPeerService,
  type PeerHandler,
  type PeerService,
  type PeerWorker,
} from "../../interop/nameko-peer";

jest.setTimeout(60_000);

const BIN = join(__dirname, "..", "..", "..", "bin", "cliffracer.js");
const MANAGEMENT = "http://guest:guest@127.0.0.1:15672";
const CALLS: CallSpec[] = [
  ...Array.from({ length: 8 }, (_, n) => ({ method: "place", args: [n] })),
  { method: "place", args: [-1] },
  { method: "place", kwargs: { n: 3 }, context: { user_id: "u-7" } },
];

const EVENTS = [
  { source: "stock", type: "restocked", payload: { sku: "a-1" } },
  { source: "stock", type: "restocked", payload: { sku: "b-2" }, context: { user_id: "u-8" } },
];

let wrongResult = false;

/** The TypeScript port of the peer's `orders`. */
class Orders {
  name = "orders";
  @RpcProxy("stock") stock!: ServiceProxy;
  @EventDispatcher() dispatch!: Dispatch;

  @rpc()
  async place(n: number): Promise<{ n: number; reserved: number }> {
    if (n < 0) throw new ValueError("negative");
    const reserved = (await this.stock.reserve(kwargs({ n }))) as number;
    await this.dispatch("placed", { n });
    return { n, reserved: wrongResult && n === 6 ? reserved + 1 : reserved };
  }

  @eventHandler("stock", "restocked")
  async onRestocked(payload: { sku: string }): Promise<void> {
    await this.dispatch("restock_noted", { sku: payload.sku });
  }
}

describe("cliffracer compare", () => {
  let vhost: TestVhost;
  let dir: string;
  let callsFile: string;
  let eventsFile: string;
  let handler: PeerHandler;
  const peers: PeerService[] = [];
  let dispatcher: PeerDispatcher;
  const fx = new EventsFixture();

  beforeAll(async () => {
    vhost = await createVhost("cliff-compare");
    dir = mkdtempSync(join(tmpdir(), "cliff-compare-"));
    callsFile = join(dir, "calls.json");
    writeFileSync(callsFile, JSON.stringify(CALLS));
    eventsFile = join(dir, "events.json");
    writeFileSync(eventsFile, JSON.stringify(EVENTS));
    dispatcher = await PeerDispatcher.start(vhost.uri);
    handler = await startPeerHandler({
      uri: vhost.uri,
      source: "stock",
      eventType: "restocked",
      service: "orders",
      method: "on_restocked",
      handler: (event) =>
        dispatcher.dispatch(
          "orders",
          "restock_noted",
          { sku: (event.payload as { sku: string }).sku },
          { service: { data: event.context.data, callIdStack: event.callIdStack } },
        ),
    });
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
            params: ["n"],
            async fn(this: PeerWorker, n: number) {
              if (n < 0) throw new PeerRemoteError("ValueError", "builtins.ValueError", ["negative"], "negative");
              const reserved = await this.call("stock", "reserve", [], { n });
              await dispatcher.dispatch("orders", "placed", { n }, { service: { callIdStack: this.callIdStack } });
              return { n, reserved };
            },
          },
        },
      }),
    );
    await fx.start(Orders);
  });

  afterEach(() => {
    wrongResult = false;
  });

  afterAll(async () => {
    await fx.cleanup();
    await handler?.stop();
    for (const p of peers) await p.stop();
    await dispatcher?.close();
    await vhost?.delete();
    rmSync(dir, { recursive: true, force: true });
  });

  const compare = () =>
    compareLive({
      service: "orders",
      calls: CALLS,
      amqpUri: vhost.uri,
      managementUrl: MANAGEMENT,
      natsUrl: NATS_URL,
      prefix: fx.prefix,
      timeoutMs: 5_000,
      settleMs: 100,
      log: testLogger(),
    });

  it("a faithful port answers, dispatches and calls like the running original, errors and context included", async () => {
    const report = await compare();
    expect(report.calls.filter((c) => !c.ok).map((c) => [c.label, c.differences.map(formatDifference)])).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.calls).toHaveLength(CALLS.length);
  });

  it("names the field where the port's reply differs from the original's", async () => {
    wrongResult = true;
    const report = await compare();
    expect(report.ok).toBe(false);
    const failed = report.calls.filter((c) => !c.ok);
    expect(failed.map((c) => [c.label, c.differences.map(formatDifference)])).toEqual([
      ["orders.place(6)", ["reply.result.reserved: expected 6, got 7"]],
    ]);
  });

  it("the command exits 0 when the port matches, its handlers included, and prints the verdict", async () => {
    const child = spawn(
      process.execPath,
      [BIN, "compare", "--service", "orders", "--calls", callsFile, "--events", eventsFile, "--prefix", fx.prefix],
      {
        env: { ...process.env, AMQP_URI: vhost.uri, NATS_URL, LOG_LEVEL: "error" },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let stdout = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    const code = await withTimeout(
      new Promise<number | null>((resolve) => child.on("exit", resolve)),
      30_000,
      "cliffracer compare to exit",
    );
    expect(stdout).toContain(
      `${CALLS.length} calls and ${EVENTS.length} handled events replayed, ${CALLS.length + EVENTS.length} match`,
    );
    expect(code).toBe(0);
  });
});
