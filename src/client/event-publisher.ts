import { jetstream, type JetStreamClient, type PubAck } from "@nats-io/jetstream";
import type { MsgHdrs, NatsConnection } from "@nats-io/transport-node";
import { encodeJson } from "../../compat/codec";
import { eventSubject } from "../../compat/naming";

/** A publish that no stream stored: nothing captures the subject (no service has created the events stream yet). */
export class EventNotStored extends Error {
  constructor(
    readonly subject: string,
    options?: ErrorOptions,
  ) {
    super(
      `No JetStream stream stored the event on ${subject}: start a service of this prefix (it creates the events stream) ` +
        `or check that the server runs with JetStream`,
      options,
    );
    this.name = "EventNotStored";
  }
}

/**
 * The one way to publish an event (DESIGN.md, NATS contract): `[prefix.]events.<source>.<type>`,
 * body = the payload as Nameko's JSON, headers = the caller's context; resolves once the stream
 * acknowledged it, so a resolved dispatch is durable.
 */
export class EventPublisher {
  private readonly js: JetStreamClient;

  constructor(
    nc: NatsConnection,
    readonly prefix = "",
  ) {
    this.js = jetstream(nc);
  }

  /** Publish `payload` as event `eventType` of `source`; names with wildcards, dots or spaces are refused. */
  async publish(source: string, eventType: string, payload: unknown, headers?: MsgHdrs): Promise<PubAck> {
    const subject = eventSubject(source, eventType, this.prefix);
    // Python's dispatch(type) without a payload sends None.
    const body = encodeJson(payload === undefined ? null : payload);
    try {
      return await this.js.publish(subject, body, headers ? { headers } : undefined);
    } catch (err) {
      // nats.js reports "no responders" on a JetStream publish as JetStream being disabled; the
      // likelier cause here is that no stream captures the subject.
      if (err instanceof Error && err.name === "JetStreamNotEnabled") throw new EventNotStored(subject, { cause: err });
      throw err;
    }
  }
}
