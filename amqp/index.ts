/** Nameko's AMQP protocol on amqplib: connection, topology, RPC client/server, events, typed headers. */
export {
  AmqpConnection,
  type AmqpConnectionOptions,
  type AmqpSocketAdaptations,
  type ReconnectOptions,
  type PublishOutcome,
  type ConsumerChannel,
  type ConsumerSpec,
  type ConsumerHandle,
} from "./connection";
export {
  REPLY_QUEUE_EXPIRES_MS,
  rpcExchange,
  serviceQueue,
  replyQueue,
  eventsExchange,
  eventHandlerQueue,
  declareExchange,
  declareQueue,
  declareConsumerTopology,
  type ExchangeDeclaration,
  type QueueDeclaration,
  type EventHandlerQueueOptions,
} from "./topology";
export {
  encodeAmqpHeaders,
  decodeAmqpHeaders,
  amqpHeadersFromContext,
  contextFromAmqpHeaders,
  InvalidHeader,
  MAX_HEADER_DEPTH,
  MAX_HEADER_TABLE_BYTES,
  type AmqpFieldValue,
} from "./headers";
export {
  AmqpRpcClient,
  STANDALONE_OWNER,
  type AmqpRpcClientOptions,
  type RawRequestOptions,
  type RawReply,
  type CallOptions,
} from "./rpc-client";
export {
  AmqpRpcServer,
  type AmqpRpcServerOptions,
  type IncomingRpcRequest,
  type RpcRequestHandler,
} from "./rpc-server";
export {
  AmqpEventDispatcher,
  AmqpEventConsumer,
  type AmqpEventDispatcherOptions,
  type DispatchOptions,
  type IncomingEvent,
  type AmqpEventHandlerOptions,
} from "./events";
export { QueueConsumer, type QueueConsumerOptions } from "./queue-consumer";
export { silentLogger } from "./logger";
export { amqpSslFromConfig, type AmqpSsl } from "./tls";
export { ConnectionFailed } from "../compat";
export type { HandlerType, Logger } from "../compat";
export { decodePyAmqpLongTags, MAX_DECODED_DEPTH } from "./py-amqp-long";
export { batchAmqpWrites } from "./write-batching";
export {
  ManagementApi,
  ManagementApiError,
  vhostOf,
  defaultManagementUrl,
  type ManagementTarget,
  type ManagementVhost,
} from "./management";
