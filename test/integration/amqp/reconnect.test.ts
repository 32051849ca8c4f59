import { decodeRequest, encodeReply } from "../../../compat/codec";
import { AmqpConnection } from "../../../amqp/connection";
import { AmqpEventConsumer, type IncomingEvent } from "../../../amqp/events";
import { AmqpRpcClient } from "../../../amqp/rpc-client";
import { AmqpRpcServer } from "../../../amqp/rpc-server";
import { createVhost, killConnections, type TestVhost } from "../../helpers/rabbit";
import { PeerCaller, PeerDispatcher, startPeerService, type PeerService } from "../../interop/nameko-peer";

// The project-level testTimeout is not applied by jest 30 under `projects`; broker tests need more than 5 s.
jest.setTimeout(30000);

const NAME = "reconnect-test";

describe("AmqpConnection recovery after a broker-side close", () => {
  let vhost: TestVhost;
  let conn: AmqpConnection;
  let server: AmqpRpcServer;
  let client: AmqpRpcClient;
  let peerSvc: PeerService;
  let caller: PeerCaller;
  let gate: Promise<void> | undefined;
  let executions: number;

  const reconnected = (): Promise<void> =>
    new Promise((resolve) => conn.once("disconnected", () => conn.once("ready", () => resolve())));

  beforeEach(async () => {
    vhost = await createVhost("cliff-recon");
    gate = undefined;
    executions = 0;
    conn = new AmqpConnection({
      uri: vhost.uri,
      connectionName: NAME,
      reconnect: { initialDelayMs: 50, maxDelayMs: 500 },
    });
    await conn.start();
    server = new AmqpRpcServer({
      connection: conn,
      service: "ts_calc",
      handler: async (req) => {
        executions++;
        if (gate) await gate;
        const { args } = decodeRequest(req.body);
        return encodeReply((args[0] as number) * 2);
      },
    });
    await server.start();
    client = new AmqpRpcClient({ connection: conn, timeoutMs: 15000 });
    await client.start();
    peerSvc = await startPeerService({
      uri: vhost.uri,
      name: "py_calc",
      methods: {
        add: (a: number, b: number) => a + b,
        slow: (x: number) => new Promise((r) => setTimeout(() => r(x), 800)),
      },
    });
    caller = await PeerCaller.start({ uri: vhost.uri, timeoutMs: 15000 });
  });

  afterEach(async () => {
    await caller.close();
    await peerSvc.stop();
    await client.stop();
    await server.stop();
    await conn.close();
    await vhost.delete();
  });

  it("re-establishes the RPC server, the client's reply consumer and event consumers", async () => {
    const events: IncomingEvent[] = [];
    let onEvent = (): void => undefined;
    const consumer = new AmqpEventConsumer({
      connection: conn,
      source: "py_calc",
      eventType: "done",
      service: "ts_calc",
      method: "on_done",
      handlerType: "service_pool",
      handler: async (e) => {
        events.push(e);
        onEvent();
      },
    });
    await consumer.start();
    const back = reconnected();
    expect(await killConnections(vhost.name, NAME)).toBe(1);
    await back;
    expect(conn.ready).toBe(true);
    await expect(caller.call("ts_calc", "double", [21])).resolves.toBe(42);
    await expect(client.call("py_calc", "add", [1, 2])).resolves.toBe(3);
    const got = new Promise<void>((r) => (onEvent = r));
    const d = await PeerDispatcher.start(vhost.uri);
    await d.dispatch("py_calc", "done", { ok: true });
    await got;
    expect(events[0].payload).toEqual({ ok: true });
    await d.close();
    await consumer.stop();
  });

  it("a call in flight survives the loss: its reply waits in the durable reply queue", async () => {
    const call = client.call("py_calc", "slow", [7]);
    const back = reconnected();
    await new Promise<void>((r) => {
      const check = (): void => (peerSvc.deliveries.length > 0 ? r() : void setImmediate(check));
      check();
    });
    await killConnections(vhost.name, NAME);
    await back;
    await expect(call).resolves.toBe(7);
  });

  it("a request being handled when the connection drops is answered after reconnect (at least once)", async () => {
    let open!: () => void;
    gate = new Promise((r) => (open = r));
    const call = caller.call("ts_calc", "double", [5]);
    await new Promise<void>((r) => {
      const check = (): void => (executions > 0 ? r() : void setImmediate(check));
      check();
    });
    const back = reconnected();
    await killConnections(vhost.name, NAME);
    open();
    await back;
    await expect(call).resolves.toBe(10);
    expect(executions).toBeGreaterThanOrEqual(1);
  });
});
