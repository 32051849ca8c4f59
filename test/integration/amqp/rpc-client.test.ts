import { AmqpConnection } from "../../../amqp/connection";
import { InvalidHeader } from "../../../amqp/headers";
import { AmqpRpcClient } from "../../../amqp/rpc-client";
import { IncorrectSignature, MethodNotFound, RemoteError, RpcTimeout, UnknownService } from "../../../compat/errors";
import { createVhost, listQueues, type TestVhost } from "../../helpers/rabbit";
import { PeerRemoteError, startPeerService, type PeerService, type PeerWorker } from "../../interop/nameko-peer";

// The project-level testTimeout is not applied by jest 30 under `projects`; broker tests need more than 5 s.
jest.setTimeout(30000);

describe("AmqpRpcClient -> Nameko peer service", () => {
  let vhost: TestVhost;
  let conn: AmqpConnection;
  let client: AmqpRpcClient;
  let svc: PeerService;

  beforeEach(async () => {
    vhost = await createVhost("cliff-rpcc");
    svc = await startPeerService({
      uri: vhost.uri,
      name: "calc",
      methods: {
        add: (a: number, b: number) => a + b,
        fail: (msg: string) => {
          throw new PeerRemoteError(
            "ValueError",
            "builtins.ValueError",
            [msg, "42", { k: "1" }, "None"],
            `('${msg}', 42, {'k': 1}, None)`,
          );
        },
        context: function (this: PeerWorker) {
          return { data: this.data, stack: this.callIdStack };
        },
        slow: () => new Promise((resolve) => setTimeout(() => resolve("late"), 1500)),
      },
    });
    conn = new AmqpConnection({ uri: vhost.uri, connectionName: "rpc-client-test" });
    await conn.start();
    client = new AmqpRpcClient({ connection: conn, timeoutMs: 10000 });
    await client.start();
  });

  afterEach(async () => {
    await client.stop();
    await conn.close();
    await svc.stop();
    await vhost.delete();
  });

  it("returns the result and declares the reply queue exactly as Nameko", async () => {
    await expect(client.call("calc", "add", [1, 2])).resolves.toBe(3);
    await expect(client.call("calc", "add", [], { a: 40, b: 2 })).resolves.toBe(42);
    const q = (await listQueues(vhost.name)).find((x) => x.name === client.replyQueueName);
    expect(client.replyQueueName).toBe(`rpc.reply-standalone_rpc_proxy-${client.uuid}`);
    expect(q).toMatchObject({
      durable: true,
      auto_delete: false,
      exclusive: false,
      arguments: [["x-expires", "signedint", 300000]],
    });
  });

  it("sends the request properties Nameko sends", async () => {
    await client.call("calc", "add", [1, 2]);
    const d = svc.deliveries[0];
    expect(d.body).toBe('{"args": [1, 2], "kwargs": {}}');
    const p = d.properties;
    expect(p).toMatchObject({
      contentType: "application/json",
      contentEncoding: "utf-8",
      deliveryMode: 2,
      priority: 0,
      replyTo: client.uuid,
    });
    expect(p.correlationId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    for (const absent of ["expiration", "messageId", "timestamp", "type", "userId", "appId", "clusterId"] as const) {
      expect(p[absent]).toBeUndefined();
    }
    expect(svc.fatal).toEqual([]);
  });

  it("raises typed errors: registered ones as their class, others as RemoteError", async () => {
    const err = await client.call("calc", "fail", ["bad value"]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteError);
    expect((err as Error).message).toBe("ValueError ('bad value', 42, {'k': 1}, None)");
    const missing = await client.call("calc", "missing_method").catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(MethodNotFound);
    expect((missing as Error).message).toBe("missing_method");
    const sig = await client.call("calc", "add", [1]).catch((e: unknown) => e);
    expect(sig).toBeInstanceOf(IncorrectSignature);
    expect((sig as Error).message).toBe("add() missing 1 required positional argument: 'b'");
  });

  it("carries context data with types and call_id_stack as an array", async () => {
    const contextData = {
      user_id: "u-1",
      language: "en-gb",
      num: 5,
      big: 3000000000,
      ratio: 0.5,
      flag: true,
      tags: ["a", "b"],
      absent: null,
    };
    const res = (await client.call(
      "calc",
      "context",
      [],
      {},
      { contextData, parentStack: ["caller.run.1", "caller.run.2"] },
    )) as {
      data: Record<string, unknown>;
      stack: string[];
    };
    const { absent: _dropped, ...expected } = contextData;
    expect(svc.deliveries[0].context.data).toEqual(expected);
    expect(svc.deliveries[0].context.parentStack).toEqual(["caller.run.1", "caller.run.2"]);
    expect(res.stack.slice(0, 2)).toEqual(["caller.run.1", "caller.run.2"]);
    expect(res.stack[2]).toMatch(/^calc\.context\.[0-9a-f-]{36}$/);
  });

  it("sends a standalone call id stack fixed per client by default", async () => {
    await client.call("calc", "context");
    await client.call("calc", "context");
    const [a, b] = svc.deliveries.map((d) => d.context.parentStack);
    expect(a).toHaveLength(1);
    expect(a[0]).toMatch(/^standalone_rpc_proxy\.call\.[0-9a-f-]{36}$/);
    expect(b).toEqual(a);
  });

  it("fails fast with UnknownService when nothing is bound", async () => {
    // The call's timeout is far beyond the test's: only an answer that comes at once (the broker's
    // basic.return) lets the test finish, and a timeout would be RpcTimeout.
    const err = await client.call("no_such_service", "method", [], {}, { timeoutMs: 600_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnknownService);
    expect((err as Error).message).toBe("Unknown service `no_such_service`");
    expect(client.inFlight).toBe(0);
  });

  it("times out with RpcTimeout and drops the late reply", async () => {
    const err = await client.call("calc", "slow", [], {}, { timeoutMs: 200 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RpcTimeout);
    expect(client.inFlight).toBe(0);
    await expect(client.call("calc", "add", [2, 2])).resolves.toBe(4);
  });

  it("runs many calls concurrently on one reply queue", async () => {
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => client.call("calc", "add", [i, 1])));
    expect(results).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
  });

  it("request() passes the raw reply through", async () => {
    const reply = await client.request("calc", "add", '{"args": [1, 2], "kwargs": {}}');
    expect(reply.body.toString()).toBe('{"result": 3, "error": null}');
    expect(reply.properties).toMatchObject({
      contentType: "application/json",
      contentEncoding: "utf-8",
      headers: {},
      deliveryMode: 2,
      priority: 0,
    });
  });
  it("fails only the call whose context AMQP cannot carry: nothing sent, nothing pending, connection kept", async () => {
    let lost = 0;
    conn.on("disconnected", () => lost++);
    for (const bad of [NaN, -Infinity, 2n ** 64n, { deep: [[[["\ud800"]]]] }]) {
      const err = await client.call("calc", "add", [1, 2], {}, { contextData: { bad } }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InvalidHeader);
      expect(err).toMatchObject({ header: "nameko.bad" });
    }
    expect(client.inFlight).toBe(0);
    expect(svc.deliveries).toHaveLength(0);
    await expect(client.call("calc", "add", [1, 2], {}, { contextData: { ok: 2 ** 40 } })).resolves.toBe(3);
    expect(lost).toBe(0);
  });
});
