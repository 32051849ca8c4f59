// One bad header must never take the bridge's AMQP side down for everyone (a NaN double made
// RabbitMQ close the shared publisher connection, failing unrelated calls). A seeded fuzzer sends
// thousands of requests with headers AMQP or py-amqp cannot carry, interleaved with 3,000 good
// calls carrying headers of every JSON type, to a Nameko-protocol service through the bridge:
// every good call is answered correctly, every bad one gets MalformedRequest naming its header
// without reaching RabbitMQ, and the bridge's AMQP connections stay the ones it started with.
import { headers as natsHeaders, type NatsConnection } from "@nats-io/transport-node";
import { rpc } from "cliffracer";
import { MAX_DECODED_DEPTH } from "../../../amqp";
import { BRIDGE_CONNECTION_NAME_PREFIX } from "../../../bridge/config";
import { listConnections } from "../../helpers/rabbit";
import type { PeerCaller, PeerService, PeerWorker } from "../../interop/nameko-peer";
import { BridgeFixture } from "./bridge-fixture";
import { badRequest, goodValue, seededRandom, type BadKind } from "./header-fuzzer";

const GOOD_CALLS = 3_000;
const BAD_CALLS = 3_000;
/** Requests in flight at once from the NATS-side caller. */
const CONCURRENCY = 48;
const SEED = 20261207;
/** A cap, not a speed claim: about 30 s on 2 cores at load 20; more when other suites share them. */
const FUZZ_TIMEOUT_MS = 240_000;

interface Reply {
  result?: unknown;
  error?: { exc_type: string; exc_path: string; value: string } | null;
}

type Planned = { good: true; n: number; probe: unknown } | ({ good: false; n: number } & ReturnType<typeof badRequest>);

/** Good and bad requests, shuffled together by the same seeded generator. */
function plan(): Planned[] {
  const rand = seededRandom(SEED);
  const all: Planned[] = [];
  for (let n = 0; n < GOOD_CALLS; n++) all.push({ good: true, n, probe: goodValue(rand) });
  for (let n = 0; n < BAD_CALLS; n++) all.push({ good: false, n, ...badRequest(rand, n) });
  for (let i = all.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [all[i], all[j]] = [all[j], all[i]];
  }
  return all;
}

/** The bridge's connections to the test vhost as the broker sees them (name and when they opened). */
async function bridgeConnections(vhost: string): Promise<string[]> {
  return (await listConnections(vhost))
    .filter((c) => c.connectionName.startsWith(BRIDGE_CONNECTION_NAME_PREFIX))
    .map((c) => `${c.connectionName}@${c.connectedAt}`)
    .sort();
}

describe("bridge rpc: header fuzzing NATS -> AMQP", () => {
  const fx = new BridgeFixture();
  let legacy: PeerService;
  let nc: NatsConnection;
  let connectionsAtStart: string[];

  beforeAll(async () => {
    await fx.setup();
    legacy = await fx.peerService({
      name: "legacy",
      maxWorkers: 32,
      methods: {
        echo: function (this: PeerWorker, n: number) {
          return [n + 1, this.data.probe ?? null];
        },
      },
    });
    await fx.readyBridge({ amqpServices: ["legacy"], prefetch: 64 });
    nc = await fx.nats.connection();
    connectionsAtStart = await bridgeConnections(fx.vhost.name);
  });
  afterAll(() => fx.cleanup());

  it(
    "answers every good call, refuses every bad header alone, and never loses an AMQP connection",
    async () => {
      expect(connectionsAtStart).toHaveLength(2); // the bridge's consumer and publisher connections
      const subject = `${fx.prefix}.rpc.legacy.echo`;
      const requests = plan();
      const wrongGood: string[] = [];
      const wrongBad: string[] = [];
      const refusedByKind = new Map<BadKind, number>();

      const send = async (p: Planned): Promise<void> => {
        const h = natsHeaders();
        if (p.good) h.set("nameko.probe", JSON.stringify(p.probe));
        else for (const [k, v] of p.headers) h.set(k, v);
        const body = JSON.stringify({ args: [p.n], kwargs: {} });
        const msg = await nc.request(subject, body, { timeout: 30_000, headers: h });
        const reply = JSON.parse(Buffer.from(msg.data).toString("utf8")) as Reply;
        if (p.good) {
          const expected = [p.n + 1, JSON.parse(JSON.stringify(p.probe ?? null)) as unknown];
          if (reply.error || JSON.stringify(reply.result) !== JSON.stringify(expected))
            wrongGood.push(`good ${p.n}: ${JSON.stringify(reply).slice(0, 300)}`);
          return;
        }
        const e = reply.error;
        if (e?.exc_type === "MalformedRequest" && e.value.includes(`Header "${p.names}`)) {
          refusedByKind.set(p.kind, (refusedByKind.get(p.kind) ?? 0) + 1);
        } else {
          wrongBad.push(`bad ${p.n} (${p.kind}): ${JSON.stringify(reply).slice(0, 300)}`);
        }
      };

      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < requests.length) await send(requests[next++]);
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));

      expect(wrongGood).toEqual([]);
      expect(wrongBad).toEqual([]);
      for (const kind of refusedByKind.keys()) expect(refusedByKind.get(kind)).toBeGreaterThan(200);
      expect(refusedByKind.size).toBe(7);
      // Nothing bad reached RabbitMQ: the service saw exactly the good calls, none twice, none fatal.
      expect(legacy.deliveries).toHaveLength(GOOD_CALLS);
      expect(legacy.deliveries.filter((d) => d.redelivered)).toEqual([]);
      expect(legacy.fatal).toEqual([]);
      // The same two connections, never closed or reopened, and no channel error on them.
      expect(await bridgeConnections(fx.vhost.name)).toEqual(connectionsAtStart);
      expect(fx.logs.filter((l) => /amqp connection lost|channel error/.test(l.message))).toEqual([]);
      expect(fx.logs.filter((l) => l.kind === "bad_header").length).toBeGreaterThan(0);
    },
    FUZZ_TIMEOUT_MS,
  );
});

class Calc {
  name = "calc";

  @rpc()
  add(a: number, b: number): number {
    return a + b;
  }
}

describe("bridge rpc: undecodable headers AMQP -> NATS", () => {
  const fx = new BridgeFixture();
  let caller: PeerCaller;

  beforeAll(async () => {
    await fx.setup();
    await fx.nats.start(Calc);
    await fx.readyBridge({ natsServices: ["calc"] });
    caller = await fx.peerCaller();
  });
  afterAll(() => fx.cleanup());

  it("answers a table nested deeper than amqplib can decode with MalformedRequest, keeping the connection", async () => {
    const before = await bridgeConnections(fx.vhost.name);
    let deep: unknown = "leaf";
    for (let i = 0; i <= MAX_DECODED_DEPTH; i++) deep = [deep];
    const m = await caller.send("calc.add", '{"args": [1, 2], "kwargs": {}}', {
      properties: { headers: { "nameko.deep": deep } },
    });
    const reply = JSON.parse(m.content.toString("utf8")) as Reply;
    expect(reply.error).toMatchObject({ exc_type: "MalformedRequest" });
    expect(reply.error?.value).toMatch(/nests deeper than 1000 levels/);
    expect(await caller.call("calc", "add", [2, 3])).toBe(5);
    expect(await bridgeConnections(fx.vhost.name)).toEqual(before);
  });
});
