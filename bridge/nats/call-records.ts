/**
 * The record of AMQP requests the bridge handed over to NATS, in a JetStream KV bucket that every
 * bridge on the same NATS shares (docs/at-most-once.md). RabbitMQ gives a request a dead bridge
 * had not acked to the next consumer; the record is how that consumer knows the NATS service may
 * already have run it, so the call is never run twice across a bridge crash.
 *
 * One record per request, keyed by a hash of its `reply_to` and `correlation_id` (what makes a
 * Nameko request unique: the caller matches its reply by them), written with KV `create`, which
 * fails if the key exists, so of two bridges racing on one redelivered request only one forwards
 * it. The value is a one-byte state and its data:
 *
 * - `H<bridge>`: handed over to NATS by that bridge, no reply yet;
 * - `R<body>`: replied, with the reply body sent to the caller;
 * - `L<bridge>`: replied, but the body was larger than `maxReplyBytes` and not kept.
 *
 * Records expire with the bucket's max age (`ttlMs`); the first bridge creates the bucket and the
 * others use it as it is.
 */
import { createHash } from "node:crypto";
import { JetStreamApiCodes, JetStreamApiError } from "@nats-io/jetstream";
import { Kvm, type KV } from "@nats-io/kv";
import { headers, type MsgHdrs, type NatsConnection } from "@nats-io/transport-node";
import { describeError, type Logger } from "../../compat";
import { EventNotStored, EventPublisher } from "../../src/internal";
import { WarnThrottle } from "../warn-throttle";

/** Where the record of handed-over requests lives and how long it is kept. */
export interface CallRecordsOptions {
  /** The KV bucket (shared by every bridge on the NATS server that carries the same services). */
  bucket: string;
  /** Max age of a record: longer than a request can stay unacked before another bridge takes it. */
  ttlMs: number;
  /** JetStream storage of the bucket's stream. */
  storage: "file" | "memory";
  /** Stream replicas (1 on a single server; 3 in a cluster so a record survives a server loss). */
  replicas: number;
  /** Replies up to this size are kept, so a redelivered request gets its original reply; 0: no reply is recorded (one write per call instead of two). */
  maxReplyBytes: number;
  /** This bridge's name, kept in its records for the error a redelivered request gets. */
  bridgeName: string;
  log: Logger;
}

/** What {@link CallRecords.claim} found. */
export type Claim =
  /** First time seen: recorded as handed over by this bridge, forward it. */
  | { kind: "claimed"; key: string; revision: number }
  /** Handed over before and replied: send this reply again, do not forward. */
  | { kind: "replied"; body: Uint8Array }
  /** Handed over before (by `by`), reply not known: the outcome is unknown, do not forward. */
  | { kind: "unknown"; by: string; replied: boolean }
  /** The record could not be read or written: forwarding could run the call twice. */
  | { kind: "failed"; error: unknown };

/**
 * A record no stream answered (nats.js says "jetstream is not enabled" for the server's "no
 * responders"; the reply mux says EventNotStored) is written again after this pause, for up to
 * NO_STREAM_RETRY_FOR_MS: on a cluster the bucket's stream has no leader for a second or more
 * after its leader's server died (docs/cluster.md). Nothing received such a write, so writing
 * again cannot record twice.
 */
const NO_STREAM_RETRY_MS = 250;
const NO_STREAM_RETRY_FOR_MS = 5_000;

const HANDED_OVER = 0x48; // "H"
const REPLIED = 0x52; // "R"
const REPLY_NOT_KEPT = 0x4c; // "L"

/** The shared record of requests handed over to NATS. */
export class CallRecords {
  private readonly name: Uint8Array;
  private readonly warnings: WarnThrottle;
  /** Where the bucket's keys are written: `$KV.<bucket>.<key>`. */
  private readonly subjectPrefix: string;
  /**
   * Writes a record as a JetStream publish through the runtime's reply mux, as events are
   * published: nats.js's KV writes go through nc.request(), which builds an error with a stack on
   * every request, and cost the bridge more CPU than the call it records.
   */
  private readonly writer: EventPublisher;

  private constructor(
    nc: NatsConnection,
    private readonly kv: KV,
    private readonly options: CallRecordsOptions,
  ) {
    this.name = Buffer.from(options.bridgeName, "utf8");
    this.warnings = new WarnThrottle(options.log);
    this.subjectPrefix = `$KV.${options.bucket}.`;
    this.writer = new EventPublisher(nc);
  }

  /** Opens the bucket, creating it (with `ttlMs`, `storage`, `replicas`) if no bridge did yet. */
  static async open(nc: NatsConnection, options: CallRecordsOptions): Promise<CallRecords> {
    const kv = await new Kvm(nc).create(options.bucket, {
      history: 1,
      ttl: options.ttlMs,
      storage: options.storage,
      replicas: options.replicas,
      description: "Cliffracer bridge: AMQP requests handed over to NATS (docs/at-most-once.md)",
    });
    return new CallRecords(nc, kv, options);
  }

