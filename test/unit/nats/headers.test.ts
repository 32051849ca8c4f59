import { headers } from "@nats-io/transport-node";
import { contextFromNatsHeaders, contextToNatsHeaders, maybeContextHeaders } from "../../../src/nats/headers";

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
});
