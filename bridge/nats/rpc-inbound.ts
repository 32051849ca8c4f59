/**
 * Serves `rpc.<service>.*` on NATS (queue group `rpc.<service>`, shared with other bridges) for a
 * service that lives on RabbitMQ (docs/bridge-contract.md, RPC from NATS to RabbitMQ), or that is cut
 * over by weight (a Router as the onward leg, docs/routing.md): each request is carried onward and
 * the reply body is the response, unchanged.
 *
 * - A method token NATS allowed but Nameko cannot route (`*`, `>`, whitespace) gets MethodNotFound.
 * - Nothing bound on AMQP for the routing key (basic.return) is answered the way nats-server answers
 *   a request nobody listens to, a 503 "no responders" status, so every NATS client reports it as
 *   it reports a missing NATS service; the runtime's RpcClient raises UnknownService.
 * - A request whose reply subject is a bridge inbox came from a bridge: it is never carried back to
 *   RabbitMQ (BridgeLoop error), so no call circles between the brokers.
 * - A body that is not a JSON object with `args` and `kwargs` gets MalformedRequest here, as the
 *   runtime answers it: Nameko would drop text that is not JSON without a reply, and answer a
 *   list, string or null body with a TypeError.
 * - A header AMQP cannot carry (NaN, an integer beyond 64 bits, nesting too deep…) gets
 *   MalformedRequest naming it; nothing is published (bridge/amqp/rpc-outbound.ts).
 * - While RabbitMQ is away requests get a BridgeUnavailable error at once.
 * - A request without a reply subject (fire-and-forget) is carried and its reply dropped.
 *
 * The service is announced on NATS with the services protocol while the bridge serves it, marked
 * `bridged` (docs/bridge-contract.md, Announcing Nameko services), so `nats micro ls` lists it
 * beside the services on NATS; the announcement's endpoint is the subscription itself.
 */
import { randomUUID } from "node:crypto";
import { headers as natsHeaders, type NatsConnection } from "@nats-io/transport-node";
import {
  describeError,
  InFlight,
  InvalidName,
  isPlainRequestEnvelope,
  type Logger,
  MalformedRequest,
  MethodNotFound,
  PayloadTooLarge,
  requestEnvelope,
  rpcQueueGroup,
  rpcServiceSubjects,
  validateName,
} from "../../compat";
import {
  BodyStore,
  bodyRefOf,
  maxPayloadOf,
  natsPayloadTooLarge,
  oversize,
  ServiceAnnouncer,
  withBodyRef,
  type BodyBucket,
  type InboundMessage,
  type Intake,
} from "../../src/internal";
import type { FlowInstruments } from "../../src/internal";
import { BridgeLoop } from "../errors";
import type { Onward, OnwardFailure } from "../onward";
import { errorReply, isErrorReply } from "../translate";
import { WarnThrottle } from "../warn-throttle";

/** Options of {@link NatsRpcInbound}. */
export interface NatsRpcInboundOptions {
  nc: NatsConnection;
  /** The AMQP-side service whose NATS subjects are served. */
  service: string;
  /** Subject prefix. */
  prefix: string;
  /** Where requests go: the Nameko service's vhost (AmqpRpcOutbound) or a Router. */
  onward: Onward;
  /** Reply subjects of bridges' own requests start with `<inboxPrefix>.`. */
  inboxPrefix: string;
  /** Where replies over max_payload go; `false` answers them with PayloadTooLarge. */
  largeBodies: BodyBucket | false;
  instruments: FlowInstruments;
  /** Announce the service on NATS as bridged (`$SRV.*`); false: a plain queue subscription. */
  announce: boolean;
  /** The bridge's name, in the announcement's metadata. */
  bridgeName: string;
  log: Logger;
}

const EMPTY = new Uint8Array(0);

/** The bridge's NATS subscription for one AMQP-side service. */
export class NatsRpcInbound {
  private intake?: Intake;
  private starting?: Promise<void>;
  private killed = false;
  private readonly running = new InFlight();
  private readonly bridgeInbox: string;
  /** While RabbitMQ is away every call fails the same way: one line per kind and interval. */
  private readonly failures: WarnThrottle;

