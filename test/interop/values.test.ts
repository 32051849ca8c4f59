// Values a Nameko peer would keep or refuse (docs/nameko-wire.md, Values), end to end against
// the real brokers: the independent Nameko peer calls a TypeScript service through the bridge,
// a NATS client calls a peer service through it, and every reply is compared with what CPython
// and Nameko's reply step produce for the same value (vectors/values.json, written by values.py).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Writable } from "node:stream";
import winston from "winston";
import { rpc } from "cliffracer";
import { MAX_NESTING, registerError } from "../../compat";
import { ServiceContainer } from "../../src/core/service-container";
import { BridgeFixture } from "../integration/bridge/bridge-fixture";
import type { PeerCaller, PeerService } from "./nameko-peer";

jest.setTimeout(60_000);

interface PyError {
  exc_type: string;
  exc_path: string;
  exc_args: unknown[];
  value: string;
}
interface Vectors {
  replies: { name: string; body: string }[];
  nesting: {
    loads_fails_at_from_a_script: number;
    loads_fails_at_with_25_more_frames: number;
    dumps_of_1000_levels_raises: string;
  };
  non_object_bodies: { body: string; nameko_error: PyError; error: PyError }[];
}
const vectors = JSON.parse(readFileSync(join(__dirname, "vectors", "values.json"), "utf8")) as Vectors;
const replyOf = (name: string): string => {
  const v = vectors.replies.find((r) => r.name === name);
  if (!v) throw new Error(`no reply vector named ${name}`);
  return v.body;
};

/** `[[...[]...]]` with `depth` lists. */
function nestedList(depth: number): unknown[] {
  let v: unknown[] = [];
  for (let i = 1; i < depth; i++) v = [v];
  return v;
}

/** State behind #private fields and getters: what used to be sent as `{}`. */
class Point {
  #x = 1;
  #y = 2;
  get x(): number {
    return this.#x;
  }
  get y(): number {
    return this.#y;
  }
}

/** Python's `class Unprintable(Exception)` of module `specsvc`, whose `__str__` raises. */
class Unprintable extends Error {}
registerError("specsvc.Unprintable", Unprintable);

class ValuesService {
  name = "values_svc";

  @rpc()
  point(): Point {
    return new Point();
  }

  @rpc()
  tags(): Set<number> {
    return new Set([1, 2]);
  }

  @rpc()
  negative_zero(): number {
    return -0;
  }

  @rpc()
  echo(value: unknown): unknown {
    return value;
  }

  @rpc()
  nested(depth: number): unknown[] {
    return nestedList(depth);
  }

  @rpc()
  cycle(): unknown[] {
    const list: unknown[] = [];
    list.push(list);
    return list;
  }

  @rpc()
  unprintable(): never {
    throw Object.defineProperty(new Unprintable(), "message", {
      get(): string {
        throw new Error("no message");
      },
    });
  }
}

describe("values as Nameko keeps or refuses them, through the bridge (docs/nameko-wire.md, Values)", () => {
  const fx = new BridgeFixture();
  const lines: Record<string, unknown>[] = [];
  let container: ServiceContainer;
  let caller: PeerCaller;
  let legacy: PeerService;

  beforeAll(async () => {
    await fx.setup();
    // A logger that writes errors, as in production: logging the worker's error must not throw.
    const stream = new Writable({
      write: (chunk: Buffer, _enc, done) => {
        for (const line of chunk.toString("utf8").split("\n")) if (line.trim()) lines.push(JSON.parse(line));
        done();
      },
    });
    const log = winston.createLogger({ level: "error", transports: [new winston.transports.Stream({ stream })] });
    container = new ServiceContainer(ValuesService, { ...fx.nats.config, maxWorkers: 1 }, { log });
    await container.start();
    legacy = await fx.peerService({ name: "legacy", methods: { negative_zero: () => -0 } });
    await fx.readyBridge({ natsServices: ["values_svc"], amqpServices: ["legacy"] });
    caller = await fx.peerCaller();
  });
  afterAll(async () => {
    await container?.stop();
    await fx.cleanup();
  });

  const call = async (method: string, args: unknown[] = []): Promise<string> =>
    (await caller.send(`values_svc.${method}`, JSON.stringify({ args, kwargs: {} }))).content.toString("utf8");

  it.each([
    ["an object json does not know", "point", []],
    ["a set", "tags", []],
    ["the float -0.0", "negative_zero", []],
    ["a list nested 1000 levels", "nested", [1000]],
    ["a list that contains itself", "cycle", []],
    ["a result nested 899 levels", "nested", [899]],
  ])("answers a Nameko caller with Nameko's reply for %s, byte for byte", async (name, method, args) => {
    expect(await call(method, args)).toBe(replyOf(name));
  });

  it("keeps the type of an error whose message cannot be read, call after call", async () => {
    // maxWorkers is 1: a worker slot lost to the failing log line would leave the second call unanswered
    for (let i = 0; i < 2; i++) expect(await call("unprintable")).toBe(replyOf("an exception whose str() raises"));
    expect(lines).toContainEqual(
      expect.objectContaining({ message: "error handling worker", error: "Unprintable (its message cannot be read)" }),
    );
  });

  it("reads -0.0 from a Nameko caller and writes it back as -0.0", async () => {
    const m = await caller.send("values_svc.echo", '{"args": [-0.0], "kwargs": {}}');
    expect(m.content.toString("utf8")).toBe(replyOf("the float -0.0"));
  });

  it("reads a Nameko service's -0.0 as -0 for a NATS caller", async () => {
    const client = await fx.nats.client();
    expect(Object.is(await client.call("legacy", "negative_zero"), -0)).toBe(true);
  });

  it("refuses a request nested deeper than Python decodes with MalformedRequest (Nameko would drop it)", async () => {
    const deep = "[".repeat(1000) + "]".repeat(1000);
    const m = await caller.send("values_svc.echo", `{"args": [${deep}], "kwargs": {}}`);
    const reply = JSON.parse(m.content.toString("utf8")) as { error: PyError };
    expect(reply.error).toMatchObject({ exc_type: "MalformedRequest", exc_path: "nameko.exceptions.MalformedRequest" });
  });

  it("bounds nesting below the depth where CPython's json gives up", () => {
    expect(vectors.nesting.dumps_of_1000_levels_raises).toBe("RecursionError");
    expect(MAX_NESTING).toBeLessThan(vectors.nesting.loads_fails_at_with_25_more_frames);
    expect(MAX_NESTING).toBeLessThan(vectors.nesting.loads_fails_at_from_a_script);
  });

  describe.each(vectors.non_object_bodies.map((v) => [v.body, v] as const))("a request body %s", (_body, v) => {
    it("gets MalformedRequest from a TypeScript service, where Nameko would answer TypeError", async () => {
      expect(v.nameko_error.exc_type).toBe("TypeError");
      const m = await caller.send("values_svc.echo", v.body);
      expect(JSON.parse(m.content.toString("utf8"))).toEqual({ result: null, error: v.error });
    });

    it("gets MalformedRequest from the bridge when sent on NATS to a Nameko service, never published", async () => {
      const nc = await fx.nats.connection();
      const before = legacy.deliveries.length;
      const m = await nc.request(`${fx.prefix}.rpc.legacy.negative_zero`, v.body, { timeout: 10_000 });
      expect(JSON.parse(m.string())).toEqual({ result: null, error: v.error });
      expect(legacy.deliveries.length).toBe(before);
    });
  });
});
