/**
 * The onward leg of a bridged call: what an intake (bridge/amqp/rpc-inbound.ts for Nameko callers,
 * bridge/nats/rpc-inbound.ts for NATS callers) hands a request to. The outbounds implement it for a
 * service on the other broker (NatsRpcOutbound, AmqpRpcOutbound); a Router implements it for a
 * service cut over by weight, choosing one of its two sides per call (docs/routing.md, Choosing a side exactly once).
 * Headers travel in their NATS form, the bridge's one translation of Nameko context.
 */
import type { MsgHdrs } from "@nats-io/transport-node";

/** Why a forwarded call produced no reply body. */
export interface OnwardFailure {
  /** For metrics and logs: unknown_service, timeout, bad_method, bad_header, too_large, unavailable, nats_error, amqp_error. */
  kind: string;
  /**
   * Error reply for the caller. Absent when nobody serves the service at all on AMQP (a NATS caller
   * gets "no responders"), or when `requeue` is set.
   */
  body?: Buffer;
  /** Nothing usable came back and the request should go back to its queue (AMQP intake). */
  requeue: boolean;
  /** True when the request may have reached the service (it may have run); false when nothing was sent. */
  mayHaveRun: boolean;
  error: unknown;
}

/** Where an intake sends a request. */
export interface Onward {
  /**
   * Sends `body` to `service.method` with `headers` (Nameko context in NATS form) and resolves with
   * the reply body unchanged, or an {@link OnwardFailure}. Never rejects. `identity` names the request
   * for as long as it may be redelivered (`<reply_to>:<correlation_id>` on AMQP, the reply subject on NATS).
   */
  forward(
    service: string,
    method: string,
    body: Uint8Array,
    headers: MsgHdrs | undefined,
    identity: string,
  ): Promise<Uint8Array | OnwardFailure>;
}
