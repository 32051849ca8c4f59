/**
 * The Nameko 2.14 AMQP RPC wire protocol (docs/nameko-wire.md: Exchanges and queues, Message
 * properties, RPC server, RPC replies, RPC client) in plain amqplib, for the bench's Nameko-protocol
 * peers: independent of our compat/ and bridge/ code, so a case through the
 * bridge is measured against a peer that only speaks the protocol.
 */

/** Nameko's RPC exchange. */
export const RPC_EXCHANGE = "nameko-rpc";

/** Reply queues expire like Nameko's (x-expires 300 s) in case a role is killed before cleanup. */
export const REPLY_QUEUE_EXPIRES_MS = 300_000;

/** Properties of a Nameko RPC request (docs/nameko-wire.md, Message properties). */
export function requestProperties(replyTo: string, correlationId: string, callIdStack: readonly string[]) {
  return {
    contentType: "application/json",
    contentEncoding: "utf-8",
    headers: { "nameko.call_id_stack": [...callIdStack] },
    deliveryMode: 2,
    priority: 0,
    correlationId,
    replyTo,
    mandatory: true,
  };
}

/**
 * Properties of a Nameko RPC reply (docs/nameko-wire.md, Message properties, RPC replies): content type
 * copied from the request.
 */
export function replyProperties(contentType: string | undefined, correlationId: string | undefined) {
  return {
    contentType: contentType ?? "application/json",
    contentEncoding: "utf-8",
    headers: {},
    deliveryMode: 2,
    priority: 0,
    ...(correlationId !== undefined ? { correlationId } : {}),
  };
}

/** A JSON string in CPython's json.dumps style for ASCII text (the bench's payloads are ASCII). */
export function pyJsonString(s: string): string {
  return JSON.stringify(s);
}
