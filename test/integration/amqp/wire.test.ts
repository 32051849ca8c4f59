import { createRequire } from "node:module";
import { AmqpConnection } from "../../../amqp/connection";
import { AmqpEventConsumer, AmqpEventDispatcher, type IncomingEvent } from "../../../amqp/events";
import { amqpHeadersFromContext, decodeAmqpHeaders, encodeAmqpHeaders } from "../../../amqp/headers";
import { AmqpRpcClient } from "../../../amqp/rpc-client";
import { AmqpRpcServer } from "../../../amqp/rpc-server";
import { encodeReply } from "../../../compat/codec";
import { UnknownService } from "../../../compat/errors";
import { dirname, join } from "node:path";
import * as amqp from "amqplib";
import { createVhost, type TestVhost } from "../../helpers/rabbit";
import { PeerCaller, PeerDispatcher } from "../../interop/nameko-peer";

// The project-level testTimeout is not applied by jest 30 under `projects`; broker tests need more than 5 s.
jest.setTimeout(30000);

// amqplib internals, loaded by path (its package "exports" hide lib/): the encoder the wire uses.
const lib = join(dirname(require.resolve("amqplib")), "lib");
const requireLib = createRequire(__filename);
const defs = requireLib(join(lib, "defs.js")) as {
  BasicPublish: number;
  encodeMethod(id: number, channel: number, fields: object): Buffer;
  encodeProperties(id: number, channel: number, size: number, fields: object): Buffer;
};
const codec = requireLib(join(lib, "codec.js")) as { encodeTable(buf: Buffer, val: object, offset: number): number };
const channelProto = (
  requireLib(join(lib, "channel.js")) as {
    Channel: { prototype: { sendMessage(f: object, p: object, c: Buffer): boolean } };
  }
).Channel.prototype;

/**
 * Nameko 2.14 frames captured on the wire (docs/nameko-wire.md, Captured messages; hex, channel 1), copied
 * verbatim.
 */
const NAMEKO_FRAMES: Record<string, string[]> = {
  "RPC request (13.1)": [
    "0100010000001b003c002800000a6e616d656b6f2d7270630863616c632e61646401ce",
    "02000100000174003c0000000000000000001efe00106170706c69636174696f6e2f6a736f6e057574662d38000000ff0e6e616d656b6f2e757365725f69645300000003752d310f6e616d656b6f2e6c616e67756167655300000005656e2d6762116e616d656b6f2e617574685f746f6b656e5300000007746f6b2d313233116e616d656b6f2e757365725f6167656e74530000000f737065632d636c69656e742f312e30116e616d656b6f2e637573746f6d5f6b65795300000006637573746f6d0a6e616d656b6f2e6e756d4900000005146e616d656b6f2e63616c6c5f69645f737461636b4100000043530000003e7374616e64616c6f6e655f7270635f70726f78792e63616c6c2e34626335346162382d393839372d343937362d623763372d39666232353062306630663602002432663762346637642d663966642d343039302d623564342d3263623565383564643962332430383539353666332d343162332d343031302d386433642d666537356264633866366135ce",
    "0300010000001e7b2261726773223a205b312c20325d2c20226b7761726773223a207b7d7dce",
  ],
  "RPC reply (13.2)": [
    "01000100000037003c002800000a6e616d656b6f2d7270632430383539353666332d343162332d343031302d386433642d66653735626463386636613500ce",
    "02000100000050003c0000000000000000001cfc00106170706c69636174696f6e2f6a736f6e057574662d380000000002002432663762346637642d663966642d343039302d623564342d326362356538356464396233ce",
    "0300010000001c7b22726573756c74223a20332c20226572726f72223a206e756c6c7dce",
  ],
  "Event from a service (13.6)": [
    "01000100000022003c002800000b63616c632e6576656e74730e7468696e675f68617070656e656400ce",
    "0200010000015d003c00000000000000000008f800106170706c69636174696f6e2f6a736f6e057574662d38000001320e6e616d656b6f2e757365725f69645300000003752d310f6e616d656b6f2e6c616e67756167655300000005656e2d6762116e616d656b6f2e617574685f746f6b656e5300000007746f6b2d313233116e616d656b6f2e757365725f6167656e74530000000f737065632d636c69656e742f312e30116e616d656b6f2e637573746f6d5f6b65795300000006637573746f6d0a6e616d656b6f2e6e756d4900000005146e616d656b6f2e63616c6c5f69645f737461636b4100000076530000003e7374616e64616c6f6e655f7270635f70726f78792e63616c6c2e34626335346162382d393839372d343937362d623763372d396662323530623066306636530000002e63616c632e656d69742e36316663393034382d303533352d346632302d393639612d3162313365613765626561390200ce",
    "030001000000087b226e223a20317dce",
  ],
  "Standalone event (13.6)": [
    "01000100000027003c00280000157374616e64616c6f6e655f7372632e6576656e7473096578745f6576656e7400ce",
    "0200010000002b003c0000000000000000001ff800106170706c69636174696f6e2f6a736f6e057574662d38000000000200ce",
  ],
};

