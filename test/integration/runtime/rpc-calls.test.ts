// Calls between services and from standalone clients: context propagation, UnknownService,
// timeouts, fire-and-forget.
import {
  Context,
  RemoteError,
  rpc,
  RpcProxy,
  RpcTimeout,
  UnknownService,
  type ServiceProxy,
  type WorkerContext,
} from "cliffracer";
import { NatsFixture } from "../../helpers/brokers";
import { deferred, withTimeout } from "../../helpers/waiters";

interface Seen {
  stack: readonly string[];
  data: Record<string, unknown>;
}

const release = deferred();
let published = deferred<string>();

class Inner {
  name = "inner";
  @Context() ctx!: WorkerContext;

  @rpc()
  whoami(): Seen {
    return { stack: this.ctx.callIdStack, data: this.ctx.data };
  }

  @rpc()
  async wait() {
    await release.promise;
    return "released";
  }

  @rpc()
  note(text: string) {
    published.resolve(text);
  }
}

class Middle {
  name = "middle";
  @RpcProxy("inner") inner!: ServiceProxy;

  @rpc()
  relay() {
    return this.inner.whoami();
  }
}

class Outer {
  name = "outer";
  @RpcProxy("middle") middle!: ServiceProxy;
  @RpcProxy("nowhere") nowhere!: ServiceProxy;
  @Context() ctx!: WorkerContext;

  @rpc()
  async start() {
    return { inner: await this.middle.relay(), own: this.ctx.callIdStack };
  }

  @rpc()
  callMissing() {
    return this.nowhere.anything();
  }
}

describe("rpc calls between services", () => {
  const fx = new NatsFixture();

  beforeAll(async () => {
    await fx.runner([Inner, Middle, Outer]);
  });
  afterAll(async () => {
    release.resolve();
    await fx.cleanup();
  });

  it("propagates context data and the call id stack along A -> B -> C", async () => {
    const cluster = await fx.cluster({ contextData: { user_id: "u-1", language: "en-gb", num: 5 } });
    const { inner, own } = (await cluster.service("outer").start()) as { inner: Seen; own: string[] };
    expect(inner.stack).toHaveLength(4);
    const [standalone, a, b, c] = inner.stack;
    expect(standalone).toBe(cluster.callIdStack[0]);
    expect(standalone).toMatch(/^standalone_rpc_proxy\.call\.[0-9a-f-]{36}$/);
    expect(a).toMatch(/^outer\.start\.[0-9a-f-]{36}$/);
    expect(b).toMatch(/^middle\.relay\.[0-9a-f-]{36}$/);
    expect(c).toMatch(/^inner\.whoami\.[0-9a-f-]{36}$/);
    expect(own).toEqual([standalone, a]);
    expect(inner.data).toEqual({ user_id: "u-1", language: "en-gb", num: 5 });
  });

  it("gives the innermost worker of a chain without outside context a stack of three", async () => {
    const client = await fx.client();
    const { inner } = (await client.call("outer", "start")) as { inner: Seen };
    expect(inner.stack.map((id) => id.split(".").slice(0, 2).join("."))).toEqual([
      "outer.start",
      "middle.relay",
      "inner.whoami",
    ]);
    expect(inner.data).toEqual({});
  });

  it("reuses one call id for every call of a standalone proxy, like Nameko 2.14", async () => {
    const cluster = await fx.cluster();
    const first = (await cluster.service("inner").whoami()) as Seen;
    const second = (await cluster.service("inner").whoami()) as Seen;
    expect(first.stack[0]).toBe(second.stack[0]);
    expect(first.stack[0]).toBe(cluster.callIdStack[0]);
  });

  it("fails at once with UnknownService when nothing serves the service", async () => {
    const client = await fx.client();
    // Not a timeout in disguise: the call's timeout is far beyond the test's, so only an answer
    // that comes at once lets the test finish (and a timeout would be RpcTimeout anyway).
    const err = await client.call("no_such_service", "method", [], {}, { timeoutMs: 600_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnknownService);
    expect((err as Error).message).toBe("Unknown service `no_such_service`");
  });

  it("relays UnknownService from a proxy inside a worker as Nameko's error", async () => {
    const client = await fx.client();
    const err = await client.call("outer", "callMissing").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteError);
    expect((err as RemoteError).excType).toBe("UnknownService");
  });

  it("raises RpcTimeout when no reply comes in time (per-call timeout)", async () => {
    const cluster = await fx.cluster({ timeoutMs: 30_000 });
    const err = await cluster
      .service("inner")
      .withOptions({ timeoutMs: 200 })
      .wait()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RpcTimeout);
    expect((err as RpcTimeout).timeoutSeconds).toBe(0.2);
  });

  it("publishes fire-and-forget calls that run without anyone waiting", async () => {
    published = deferred<string>();
    const cluster = await fx.cluster();
    cluster.service("inner").publish("note", ["hello"]);
    expect(await withTimeout(published.promise, 5000, "the fire-and-forget call")).toBe("hello");
  });
});