  constructor(private readonly options: NatsRpcInboundOptions) {
    this.bridgeInbox = `${options.inboxPrefix}.`;
    this.failures = new WarnThrottle(options.log);
  }

  get service(): string {
    return this.options.service;
  }

  /** Requests received and not yet answered. */
  get inFlight(): number {
    return this.running.count;
  }

  /**
   * Subscribes `[prefix.]rpc.<service>.*` in queue group `[prefix.]rpc.<service>`, announced as a
   * bridged service unless announcing is off.
   */
  start(): Promise<void> {
    return (this.starting ??= this.subscribe());
  }

  private async subscribe(): Promise<void> {
    const { nc, service, prefix, log, bridgeName } = this.options;
    const announcer = this.options.announce
      ? await ServiceAnnouncer.start(
          nc,
          {
            name: service,
            version: "0.0.0",
            description: `Nameko service on RabbitMQ, served on NATS by cliffracer bridge ${bridgeName}`,
            metadata: { bridged: "true", bridge: bridgeName },
          },
          log,
        )
      : ServiceAnnouncer.silent(nc, log);
    if (this.killed) {
      await announcer.stop();
      return;
    }
    // Method names are not known on the AMQP side (the queue binds `<service>.*`): none are listed.
    this.intake = announcer.rpcIntake(rpcServiceSubjects(service, prefix), rpcQueueGroup(service, prefix), [], (msg) =>
      this.onMessage(msg),
    );
  }

  /** Leaves the queue group and withdraws the announcement (requests already received are still handled). */
  async stopIntake(): Promise<void> {
    await this.starting?.catch(() => undefined);
    const intake = this.intake;
    this.intake = undefined;
    await intake?.drain().catch(() => undefined);
  }

  /** Stops intake, then waits until every request received is answered. */
  async stop(): Promise<void> {
    await this.stopIntake();
    await this.running.idle();
  }

  /** Abandons everything in flight without answering, as a crash would (callers time out). */
  kill(): void {
    this.killed = true;
    this.intake?.close();
    this.intake = undefined;
  }

  private onMessage(msg: InboundMessage): void {
    const { instruments, service, log } = this.options;
    const startedAt = instruments.started();
    this.running.enter();
    let pending: Promise<string | undefined>;
    try {
      pending = this.handle(msg);
    } catch (err) {
      pending = Promise.reject(err);
    }
    pending.then(
      (errorKind) => this.done(startedAt, errorKind),
      (err: unknown) => {
        log.error("bridge rpc request handling failed", {
          direction: "nats_to_amqp",
          service,
          error: describeError(err),
        });
        this.done(startedAt, "internal");
      },
    );
  }

  private done(startedAt: number, errorKind: string | undefined): void {
    this.options.instruments.finished(startedAt, errorKind);
    this.running.leave();
  }

  /** Handles one request; resolves with the error kind for metrics, or undefined on success. */
  private handle(msg: InboundMessage): Promise<string | undefined> {
    const { service, log } = this.options;
    const subject = msg.subject;
    const method = subject.slice(subject.lastIndexOf(".") + 1);
    if (msg.reply !== undefined && msg.reply.startsWith(this.bridgeInbox)) {
      log.warn("bridge rpc request from a bridge refused (bridges disagree on the side of the service)", {
        direction: "nats_to_amqp",
        service,
        method,
      });
      msg.respond(
        errorReply(
          new BridgeLoop(
            `${service}.${method} came from a bridge and would be sent back to RabbitMQ; bridges disagree on where ${service} lives`,
          ),
        ),
      );
      return Promise.resolve("loop");
    }
    try {
      validateName("method", method);
    } catch (err) {
      if (!(err instanceof InvalidName)) throw err;
      log.warn("bridge rpc request for an invalid method name answered with MethodNotFound", {
        direction: "nats_to_amqp",
        service,
        subject,
      });
      msg.respond(errorReply(new MethodNotFound(method)));
      return Promise.resolve("bad_method");
    }
    const ref = bodyRefOf(msg);
    if (ref === undefined) return this.carry(msg, method, msg.data);
    // A body over max_payload, kept in the object store (docs/large-payloads.md).
    return BodyStore.of(this.options.nc)
      .take(ref)
      .then(
        (data) => this.carry(msg, method, data),
        (err: unknown) => {
          log.warn("bridge rpc request whose large body is gone answered with MalformedRequest", {
            direction: "nats_to_amqp",
            service,
            method,
            error: describeError(err),
          });
          if (msg.reply) msg.respond(errorReply(new MalformedRequest(describeError(err))));
          return "bad_body_ref";
        },
      );
  }

