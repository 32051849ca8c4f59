import { JetStreamApiError, JetStreamError, type ApiError, type PubAck } from "@nats-io/jetstream";
import { errors, type Msg, type MsgHdrs, type NatsConnection, type Payload } from "@nats-io/transport-node";
import { encodeJson, eventSubject } from "../../compat";
import { assertFitsNats } from "../nats/payload-size";
import { ReplyMux, type ReplyCodec } from "../nats/reply-mux";

/** How long a publish waits for the stream's acknowledgement (nats.js JetStream client's default). */
const PUB_ACK_TIMEOUT_MS = 5_000;
/**
 * Pause before a publish no stream answered is sent again. On a cluster the stream has no leader
 * for a second or so after its leader's server died (docs/cluster.md), and nothing answers its
 * subject meanwhile; the NATS Go client likewise retries such a publish after 250 ms.
 */
const NOT_STORED_RETRY_MS = 250;

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
 * The one way to publish an event (docs/nats-contract.md, Events on JetStream): `[prefix.]events.<source>.<type>`,
 * body = the payload as Nameko's JSON, headers = the caller's context; resolves once the stream
 * acknowledged it, so a resolved dispatch is durable.
 */
export class EventPublisher {
  constructor(
    readonly nc: NatsConnection,
    readonly prefix = "",
  ) {}

  /** Publish `payload` as event `eventType` of `source`; names with wildcards, dots or spaces are refused. */
  publish(source: string, eventType: string, payload: unknown, headers?: MsgHdrs): Promise<PubAck> {
    let subject: string;
    let body: string;
    try {
      subject = eventSubject(source, eventType, this.prefix);
      // Python's dispatch(type) without a payload sends None.
      body = encodeJson(payload === undefined ? null : payload);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.publishToSubject(subject, body, headers);
  }

  /**
   * Publish an already-encoded body to an events subject (from eventSubject): the bridge passes
   * Nameko's bytes through unchanged. Rejects at once with PayloadTooLarge for an event over the
   * server's max_payload. A publish that no stream answered was stored nowhere, so it
   * is sent again every 250 ms within `timeoutMs` (a clustered stream electing a leader) before it
   * fails with EventNotStored.
   */
  publishToSubject(subject: string, body: Payload, headers?: MsgHdrs, timeoutMs = PUB_ACK_TIMEOUT_MS): Promise<PubAck> {
    try {
      assertFitsNats(this.nc, `event on ${subject}`, body, headers);
    } catch (err) {
      return Promise.reject(err);
    }
    const deadline = performance.now() + timeoutMs;
    return this.request(subject, body, headers, timeoutMs).catch((err: unknown) =>
      this.retryNotStored(err, subject, body, headers, deadline),
    );
  }

  private request(subject: string, body: Payload, headers: MsgHdrs | undefined, timeoutMs: number): Promise<PubAck> {
    let mux: ReplyMux;
    try {
      mux = ReplyMux.of(this.nc);
    } catch (err) {
      return Promise.reject(err);
    }
    // Not js.publish(): it goes through nc.request(), which builds an error with a stack on every
    // successful request (see ReplyMux). A JetStream publish is a request whose reply is the PubAck.
    return mux.request(subject, body, headers, timeoutMs, PUB_ACK, subject);
  }

  private async retryNotStored(
    err: unknown,
    subject: string,
    body: Payload,
    headers: MsgHdrs | undefined,
    deadline: number,
  ): Promise<PubAck> {
    for (;;) {
      if (!(err instanceof EventNotStored) || performance.now() + NOT_STORED_RETRY_MS >= deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, NOT_STORED_RETRY_MS));
      try {
        return await this.request(subject, body, headers, deadline - performance.now());
      } catch (again) {
        err = again;
      }
    }
  }
}

/** The stream's answer to a publish, read as nats.js's JetStream client reads it. */
const PUB_ACK: ReplyCodec<PubAck> = {
  decode(msg: Msg): PubAck {
    const reply = msg.json<PubAck & { error?: ApiError }>();
    if (reply.error) throw new JetStreamApiError(reply.error);
    if (!reply.stream) throw new JetStreamError("invalid ack response");
    reply.duplicate = reply.duplicate ?? false;
    return reply;
  },
  // Nothing captures the subject: no stream stored the event (no service has created the events
  // stream yet, or the server runs without JetStream).
  noResponders: (subject) => new EventNotStored(subject),
  timeout: () => new errors.TimeoutError(),
};