  /** The record key of a request: a hash, since `reply_to` and `correlation_id` may hold any character. */
  static keyOf(replyTo: string, correlationId: string): string {
    return createHash("sha256").update(replyTo).update("\n").update(correlationId).digest("base64url");
  }

  /** Records the request as handed over by this bridge, unless a record exists; then says what it holds. */
  async claim(replyTo: string, correlationId: string): Promise<Claim> {
    const key = CallRecords.keyOf(replyTo, correlationId);
    try {
      const value = new Uint8Array(1 + this.name.length);
      value[0] = HANDED_OVER;
      value.set(this.name, 1);
      return { kind: "claimed", key, revision: await this.create(key, value) };
    } catch (err) {
      if (!(err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamWrongLastSequence))
        return { kind: "failed", error: err };
    }
    try {
      return found(await this.kv.get(key));
    } catch (err) {
      return { kind: "failed", error: err };
    }
  }

  /**
   * KV create: a publish that the stream stores only if the key has no message yet (what
   * nats.js's `create` sends first). A key whose last message is a delete marker (a released
   * claim) fails that check; nats.js's `create` then writes over the marker, so it decides.
   */
  private async create(key: string, value: Uint8Array): Promise<number> {
    try {
      return (await this.writer.publishToSubject(this.subjectPrefix + key, value, NEW_KEY, NO_STREAM_RETRY_FOR_MS)).seq;
    } catch (err) {
      if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamWrongLastSequence) {
        return await this.createOverMarker(key, value);
      }
      throw err instanceof EventNotStored
        ? new Error(`no stream stored the record of ${key} in ${this.options.bucket}`, { cause: err })
        : err;
    }
  }

  /** nats.js's KV create, written again while no stream answers (see NO_STREAM_RETRY_MS). */
  private async createOverMarker(key: string, value: Uint8Array): Promise<number> {
    const deadline = performance.now() + NO_STREAM_RETRY_FOR_MS;
    for (;;) {
      try {
        return await this.kv.create(key, value);
      } catch (err) {
        // The class is not exported by nats.js's public entry; its name is stable.
        const noStream = err instanceof Error && err.name === "JetStreamNotEnabled";
        if (!noStream || performance.now() + NO_STREAM_RETRY_MS >= deadline) throw err;
        await new Promise((resolve) => setTimeout(resolve, NO_STREAM_RETRY_MS));
      }
    }
  }

  /**
   * Keeps the reply sent for a claimed request. Not awaited: the record only matters if this
   * bridge dies before acking, and a reply not recorded by then leaves the outcome unknown, which
   * is still at most once.
   */
  replied(claim: { key: string }, body: Uint8Array): void {
    if (this.options.maxReplyBytes === 0) return;
    let value: Uint8Array;
    if (body.length <= this.options.maxReplyBytes) {
      value = new Uint8Array(1 + body.length);
      value[0] = REPLIED;
      value.set(body, 1);
    } else {
      value = new Uint8Array(1 + this.name.length);
      value[0] = REPLY_NOT_KEPT;
      value.set(this.name, 1);
    }
    this.writer
      .publishToSubject(this.subjectPrefix + claim.key, value, undefined, NO_STREAM_RETRY_FOR_MS)
      .catch((err: unknown) => this.warn("reply", err));
  }

  /**
   * Removes the record of a claimed request that was not sent after all (NATS went away first),
   * so its redelivery is forwarded. Never rejects: a record left behind makes the redelivery
   * answer "outcome unknown", which is still at most once.
   */
  async release(claim: { key: string; revision: number }): Promise<void> {
    await this.kv.delete(claim.key, { previousSeq: claim.revision }).catch((err: unknown) => this.warn("release", err));
  }

  private warn(what: string, err: unknown): void {
    this.warnings.warn(what, "bridge could not update the record of a handed-over request", {
      direction: "amqp_to_nats",
      bucket: this.options.bucket,
      what,
      error: describeError(err),
    });
  }
}

/** The header by which JetStream stores a message only on a subject that has none yet. */
const NEW_KEY: MsgHdrs = (() => {
  const h = headers();
  h.set("Nats-Expected-Last-Subject-Sequence", "0");
  return h;
})();

function found(entry: { value: Uint8Array; operation: string } | null): Claim {
  const value = entry?.operation === "PUT" ? entry.value : undefined;
  // Gone between create and get (expired, or released by the bridge that claimed it): it may
  // have been forwarded meanwhile, so the outcome is unknown.
  if (value === undefined || value.length === 0) return { kind: "unknown", by: "unknown", replied: false };
  const data = value.subarray(1);
  switch (value[0]) {
    case REPLIED:
      return { kind: "replied", body: data };
    case REPLY_NOT_KEPT:
      return { kind: "unknown", by: Buffer.from(data).toString("utf8"), replied: true };
    default:
      return { kind: "unknown", by: Buffer.from(data).toString("utf8"), replied: false };
  }
}
