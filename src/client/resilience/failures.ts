import { errors } from "@nats-io/transport-node";
import { RpcTimeout, UnknownService } from "../../../compat";

/**
 * A call the service did not answer: RpcTimeout, UnknownService (no responder), or the connection
 * failing under it. Only these are retried and count against the circuit; an error reply means the
 * service answered, and a reply is never retried (docs/resilience.md, What counts as a failure).
 * Both Nameko errors are raised by the caller only, never deserialized from a reply.
 */
export function isTransientFailure(err: unknown): boolean {
  return (
    err instanceof RpcTimeout ||
    err instanceof UnknownService ||
    err instanceof errors.RequestError ||
    err instanceof errors.ConnectionError
  );
}
