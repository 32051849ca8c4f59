/**
 * Calls a Nameko service over AMQP for a NATS caller, or for a Nameko caller whose call a Router
 * sends to the original's vhost (docs/routing.md): the request body goes to `nameko-rpc` /
 * `<service>.<method>` unchanged, with `reply_to`, `content_type` and a correlation id, mandatory and
 * confirmed (docs/nameko-wire.md, RPC client, UnknownService, Malformed requests), through one
 * amqp/ RPC client whose reply queue is `rpc.reply-cliffracer_bridge-<uuid>`. The Nameko reply body
 * comes back unchanged.
 */
import type { MsgHdrs } from "@nats-io/transport-node";
import type { AmqpConnection } from "../../amqp";
import { AmqpRpcClient, InvalidHeader } from "../../amqp";
import { describeError, type Logger, MalformedRequest, RpcTimeout, UnknownService } from "../../compat";
import { BridgeUnavailable } from "../errors";
import type { Onward, OnwardFailure } from "../onward";
import { amqpHeadersFromNats, amqpPayloadTooLarge, errorReply, JSON_CONTENT_TYPE } from "../translate";

/** The owner part of the bridge's reply queue name. */
export const BRIDGE_REPLY_OWNER = "cliffracer_bridge";

/** Options of {@link AmqpRpcOutbound}. */
export interface AmqpRpcOutboundOptions {
  connection: AmqpConnection;
  /** Nameko's `rpc_exchange`. */
  exchange: string;
  /** How long to wait for a Nameko reply before the caller gets RpcTimeout. */
  timeoutMs: number;
  /** RabbitMQ's `max_message_size`: a larger request is answered with PayloadTooLarge, never published. */
  maxMessageBytes: number;
  /** False while the AMQP connection is away. */
  isUp: () => boolean;
  log: Logger;
}

/** The bridge's Nameko RPC client on one vhost. */
export class AmqpRpcOutbound implements Onward {
  private readonly client: AmqpRpcClient;

  constructor(private readonly options: AmqpRpcOutboundOptions) {
    this.client = new AmqpRpcClient({
      connection: options.connection,
      owner: BRIDGE_REPLY_OWNER,
      exchange: options.exchange,
      timeoutMs: options.timeoutMs,
      logger: options.log,
    });
  }

  /** The reply queue's name. */
  get replyQueueName(): string {
    return this.client.replyQueueName;
  }

  /** Calls waiting for a Nameko reply. */
  get inFlight(): number {
    return this.client.inFlight;
  }

  /** Declares and consumes the reply queue (again after every reconnect). */
  start(): Promise<void> {
    return this.client.start();
  }

  /** Stops consuming replies; calls still waiting get an error. */
  stop(): Promise<void> {
    return this.client.stop();
  }

  /**
   * Sends `body` to `service.method` with `headers` (context, typed as py-amqp would) and resolves
   * with the Nameko reply body, or an {@link OnwardFailure} (never `requeue`: RabbitMQ away is
   * answered with BridgeUnavailable at once). Never rejects. A header AMQP cannot carry is refused
   * before anything is sent (MalformedRequest naming it): the caller's mistake, never a publish on
   * the shared connection.
   */
  forward(
    service: string,
    method: string,
    body: Uint8Array,
    headers: MsgHdrs | undefined,
  ): Promise<Buffer | OnwardFailure> {
    const refused = (kind: string, error: Error): Promise<OnwardFailure> =>
      Promise.resolve({ kind, error, body: errorReply(error), requeue: false, mayHaveRun: false });
    if (!this.options.isUp()) return refused("unavailable", new BridgeUnavailable("RabbitMQ is not connected"));
    if (body.length > this.options.maxMessageBytes)
      return refused(
        "too_large",
        amqpPayloadTooLarge(`request to ${service}.${method}`, body.length, this.options.maxMessageBytes),
      );
    let table: Record<string, unknown> | undefined;
    try {
      table = amqpHeadersFromNats(headers);
    } catch (err) {
      if (!(err instanceof InvalidHeader)) throw err;
      return refused("bad_header", new MalformedRequest(err.message));
    }
    const content = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    return this.client.request(service, method, content, { headers: table, contentType: JSON_CONTENT_TYPE }).then(
      (reply) => reply.body,
      (err: unknown): OnwardFailure => {
        if (err instanceof UnknownService)
          return { kind: "unknown_service", error: err, requeue: false, mayHaveRun: false };
        if (err instanceof RpcTimeout)
          return { kind: "timeout", error: err, body: errorReply(err), requeue: false, mayHaveRun: true };
        if (err instanceof InvalidHeader) {
          const error = new MalformedRequest(err.message);
          return { kind: "bad_header", error, body: errorReply(error), requeue: false, mayHaveRun: false };
        }
        const error = new BridgeUnavailable(`AMQP request to ${service}.${method} failed: ${describeError(err)}`);
        return { kind: "amqp_error", error, body: errorReply(error), requeue: false, mayHaveRun: true };
      },
    );
  }
}
