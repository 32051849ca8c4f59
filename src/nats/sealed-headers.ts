import type { MsgHdrs } from "@nats-io/transport-node";

/** A change to sealed headers: they are sent as they were encoded when sealed. */
export class SealedHeadersChanged extends TypeError {
  constructor() {
    super("sealed headers cannot be changed: copy them first (withContextEntries, withBodyRef)");
    this.name = "SealedHeadersChanged";
  }
}

/** The wire form of each sealed header set. */
const wire = new WeakMap<MsgHdrs, Uint8Array>();

function refuse(): never {
  throw new SealedHeadersChanged();
}

/**
 * `h`, encoded once from now on. nats.js turns a message's headers into text and then bytes on
 * every publish (`MsgHdrsImpl.encode()`), and the payload size check walks them again; headers built
 * once and sent with every call (a standalone proxy's, a worker's until its context changes) pay
 * that once (BENCHMARKS.md, Runtime hot path against Moleculer (issue 17)). Changing them afterwards
 * throws SealedHeadersChanged: the bytes would no longer match, and shared headers must be copied
 * before they are changed anyway.
 */
export function sealHeaders(h: MsgHdrs): MsgHdrs {
  if (wire.has(h)) return h;
  // MsgHdrs does not declare encode(); nats.js's implementation has it and publish() calls it.
  const bytes = (h as MsgHdrs & { encode(): Uint8Array }).encode();
  wire.set(h, bytes);
  // Own properties shadow the nats.js methods on this one object; reads are unchanged.
  Object.defineProperties(h, {
    encode: { value: () => bytes },
    set: { value: refuse },
    append: { value: refuse },
    delete: { value: refuse },
  });
  return h;
}

/** The bytes sealed headers take on the wire, or undefined for headers that are not sealed. */
export function sealedHeaderBytes(h: MsgHdrs): number | undefined {
  return wire.get(h)?.length;
}
