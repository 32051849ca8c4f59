// Errors the bridge itself answers with. They travel in Nameko's error envelope, so a Python caller
// sees RemoteError with these names as exc_type (MIGRATION.md, error table).
import { NamekoError, registerError } from "../compat";

/** The side the call must cross to is away (broker down or reconnecting); the call was not sent. */
export class BridgeUnavailable extends NamekoError {}

/**
 * A request that came from a bridge reached a bridge again on the same service: two bridges (or one
 * during a discovery change) disagree on which side the service lives on. Refused, so a call never
 * circles between the brokers.
 */
export class BridgeLoop extends NamekoError {}

// Serialized as cliffracer.bridge.<Name>; not deserialized, so TS callers get a RemoteError too.
for (const cls of [BridgeUnavailable, BridgeLoop]) {
  registerError(`cliffracer.bridge.${cls.name}`, cls, { deserialize: false });
}
