import { headers as natsHeaders, type MsgHdrs } from "@nats-io/transport-node";
import {
  contextFromHeaders,
  contextToHeaders,
  decodeHeaderValue,
  encodeHeaderValue,
  HEADER_PREFIX,
  type ContextData,
} from "../../compat/context";
import type { IncomingContext } from "../core/extension";

/** Context data and call id stack as NATS headers (DESIGN.md, NATS contract: `nameko.<key>`, non-strings JSON). */
export function contextToNatsHeaders(data: ContextData, stack: readonly string[]): MsgHdrs {
  return maybeContextHeaders(data, stack) ?? natsHeaders();
}

/** Like contextToNatsHeaders, but undefined when there is nothing to send: a bare message stays a PUB, not an HPUB. */
export function maybeContextHeaders(data: ContextData, stack: readonly string[]): MsgHdrs | undefined {
  const record = contextToHeaders(data, stack);
  let h: MsgHdrs | undefined;
  for (const key in record) {
    // encodeHeaderValue JSON-quotes any text a header line could not carry (line breaks, edge spaces).
    (h ??= natsHeaders()).set(key, encodeHeaderValue(record[key]));
  }
  return h;
}

/**
 * The incoming context of a NATS message; empty when it has no headers. Only `nameko.*` headers
 * count (DESIGN.md, NATS contract): unlike AMQP (§8.2), NATS carries transport headers (JetStream's
 * `Nats-*`, the bridge's marker) that must not spread through the call graph (pitfall 9).
 */
export function contextFromNatsHeaders(h?: MsgHdrs): IncomingContext {
  if (!h) return { data: {}, parentStack: [] };
  const record: Record<string, unknown> = {};
  for (const [key, values] of h) {
    if (values.length > 0 && key.startsWith(HEADER_PREFIX)) record[key] = decodeHeaderValue(key, values[0]);
  }
  return contextFromHeaders(record);
}
