import { headers } from "@nats-io/transport-node";
import { contextFromNatsHeaders, contextToNatsHeaders, LazyNatsContext, maybeContextHeaders } from "../../../src/nats/headers";

describe("context <-> NATS headers", () => {
  it("writes nameko.<key> headers, non-strings as JSON, the stack last", () => {
    const h = contextToNatsHeaders({ user_id: "u-1", num: 5, flag: true, other: null }, ["a.b.1", "c.d.2"]);
    expect([...h].map(([k, v]) => [k, v[0]])).toEqual([
      ["nameko.user_id", "u-1"],
      ["nameko.num", "5"],
      ["nameko.flag", "true"],
      ["nameko.call_id_stack", '["a.b.1", "c.d.2"]'],
    ]);
  });

  it("round-trips context data and the stack, keeping types", () => {
    const data = { user_id: "u-1", num: 5, text_number: "5", nested: { a: [1, 2] } };
    const back = contextFromNatsHeaders(contextToNatsHeaders(data, ["x.y.1"]));
    expect(back).toEqual({ data, parentStack: ["x.y.1"] });
  });

  it("takes only nameko.* headers as context, so transport headers never spread", () => {
    const h = headers();
    h.set("other", "x");
    h.set("x-cliffracer-bridged", "amqp:src.evt");
    h.set("nameko.user_id", "u-1");
    expect(contextFromNatsHeaders(h)).toEqual({ data: { user_id: "u-1" }, parentStack: [] });
    expect(contextFromNatsHeaders(undefined)).toEqual({ data: {}, parentStack: [] });
  });

  it("sends no headers at all when there is no context", () => {
    expect(maybeContextHeaders({}, [])).toBeUndefined();
    expect([...contextToNatsHeaders({}, [])]).toHaveLength(0);
  });

  it("decodes a message's headers only when its context is read, once", () => {
    let reads = 0;
    const h = contextToNatsHeaders({ user_id: "u-1" }, ["a.b.1"]);
    const msg = {
      get headers() {
        reads++;
        return h;
      },
    };
    const ctx = new LazyNatsContext(msg);
    expect(reads).toBe(0);
    expect(ctx.data).toEqual({ user_id: "u-1" });
    expect(ctx.parentStack).toEqual(["a.b.1"]);
    expect(ctx.data).toBe(ctx.data);
    expect(reads).toBe(1);
    expect(new LazyNatsContext({}).data).toEqual({});
  });
});
