/**
 * Keeps events of a service that runs on both sides from looping
 * (docs/bridge-contract.md, Loop guard).
 *
 * Every event the bridge forwards carries the bare header `x-cliffracer-bridged` =
 * `<origin side>:<source>.<event type>`. When the bridge's own consumer on the other side receives
 * that copy back (its catch-all queue on `<source>.events`, or its JetStream consumer on
 * `events.<source>.>`), the marker names the side it came from and the very source and type it is
 * travelling as, so it is dropped and acked instead of crossing again.
 *
 * Only the unprefixed header counts. Nameko turns unprefixed headers into context data and
 * re-emits them as `nameko.<key>` on every onward call and event (docs/nameko-wire.md, Context data),
 * so a handler's own, new event may carry `nameko.x-cliffracer-bridged`; that one is not a copy and
 * must cross. The bridge strips every `x-cliffracer-*` key, bare or prefixed, when it translates,
 * so its markers never travel further than one hop. Requiring the source and type to match keeps
 * a header copied verbatim onto an unrelated message by some other client from silencing it.
 */

/** The header that marks a forwarded copy (unprefixed on purpose, see the module comment). */
export const BRIDGED_HEADER = "x-cliffracer-bridged";

const BRIDGE_KEY_PREFIX = "x-cliffracer-";
const PREFIXED_BRIDGE_KEY = `nameko.${BRIDGE_KEY_PREFIX}`;

/** The broker an event was first published on. */
export type BridgeSide = "amqp" | "nats";

/** The marker value for an event of `source`/`eventType` forwarded from `origin` to the other side. */
export function bridgedMark(origin: BridgeSide, source: string, eventType: string): string {
  return `${origin}:${source}.${eventType}`;
}

/**
 * True when `markValue` (the bare `x-cliffracer-bridged` header of a received message, if any)
 * says the message is the bridge's own copy of an event first published on `origin` as
 * `source`/`eventType`: it must be acked and dropped, not forwarded back.
 */
export function isBridgedCopy(markValue: unknown, origin: BridgeSide, source: string, eventType: string): boolean {
  const text = Buffer.isBuffer(markValue) ? markValue.toString("utf8") : markValue;
  return text === bridgedMark(origin, source, eventType);
}

/** True for a header or context key the bridge never carries across: its own markers, bare or `nameko.`-prefixed. */
export function isBridgeKey(key: string): boolean {
  const k = key.toLowerCase();
  return k.startsWith(BRIDGE_KEY_PREFIX) || k.startsWith(PREFIXED_BRIDGE_KEY);
}

/** A copy of a header table or context record without the bridge's own keys (for RPC translation too). */
export function withoutBridgeKeys<T>(record: Record<string, T>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const key of Object.keys(record)) if (!isBridgeKey(key)) out[key] = record[key];
  return out;
}
