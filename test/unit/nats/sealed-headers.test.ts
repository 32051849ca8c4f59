// Headers sent with every call are encoded once: same bytes and size as before sealing, and frozen.
import { headers, type MsgHdrs } from "@nats-io/transport-node";
import { headerBytes } from "../../../src/nats/payload-size";
import { SealedHeadersChanged, sealHeaders } from "../../../src/nats/sealed-headers";
import { OutgoingHeaders, withContextEntries } from "../../../src/nats/headers";

type Encodable = MsgHdrs & { encode(): Uint8Array };

function contextHeaders(): MsgHdrs {
  const h = headers();
  h.set("nameko.call_id_stack", '["standalone_rpc_proxy.call.1"]');
  h.set("nameko.user_id", "42");
  return h;
}

describe("sealed headers", () => {
  it("encode to the bytes nats.js would write and measure as the header block does", () => {
    const expected = (contextHeaders() as Encodable).encode();
    const size = headerBytes(contextHeaders());
    const sealed = sealHeaders(contextHeaders()) as Encodable;
    expect(Buffer.from(sealed.encode()).toString()).toBe(Buffer.from(expected).toString());
    expect(headerBytes(sealed)).toBe(size);
    expect(sealed.get("nameko.user_id")).toBe("42");
  });

  it("refuse changes, and are copied unchanged by the helpers that add entries", () => {
    const sealed = sealHeaders(contextHeaders());
    expect(() => sealed.set("nameko.user_id", "7")).toThrow(SealedHeadersChanged);
    expect(() => sealed.append("x", "y")).toThrow(SealedHeadersChanged);
    expect(() => sealed.delete("nameko.user_id")).toThrow(SealedHeadersChanged);
    const copy = withContextEntries(sealed, { traceparent: "00-abc-def-01" });
    expect(copy?.get("nameko.traceparent")).toBe("00-abc-def-01");
    expect(sealed.get("nameko.user_id")).toBe("42");
    expect(sealed.has("nameko.traceparent")).toBe(false);
  });

  it("are what a worker reuses while its context data is unchanged, and rebuilt when it changes", () => {
    const worker = { data: { user_id: "ada" } as Record<string, unknown>, callIdStack: ["svc.m.1"] };
    const outgoing = new OutgoingHeaders(worker);
    const first = outgoing.get();
    expect(outgoing.get()).toBe(first);
    expect(() => first?.set("nameko.user_id", "7")).toThrow(SealedHeadersChanged);
    worker.data = { user_id: "bob" };
    const second = outgoing.get();
    expect(second).not.toBe(first);
    expect(second?.get("nameko.user_id")).toBe("bob");
  });
});
