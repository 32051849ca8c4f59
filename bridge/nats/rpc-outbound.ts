/**
 * Requests `rpc.<service>.<method>` on NATS for an AMQP caller and yields the runtime's reply body
 * unchanged, or a Nameko error reply when the call could not be made
 * (docs/bridge-contract.md, RPC from RabbitMQ to NATS). MethodNotFound, IncorrectSignature and the method's
 * own errors come from the runtime itself.
 */
import type { MsgHdrs } from "@nats-io/transport-node";
import { describeError, InvalidName, MethodNotFound, PayloadTooLarge, RpcTimeout, UnknownService } from "../../compat";
import type { RpcClient } from "../../src/internal";
import { BridgeUnavailable } from "../errors";
import type { Onward, OnwardFailure } from "../onward";
import { errorReply } from "../translate";

/**
 * How long after the bridge's NATS connection came back a service without responders is waited
 * for rather than reported unknown: the services reconnect too, each at its own pace (nats.js
 * retries every 2 s plus jitter by default), and the requests that waited in RabbitMQ while NATS
 * was away are taken at once, so without this they would all get UnknownService.
 */
export const DEFAULT_RECONNECT_SETTLE_MS = 10_000;
/** Pause between tries of a request that found no responder while the services settle. */
const SETTLE_RETRY_MS = 250;

/** Options of {@link NatsRpcOutbound}. */
export interface NatsRpcOutboundOptions {
  client: RpcClient;
  /** How long to wait for the runtime's reply. */
  timeoutMs: number;
  /** False while the NATS connection is away. */
  isUp: () => boolean;
  /** See {@link DEFAULT_RECONNECT_SETTLE_MS}. */
  settleMs?: number;
}

function named(err: unknown, name: string): boolean {
  return err instanceof Error && err.name === name;
}

/** Forwards requests to NATS services (under the prefix of its RpcClient). */
export class NatsRpcOutbound implements Onward {
  private settleUntil = 0;

  constructor(private readonly options: NatsRpcOutboundOptions) {}

  /** The NATS connection is back: services may still be reconnecting (see DEFAULT_RECONNECT_SETTLE_MS). */
  reconnected(): void {
    this.settleUntil = performance.now() + (this.options.settleMs ?? DEFAULT_RECONNECT_SETTLE_MS);
  }

  /**
   * Sends `body` to `service.method` with `headers` (context) and resolves with the reply body, or
   * an {@link OnwardFailure}. Never rejects.
   */
  forward(
    service: string,
    method: string,
    body: Uint8Array,
    headers: MsgHdrs | undefined,
  ): Promise<Uint8Array | OnwardFailure> {
    const { client, timeoutMs, isUp } = this.options;
    if (!isUp()) {
      return Promise.resolve({
        kind: "unavailable",
        requeue: true,
        mayHaveRun: false,
        error: new BridgeUnavailable("NATS is not connected"),
      });
    }
    return client.requestRaw(service, method, body, { timeoutMs, headers }).then(undefined, (err: unknown) =>
      // No responder means nothing was delivered, so trying again cannot run the call twice.
      err instanceof UnknownService && performance.now() < this.settleUntil
        ? new Promise<void>((resolve) => setTimeout(resolve, SETTLE_RETRY_MS)).then(() =>
            this.forward(service, method, body, headers),
          )
        : failure(service, method, err),
    );
  }
}

function failure(service: string, method: string, err: unknown): OnwardFailure {
  if (err instanceof InvalidName) {
    // What Nameko answers for a routing key whose method part is not a usable name (docs/nameko-wire.md, RPC server).
    const error = new MethodNotFound(method);
    return { kind: "bad_method", requeue: false, mayHaveRun: false, error, body: errorReply(error) };
  }
  // Refused before sending (over the server's max_payload): the caller learns size and limit.
  if (err instanceof PayloadTooLarge)
    return { kind: "too_large", requeue: false, mayHaveRun: false, error: err, body: errorReply(err) };
  if (err instanceof UnknownService)
    return { kind: "unknown_service", requeue: false, mayHaveRun: false, error: err, body: errorReply(err) };
  if (err instanceof RpcTimeout)
    return { kind: "timeout", requeue: false, mayHaveRun: true, error: err, body: errorReply(err) };
  if (named(err, "ClosedConnectionError") || named(err, "DrainingConnectionError")) {
    // Refused before anything was sent: safe to hand back to the queue.
    return { kind: "unavailable", requeue: true, mayHaveRun: false, error: err };
  }
  if (named(err, "RequestError") && err instanceof Error && err.message === "connection closed") {
    // The bridge's NATS connection closed under the request: the reply can never come. Handing it
    // back to the queue is what a crash would do (another bridge, or this one later, takes it);
    // the call may have run, which is Nameko's at-least-once (with the record of handed-over
    // requests, the bridge answers CallOutcomeUnknown instead: docs/at-most-once.md).
    return { kind: "unavailable", requeue: true, mayHaveRun: true, error: err };
  }
  const error = new BridgeUnavailable(`NATS request to ${service}.${method} failed: ${describeError(err)}`);
  return { kind: "nats_error", requeue: false, mayHaveRun: true, error, body: errorReply(error) };
}
