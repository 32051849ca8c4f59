/**
 * The echo payloads (about 100 bytes on the wire) and the event bodies, shared by every case so all
 * of them move the same bytes.
 */

/** How many distinct echo payloads a caller cycles through (a power of two). */
export const PAYLOAD_COUNT = 1024;

/** The echo argument for call `i`: 72 characters, distinct per index so a mixed-up reply is caught. */
export function echoArgument(i: number): string {
  const id = String(i % PAYLOAD_COUNT).padStart(4, "0");
  return `bench-echo-${id}-${"abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ".slice(0, 56)}`;
}

/** Every echo argument, index = call number % PAYLOAD_COUNT. */
export function echoArguments(): string[] {
  return Array.from({ length: PAYLOAD_COUNT }, (_, i) => echoArgument(i));
}

/**
 * The Nameko request body for an echo call: {"args": ["…"], "kwargs": {}} in CPython's json.dumps
 * style, 100 bytes. Raw floors echo exactly these bytes so they carry what the framework carries.
 */
export function echoRequestBody(i: number): string {
  return `{"args": ["${echoArgument(i)}"], "kwargs": {}}`;
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

/** Equality of two byte arrays. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
