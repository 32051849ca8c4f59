import { NamekoError, registerError } from "../compat";

/** Why a recording could not start (docs/cassettes.md, When recording cannot start). */
export class RecordingError extends Error {
  override readonly name: string = "RecordingError";
}

/** The RabbitMQ management API did not answer, or refused the credentials. */
export class ManagementUnavailable extends RecordingError {
  override readonly name = "ManagementUnavailable";
}

/** The management API answered, but the vhost's firehose tracer could not be switched on. */
export class TracingRefused extends RecordingError {
  override readonly name = "TracingRefused";
}

/** An `--ignore` pattern that cannot be read (docs/cassettes.md, Ignoring noise). */
export class InvalidIgnorePattern extends Error {
  override readonly name = "InvalidIgnorePattern";
}

/**
 * The reply a replay's stub responder gives a call the cassette holds no recording of
 * (docs/cassettes.md, Stub responders): an error at once, so the port under test never waits.
 */
export class ReplayNoRecording extends NamekoError {}
registerError("cliffracer.replay.ReplayNoRecording", ReplayNoRecording);
