// Sizes as nats-server counts them against max_payload: UTF-8 body bytes plus the header block.
import { headers } from "@nats-io/transport-node";
import { headerBytes, oversize } from "../../../src/nats/payload-size";

describe("payload size", () => {
  it("counts a header block as NATS/1.0, one line per value and the closing blank line", () => {
    const h = headers();
    h.set("nameko.user_id", "42");
    // "NATS/1.0\r\n" + "nameko.user_id: 42\r\n" + "\r\n"
    expect(headerBytes(h)).toBe(10 + 20 + 2);
    expect(headerBytes(undefined)).toBe(0);
  });

  it("measures a string as UTF-8, not as UTF-16 units", () => {
    expect(oversize("€".repeat(400), undefined, 1000)).toBe(1200);
    expect(oversize("e".repeat(400), undefined, 1000)).toBeUndefined();
  });

  it("adds the headers to the body", () => {
    const h = headers();
    h.set("k", "v");
    expect(oversize(new Uint8Array(990), h, 1000)).toBe(990 + 18);
    expect(oversize(new Uint8Array(982), h, 1000)).toBeUndefined();
  });

  it("lets everything through before the server's limit is known", () => {
    expect(oversize("x".repeat(10), undefined, undefined)).toBeUndefined();
  });
});
