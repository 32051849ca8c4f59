/** Side by side: recording live Nameko traffic into cassettes (docs/cassettes.md). */
export { record, type RecordOptions, type RecordSummary } from "./recorder";
export {
  CassetteAssembler,
  type AssemblerOptions,
  type Observation,
  type ObservedEvent,
  type ObservedReply,
  type ObservedRequest,
} from "./assembler";
export { ManagementUnavailable, RecordingError, TracingRefused } from "./errors";
export { TRACE_BINDINGS, TRACE_EXCHANGE } from "./amqp-source";
export {
  NAMEKO_PYTHON_ENV,
  namekoPython,
  NamekoOriginalFailed,
  startNamekoOriginal,
  type NamekoOriginal,
  type NamekoOriginalOptions,
} from "./nameko-original";
