import { decodeRequest, encodeReply } from "../../../compat/codec";
import { AmqpConnection } from "../../../amqp/connection";
import { AmqpRpcServer, type IncomingRpcRequest } from "../../../amqp/rpc-server";
import { MethodNotFound } from "../../../compat/errors";
import { createVhost, eventually, listQueues, type TestVhost } from "../../helpers/rabbit";
import { PeerCaller, PeerRemoteError, pyDumps } from "../../interop/nameko-peer";

// The project-level testTimeout is not applied by jest 30 under `projects`; broker tests need more than 5 s.
jest.setTimeout(30000);

const REPLY_PROPS_ABSENT = [
  "replyTo",
  "expiration",
  "messageId",
  "timestamp",
  "type",
  "userId",
  "appId",
  "clusterId",
] as const;

describe("Nameko peer caller -> AmqpRpcServer", () => {
  let vhost: TestVhost;
  let conn: AmqpConnection;
  let server: AmqpRpcServer;
  let caller: PeerCaller;
  let seen: IncomingRpcRequest[];
  let gate: Promise<void> | undefined;

  const handler = async (req: IncomingRpcRequest): Promise<string> => {
    seen.push(req);
    if (gate) await gate;
    const { args, kwargs } = decodeRequest(req.body);
    if (req.method === "add") return encodeReply((args[0] as number) + ((args[1] ?? kwargs.b) as number));
    if (req.method === "echo_context") return encodeReply({ data: req.context.data, stack: req.context.parentStack });
    throw new MethodNotFound(req.method);
  };

  beforeEach(async () => {
    vhost = await createVhost("cliff-rpcs");
    seen = [];
    gate = undefined;
    conn = new AmqpConnection({ uri: vhost.uri, connectionName: "rpc-server-test" });
    await conn.start();
    server = new AmqpRpcServer({ connection: conn, service: "calc", handler, prefetch: 2 });
    await server.start();
    caller = await PeerCaller.start({ uri: vhost.uri, contextData: { user_id: "u-1", num: 5 }, timeoutMs: 5000 });
  });

  afterEach(async () => {
    await caller.close();
    await server.stop();
    await conn.close();
    await vhost.delete();
  });

  it("replies byte for byte like Nameko, with Nameko's reply properties", async () => {
    const reply = await caller.send("calc.add", '{"args": [1, 2], "kwargs": {}}');
    expect(reply.content.toString()).toBe('{"result": 3, "error": null}');
    expect(reply.fields.exchange).toBe("nameko-rpc");
    expect(reply.fields.routingKey).toBe(caller.uuid);
    const p = reply.properties;
    expect(p.contentType).toBe("application/json");
    expect(p.contentEncoding).toBe("utf-8");
    expect(p.headers).toEqual({}); // present, empty table
    expect(p.deliveryMode).toBe(2);
    expect(p.priority).toBe(0);
    expect(p.correlationId).toBe(caller.replies[0].properties.correlationId);
    for (const k of REPLY_PROPS_ABSENT) expect(p[k]).toBeUndefined();
  });

  it("copies the correlation id, and leaves it out when the request had none", async () => {
    const withId = await caller.send("calc.add", '{"args": [1, 2], "kwargs": {}}', {
      properties: { correlationId: "my-corr-id" },
    });
    expect(withId.properties.correlationId).toBe("my-corr-id");
    const without = await caller.send("calc.add", '{"args": [1, 2], "kwargs": {}}', {
      properties: { correlationId: undefined },
    });
    expect(without.properties.correlationId).toBeUndefined();
    expect(without.content.toString()).toBe('{"result": 3, "error": null}');
  });

  it("serializes handler errors into Nameko error replies", async () => {
    const reply = await caller.send("calc.missing_method", '{"args": [], "kwargs": {}}');
    expect(reply.content.toString()).toBe(
      '{"result": null, "error": {"exc_type": "MethodNotFound", "exc_path": "nameko.exceptions.MethodNotFound", "exc_args": ["missing_method"], "value": "missing_method"}}',
    );
    await expect(caller.call("calc", "nope")).rejects.toBeInstanceOf(PeerRemoteError);
  });

  it("hands the handler typed context and the parent stack", async () => {
    const result = (await caller.call("calc", "echo_context")) as { data: Record<string, unknown>; stack: string[] };
    expect(result).toEqual({ data: { user_id: "u-1", num: 5 }, stack: [caller.callId] });
    expect(seen[0]).toMatchObject({
      service: "calc",
      method: "echo_context",
      routingKey: "calc.echo_context",
      redelivered: false,
    });
    expect(seen[0].headers["nameko.call_id_stack"]).toEqual([caller.callId]);
  });

  it("acks and drops a request without reply_to, and goes on serving", async () => {
    await expect(
      caller.send("calc.add", '{"args": [1, 2], "kwargs": {}}', { properties: { replyTo: undefined }, timeoutMs: 500 }),
    ).rejects.toThrow(/RpcTimeout/);
    expect(seen).toHaveLength(0);
    await eventually(async () => (await listQueues(vhost.name)).find((q) => q.name === "rpc-calc")?.messages === 0);
    await expect(caller.call("calc", "add", [2, 3])).resolves.toBe(5);
  });

  it("answers MalformedRequest to invalid JSON and to a missing content type (Nameko would stay silent)", async () => {
    const bad = await caller.send("calc.add", "{not json");
    const err = JSON.parse(bad.content.toString()) as { result: null; error: { exc_type: string; exc_path: string } };
    expect(err.result).toBeNull();
    expect(err.error).toMatchObject({ exc_type: "MalformedRequest", exc_path: "nameko.exceptions.MalformedRequest" });
    expect(bad.properties.contentType).toBe("application/json");
    const noType = await caller.send("calc.add", pyDumps({ args: [1, 2], kwargs: {} }), {
      properties: { contentType: undefined },
    });
    expect(JSON.parse(noType.content.toString())).toMatchObject({ error: { exc_type: "MalformedRequest" } });
    expect(noType.properties.contentType).toBe("application/json");
    expect(seen).toHaveLength(0);
  });

  it("holds at most `prefetch` unacked requests and acks only after replying", async () => {
    let open!: () => void;
    gate = new Promise((r) => (open = r));
    const calls = Array.from({ length: 5 }, (_, i) => caller.call("calc", "add", [i, 1]));
    await eventually(() => server.inFlight === 2);
    await eventually(async () => {
      const q = (await listQueues(vhost.name)).find((x) => x.name === "rpc-calc");
      return q?.messages_unacknowledged === 2 && q.messages_ready === 3;
    });
    open();
    await expect(Promise.all(calls)).resolves.toEqual([1, 2, 3, 4, 5]);
    await eventually(async () => (await listQueues(vhost.name)).find((x) => x.name === "rpc-calc")?.messages === 0);
  });

  it("stop() lets in-flight requests reply and ack", async () => {
    let open!: () => void;
    gate = new Promise((r) => (open = r));
    const call = caller.call("calc", "add", [20, 22]);
    await eventually(() => server.inFlight === 1);
    const stopping = server.stop();
    open();
    await stopping;
    await expect(call).resolves.toBe(42);
    const q = (await listQueues(vhost.name)).find((x) => x.name === "rpc-calc");
    expect(q).toMatchObject({ messages: 0, consumers: 0 });
  });
});
