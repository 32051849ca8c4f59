/**
 * Serves `rpc-<service>` for a service that lives on NATS, as a Nameko instance of that service
 * would (docs/nameko-wire.md, RPC server, RPC replies): the same queue, binding and flags, so it competes fairly
 * with Nameko consumers of the same service and with other bridges. Each request goes onward
 * unchanged (to NATS, to another vhost, or to a Router for a service cut over by weight, docs/routing.md); the reply body comes back unchanged and is published to `nameko-rpc` / `reply_to` with
 * the request's correlation id and content type, with confirms; only then is the request acked.
 *
 * Differences from Nameko, for robustness (docs/bridge-contract.md, Malformed input): a request
 * without `reply_to` is acked and logged (no reply is possible; Nameko's container would die on it);
 * a request with another content type than application/json, or with a header table amqp/ could not
 * decode (InvalidHeader: nesting too deep, an unknown field type), gets a MalformedRequest reply
 * instead of being dropped silently or closing the connection.
 *
 * While NATS is away the consumer is cancelled (`pause`), so requests wait in the queue (or go to
 * another bridge) instead of failing; requests already taken but not yet sent are requeued.
 */
import type { MsgHdrs } from "@nats-io/transport-node";
import type { ConsumeMessage } from "amqplib";
import type { AmqpConnection, ConsumerChannel } from "../../amqp";
import { InvalidHeader, QueueConsumer, rpcExchange, serviceQueue } from "../../amqp";
import { CallOutcomeUnknown, describeError, type Logger, MalformedRequest } from "../../compat";
import type { FlowInstruments } from "../../src/internal";
import type { Claim, CallRecords } from "../nats/call-records";
import type { Onward, OnwardFailure } from "../onward";
import { BridgeUnavailable } from "../errors";
import { WarnThrottle } from "../warn-throttle";
import {
  amqpPayloadTooLarge,
  errorReply,
  isErrorReply,
  JSON_CONTENT_TYPE,
  natsHeadersFromAmqp,
  replyProperties,
  type SkippedHeader,
} from "../translate";

/** Options of {@link AmqpRpcInbound}. */
export interface AmqpRpcInboundOptions {
  connection: AmqpConnection;
  /** The service whose Nameko queue is served. */
  service: string;
  /** Where requests go: NATS (NatsRpcOutbound), another vhost (AmqpRpcOutbound) or a Router. */
  onward: Onward;
  /** False while the bridge's NATS connection (where the records live) is away. */
  natsUp: () => boolean;
  /** Nameko's `rpc_exchange`. */
  exchange: string;
  /** Unacked requests on this queue (basic.qos per consumer, as Nameko). */
  prefetch: number;
  /** RabbitMQ's `max_message_size`: a larger reply is replaced by a PayloadTooLarge error reply. */
  maxMessageBytes: number;
  instruments: FlowInstruments;
  log: Logger;
  /** Start paused (NATS not connected yet). */
  paused?: boolean;
  /** The record of handed-over requests; without it a redelivered request is forwarded again (at least once). */
  records?: CallRecords;
}

/** The bridge's consumer of one service's `rpc-<service>` queue. */
export class AmqpRpcInbound {
  private readonly consumer: QueueConsumer;
  private stopped = false;
  private killed = false;
  private readonly prefix: string;
  private readonly skipped: SkippedHeader[] = [];
  private readonly recordFailures: WarnThrottle;

  constructor(private readonly options: AmqpRpcInboundOptions) {
    this.prefix = `${options.service}.`;
    this.recordFailures = new WarnThrottle(options.log);
    const queue = serviceQueue(options.service, options.exchange);
    // Declared exactly as Nameko declares `nameko-rpc`, `rpc-<service>` and its binding.
    this.consumer = new QueueConsumer({
      connection: options.connection,
      log: options.log,
      exchange: rpcExchange(options.exchange),
      queue,
      prefetch: options.prefetch,
      name: `bridge ${queue.queue}`,
      paused: options.paused,
      handle: (cc, msg) => this.onMessage(cc, msg),
    });
  }

  get service(): string {
    return this.options.service;
  }

  /** Requests taken and not yet acked. */
  get inFlight(): number {
    return this.consumer.inFlight;
  }

  /** True while the queue is declared on a live channel (consuming unless paused). */
  get established(): boolean {
    return this.consumer.established;
  }

  /** Declares the topology, then consumes (again after reconnects) unless paused. */
  start(): Promise<void> {
    return this.consumer.start();
  }

  /** Stops taking requests (basic.cancel, channel kept so requests in flight can still be acked). */
  pause(): Promise<void> {
    return this.consumer.pause();
  }

  /** Takes requests again after {@link pause}. */
  async resume(): Promise<void> {
    if (!this.stopped) await this.consumer.resume();
  }

