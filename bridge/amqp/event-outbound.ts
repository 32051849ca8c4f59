/**
 * The AMQP side of NATS -> AMQP events: an event of a service that lives on NATS, published to
 * `<source>.events` with routing key = event type exactly as an in-service Nameko dispatcher does
 * (docs/nameko-wire.md, Events exchange, Event dispatch: the exchange declared first; content_type application/json,
 * content_encoding utf-8, `nameko.*` headers with py-amqp's field types, delivery_mode 2,
 * priority 0, no correlation_id or reply_to; mandatory=0; confirmed). Resolves only after
 * RabbitMQ confirmed, so the JetStream message can be acked then.
 */
import type { MsgHdrs } from "@nats-io/transport-node";
import type { AmqpConnection } from "../../amqp";
import { AmqpEventDispatcher } from "../../amqp";
import { contextFromHeaders, contextToHeaders, HEADER_PREFIX } from "../../compat";
import { BRIDGED_HEADER, isBridgeKey } from "../routing/loop-guard";
import { headerValueFromNats } from "../translate";

/**
 * NATS headers of an event -> the AMQP header table Nameko expects: only `nameko.*` headers are
 * context (docs/nats-contract.md, Headers; anything else, such as JetStream's own headers, stays on
 * NATS), values decoded back to their types (call_id_stack a list, so it goes out as an AMQP
 * array; docs/nameko-wire.md, Call id stack), None dropped, call_id_stack last
 * (docs/nameko-wire.md, Context data), the bridge's own keys stripped,
 * then the unprefixed marker `mark`. Values are plain JS here; the dispatcher gives them
 * py-amqp's field types.
 */
export function eventHeadersToAmqp(h: MsgHdrs | undefined, mark: string): Record<string, unknown> {
  const record: Record<string, unknown> = {};
  if (h) {
    for (const [key, values] of h) {
      if (!key.startsWith(HEADER_PREFIX) || isBridgeKey(key) || values.length === 0) continue;
      record[key] = headerValueFromNats(key, values[0]);
    }
  }
  const { data, parentStack } = contextFromHeaders(record);
  const headers = contextToHeaders(data, parentStack);
  headers[BRIDGED_HEADER] = mark;
  return headers;
}

/** Publishes NATS-side events to their Nameko exchanges with publisher confirms. */
export class AmqpEventOutbound {
  private readonly dispatcher: AmqpEventDispatcher;

  constructor(
    connection: AmqpConnection,
    /** RabbitMQ's `max_message_size` (see {@link fits}). */
    readonly maxMessageBytes: number,
  ) {
    // declareExchange: an in-service dispatcher declares `<source>.events` before publishing
    // (docs/nameko-wire.md, Events exchange), so the event is routable to handlers that bound their queues
    // before it existed.
    this.dispatcher = new AmqpEventDispatcher({ connection, declareExchange: true });
  }

  /**
   * False for a body over RabbitMQ's `max_message_size`: RabbitMQ would close the channel on it, so
   * every attempt would fail and the event would come back for ever.
   */
  fits(body: Uint8Array): boolean {
    return body.byteLength <= this.maxMessageBytes;
  }

  /** Publishes the body as received with `headers` (plain values); resolves once RabbitMQ confirmed. */
  publish(source: string, eventType: string, body: Uint8Array, headers: Record<string, unknown>): Promise<void> {
    return this.dispatcher.dispatchRaw(source, eventType, Buffer.from(body.buffer, body.byteOffset, body.byteLength), {
      headers,
    });
  }
}
