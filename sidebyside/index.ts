/** Side by side: recording live Nameko traffic into cassettes and replaying them against a port (docs/cassettes.md). */
export { record, type RecordOptions, type RecordSummary } from "./recorder";
export {
  CassetteAssembler,
  type AssemblerOptions,
  type Observation,
  type ObservedEvent,
  type ObservedReply,
  type ObservedRequest,
} from "./assembler";
export {
  InvalidIgnorePattern,
  ManagementUnavailable,
  RecordingError,
  ReplayNoRecording,
  TracingRefused,
} from "./errors";
export {
  callLabel,
  DEFAULT_REPLAY_TIMEOUT_MS,
  DEFAULT_SETTLE_MS,
  replay,
  REPLAY_CALLER,
  type CallReport,
  type ReplayOptions,
  type ReplayReport,
} from "./replay";
export type { NatsReplayTarget } from "./nats-target";
export type { AmqpReplayTarget } from "./amqp-target";
export {
  diffOutcomes,
  handledKey,
  handledOutcome,
  noisyHandledPaths,
  noisyPaths,
  recordedOutcome,
  replyView,
  requestKey,
  type CallView,
  type EventView,
  type Outcome,
  type ReplyView,
} from "./compare";
export { diffValues, formatDifference, type Difference } from "./diff";
export { IgnoreRules, parseIgnorePattern, type IgnorePattern } from "./ignore";
export { escapeXml, formatReport, junitXml } from "./report";
export { TRACE_BINDINGS, TRACE_EXCHANGE } from "./amqp-source";
export {
  NAMEKO_PYTHON_ENV,
  namekoPython,
  NamekoOriginalFailed,
  startNamekoOriginal,
  type NamekoOriginal,
  type NamekoOriginalOptions,
} from "./nameko-original";
export { InvalidCallsFile, parseCallsFile, parseEventsFile, type CallSpec, type EventSpec } from "./calls-file";
export {
  recordCalls,
  recordOriginal,
  SIDE_BY_SIDE_DISPATCHER,
  type CallRecordingOptions,
  type LiveRecordingOptions,
  type StubMethod,
  type StubServices,
} from "./live-recording";
export { compareLive, type LiveCompareOptions } from "./compare-live";
export { credentialsOf, natsConnectOptions, type Credentials } from "./credentials";
