// Calls that cross the bridge twice: a Nameko caller -> AMQP service A -> NATS service B -> AMQP
// service C, with the result back to the caller and the context and call id stack carried end to end.
import { Context, rpc, RpcProxy, type ServiceProxy, type WorkerContext } from "cliffracer";
import type { PeerWorker } from "../../interop/nameko-peer";
import { BridgeFixture } from "./bridge-fixture";

interface Seen {
  stack: string[];
  data: Record<string, unknown>;
}

class Beta {
  name = "beta";
  @RpcProxy("gamma") gamma!: ServiceProxy;
  @Context() ctx!: WorkerContext;

  @rpc()
  async relay(n: number): Promise<{ beta: readonly string[]; gamma: Seen; doubled: unknown }> {
    const [gamma, doubled] = await Promise.all([this.gamma.whoami(), this.gamma.double(n)]);
    return { beta: this.ctx.callIdStack, gamma: gamma as Seen, doubled };
  }
}

describe("bridge rpc: AMQP A -> NATS B -> AMQP C", () => {
  const fx = new BridgeFixture();

  beforeAll(async () => {
    await fx.setup();
    await fx.peerService({
      name: "gamma",
      methods: {
        whoami: function (this: PeerWorker): Seen {
          return { stack: this.callIdStack, data: this.data };
        },
        double: (n: number) => n * 2,
      },
    });
    await fx.peerService({
      name: "alpha",
      methods: {
        run: async function (this: PeerWorker, n: number) {
          const fromBeta = await this.call("beta", "relay", [n]);
          return { alpha: this.callIdStack, ...(fromBeta as object) };
        },
      },
    });
    await fx.nats.start(Beta);
    await fx.readyBridge({ natsServices: ["beta"], amqpServices: ["gamma"] });
  });
  afterAll(() => fx.cleanup());

  it("returns C's result to A's caller, with the context and one call id stack throughout", async () => {
    const caller = await fx.peerCaller({ contextData: { user_id: "u-7", language: "fr" } });
    const out = (await caller.call("alpha", "run", [21])) as {
      alpha: string[];
      beta: string[];
      gamma: Seen;
      doubled: number;
    };
    expect(out.doubled).toBe(42);
    expect(out.gamma.data).toEqual({ user_id: "u-7", language: "fr" });
    const [c0, a, b, g] = out.gamma.stack;
    expect(out.gamma.stack).toHaveLength(4);
    expect(c0).toBe(caller.callId);
    expect(a).toMatch(/^alpha\.run\./);
    expect(b).toMatch(/^beta\.relay\./);
    expect(g).toMatch(/^gamma\.whoami\./);
    expect(out.alpha).toEqual([c0, a]);
    expect(out.beta).toEqual([c0, a, b]);
  });

  it("handles many nested calls at once", async () => {
    const caller = await fx.peerCaller();
    const outs = await Promise.all(Array.from({ length: 50 }, (_, i) => caller.call("alpha", "run", [i])));
    expect(outs.map((o) => (o as { doubled: number }).doubled)).toEqual(Array.from({ length: 50 }, (_, i) => i * 2));
  });
});
