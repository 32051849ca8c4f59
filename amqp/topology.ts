/**
 * Nameko's exchanges, queues and bindings, declared with exactly Nameko 2.14's flags
 * (docs/nameko-wire.md, Exchanges and queues, Event handler queues), so declaring them beside a running
 * Nameko never fails with 406 PRECONDITION_FAILED. Every flag is passed explicitly: amqplib's defaults
 * (`assertQueue` is durable unless told otherwise) are not Nameko's.
 */
import { randomUUID } from "node:crypto";
import type { Channel } from "amqplib";
import {
  ConfigurationError,
  RPC_EXCHANGE,
  eventQueueName,
  eventsExchangeName,
  replyQueueName,
  type HandlerType,
  rpcBindingKey,
  rpcQueueName,
} from "../compat";

/** Reply queues expire 5 minutes after last use (`x-expires`, ms), as Nameko's do. */
export const REPLY_QUEUE_EXPIRES_MS = 300_000;

/** An exchange as Nameko declares it (always topic, durable, not internal, no arguments). */
export interface ExchangeDeclaration {
  exchange: string;
  autoDelete: boolean;
}

/** A queue as Nameko declares it, with the key it is bound by. */
export interface QueueDeclaration {
  queue: string;
  durable: boolean;
  autoDelete: boolean;
  exclusive: boolean;
  arguments: Record<string, unknown>;
  /** The exchange it is bound to and the binding key. */
  exchange: string;
  bindingKey: string;
}

/** `nameko-rpc` (or the configured `rpc_exchange`). */
export function rpcExchange(name: string = RPC_EXCHANGE): ExchangeDeclaration {
  return { exchange: name, autoDelete: false };
}

/** `rpc-<service>`: durable, no arguments, bound with `<service>.*`. */
export function serviceQueue(service: string, exchange: string = RPC_EXCHANGE): QueueDeclaration {
  return {
    queue: rpcQueueName(service),
    durable: true,
    autoDelete: false,
    exclusive: false,
    arguments: {},
    exchange,
    bindingKey: rpcBindingKey(service),
  };
}

/** `rpc.reply-<owner>-<uuid>`: durable, not exclusive, `x-expires` 300000 as a signed 32-bit int, bound with the bare uuid. */
export function replyQueue(owner: string, uuid: string, exchange: string = RPC_EXCHANGE): QueueDeclaration {
  return {
    queue: replyQueueName(owner, uuid),
    durable: true,
    autoDelete: false,
    exclusive: false,
    arguments: { "x-expires": { "!": "int32", value: REPLY_QUEUE_EXPIRES_MS } },
    exchange,
    bindingKey: uuid,
  };
}

/** `<source>.events`; auto_delete only with Nameko's AUTO_DELETE_EVENT_EXCHANGES. */
export function eventsExchange(source: string, autoDelete = false): ExchangeDeclaration {
  return { exchange: eventsExchangeName(source), autoDelete };
}

/** What identifies one `@event_handler` (Nameko's arguments). */
export interface EventHandlerQueueOptions {
  source: string;
  eventType: string;
  handlerType: HandlerType;
  /** The handling service and method (ignored for SINGLETON queue names). */
  service: string;
  method: string;
  /** Default true, as Nameko. False -> auto_delete (and exclusive for BROADCAST). */
  reliableDelivery?: boolean;
  /** BROADCAST only; default a fresh uuid4 hex (32 digits), which requires reliableDelivery=false. */
  broadcastIdentifier?: string;
}

/** A handler's queue with Nameko's name and flags (docs/nameko-wire.md, Event handler queues). */
export function eventHandlerQueue(opts: EventHandlerQueueOptions): QueueDeclaration {
  const reliable = opts.reliableDelivery ?? true;
  let broadcastId: string | undefined;
  if (opts.handlerType === "broadcast") {
    if (reliable && opts.broadcastIdentifier === undefined) {
      // Nameko raises EventHandlerConfigurationError: a random identifier cannot be reliable.
      throw new ConfigurationError(
        "a BROADCAST handler with reliable delivery needs a custom broadcast identifier (or reliableDelivery: false)",
      );
    }
    broadcastId = opts.broadcastIdentifier ?? randomUUID().replace(/-/g, "");
  }
  const queue = eventQueueName({
    source: opts.source,
    eventType: opts.eventType,
    handlerType: opts.handlerType,
    service: opts.service,
    method: opts.method,
    broadcastId,
  });
  return {
    queue,
    durable: true, // even the exclusive broadcast queue is declared durable=1 (the broker stores it non-durable)
    autoDelete: !reliable,
    exclusive: opts.handlerType === "broadcast" && !reliable,
    arguments: {},
    exchange: eventsExchangeName(opts.source),
    bindingKey: opts.eventType,
  };
}

/** `exchange.declare` topic, durable, not internal, no arguments. */
export async function declareExchange(channel: Channel, decl: ExchangeDeclaration): Promise<void> {
  await channel.assertExchange(decl.exchange, "topic", {
    durable: true,
    autoDelete: decl.autoDelete,
    internal: false,
    arguments: {},
  });
}

/** `queue.declare` with every flag explicit, then `queue.bind`. */
export async function declareQueue(channel: Channel, decl: QueueDeclaration): Promise<void> {
  await channel.assertQueue(decl.queue, {
    durable: decl.durable,
    autoDelete: decl.autoDelete,
    exclusive: decl.exclusive,
    arguments: decl.arguments,
  });
  await channel.bindQueue(decl.queue, decl.exchange, decl.bindingKey, {});
}

/** Nameko's consumer set-up order: exchange, queue, binding (docs/nameko-wire.md, Connections and channels). */
export async function declareConsumerTopology(
  channel: Channel,
  exchange: ExchangeDeclaration,
  queue: QueueDeclaration,
): Promise<void> {
  await declareExchange(channel, exchange);
  await declareQueue(channel, queue);
}
