import { createVhost, listQueues, type TestVhost } from "../../helpers/rabbit";
import {
  PeerCaller,
  PeerDispatcher,
  PeerRemoteError,
  PeerUnknownService,
  pyDumps,
  startPeerHandler,
  startPeerService,
  type PeerService,
} from "./index";

// The project-level testTimeout is not applied by jest 30 under `projects`; broker tests need more than 5 s.
jest.setTimeout(30000);

// Self-check of the peer against itself, so a failure elsewhere is not the yardstick's fault.
describe("nameko-peer self-check", () => {
  let vhost: TestVhost;
  let svc: PeerService;
  let caller: PeerCaller;

  beforeEach(async () => {
    vhost = await createVhost("cliff-peer");
    svc = await startPeerService({
      uri: vhost.uri,
      name: "calc",
      methods: {
        add: (a: number, b: number) => a + b,
        fail: () => {
          throw new PeerRemoteError("ValueError", "builtins.ValueError", ["bad value", "42"], "('bad value', 42)");
        },
      },
    });
    caller = await PeerCaller.start({ uri: vhost.uri, contextData: { user_id: "u-1", num: 5 }, timeoutMs: 5000 });
  });

  afterEach(async () => {
    await caller.close();
    await svc.stop();
    await vhost.delete();
  });

  it("pyDumps writes CPython's json.dumps layout", () => {
    expect(pyDumps({ args: [1, 2], kwargs: {} })).toBe('{"args": [1, 2], "kwargs": {}}');
    expect(pyDumps("café ☃")).toBe('"caf\\u00e9 \\u2603"');
  });

  it("calls, errors, MethodNotFound and IncorrectSignature like Nameko", async () => {
    expect(await caller.call("calc", "add", [1, 2])).toBe(3);
    const reply = caller.replies[0];
    expect(reply.content.toString()).toBe('{"result": 3, "error": null}');
    await expect(caller.call("calc", "fail")).rejects.toMatchObject({
      excType: "ValueError",
      value: "('bad value', 42)",
    });
    await expect(caller.call("calc", "missing_method")).rejects.toMatchObject({
      excType: "MethodNotFound",
      excArgs: ["missing_method"],
    });
    await expect(caller.call("calc", "add", [1])).rejects.toMatchObject({
      value: "add() missing 1 required positional argument: 'b'",
    });
    await expect(caller.call("calc", "add", [1, 2], { c: 3 })).rejects.toMatchObject({
      value: "add() got an unexpected keyword argument 'c'",
    });
    await expect(caller.call("calc", "add", [1, 2, 3])).rejects.toMatchObject({
      value: "add() takes 3 positional arguments but 4 were given",
    });
    await expect(caller.call("nobody", "x")).rejects.toBeInstanceOf(PeerUnknownService);
    expect(svc.deliveries[0].context).toEqual({ data: { user_id: "u-1", num: 5 }, parentStack: [caller.callId] });
    expect(svc.fatal).toEqual([]);
  });

  it("records a request without reply_to as fatal", async () => {
    await expect(
      caller.send("calc.add", pyDumps({ args: [1, 2], kwargs: {} }), {
        properties: { replyTo: undefined },
        timeoutMs: 300,
      }),
    ).rejects.toThrow();
    expect(svc.fatal).toEqual(["calc.add: missing reply_to"]);
  });

  it("declares Nameko's queues and delivers events per handler type", async () => {
    const pool = await startPeerHandler({
      uri: vhost.uri,
      source: "src",
      eventType: "evt",
      service: "listener",
      method: "on_pool",
    });
    const single = await startPeerHandler({
      uri: vhost.uri,
      source: "src",
      eventType: "evt",
      service: "listener",
      method: "on_single",
      handlerType: "singleton",
    });
    const bcast = await startPeerHandler({
      uri: vhost.uri,
      source: "src",
      eventType: "evt",
      service: "listener",
      method: "on_b",
      handlerType: "broadcast",
      reliableDelivery: false,
    });
    const d = await PeerDispatcher.start(vhost.uri);
    await d.dispatch("src", "evt", { n: 1 });
    for (const h of [pool, single, bcast]) expect((await h.waitFor(1))[0].payload).toEqual({ n: 1 });
    const queues = await listQueues(vhost.name);
    expect(queues.find((q) => q.name === "evt-src-evt--listener.on_pool")).toMatchObject({
      durable: true,
      auto_delete: false,
      exclusive: false,
    });
    expect(queues.find((q) => q.name === "evt-src-evt")).toMatchObject({ durable: true, auto_delete: false });
    expect(queues.find((q) => q.name.startsWith("evt-src-evt--listener.on_b-"))).toMatchObject({
      durable: false,
      auto_delete: true,
      exclusive: true,
    });
    await d.close();
    for (const h of [pool, single, bcast]) await h.stop();
  });
});
