// compat's public surface: what Nameko means, with no transport attached.
// Nameko's error classes, its error object and the registry of exc_paths: all of errors.ts.
export * from "./errors";
export {
  asciiBytes,
  decodeJson,
  decodeReply,
  decodeRequest,
  encodeErrorReply,
  encodeJson,
  encodeReply,
  encodeReplyBytes,
  encodeRequest,
  encodeRequestBytes,
  isPlainRequestEnvelope,
  JsonDecodeError,
  requestArgs,
  requestEnvelope,
  requestKwargs,
} from "./codec";
export type { RpcReply, RpcRequest } from "./codec";
export { encodeJsonAt } from "./json";
export { bindArguments, bindDto, dtoClassOf, isFunction, signatureOf } from "./binding";
export type { AnyFunction, DtoClass, MethodSignature, ParamSpec, SignatureOverride } from "./binding";
export {
  CALL_ID_STACK_KEY,
  contextFromHeaders,
  contextToHeaders,
  decodeHeaderValue,
  DEFAULT_PARENT_CALLS_TRACKED,
  encodeHeaderValue,
  extendCallIdStack,
  HEADER_PREFIX,
  newCallId,
} from "./context";
export type { ContextData } from "./context";
export {
  durableConsumerName,
  eventQueueName,
  handlerOfEventQueue,
  eventsExchangeName,
  eventsStreamName,
  eventsSubjectFilter,
  eventSubject,
  HandlerType,
  largeBodiesBucketName,
  methodOfSubject,
  replyQueueName,
  RPC_EXCHANGE,
  rpcBindingKey,
  rpcQueueGroup,
  rpcQueueName,
  rpcServiceSubjects,
  rpcSubject,
  validateName,
  validatePrefix,
} from "./naming";
export type { EventQueueSpec, NameKind } from "./naming";
export { MAX_NESTING, pyRepr, pyStr } from "./python";
export { InFlight } from "./in-flight";
export { errorLogFields, maskUrlCredentials } from "./logging";
export { ConnectionFailed, tlsFailureReason } from "./connection-failure";
export type { Logger } from "./logging";
export { batchWrites, writesBatched } from "./batch-writes";
export type { BatchRelease, CorkableStream } from "./batch-writes";
export {
  addMaskOption,
  CASSETTE_FORMAT,
  CASSETTE_VERSION,
  cassetteLine,
  InvalidCassetteLine,
  InvalidMaskSpec,
  MASK,
  maskCall,
  maskEvent,
  parseCassette,
} from "./cassette";
export type {
  CassetteEntry,
  CassetteHeader,
  CassetteProblem,
  CassetteSide,
  HandledEvent,
  MaskSpec,
  ParsedCassette,
  RecordedCall,
  RecordedEvent,
  RecordedReply,
} from "./cassette";
