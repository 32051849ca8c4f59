import { headers } from "@nats-io/transport-node";
import {
  contextFromNatsHeaders,
  contextToNatsHeaders,
  LazyNatsContext,
  maybeContextHeaders,
  OutgoingHeaders,
  withContextEntries,
} from "../../../src/nats/headers";

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

  it("reuses a worker's outgoing headers while its data is unchanged, and rebuilds them when it changes", () => {
    const worker = { data: { lang: "en" } as Record<string, unknown>, callIdStack: ["a.b.1"] };
    const out = new OutgoingHeaders(worker);
    const first = out.get();
    expect(out.get()).toBe(first);
    worker.data.lang = "fr";
    const second = out.get();
    expect(second).not.toBe(first);
    expect(second?.get("nameko.lang")).toBe("fr");
    worker.data.extra = 1;
    expect(out.get()?.get("nameko.extra")).toBe("1");
    // An object value may change in place: never reused.
    const nested = { a: 1 };
    worker.data.nested = nested;
    const withObject = out.get();
    nested.a = 2;
    expect(out.get()).not.toBe(withObject);
    expect(out.get()?.get("nameko.nested")).toBe('{"a": 2}');
  });
});

describe("withContextEntries", () => {
  it("adds entries as nameko.* headers to a copy, replacing the same key and leaving the original as it was", () => {
    const original = contextToNatsHeaders({ user_id: "u", traceparent: "00-old" }, ["a.b.c"]);
    const out = withContextEntries(original, { traceparent: "00-new", tracestate: "k=v" })!;
    expect(out.get("nameko.traceparent")).toBe("00-new");
    expect(out.get("nameko.tracestate")).toBe("k=v");
    expect(out.get("nameko.user_id")).toBe("u");
    expect(out.get("nameko.call_id_stack")).toBe('["a.b.c"]');
    expect(original.get("nameko.traceparent")).toBe("00-old");
    expect(original.has("nameko.tracestate")).toBe(false);
  });

  it("removes an entry whose value is undefined", () => {
    const original = contextToNatsHeaders({ tracestate: "stale=1", user_id: "u" }, []);
    const out = withContextEntries(original, { traceparent: "00-new", tracestate: undefined })!;
    expect(out.has("nameko.tracestate")).toBe(false);
    expect(out.get("nameko.user_id")).toBe("u");
  });

  it("gives no headers when there is nothing to send", () => {
    expect(withContextEntries(undefined, {})).toBeUndefined();
  });
});