  /** Stops taking requests for good (basic.cancel); those in flight still reply and ack. */
  async stopIntake(): Promise<void> {
    this.stopped = true;
    await this.consumer.pause();
  }

  /** Stops taking requests, lets those in flight reply and ack, then closes the channel. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.consumer.stop();
  }

  /** Abandons everything in flight without replying or acking, as a crash would (RabbitMQ redelivers). */
  kill(): void {
    this.killed = true;
    this.stopped = true;
  }

  private async onMessage(cc: ConsumerChannel, msg: ConsumeMessage): Promise<void> {
    const { instruments, log, service } = this.options;
    if (msg.fields.redelivered) instruments.redelivered();
    const startedAt = instruments.started();
    let errorKind: string | undefined;
    try {
      errorKind = await this.process(cc, msg, startedAt);
    } catch (err) {
      // Never let one message take the consumer down, nor hold a prefetch slot for ever; not
      // requeued, since what failed unexpectedly once would fail again (a poison message).
      log.error("bridge rpc request handling failed; request dropped", {
        direction: "amqp_to_nats",
        service,
        error: describeError(err),
      });
      cc.reject(msg, false);
      errorKind = "internal";
    }
    instruments.finished(startedAt, errorKind);
  }

  /** Handles one request; resolves with the error kind for metrics, or undefined on success. */
  private async process(cc: ConsumerChannel, msg: ConsumeMessage, startedAt: number): Promise<string | undefined> {
    const { properties, fields } = msg;
    const { log, service } = this.options;
    const replyTo: unknown = properties.replyTo;
    if (typeof replyTo !== "string" || replyTo === "") {
      log.error("bridge rpc request without reply_to acked and dropped (no reply possible)", {
        direction: "amqp_to_nats",
        service,
        routingKey: fields.routingKey,
        correlationId: properties.correlationId as unknown,
      });
      cc.ack(msg);
      return "no_reply_to";
    }
    const routingKey = fields.routingKey;
    const method = routingKey.startsWith(this.prefix)
      ? routingKey.slice(this.prefix.length)
      : routingKey.slice(routingKey.lastIndexOf(".") + 1);
    let body: Uint8Array;
    let errorKind: string | undefined;
    let props = replyProperties(properties);
    if (properties.contentType !== JSON_CONTENT_TYPE) {
      const ct: unknown = properties.contentType;
      log.warn("bridge rpc request with an unsupported content type answered with MalformedRequest", {
        direction: "amqp_to_nats",
        service,
        method,
        contentType: String(ct),
      });
      body = errorReply(new MalformedRequest(`Unsupported content type: ${ct === undefined ? "none" : String(ct)}`));
      errorKind = "bad_content_type";
      // A caller that sent another content type may still read this JSON error (the reply says what it is).
      props = { ...props, contentType: JSON_CONTENT_TYPE };
    } else {
      const headers = this.natsHeaders(properties.headers as Record<string, unknown> | undefined, method);
      if (headers instanceof MalformedRequest) {
        body = errorReply(headers);
        errorKind = "bad_header";
      } else {
        const answer = await this.handOver(msg, replyTo, method, headers, startedAt);
        if (this.killed) return "killed";
        if ("requeue" in answer) {
          cc.reject(msg, true);
          return answer.errorKind;
        }
        body = answer.body;
        errorKind = answer.errorKind;
      }
    }
    let content = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    if (content.length > this.options.maxMessageBytes) {
      // RabbitMQ would close the channel on it and the request would come back for ever.
      const error = amqpPayloadTooLarge(`reply of ${service}.${method}`, content.length, this.options.maxMessageBytes);
      log.warn("bridge rpc reply too large for RabbitMQ; error reply sent", {
        direction: "amqp_to_nats",
        service,
        method,
        bytes: content.length,
        maxMessageSize: this.options.maxMessageBytes,
      });
      content = errorReply(error);
      errorKind = "too_large";
    }
    try {
      await this.options.connection.publish(this.options.exchange, replyTo, content, props);
    } catch (err) {
      // Not acked, so not lost: requeued now, or by the broker when the channel is gone.
      log.error("bridge rpc reply publish failed; request requeued", {
        direction: "amqp_to_nats",
        service,
        method,
        error: describeError(err),
      });
      cc.reject(msg, true);
      return "reply_failed";
    }
    cc.ack(msg);
    return errorKind;
  }

