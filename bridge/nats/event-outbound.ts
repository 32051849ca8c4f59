/**
 * The JetStream side of AMQP -> NATS events: an event of a service that lives on RabbitMQ,
 * published as `[prefix.]events.<source>.<type>` with its body unchanged and its context as
 * `nameko.*` NATS headers (docs/nats-contract.md, Events on JetStream). Resolves with the PubAck, so the AMQP
 * message can be acked only once JetStream stored the event.
 */
import type { PubAck } from "@nats-io/jetstream";
import { headers as natsHeaders, type MsgHdrs, type NatsConnection } from "@nats-io/transport-node";
import { contextFromAmqpHeaders } from "../../amqp";
import { contextToHeaders, describeError, encodeHeaderValue, eventSubject } from "../../compat";
import { EventNotStored, EventPublisher, maxPayloadOf, oversize } from "../../src/internal";
import { BRIDGED_HEADER, withoutBridgeKeys } from "../routing/loop-guard";

/** A header the translation had to leave out, for a log line. */
export interface SkippedHeader {
  key: string;
  reason: string;
}

/**
 * AMQP headers of a Nameko event -> NATS headers: context data as `nameko.<key>` (a header
 * without the prefix is context too, so it gains the prefix as Nameko would give it on the next
 * hop; docs/nameko-wire.md, Context data), non-string values JSON (call_id_stack a JSON array;
 * docs/nats-contract.md, Headers), the bridge's own keys stripped, then the marker `mark`. A key NATS cannot carry
 * (e.g. one with a colon or space) or a value that has no JSON form is skipped and reported.
 */
export function eventHeadersToNats(
  amqpHeaders: Record<string, unknown> | undefined,
  mark: string,
): { headers: MsgHdrs; skipped: SkippedHeader[] } {
  const { data, parentStack } = contextFromAmqpHeaders(amqpHeaders);
  const record = contextToHeaders(withoutBridgeKeys(data), parentStack);
  const h = natsHeaders();
  const skipped: SkippedHeader[] = [];
  for (const key of Object.keys(record)) {
    const value = record[key];
    try {
      // A byte-array header (`x`, not written by py-amqp) is read as the UTF-8 text it carries.
      h.set(key, encodeHeaderValue(Buffer.isBuffer(value) ? value.toString("utf8") : value));
    } catch (err) {
      skipped.push({ key, reason: describeError(err) });
    }
  }
  h.set(BRIDGED_HEADER, mark);
  return { headers: h, skipped };
}

/** Distinct (source, event type) subjects kept. */
const SUBJECT_CACHE_SIZE = 1000;

/** Options of {@link NatsEventOutbound}. */
export interface NatsEventOutboundOptions {
  /** Subject prefix (docs/nats-contract.md, Subjects: optional, before `events.`). */
  prefix: string;
  /** How long to wait for the PubAck, in milliseconds. */
  publishTimeoutMs: number;
  /** Called when no stream captured a publish (the events stream is missing). */
  onNotStored?: () => void;
}

/** An event that cannot go to NATS at all (it is too big for the server's max_payload). */
export class EventTooLarge extends Error {
  constructor(
    readonly size: number,
    readonly maxPayload: number,
  ) {
    super(`event of ${size} bytes exceeds the NATS server's max_payload of ${maxPayload} bytes`);
    this.name = "EventTooLarge";
  }
}

/** Publishes AMQP-side events into the JetStream events stream. */
export class NatsEventOutbound {
  /** The runtime's publisher: the PubAck comes back on its reply mux, not through nc.request(). */
  private readonly publisher: EventPublisher;
  /** Subjects by `<source> <type>`: eventSubject validates every token, once per pair is enough. */
  private readonly subjects = new Map<string, string>();

  constructor(
    private readonly nc: NatsConnection,
    private readonly options: NatsEventOutboundOptions,
  ) {
    this.publisher = new EventPublisher(nc, options.prefix);
  }

  /**
   * Throws EventTooLarge when body and headers cannot fit the server's max_payload: such an event
   * would fail on every attempt, so the caller refuses it instead of requeueing it forever.
   */
  checkSize(body: Uint8Array, headers: MsgHdrs): void {
    const max = maxPayloadOf(this.nc);
    const size = oversize(body, headers, max);
    if (size !== undefined) throw new EventTooLarge(size, max!);
  }

  /** Publishes one event with its body as received; resolves with the PubAck (the event is stored). */
  async publish(source: string, eventType: string, body: Uint8Array, headers: MsgHdrs): Promise<PubAck> {
    try {
      return await this.publisher.publishToSubject(
        this.subject(source, eventType),
        body,
        headers,
        this.options.publishTimeoutMs,
      );
    } catch (err) {
      // No stream captures the subject: the events stream is missing.
      if (err instanceof EventNotStored) this.options.onNotStored?.();
      throw err;
    }
  }

  private subject(source: string, eventType: string): string {
    const key = `${source} ${eventType}`;
    let subject = this.subjects.get(key);
    if (subject === undefined) {
      subject = eventSubject(source, eventType, this.options.prefix);
      // Event types come from the wire; the cache stays small whatever arrives.
      if (this.subjects.size >= SUBJECT_CACHE_SIZE) this.subjects.clear();
      this.subjects.set(key, subject);
    }
    return subject;
  }
}
