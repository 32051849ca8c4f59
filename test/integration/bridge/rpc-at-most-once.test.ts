// At most once across a bridge crash (docs/at-most-once.md): an AMQP request a bridge handed over
// to NATS is recorded in the shared KV bucket, so when RabbitMQ gives it to a bridge again it is
// not run again: it gets the recorded reply, or CallOutcomeUnknown when no reply was recorded.
// The bridges run in this process; kill() abandons what a bridge holds as a crash would, so
// RabbitMQ redelivers it. Every step waits on an event (the service started, a record written).
import { randomUUID } from "node:crypto";
import { Kvm } from "@nats-io/kv";
import { rpc } from "cliffracer";
import { CallOutcomeUnknown, deserializeError } from "../../../compat";
import { defaultAtMostOnceBucket } from "../../../bridge/config";
import { CallRecords } from "../../../bridge/nats/call-records";
import { deferred, waitFor, type Deferred } from "../../helpers/waiters";
import { PeerRemoteError } from "../../interop/nameko-peer";
import { BridgeFixture } from "./bridge-fixture";

const executions = new Map<string, number>();
/** Calls of `hold` wait for their id's gate; `started` resolves when one begins. */
const gates = new Map<string, Deferred<void>>();
let started = deferred<string>();

class Calc {
  name = "calc";

  @rpc()
  echo(id: string): string {
    executions.set(id, (executions.get(id) ?? 0) + 1);
    return id;
  }

  @rpc()
  async hold(id: string): Promise<string> {
    executions.set(id, (executions.get(id) ?? 0) + 1);
    const gate = deferred<void>();
    gates.set(id, gate);
    started.resolve(id);
    await gate.promise;
    return id;
  }
}

describe("bridge rpc: at most once across a bridge crash", () => {
  const fx = new BridgeFixture();

  beforeAll(async () => {
    await fx.setup();
    await fx.nats.start(Calc);
  });
  afterAll(async () => {
    for (const gate of gates.values()) gate.resolve();
    await fx.cleanup();
  });

  it("answers a request handed over by a bridge that died with CallOutcomeUnknown and does not run it again", async () => {
    const b1 = await fx.readyBridge({ natsServices: ["calc"], name: "b1" });
    const caller = await fx.peerCaller({ timeoutMs: 30_000 });
    started = deferred<string>();
    const call = caller.call("calc", "hold", ["crash-1"]).then(
      () => undefined,
      (err: unknown) => err,
    );
    // The service runs it: b1 handed it over and holds it unacked.
    expect(await started.promise).toBe("crash-1");
    await fx.readyBridge({ natsServices: ["calc"], name: "b2" });
    await b1.kill();

    const err = await call;
    expect(err).toBeInstanceOf(PeerRemoteError);
    const remote = err as PeerRemoteError;
    expect(remote.excType).toBe("CallOutcomeUnknown");
    expect(remote.excPath).toBe("cliffracer.bridge.CallOutcomeUnknown");
    expect(remote.value).toMatch(/handed over to NATS by bridge b1/);
    // A TS caller gets the class back.
    expect(
      deserializeError({
        exc_type: remote.excType,
        exc_path: remote.excPath,
        exc_args: remote.excArgs,
        value: remote.value,
      }),
    ).toBeInstanceOf(CallOutcomeUnknown);
    await fx.waitForLog(/reply unknown; answered with CallOutcomeUnknown/, { bridge: "b2", handedOverBy: "b1" });

    gates.get("crash-1")!.resolve();
    // The surviving bridge still carries calls, and the held call ran exactly once.
    expect(await caller.call("calc", "echo", ["after-crash"])).toBe("after-crash");
    expect(executions.get("crash-1")).toBe(1);
  });

  it("answers a request seen again with its recorded reply, without running it again", async () => {
    const caller = await fx.peerCaller();
    const nc = await fx.nats.connection();
    const kv = await new Kvm(nc).open(defaultAtMostOnceBucket(fx.prefix));
    const correlationId = randomUUID();
    const body = JSON.stringify({ args: ["replay-1"], kwargs: {} });
    const first = await caller.send("calc.echo", body, { properties: { correlationId } });
    expect(JSON.parse(first.content.toString("utf8"))).toEqual({ result: "replay-1", error: null });
    // The reply is recorded after it was sent: wait for the record, as a redelivery after a crash would find it.
    const key = CallRecords.keyOf(caller.uuid, correlationId);
    await waitFor(async () => (await kv.get(key))?.value[0] === "R".charCodeAt(0), {
      what: "the reply recorded",
      timeoutMs: 10_000,
    });

    const again = await caller.send("calc.echo", body, { properties: { correlationId } });
    expect(again.content.toString("utf8")).toBe(first.content.toString("utf8"));
    expect(executions.get("replay-1")).toBe(1);
    await fx.waitForLog(/its recorded reply sent again/, { correlationId });
  });
});
