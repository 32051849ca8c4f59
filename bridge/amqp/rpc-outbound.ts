/**
 * Calls a Nameko service over AMQP for a NATS caller: the request body goes to `nameko-rpc` /
 * `<service>.<method>` unchanged, with `reply_to`, `content_type` and a correlation id, mandatory and
 * confirmed (docs/nameko-wire.md, RPC client, UnknownService, Malformed requests), through one
 * amqp/ RPC client whose reply queue is `rpc.reply-cliffracer_bridge-<uuid>`. The Nameko reply body
 * comes back unchanged.
 */
import type { AmqpConnection } from "../../amqp";
import { AmqpRpcClient, InvalidHeader } from "../../amqp";
import { describeError, type Logger, MalformedRequest, RpcTimeout, UnknownService } from "../../compat";
import { BridgeUnavailable } from "../errors";
import { amqpPayloadTooLarge, errorReply, JSON_CONTENT_TYPE } from "../translate";

/** The owner part of the bridge's reply queue name. */
export const BRIDGE_REPLY_OWNER = "cliffracer_bridge";

/** Why a Nameko call produced no reply body. */
export interface AmqpCallFailure {
  /** unknown_service, timeout, too_large, bad_header, unavailable, amqp_error. */
  kind: string;
  /** Error reply for the caller; absent for unknown_service (answered as NATS "no responders"). */
  body?: Buffer;
  error: unknown;
}

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

/** The bridge's Nameko RPC client. */
export class AmqpRpcOutbound {
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
   * with the Nameko reply body, or an {@link AmqpCallFailure}. Never rejects. A header AMQP cannot
   * carry is refused before anything is sent (MalformedRequest naming it): the caller's mistake,
   * never a publish on the shared connection.
   */
  call(
    service: string,
    method: string,
    body: Buffer,
    headers: Record<string, unknown> | undefined,
  ): Promise<Buffer | AmqpCallFailure> {
    if (!this.options.isUp()) {
      const error = new BridgeUnavailable("RabbitMQ is not connected");
      return Promise.resolve({ kind: "unavailable", error, body: errorReply(error) });
    }
    if (body.length > this.options.maxMessageBytes) {
      const error = amqpPayloadTooLarge(`request to ${service}.${method}`, body.length, this.options.maxMessageBytes);
      return Promise.resolve({ kind: "too_large", error, body: errorReply(error) });
    }
    return this.client.request(service, method, body, { headers, contentType: JSON_CONTENT_TYPE }).then(
      (reply) => reply.body,
      (err: unknown): AmqpCallFailure => {
        if (err instanceof UnknownService) return { kind: "unknown_service", error: err };
        if (err instanceof RpcTimeout) return { kind: "timeout", error: err, body: errorReply(err) };
        if (err instanceof InvalidHeader) {
          const error = new MalformedRequest(err.message);
          return { kind: "bad_header", error, body: errorReply(error) };
        }
        const error = new BridgeUnavailable(`AMQP request to ${service}.${method} failed: ${describeError(err)}`);
        return { kind: "amqp_error", error, body: errorReply(error) };
      },
    );
  }
}
