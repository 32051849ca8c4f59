/**
 * Replaying to a port on RabbitMQ in a vhost of its own (docs/cassettes.md, Replaying to RabbitMQ):
 * calls go to `nameko-rpc` with the routing key `<service>.<method>`; a private queue bound to
 * `nameko-rpc` with `*.*` answers the port's calls to every other service (the port's own requests
 * reach it too and are left alone), and a private queue bound with `#` to the events exchange of
 * each source the recording or the replayed services name shows its events
 * (docs/nameko-wire.md, Exchanges and queues). The bindings are why the vhost must be private: in
 * a shared one, real services would get the port's calls as well. Handled events are dispatched as
 * a Nameko service dispatches, and each recorded handler's queue is watched until it is empty
 * (docs/cassettes.md, Replaying handled events).
 */
import type { Credentials } from "./credentials";
import type { ConsumeMessage } from "amqplib";
import {
  AmqpConnection,
  AmqpEventDispatcher,
  AmqpRpcClient,
  contextFromAmqpHeaders,
  declareExchange,
  eventsExchange,
  rpcExchange,
  vhostOf,
} from "../amqp";
import {
  contextToHeaders,
  describeError,
  encodeRequest,
  eventQueueName,
  eventsExchangeName,
  RPC_EXCHANGE,
  type ContextData,
  type Logger,
} from "../compat";
import { answerRequest, eventPayload, type PortHandler, type ReplayConnection, type ReplayHooks } from "./responders";

/**
 * A recorded handler's queue on the port's side, as Nameko names a service pool handler's: null
 * (the handler counts as missing) when it does not exist; `acked` once no message waits in it.
 * RabbitMQ shows no acknowledgement to another client, so an event taken by the handler counts as
 * handled, and the settle wait covers the rest.
 */
async function queueHandler(
  conn: AmqpConnection,
  queue: string,
  service: string,
  method: string,
): Promise<PortHandler | null> {
  try {
    const { messageCount } = await conn.withChannel((ch) => ch.checkQueue(queue));
    return { service, method, acked: messageCount === 0 };
  } catch {
    return null;
  }
}

/** Where the port runs on RabbitMQ. */
export interface AmqpReplayTarget {
  side: "amqp";
  /** The URI of the port's private vhost (not `/`). */
  amqpUri: string;
  /** TLS (Nameko's AMQP_SSL) for the connection. */
  credentials?: Credentials;
}

/** The context of a message; empty, and logged, when its headers cannot be read. */
function contextOf(m: ConsumeMessage, log: Logger): { data: ContextData; parentStack: string[] } {
  try {
    return contextFromAmqpHeaders(m.properties.headers as Record<string, unknown> | undefined);
  } catch (err) {
    log.warn("replay: unreadable headers", { routingKey: m.fields.routingKey, error: describeError(err) });
    return { data: {}, parentStack: [] };
  }
}

/** Connects, binds the stubs' and the event observer's private queues, and returns the sender. */
export async function connectAmqpTarget(
  target: AmqpReplayTarget,
  hooks: ReplayHooks,
  eventSources: ReadonlySet<string>,
  log: Logger,
): Promise<ReplayConnection> {
  if (vhostOf(target.amqpUri) === "/")
    throw new Error(
      "a replay on RabbitMQ needs a vhost of the port's own in --amqp-uri (not /): its stubs bind to nameko-rpc",
    );
  const conn = new AmqpConnection({
    uri: target.amqpUri,
    ssl: target.credentials?.amqpSsl,
    logger: log,
    connectionName: "cliffracer-replay",
    reconnect: { initialMaxRetries: 2 },
  });
  await conn.start();
  try {
    await conn.addConsumer({
      name: "replay-stubs",
      setup: async ({ channel }) => {
        await declareExchange(channel, rpcExchange());
        const { queue } = await channel.assertQueue("", { exclusive: true, autoDelete: true, durable: false });
        await channel.bindQueue(queue, RPC_EXCHANGE, "*.*");
        await channel.consume(
          queue,
          (m) => {
            if (!m) return;
            const key = m.fields.routingKey;
            const service = key.slice(0, key.indexOf("."));
            if (hooks.targets.has(service)) return;
            const body = answerRequest(hooks, service, key.slice(service.length + 1), m.content, contextOf(m, log));
            const replyTo: unknown = m.properties.replyTo;
            if (typeof replyTo !== "string" || replyTo === "") return;
            const correlationId: unknown = m.properties.correlationId;
            conn
              .publish(RPC_EXCHANGE, replyTo, Buffer.from(body, "utf8"), {
                contentType: "application/json",
                contentEncoding: "utf-8",
                headers: {},
                deliveryMode: 2,
                priority: 0,
                ...(typeof correlationId === "string" ? { correlationId } : {}),
              })
              .catch((err: unknown) => log.warn("replay: a stub reply failed", { key, error: describeError(err) }));
          },
          { noAck: true },
        );
      },
    });
    await conn.addConsumer({
      name: "replay-events",
      setup: async ({ channel }) => {
        const { queue } = await channel.assertQueue("", { exclusive: true, autoDelete: true, durable: false });
        for (const source of eventSources) {
          await declareExchange(channel, eventsExchange(source));
          await channel.bindQueue(queue, eventsExchangeName(source), "#");
        }
        await channel.consume(
          queue,
          (m) => {
            if (!m) return;
            const { data, parentStack } = contextOf(m, log);
            const source = m.fields.exchange.slice(0, -".events".length);
            const type = m.fields.routingKey;
            hooks.onEvent({
              what: { source, type, payload: eventPayload(m.content, `${source}.${type}`, log) },
              context: data,
              callIdStack: parentStack,
            });
          },
          { noAck: true },
        );
      },
    });
  } catch (err) {
    await conn.close();
    throw err;
  }
  const client = new AmqpRpcClient({ connection: conn, logger: log });
  try {
    await client.start();
  } catch (err) {
    await conn.close();
    throw err;
  }
  const dispatcher = new AmqpEventDispatcher({ connection: conn });
  return {
    dispatch: async (recorded, parentId) => {
      const event = recorded[0];
      if (event === undefined) throw new Error("nothing to dispatch");
      await dispatcher.dispatch(event.source, event.type, event.payload, {
        contextData: event.context,
        callIdStack: [parentId],
      });
      return {
        handlers: async () => {
          const found = await Promise.all(
            recorded.map((h) =>
              h.handler === null
                ? null
                : queueHandler(
                    conn,
                    eventQueueName({
                      source: h.source,
                      eventType: h.type,
                      handlerType: "service_pool",
                      service: h.service,
                      method: h.handler,
                    }),
                    h.service,
                    h.handler,
                  ),
            ),
          );
          return found.filter((h): h is PortHandler => h !== null);
        },
      };
    },
    send: async (call, parentId, timeoutMs) =>
      (
        await client.request(call.service, call.method, encodeRequest(call.args, call.kwargs), {
          headers: contextToHeaders(call.context, [parentId]),
          timeoutMs,
        })
      ).body,
    // Messages from the port's several channels have no order between them: the settle wait covers them.
    flush: () => Promise.resolve(),
    stop: async () => {
      await client.stop().catch(() => undefined);
      await conn.close();
    },
  };
}
