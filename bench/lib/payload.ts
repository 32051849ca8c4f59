/**
 * The echo payloads (100-byte request bodies, or the payload-size family's sizes) and the event
 * bodies, shared by every case so all of them move the same bytes.
 */

/** How many distinct echo payloads a caller cycles through (a power of two). */
export const PAYLOAD_COUNT = 1024;

/** The request body size of every case outside the payload-size family, in bytes. */
export const DEFAULT_BODY_BYTES = 100;

/** What `{"args": ["…"], "kwargs": {}}` adds around the echo argument, in bytes. */
const ENVELOPE_BYTES = 28;

/**
 * Payloads held by a caller stay under this many bytes: at 900 KB, 1024 distinct payloads would
 * take most of a GB in each caller, and a few per call in flight are enough to catch a mixed-up reply.
 */
const PAYLOAD_MEMORY_BYTES = 16 * 1024 * 1024;

const FILLER = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/**
 * How many distinct payloads a caller of `bodyBytes`-byte requests cycles through: PAYLOAD_COUNT,
 * fewer for large bodies (a power of two, at least 16: one per call in flight at 16).
 */
export function payloadCount(bodyBytes = DEFAULT_BODY_BYTES): number {
  let count = PAYLOAD_COUNT;
  while (count > 16 && count * bodyBytes > PAYLOAD_MEMORY_BYTES) count /= 2;
  return count;
}

/**
 * The echo argument for call `i`: printable ASCII, distinct per index so a mixed-up reply is caught,
 * sized so that its request body is `bodyBytes` (72 characters for the default 100-byte body).
 */
export function echoArgument(i: number, bodyBytes = DEFAULT_BODY_BYTES): string {
  const id = String(i % payloadCount(bodyBytes)).padStart(4, "0");
  const head = `bench-echo-${id}-`;
  const fill = bodyBytes - ENVELOPE_BYTES - head.length;
  return head + FILLER.repeat(Math.ceil(fill / FILLER.length)).slice(0, fill);
}

/** Every echo argument, index = call number % payloadCount(bodyBytes). */
export function echoArguments(bodyBytes = DEFAULT_BODY_BYTES): string[] {
  return Array.from({ length: payloadCount(bodyBytes) }, (_, i) => echoArgument(i, bodyBytes));
}

/**
 * The Nameko request body for an echo call: {"args": ["…"], "kwargs": {}} in CPython's json.dumps
 * style, `bodyBytes` long (100 by default). Raw floors echo exactly these bytes so they carry what
 * the framework carries.
 */
export function echoRequestBody(i: number, bodyBytes = DEFAULT_BODY_BYTES): string {
  return `{"args": ["${echoArgument(i, bodyBytes)}"], "kwargs": {}}`;
}

/** Every request body as bytes, index = call number % payloadCount(bodyBytes). */
export function echoRequestBodies(bodyBytes = DEFAULT_BODY_BYTES): Buffer[] {
  return Array.from({ length: payloadCount(bodyBytes) }, (_, i) => Buffer.from(echoRequestBody(i, bodyBytes)));
}

/** The `bodyBytes` option a caller role was started with (the default body size without one). */
export function bodyBytesOption(options: Record<string, unknown>): number {
  return typeof options.bodyBytes === "number" ? options.bodyBytes : DEFAULT_BODY_BYTES;
}

/** The padding inside every event body, checked by consumers. */
export const EVENT_PAD = "pad-0123456789abcdefghijklmnopqrstuvwxyz";

/** The fields of a bench event. */
export interface BenchEvent {
  /** Which measured phase published it. */
  phase: number;
  /** Sequence number within the phase. */
  seq: number;
  /** process.hrtime.bigint() at publish time, as a string (CLOCK_MONOTONIC, shared by processes). */
  t: string;
  pad: string;
}

/** A bench event body as JSON text (about 100 bytes). */
export function eventBody(phase: number, seq: number): string {
  return `{"phase": ${phase}, "seq": ${seq}, "t": "${process.hrtime.bigint()}", "pad": "${EVENT_PAD}"}`;
}

/** A bench event as an object, for APIs that encode themselves. */
export function eventObject(phase: number, seq: number): BenchEvent {
  return { phase, seq, t: String(process.hrtime.bigint()), pad: EVENT_PAD };
}

/** Equality of two byte arrays (memcmp: a loop in JavaScript would cost a caller of 900 KB bodies a millisecond a call). */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.length).equals(b);
}
