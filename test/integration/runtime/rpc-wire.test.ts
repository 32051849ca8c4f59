// The wire as any NATS client sees it: a raw @nats-io/transport-node connection (not the runtime's
// client) sends hand-written Nameko bodies and gets Nameko's reply bytes (docs/nameko-wire.md, Captured messages).
import { headers, type NatsConnection } from "@nats-io/transport-node";
import { rpc } from "cliffracer";
import { NatsFixture } from "../../helpers/brokers";
import { deferred, withTimeout } from "../../helpers/waiters";

const seen: unknown[][] = [];
let fired = deferred<unknown[]>();

class Calc {
  name = "calc";

  @rpc()
  add(a: number, b: number) {
    return a + b;
  }

  @rpc()
  record(...values: unknown[]) {
    seen.push(values);
    fired.resolve(values);
    return values.length;
  }
}

describe("rpc wire format", () => {
  const fx = new NatsFixture();
  let nc: NatsConnection;
  const subject = (method: string) => `${fx.prefix}.rpc.calc.${method}`;
  const ask = async (method: string, body: string, h?: ReturnType<typeof headers>) =>
    (await nc.request(subject(method), body, { timeout: 5000, headers: h })).string();

  beforeAll(async () => {
    await fx.start(Calc);
    nc = await fx.connection();
  });
  afterAll(() => fx.cleanup());

  it("answers a hand-written request with Nameko's reply, byte for byte", async () => {
    expect(await ask("add", '{"args": [1, 2], "kwargs": {}}')).toBe('{"result": 3, "error": null}');
  });

  it("answers an unknown method with Nameko's MethodNotFound body", async () => {
    expect(await ask("missing_method", '{"args": [], "kwargs": {}}')).toBe(
      '{"result": null, "error": {"exc_type": "MethodNotFound", "exc_path": "nameko.exceptions.MethodNotFound", "exc_args": ["missing_method"], "value": "missing_method"}}',
    );
  });

  it("answers Nameko's IncorrectSignature and MalformedRequest bodies", async () => {
    expect(await ask("add", '{"args": [1], "kwargs": {}}')).toBe(
      `{"result": null, "error": {"exc_type": "IncorrectSignature", "exc_path": "nameko.exceptions.IncorrectSignature", "exc_args": ["add() missing 1 required positional argument: 'b'"], "value": "add() missing 1 required positional argument: 'b'"}}`,
    );
    expect(await ask("add", '{"args": [1, 2]}')).toBe(
      '{"result": null, "error": {"exc_type": "MalformedRequest", "exc_path": "nameko.exceptions.MalformedRequest", "exc_args": ["Message missing `args` or `kwargs`"], "value": "Message missing `args` or `kwargs`"}}',
    );
  });

  it.each([
    ["invalid JSON", "{not json", "MalformedRequest"],
    ["an empty body", "", "MalformedRequest"],
    ["a JSON array body", "[1, 2]", "MalformedRequest"],
    ["a JSON string body", '"hello"', "MalformedRequest"],
    ["args that are not a list", '{"args": 5, "kwargs": {}}', "IncorrectSignature"],
    ["kwargs that are not an object", '{"args": [1, 2], "kwargs": [3]}', "IncorrectSignature"],
    ["kwargs null", '{"args": [1, 2], "kwargs": null}', "IncorrectSignature"],
  ])("answers %s with a BadRequest error reply", async (_what, body, excType) => {
    const reply = JSON.parse(await ask("add", body)) as { result: unknown; error: { exc_type: string } };
    expect(reply.result).toBeNull();
    expect(reply.error.exc_type).toBe(excType);
  });

  it("splats a string args value as Python does", async () => {
    expect(await ask("record", '{"args": "ab", "kwargs": {}}')).toBe('{"result": 2, "error": null}');
  });

  it("ignores extra top-level keys and undecodable headers do not crash it", async () => {
    const h = headers();
    h.set("nameko.call_id_stack", "not-json");
    h.set("nameko.user_id", "{broken");
    expect(await ask("add", '{"args": [2, 2], "kwargs": {}, "extra": 1}', h)).toBe('{"result": 4, "error": null}');
  });

  it("runs a request without a reply subject (fire-and-forget) and keeps serving", async () => {
    fired = deferred<unknown[]>();
    nc.publish(subject("record"), '{"args": ["ff"], "kwargs": {}}');
    nc.publish(subject("missing"), '{"args": [], "kwargs": {}}');
    nc.publish(subject("add"), "garbage");
    expect(await withTimeout(fired.promise, 5000, "the fire-and-forget worker")).toEqual(["ff"]);
    expect(await ask("add", '{"args": [5, 5], "kwargs": {}}')).toBe('{"result": 10, "error": null}');
  });
});