  /** Checks a request body and carries it to RabbitMQ; resolves with the error kind, as handle. */
  private carry(msg: InboundMessage, method: string, data: Uint8Array): Promise<string | undefined> {
    const { service, onward, log } = this.options;
    const body = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    try {
      // A plain-JSON body is checked from its bytes; only the others are decoded to decide.
      if (!isPlainRequestEnvelope(body)) requestEnvelope(body);
    } catch (err) {
      if (!(err instanceof MalformedRequest)) throw err;
      // Nameko acks an undecodable request and never answers it (docs/nameko-wire.md, Values), and
      // answers a body that is not an object with a TypeError: both are answered here instead.
      log.warn("bridge rpc request that is not a JSON request object answered with MalformedRequest", {
        direction: "nats_to_amqp",
        service,
        method,
        error: err.message,
      });
      msg.respond(errorReply(err));
      return Promise.resolve("bad_json");
    }
    // The reply subject is unique per request (an inbox), and the same if the caller's request is resent.
    const identity = msg.reply ?? `${msg.subject}:${randomUUID()}`;
    return onward.forward(service, method, body, msg.headers, identity).then((outcome) => {
      if (this.killed) return "killed";
      if (outcome instanceof Uint8Array) return this.respond(msg, method, outcome);
      return this.fail(msg, method, outcome);
    });
  }

  private respond(
    msg: InboundMessage,
    method: string,
    body: Uint8Array,
  ): string | undefined | Promise<string | undefined> {
    const kind = isErrorReply(body) ? "remote" : undefined;
    if (!msg.reply) return kind;
    const max = maxPayloadOf(this.options.nc);
    const size = oversize(body, undefined, max);
    if (size === undefined) {
      msg.respond(body);
      return kind;
    }
    const tooLarge = natsPayloadTooLarge(`reply of ${this.options.service}.${method}`, size, max!);
    const refuse = (error: PayloadTooLarge): string => {
      this.options.log.warn("bridge rpc reply too large for NATS; error reply sent", {
        direction: "nats_to_amqp",
        service: this.options.service,
        method,
        bytes: size,
        maxPayload: max,
        error: error.message,
      });
      msg.respond(errorReply(error));
      return "too_large";
    };
    const bucket = this.options.largeBodies;
    if (bucket === false) return refuse(tooLarge);
    // Over max_payload: the body goes to the object store, the reply carries the ref.
    return BodyStore.of(this.options.nc)
      .put(bucket, body)
      .then(
        (ref) => {
          msg.respond(EMPTY, { headers: withBodyRef(undefined, ref) });
          return kind;
        },
        (err: unknown) =>
          refuse(
            new PayloadTooLarge(
              `${tooLarge.message}, and the large-body store failed: ${describeError(err)}`,
              size,
              max!,
            ),
          ),
      );
  }

  private fail(msg: InboundMessage, method: string, failure: OnwardFailure): string {
    const { service } = this.options;
    const what =
      failure.kind === "bad_header"
        ? "bridge rpc request with a header AMQP cannot carry answered with MalformedRequest"
        : "bridge rpc call failed";
    this.failures.warn(failure.kind, what, {
      direction: "nats_to_amqp",
      service,
      method,
      kind: failure.kind,
      error: describeError(failure.error),
    });
    if (!msg.reply) return failure.kind;
    if (failure.body) msg.respond(failure.body);
    // What nats-server sends when nobody listens: the caller's client raises its "no responders" error.
    else msg.respond(EMPTY, { headers: natsHeaders(503, "No Responders") });
    return failure.kind;
  }
}
