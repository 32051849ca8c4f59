// A Nameko caller on RabbitMQ -> bridge (--nats-service) -> a runtime service on NATS. The caller is
// the independent Nameko peer; an amqp/ client checks that registered errors come back typed.
import { IsInt, IsString, Min, MinLength } from "class-validator";
import { AmqpConnection } from "../../../amqp/connection";
import { AmqpRpcClient } from "../../../amqp/rpc-client";
import { Context, NamekoError, namekoError, rpc, ValueError, type WorkerContext } from "cliffracer";
import type { Bridge } from "../../../bridge/bridge";
import { PeerRemoteError } from "../../interop/nameko-peer";
import { BridgeFixture } from "./bridge-fixture";
import { waitFor } from "../../helpers/waiters";

@namekoError("calc.exceptions.NotFound")
class NotFound extends NamekoError {
  constructor(readonly what: string) {
    super(what);
  }
}

/** The body of `create`, validated before the method runs. */
class NewProduct {
  @IsString()
  @MinLength(2)
  title!: string;

  @IsInt()
  @Min(0)
  stock!: number;
}

let release: () => void = () => undefined;

interface Seen {
  stack: readonly string[];
  data: Record<string, unknown>;
}

class Calc {
  name = "calc";
  @Context() ctx!: WorkerContext;

  @rpc()
  add(a: number, b: number): number {
    return a + b;
  }

  @rpc()
  fail(): never {
    throw new ValueError("bad value", 42);
  }

  @rpc()
  find(what: string): never {
    throw new NotFound(what);
  }

  @rpc()
  whoami(): Seen {
    return { stack: this.ctx.callIdStack, data: this.ctx.data };
  }

  @rpc()
  echo(value: unknown): unknown {
    return value;
  }

  @rpc()
  create(product: NewProduct): { title: string; validated: boolean } {
    return { title: product.title, validated: product instanceof NewProduct };
  }

  @rpc()
  async slow(): Promise<string> {
    await new Promise<void>((resolve) => (release = resolve));
    return "late";
  }
}