interface Sent {
  fields: { exchange: string; routingKey: string; mandatory: boolean; immediate: boolean; ticket?: number } & Record<
    string,
    unknown
  >;
  content: Buffer;
}

/** Re-encodes a captured publish into its three frames (channel 1), hex. */
function frames(sent: Sent, override: Record<string, unknown> = {}): string[] {
  const props = { ...sent.fields, ...override };
  const method = defs.encodeMethod(defs.BasicPublish, 1, { ...props, ticket: 0 });
  const header = defs.encodeProperties(60, 1, sent.content.length, props);
  const body = Buffer.concat([Buffer.from([3, 0, 1]), Buffer.alloc(4), sent.content, Buffer.from([0xce])]);
  body.writeUInt32BE(sent.content.length, 3);
  return [method.toString("hex"), header.toString("hex"), body.toString("hex")];
}

const CONTEXT = {
  user_id: "u-1",
  language: "en-gb",
  auth_token: "tok-123",
  user_agent: "spec-client/1.0",
  custom_key: "custom",
  num: 5,
};
const STANDALONE = "standalone_rpc_proxy.call.4bc54ab8-9897-4976-b7c7-9fb250b0f0f6";

describe("wire fidelity against the captured Nameko frames and header typing", () => {
  let vhost: TestVhost;
  let conn: AmqpConnection;
  let sent: Sent[];
  let spy: jest.SpyInstance;
  const doc = NAMEKO_FRAMES;

  beforeEach(async () => {
    vhost = await createVhost("cliff-wire");
    conn = new AmqpConnection({ uri: vhost.uri, connectionName: "wire-test" });
    await conn.start();
    sent = [];
    const original = channelProto.sendMessage;
    spy = jest.spyOn(channelProto, "sendMessage").mockImplementation(function (
      this: unknown,
      f: object,
      p: object,
      c: Buffer,
    ) {
      sent.push({ fields: p as Sent["fields"], content: c });
      return original.call(this, f, p, c);
    });
  });

  afterEach(async () => {
    spy.mockRestore();
    await conn.close();
    await vhost.delete();
  });

  it("an RPC request is byte-identical to Nameko's", async () => {
    const client = new AmqpRpcClient({ connection: conn });
    await client.start();
    const err = await client
      .call("calc", "add", [1, 2], {}, { contextData: CONTEXT, parentStack: [STANDALONE] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnknownService);
    const req = sent.find((s) => s.fields.routingKey === "calc.add");
    expect(req).toBeDefined();
    const ours = frames(req as Sent, {
      correlationId: "2f7b4f7d-f9fd-4090-b5d4-2cb5e85dd9b3",
      replyTo: "085956f3-41b3-4010-8d3d-fe75bdc8f6a5",
    });
    expect(ours).toEqual(doc["RPC request (13.1)"]);
    await client.stop();
  });

  it("an RPC reply is byte-identical to Nameko's", async () => {
    const server = new AmqpRpcServer({ connection: conn, service: "calc", handler: async () => encodeReply(3) });
    await server.start();
    const caller = await PeerCaller.start({ uri: vhost.uri });
    const replyTo = "085956f3-41b3-4010-8d3d-fe75bdc8f6a5"; // nobody is bound: the reply is dropped by the broker
    await caller
      .send("calc.add", '{"args": [1, 2], "kwargs": {}}', {
        properties: { replyTo, correlationId: "2f7b4f7d-f9fd-4090-b5d4-2cb5e85dd9b3" },
        timeoutMs: 1000,
      })
      .catch(() => undefined);
    const reply = sent.find((s) => s.fields.routingKey === replyTo);
    expect(reply).toBeDefined();
    expect(frames(reply as Sent)).toEqual(doc["RPC reply (13.2)"]);
    await caller.close();
    await server.stop();
  });

  it("events, in-service and standalone, are byte-identical to Nameko's", async () => {
    await new AmqpEventDispatcher({ connection: conn }).dispatch(
      "calc",
      "thing_happened",
      { n: 1 },
      {
        contextData: CONTEXT,
        callIdStack: [STANDALONE, "calc.emit.61fc9048-0535-4f20-969a-1b13ea7ebea9"],
      },
    );
    await new AmqpEventDispatcher({ connection: conn }).dispatch("standalone_src", "ext_event", {
      hello: "world",
      n: [1, 2],
    });
    const [service, standalone] = sent.filter((s) => s.fields.exchange.endsWith(".events"));
    expect(frames(service)).toEqual(doc["Event from a service (13.6)"]);
    // The spec lists only the standalone event's method and header frames.
    expect(frames(standalone).slice(0, 2)).toEqual(doc["Standalone event (13.6)"]);
  });

  it("types header values as py-amqp does; amqplib alone would not", () => {
    const table = (v: object): string => {
      const buf = Buffer.alloc(1024);
      return buf.subarray(0, codec.encodeTable(buf, v, 0)).toString("hex");
    };
    // amqplib's own guess for 5 is `b` (int8), where py-amqp writes `I`: the reason for headers.ts.
    expect(table({ n: 5 })).toBe("00000004016e6205");
    expect(table(encodeAmqpHeaders({ n: 5 }))).toBe("00000007016e4900000005");
    expect(table(encodeAmqpHeaders({ n: 300, big: 3000000000, r: 0.5, t: true, a: ["x"], none: null }))).toBe(
      [
        "00000030",
        "016e",
        "490000012c", // I 300
        "03626967",
        "6c00000000b2d05e00", // l 3000000000
        "0172",
        "643fe0000000000000", // d 0.5
        "0174",
        "7401", // t true
        "0161",
        "41000000065300000001" + "78", // A [S "x"]
      ].join(""),
    );
    expect(encodeAmqpHeaders({ stack: ["a"] })).toEqual({ stack: ["a"] });
    expect(amqpHeadersFromContext({ k: null, num: 5 }, ["s"])).toEqual({
      "nameko.num": { "!": "int32", value: 5 },
      "nameko.call_id_stack": ["s"],
    });
    expect(
      decodeAmqpHeaders({
        ts: { "!": "timestamp", value: 1 },
        d: { "!": "decimal", value: { places: 2, digits: 110 } },
      }),
    ).toEqual({
      ts: new Date(1000),
      d: 1.1,
    });
  });

  it("survives py-amqp's `L` integer tag instead of dropping the connection", async () => {
    expect(conn.socketAdaptations()?.pyAmqpLongTags).toBe(true);
    const got: IncomingEvent[] = [];
    let resolve!: () => void;
    const arrived = new Promise<void>((r) => (resolve = r));
    const consumer = new AmqpEventConsumer({
      connection: conn,
      source: "py",
      eventType: "big",
      service: "ts",
      method: "on_big",
      handlerType: "service_pool",
      handler: async (e) => {
        got.push(e);
        resolve();
      },
    });
    await consumer.start();
    // A raw publisher rewrites the `l` tag of one header into py-amqp's `L` on the socket.
    const raw = await amqp.connect(vhost.uri);
    const stream = (raw as unknown as { connection: { stream: { write: (b: Buffer, ...r: unknown[]) => boolean } } })
      .connection.stream;
    const write = stream.write.bind(stream);
    const marker = Buffer.from("nameko.bigl");
    stream.write = (b: Buffer, ...r: unknown[]) => {
      const i = Buffer.isBuffer(b) ? b.indexOf(marker) : -1;
      if (i >= 0) b[i + marker.length - 1] = 0x4c;
      return write(b, ...r);
    };
    const ch = await raw.createConfirmChannel();
    ch.publish("py.events", "big", Buffer.from("{}"), {
      contentType: "application/json",
      headers: { "nameko.big": { "!": "int64", value: 5000000000 }, "nameko.call_id_stack": ["py.x.1"] },
    });
    await ch.waitForConfirms();
    await arrived;
    expect(got[0].context).toEqual({ data: { big: 5000000000 }, parentStack: ["py.x.1"] });
    expect(conn.ready).toBe(true);
    await raw.close();
    await consumer.stop();
  });

  it("the peer's dispatcher and our consumer agree on nested header types", async () => {
    const got: IncomingEvent[] = [];
    let resolve!: () => void;
    const arrived = new Promise<void>((r) => (resolve = r));
    const consumer = new AmqpEventConsumer({
      connection: conn,
      source: "py",
      eventType: "typed",
      service: "ts",
      method: "on_typed",
      handlerType: "service_pool",
      handler: async (e) => {
        got.push(e);
        resolve();
      },
    });
    await consumer.start();
    const peer = await PeerDispatcher.start(vhost.uri);
    const data = { n: 7, f: 1.5, b: false, list: [1, "two"], nested: { k: "v", i: 3 } };
    await peer.dispatch("py", "typed", 1, { service: { data, callIdStack: ["py.emit.1"] } });
    await arrived;
    expect(got[0].context).toEqual({ data, parentStack: ["py.emit.1"] });
    await peer.close();
    await consumer.stop();
  });
});
