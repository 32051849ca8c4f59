import type { MsgHdrs, NatsConnection, Payload } from "@nats-io/transport-node";
import { PayloadTooLarge } from "../../compat";
import { sealedHeaderBytes } from "./sealed-headers";

/** `NATS/1.0\r\n` plus the blank line that ends a header block (NATS protocol, HPUB). */
const HEADER_BLOCK_OVERHEAD = 12;

/** The server's `max_payload` in bytes, once connected. */
export function maxPayloadOf(nc: NatsConnection): number | undefined {
  return nc.info?.max_payload;
}

/** Bytes a header block takes on the wire: nats-server counts them into `max_payload`. */
export function headerBytes(h: MsgHdrs | undefined): number {
  if (h === undefined) return 0;
  const sealed = sealedHeaderBytes(h);
  if (sealed !== undefined) return sealed;
  let n = HEADER_BLOCK_OVERHEAD;
  for (const [key, values] of h) {
    for (const value of values) n += Buffer.byteLength(key) + Buffer.byteLength(value) + 4; // ": " and CRLF
  }
  return n;
}

/** Bytes a body takes on the wire (a string is sent as UTF-8). */
export function bodyBytes(body: Payload): number {
  return typeof body === "string" ? Buffer.byteLength(body) : body.byteLength;
}

/**
 * The bytes of body plus headers when they exceed `max`, else undefined. A string is measured only
 * when it might exceed: UTF-8 takes at most three bytes per UTF-16 unit, so a short reply costs a
 * multiplication, not a pass over its text.
 */
export function oversize(body: Payload, headers: MsgHdrs | undefined, max: number | undefined): number | undefined {
  if (max === undefined) return undefined;
  const h = headerBytes(headers);
  if (typeof body === "string" && body.length * 3 + h <= max) return undefined;
  const size = bodyBytes(body) + h;
  return size > max ? size : undefined;
}

/** PayloadTooLarge for `what` (e.g. "reply of users.get") of `size` bytes against the server's max_payload. */
export function natsPayloadTooLarge(what: string, size: number, max: number): PayloadTooLarge {
  return new PayloadTooLarge(`${what} of ${size} bytes exceeds the NATS max_payload of ${max} bytes`, size, max);
}

/**
 * Throws PayloadTooLarge when body and headers exceed the connection's max_payload: nats.js would
 * refuse the publish with an untyped InvalidArgumentError that says neither size nor limit.
 */
export function assertFitsNats(nc: NatsConnection, what: string, body: Payload, headers: MsgHdrs | undefined): void {
  const max = maxPayloadOf(nc);
  const size = oversize(body, headers, max);
  if (size !== undefined) throw natsPayloadTooLarge(what, size, max!);
}