  /**
   * Forwards the request to NATS and says what to answer. With the record of handed-over requests
   * (docs/at-most-once.md) the request is first recorded as handed over; a request recorded before
   * (redelivered after a bridge died holding it) is not forwarded again: it gets the reply recorded
   * for it, or CallOutcomeUnknown.
   */
  private async handOver(
    msg: ConsumeMessage,
    replyTo: string,
    method: string,
    headers: MsgHdrs | undefined,
    startedAt: number,
  ): Promise<Answer> {
    const { onward, records, service, log } = this.options;
    const correlationId: unknown = msg.properties.correlationId;
    let claim: Extract<Claim, { kind: "claimed" }> | undefined;
    if (records && typeof correlationId === "string") {
      const found = await records.claim(replyTo, correlationId);
      const where = { direction: "amqp_to_nats", service, method, correlationId, redelivered: msg.fields.redelivered };
      switch (found.kind) {
        case "claimed":
          claim = found;
          break;
        case "replied":
          log.info("bridge rpc request handed over before; its recorded reply sent again", where);
          return { body: found.body, errorKind: "replayed" };
        case "unknown":
          log.warn("bridge rpc request handed over before, reply unknown; answered with CallOutcomeUnknown", {
            ...where,
            handedOverBy: found.by,
          });
          return { body: errorReply(outcomeUnknown(service, method, found)), errorKind: "outcome_unknown" };
        case "failed":
          // Forwarding without a record could run the call twice; while NATS is away the request
          // waits in the queue, as every other request does.
          if (!this.options.natsUp()) return { requeue: true, errorKind: "unavailable" };
          this.recordFailures.warn("record", "bridge could not record a request as handed over; error reply sent", {
            direction: "amqp_to_nats",
            service,
            method,
            error: describeError(found.error),
          });
          return {
            body: errorReply(
              new BridgeUnavailable(`the bridge could not record the call: ${describeError(found.error)}`),
            ),
            errorKind: "record_failed",
          };
      }
    }
    const identity = `${replyTo}:${typeof correlationId === "string" ? correlationId : String(correlationId)}`;
    const outcome = await onward.forward(service, method, msg.content, headers, identity);
    let answer: Answer;
    if (outcome instanceof Uint8Array) {
      answer = { body: outcome, errorKind: isErrorReply(outcome) ? "remote" : undefined };
    } else if (outcome.requeue) {
      if (!claim) return { requeue: true, errorKind: outcome.kind };
      if (!outcome.mayHaveRun) {
        // Nothing was sent: the redelivery must be forwarded, not taken for a duplicate.
        await records!.release(claim);
        return { requeue: true, errorKind: outcome.kind };
      }
      this.logFailure(method, outcome, performance.now() - startedAt);
      const error = new CallOutcomeUnknown(
        `${service}.${method}: the bridge's connection closed before the reply came; the call may have run and is not run again`,
      );
      answer = { body: errorReply(error), errorKind: "outcome_unknown" };
    } else {
      this.logFailure(method, outcome, performance.now() - startedAt);
      answer = { body: outcome.body ?? errorReply(outcome.error), errorKind: outcome.kind };
    }
    if (claim) records!.replied(claim, answer.body);
    return answer;
  }

  /**
   * NATS headers for a request (keys NATS cannot carry are left out and logged), or the
   * MalformedRequest it gets when amqp/ could not decode its header table.
   */
  private natsHeaders(
    raw: Record<string, unknown> | undefined,
    method: string,
  ): MsgHdrs | undefined | MalformedRequest {
    const { log, service } = this.options;
    let headers: MsgHdrs | undefined;
    try {
      headers = natsHeadersFromAmqp(raw, this.skipped);
    } catch (err) {
      if (!(err instanceof InvalidHeader)) throw err;
      log.warn("bridge rpc request with undecodable headers answered with MalformedRequest", {
        direction: "amqp_to_nats",
        service,
        method,
        error: err.message,
      });
      return new MalformedRequest(err.message);
    }
    if (this.skipped.length > 0) {
      log.warn("bridge rpc request headers NATS cannot carry were left out", {
        direction: "amqp_to_nats",
        service,
        method,
        skipped: this.skipped.splice(0),
      });
    }
    return headers;
  }

  private logFailure(method: string, failure: OnwardFailure, elapsedMs: number): void {
    this.options.log.warn("bridge rpc call failed; error reply sent", {
      direction: "amqp_to_nats",
      service: this.options.service,
      method,
      kind: failure.kind,
      error: describeError(failure.error),
      elapsedMs: Math.round(elapsedMs),
    });
  }
}

/** What to do with a request: answer it with `body` (then ack), or hand it back to the queue. */
type Answer = { body: Uint8Array; errorKind: string | undefined } | { requeue: true; errorKind: string };

function outcomeUnknown(service: string, method: string, found: { by: string; replied: boolean }): CallOutcomeUnknown {
  return new CallOutcomeUnknown(
    found.replied
      ? `${service}.${method} ran and replied through bridge ${found.by}, which died before acking it; the reply was too large to keep`
      : `${service}.${method} was handed over to NATS by bridge ${found.by}, which died before its reply reached the caller; it may have run and is not run again`,
  );
}