describe("bridge rpc: AMQP caller -> NATS service", () => {
  const fx = new BridgeFixture();
  let bridge: Bridge;

  beforeAll(async () => {
    await fx.setup();
    await fx.nats.start(Calc);
    bridge = await fx.readyBridge({ natsServices: ["calc", "ghost"], rpcTimeoutMs: 1_500 });
  });
  afterAll(async () => {
    release();
    await fx.cleanup();
  });

  it("returns the result, with Nameko's reply properties", async () => {
    const caller = await fx.peerCaller();
    expect(await caller.call("calc", "add", [1, 2])).toBe(3);
    expect(await caller.call("calc", "add", [], { a: "x", b: "y" })).toBe("xy");
    const reply = caller.replies[caller.replies.length - 1];
    expect(reply.properties.contentType).toBe("application/json");
    expect(reply.properties.contentEncoding).toBe("utf-8");
    expect(reply.properties.deliveryMode).toBe(2);
    expect(typeof reply.properties.correlationId).toBe("string");
  });

  it("carries bodies unchanged both ways (Python JSON quirks included)", async () => {
    const caller = await fx.peerCaller();
    const m = await caller.send(
      "calc.echo",
      '{"args": [{"n": 1180591620717411303424, "s": "caf\\u00e9"}], "kwargs": {}}',
    );
    expect(m.content.toString("utf8")).toBe(
      '{"result": {"n": 1180591620717411303424, "s": "caf\\u00e9"}, "error": null}',
    );
  });

  it("reports a thrown error as Nameko's error object", async () => {
    const caller = await fx.peerCaller();
    const err = (await caller.call("calc", "fail").catch((e: unknown) => e)) as PeerRemoteError;
    expect(err).toBeInstanceOf(PeerRemoteError);
    expect(err.toWire()).toEqual({
      exc_type: "ValueError",
      exc_path: "builtins.ValueError",
      exc_args: ["bad value", "42"],
      value: "('bad value', 42)",
    });
  });

  it("gives a registered error class back to a Nameko-protocol client", async () => {
    const caller = await fx.peerCaller();
    const raw = (await caller.call("calc", "find", ["k"]).catch((e: unknown) => e)) as PeerRemoteError;
    expect(raw.toWire()).toEqual({
      exc_type: "NotFound",
      exc_path: "calc.exceptions.NotFound",
      exc_args: ["k"],
      value: "k",
    });

    const conn = new AmqpConnection({ uri: fx.vhost.uri });
    await conn.start();
    const client = new AmqpRpcClient({ connection: conn, timeoutMs: 10_000 });
    try {
      await client.start();
      const err = await client.call("calc", "find", ["thing"]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(NotFound);
      expect((err as NotFound).what).toBe("thing");
    } finally {
      await client.stop();
      await conn.close();
    }
  });

  it("answers MethodNotFound and IncorrectSignature from the runtime", async () => {
    const caller = await fx.peerCaller();
    const missing = (await caller.call("calc", "nope").catch((e: unknown) => e)) as PeerRemoteError;
    expect(missing.toWire()).toEqual({
      exc_type: "MethodNotFound",
      exc_path: "nameko.exceptions.MethodNotFound",
      exc_args: ["nope"],
      value: "nope",
    });
    const sig = (await caller.call("calc", "add", [1]).catch((e: unknown) => e)) as PeerRemoteError;
    expect(sig.toWire()).toEqual({
      exc_type: "IncorrectSignature",
      exc_path: "nameko.exceptions.IncorrectSignature",
      exc_args: ["add() missing 1 required positional argument: 'b'"],
      value: "add() missing 1 required positional argument: 'b'",
    });
  });

  it("binds a DTO parameter as the Nameko caller's create(product={...}) and create({...}) bind", async () => {
    const caller = await fx.peerCaller();
    const body = { title: "Kettle", stock: 3 };
    const created = { title: "Kettle", validated: true };
    expect(await caller.call("calc", "create", [], { product: body })).toEqual(created);
    expect(await caller.call("calc", "create", [body])).toEqual(created);
    expect(await caller.call("calc", "create", [], body)).toEqual(created);
    const bad = (await caller
      .call("calc", "create", [], { product: { title: "K", stock: -1 } })
      .catch((e: unknown) => e)) as PeerRemoteError;
    expect(bad).toBeInstanceOf(PeerRemoteError);
    expect(bad.toWire()).toMatchObject({
      exc_type: "ValidationFailed",
      exc_path: "cliffracer.exceptions.ValidationFailed",
    });
  });

  it("carries context data with its types and continues the call id stack", async () => {
    const contextData = {
      user_id: "u-1",
      language: "en-gb",
      auth_token: "tok",
      num: 5,
      big: 2 ** 40,
      ratio: 0.5,
      flag: true,
      digits: "42",
    };
    const caller = await fx.peerCaller({ contextData });
    const seen = (await caller.call("calc", "whoami")) as Seen;
    expect(seen.data).toEqual(contextData);
    expect(seen.stack).toHaveLength(2);
    expect(seen.stack[0]).toBe(caller.callId);
    expect(seen.stack[1]).toMatch(/^calc\.whoami\.[0-9a-f-]{36}$/);
  });

  it("serves many calls in parallel and counts them in /metrics", async () => {
    const caller = await fx.peerCaller();
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => caller.call("calc", "add", [i, 1])));
    expect(results).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    // The bridge counts a call once RabbitMQ confirmed its reply, which may be after the caller has it.
    const metrics = await waitFor(
      async () => {
        const text = await (await fetch(`${bridge.opsUrl}/metrics`)).text();
        const line = text
          .split("\n")
          .find(
            (l) =>
              l.startsWith("cliffracer_bridge_rpc_total{") &&
              l.includes('service="calc"') &&
              l.includes('direction="amqp_to_nats"'),
          );
        return line !== undefined && Number(line.split(" ").pop()) >= 200 ? text : undefined;
      },
      { what: "the 200 calls counted on /metrics" },
    );
    expect(metrics).toMatch(/cliffracer_bridge_rpc_errors_total\{[^}]*kind="remote"[^}]*\} \d+/);
    expect(metrics).toContain("cliffracer_bridge_rpc_duration_seconds_bucket");
  });

  it("answers UnknownService for a service the bridge serves that has no NATS instance", async () => {
    const caller = await fx.peerCaller();
    const err = (await caller.call("ghost", "anything").catch((e: unknown) => e)) as PeerRemoteError;
    expect(err.toWire()).toEqual({
      exc_type: "UnknownService",
      exc_path: "nameko.exceptions.UnknownService",
      exc_args: ["ghost"],
      value: "Unknown service `ghost`",
    });
  });

  it("answers RpcTimeout when the runtime does not reply within the bridge's timeout", async () => {
    const caller = await fx.peerCaller();
    const err = (await caller.call("calc", "slow").catch((e: unknown) => e)) as PeerRemoteError;
    release();
    expect(err.toWire()).toMatchObject({
      exc_type: "RpcTimeout",
      exc_path: "nameko.exceptions.RpcTimeout",
      exc_args: ["1.5"],
    });
    expect(await fx.waitForLog(/rpc call failed/, { kind: "timeout" })).toBeDefined();
  });

  it("answers /health and /ready", async () => {
    const health = await fetch(`${bridge.opsUrl}/health`);
    expect(health.status).toBe(200);
    const ready = await fetch(`${bridge.opsUrl}/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: "ok", amqp: true, nats: true, rpcToNats: ["calc", "ghost"] });
  });
});
