// The public API of cliffracer (docs/architecture.md, Entries): named exports only, so the whole
// surface reads in this one file.

// Defining services
export { rpc, type RpcOptions } from "./entrypoints/rpc";
export { RpcProxy, RpcProxyProvider, type RpcProxyOptions } from "./dependencies/rpc-proxy";
export { Context } from "./dependencies/context";
export { Config, type ConfigValues, type ConfigKeyOptions } from "./dependencies/config";
export { eventHandler, type EventHandlerOptions } from "./entrypoints/events";
export { HandlerType, type ErrorClass } from "../compat";
export { timer, type TimerOptions } from "./entrypoints/timer";
export { http, httpWith, type HttpOptions, type ResponseFromException } from "./entrypoints/http";
export type { ContextDataFromHeaders } from "./entrypoints/http-context";
export {
  HttpResponse,
  type HttpRequest,
  type HttpHeaders,
  type HttpResponseOptions,
  type HttpResult,
} from "./entrypoints/http-messages";
export { EventDispatcher, type Dispatch } from "./dependencies/event-dispatcher";
export { wsRpc, type WsRpcOptions } from "./entrypoints/websocket";
export { WebSocketHub, WebSocketHubProvider } from "./dependencies/websocket-hub";
export { decorate, type MemberDecorator } from "./core/decorate";

// Calling services
export {
  kwargs,
  KwArgs,
  type ServiceProxy,
  type ServiceProxyMethods,
  type TypedServiceProxyMethods,
  type TypedRemoteMethods,
  type RemoteMethod,
  type RemoteMethodName,
  type RemoteArgs,
  type RemoteResult,
  type RemoteKeywords,
  type ProxyCallOptions,
} from "./client/service-proxy";
export { RpcClient, type RpcCallOptions, type RpcClientOptions } from "./client/rpc-client";
export { ClusterRpcProxy, type ClusterRpcProxyOptions } from "./client/standalone";
export {
  observeResilience,
  type BulkheadOptions,
  type CircuitBreakerOptions,
  type CircuitState,
  type ResilienceEvent,
  type ResilienceListener,
  type ResilienceOptions,
  type ResilienceStats,
  type RetryOptions,
  type ServicePolicy,
} from "./client/resilience";
export { EventPublisher, EventNotStored } from "./client/event-publisher";
export {
  standaloneDispatcher,
  type StandaloneDispatcher,
  type StandaloneDispatcherOptions,
} from "./client/standalone-dispatcher";

// Running services
export { ServiceContainer, type ContainerOptions, type WorkerEvent } from "./core/service-container";
export { ServiceRunner, type RunnerOptions } from "./core/service-runner";
export { stopOnSignals, type Stoppable } from "./core/signals";
export {
  describeService,
  registerEntrypoint,
  registerDependency,
  type ServiceClass,
  type ServiceDescription,
} from "./core/metadata";

// Writing extensions (docs/extensions.md)
export type {
  ContainerHandle,
  DependencyProvider,
  Entrypoint,
  Extension,
  IncomingContext,
  ManagedTask,
  ResultHandler,
  SharedExtensionClass,
  WorkerContext,
  WorkerOutcome,
} from "./core/extension";
export { SharedExtension, ProviderCollector } from "./core/shared-extension";
export {
  contextHeaders,
  contextHeaderRecord,
  contextFromNatsHeaders,
  contextFromHeaderRecord,
  type OutgoingContext,
} from "./nats/headers";
export type { ServiceAnnouncer, AnnouncedService, InboundMessage, Intake } from "./nats/service-announcer";
// The nats.js types a ContainerHandle's connection hands out, so an extension needs no import of its own.
export type { Msg, MsgHdrs, NatsConnection, Subscription } from "@nats-io/transport-node";

// Configuration and logging
export {
  loadConfig,
  configFromObject,
  parseConfigText,
  substituteEnv,
  type LoadConfigOptions,
} from "./config/load-config";
export {
  defaultConfig,
  type RuntimeConfig,
  type EventsConfig,
  type NatsConfig,
  type NatsTlsConfig,
} from "./config/defaults";
export { rootLogger, createLogger, maskSecrets, type Logger, type LoggerOptions } from "./logging";
export { connectNats } from "./nats/connection";

// Errors: Nameko's (from compat) and the runtime's
export {
  AttributeError,
  BadRequest,
  BulkheadFull,
  CallOutcomeUnknown,
  CircuitOpen,
  ConfigurationError,
  ConnectionFailed,
  ConnectionNotFound,
  deserializeError,
  Exception,
  IncorrectSignature,
  IndexError,
  InvalidName,
  KeyError,
  LookupError,
  MalformedReply,
  MalformedRequest,
  MethodNotFound,
  NamekoError,
  namekoError,
  NotImplementedError,
  PayloadTooLarge,
  PermissionError,
  registerError,
  RemoteError,
  RpcTimeout,
  RuntimeError,
  serializeError,
  UnknownService,
  UnserializableValueError,
  ValidationFailed,
  ValueError,
  type SerializedError,
} from "../compat";
export { CommandError, ContainerBeingKilled, ServiceDefinitionError } from "./errors";
export type { ContextData } from "../compat";
