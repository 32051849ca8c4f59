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
