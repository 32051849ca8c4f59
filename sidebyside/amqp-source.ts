/**
 * Recording from RabbitMQ without touching its routing (docs/cassettes.md, Recording from
 * RabbitMQ): the vhost's firehose tracer copies every publish to `amq.rabbitmq.trace` as
 * `publish.<exchange>`; a private queue bound there for `nameko-rpc` and the `<source>.events`
 * exchanges sees requests, replies and events, while no binding is added to `nameko-rpc` itself,
 * so a request nobody serves is still returned to its caller (docs/nameko-wire.md, UnknownService).
 * Deliveries, `deliver.<queue>`, show which event handler queues got an event; only those to
 * `evt-` queues are kept.
 */
import type { Credentials } from "./credentials";
import { performance } from "node:perf_hooks";
import type { ConsumeMessage } from "amqplib";
import {
  AmqpConnection,
  decodeAmqpHeaders,
  defaultManagementUrl,
  ManagementApi,
  ManagementApiError,
  vhostOf,
  type ManagementVhost,
} from "../amqp";
import { describeError, maskUrlCredentials, RPC_EXCHANGE, type Logger } from "../compat";
import type { Observation } from "./assembler";
import { ManagementUnavailable, TracingRefused } from "./errors";

/** RabbitMQ's firehose exchange, one per vhost. */
export const TRACE_EXCHANGE = "amq.rabbitmq.trace";
/**
 * The trace routing keys recorded: RPC requests and replies, events of every source, and deliveries
 * (a handler queue's name has dots, which a topic pattern cannot match by prefix, so every delivery
 * is traced here and all but event handler queues' are dropped).
 */
export const TRACE_BINDINGS = [`publish.${RPC_EXCHANGE}`, "publish.*.events", "deliver.#"] as const;

/** The publishes alone: requests, replies and events, for a reader that needs no handled events (shadow traffic). */
export const TRACE_PUBLISH_BINDINGS = TRACE_BINDINGS.filter((key) => key.startsWith("publish."));

const DELIVER = "deliver.";

/** Options of {@link startAmqpTrace}. */
export interface AmqpTraceOptions {
  amqpUri: string;
  /** TLS (Nameko's AMQP_SSL) for the connection. */
  credentials?: Credentials;
  /** Default: `http://<AMQP host>:15672` with the AMQP credentials. */
  managementUrl?: string;
  log: Logger;
  /** Trace routing keys bound; default {@link TRACE_BINDINGS}. */
  bindings?: readonly string[];
  /**
   * Bound on the private queue's length: beyond it RabbitMQ drops the oldest trace messages, so a
   * reader that falls behind never fills the broker's memory (and never blocks its publishers).
   * Default: unbounded, as a recording must not lose messages.
   */
  maxLength?: number;
  onObservation(o: Observation): void;
  onSkipped(what: string, error: string): void;
}

/** A running recording source. */
export interface TraceSource {
  /** Stops listening and undoes what starting did. */
  stop(): Promise<void>;
}

/** A running firehose trace; `stop()` switches tracing off again unless it was on before. */
export interface AmqpTraceSource extends TraceSource {
  /** Whether tracing was already on when the recording started (then it is left on). */
  readonly tracingWasOn: boolean;
}

/** The vhost's management record, or a {@link ManagementUnavailable} that says what to enable. */
async function readVhost(api: ManagementApi, url: string, vhost: string): Promise<ManagementVhost> {
  try {
    return await api.vhost(vhost);
  } catch (err) {
    if (err instanceof ManagementApiError && err.status === undefined)
      throw new ManagementUnavailable(
        `RabbitMQ's management API does not answer at ${maskUrlCredentials(url)}: enable the rabbitmq_management ` +
          `plugin (rabbitmq-plugins enable rabbitmq_management) or give its address with --management-url (${err.message})`,
      );
    if (err instanceof ManagementApiError && (err.status === 401 || err.status === 403))
      throw new ManagementUnavailable(
        `RabbitMQ's management API refused the credentials (HTTP ${err.status}): give a user with the ` +
          `management or administrator tag in --management-url`,
      );
    if (err instanceof ManagementApiError && err.status === 404)
      throw new ManagementUnavailable(`RabbitMQ has no vhost ${JSON.stringify(vhost)}`);
    throw new ManagementUnavailable(`RabbitMQ's management API failed: ${describeError(err)}`);
  }
}

async function setTracing(api: ManagementApi, vhost: ManagementVhost, on: boolean): Promise<void> {
  try {
    await api.setTracing(vhost, on);
  } catch (err) {
    if (!(err instanceof ManagementApiError)) throw err;
    throw new TracingRefused(
      `could not switch ${on ? "on" : "off"} the firehose tracer of vhost ${JSON.stringify(vhost.name)}: ` +
        `the management user needs the administrator tag (rabbitmqctl set_user_tags <user> administrator), ` +
        `or run rabbitmqctl trace_${on ? "on" : "off"} -p ${vhost.name} yourself (${describeError(err)})`,
    );
  }
}

/** The observation a firehose message stands for, or undefined for one of no interest. */
export function observationOfTrace(m: ConsumeMessage, at: number): Observation | undefined {
  const h = (m.properties.headers ?? {}) as Record<string, unknown>;
  const exchange = typeof h.exchange_name === "string" ? h.exchange_name : "";
  const keys = Array.isArray(h.routing_keys) ? h.routing_keys : [];
  const routingKey = typeof keys[0] === "string" ? keys[0] : "";
  const props = (h.properties ?? {}) as Record<string, unknown>;
  const correlationId = typeof props.correlation_id === "string" ? props.correlation_id : "";
  if (m.fields.routingKey.startsWith(DELIVER)) {
    const queue = m.fields.routingKey.slice(DELIVER.length);
    if (!queue.startsWith("evt-") || !exchange.endsWith(".events")) return undefined;
    return {
      kind: "delivery",
      at,
      queue,
      source: exchange.slice(0, -".events".length),
      type: routingKey,
      body: m.content,
      headers: decodeAmqpHeaders(props.headers as Record<string, unknown> | undefined),
      redelivered: h.redelivered === true || h.redelivered === 1,
    };
  }
  const headers = decodeAmqpHeaders(props.headers as Record<string, unknown> | undefined);
  if (exchange === RPC_EXCHANGE) {
    const dot = routingKey.indexOf(".");
    // A reply is routed by the caller's reply_to, a UUID without dots (docs/nameko-wire.md, RPC client).
    if (dot < 0) return { kind: "reply", at, replyKey: `${routingKey}/${correlationId}`, body: m.content };
    const replyTo = typeof props.reply_to === "string" ? props.reply_to : undefined;
    return {
      kind: "request",
      at,
      service: routingKey.slice(0, dot),
      method: routingKey.slice(dot + 1),
      body: m.content,
      headers,
      replyKey: replyTo === undefined ? undefined : `${replyTo}/${correlationId}`,
    };
  }
  if (exchange.endsWith(".events") && exchange.length > ".events".length)
    return {
      kind: "event",
      at,
      source: exchange.slice(0, -".events".length),
      type: routingKey,
      body: m.content,
      headers,
    };
  return undefined;
}

/**
 * Switches on the firehose of the URI's vhost (unless it is on), binds a private exclusive queue to
 * {@link TRACE_EXCHANGE} and feeds what it sees to `onObservation`. Throws
 * {@link ManagementUnavailable} or {@link TracingRefused} with what to enable; whatever it switched
 * on is switched off again when it fails.
 */
export async function startAmqpTrace(options: AmqpTraceOptions): Promise<AmqpTraceSource> {
  const url = options.managementUrl ?? defaultManagementUrl(options.amqpUri);
  const api = new ManagementApi(url);
  const vhost = await readVhost(api, url, vhostOf(options.amqpUri));
  const tracingWasOn = vhost.tracing;
  if (!tracingWasOn) await setTracing(api, vhost, true);
  const restore = async (): Promise<void> => {
    if (!tracingWasOn) await setTracing(api, vhost, false);
  };
  const conn = new AmqpConnection({
    uri: options.amqpUri,
    ssl: options.credentials?.amqpSsl,
    logger: options.log,
    connectionName: "cliffracer-record",
    reconnect: { initialMaxRetries: 2 },
  });
  try {
    await conn.start();
    await conn.addConsumer({
      name: "firehose",
      setup: async ({ channel }) => {
        const bounded =
          options.maxLength === undefined
            ? {}
            : { arguments: { "x-max-length": options.maxLength, "x-overflow": "drop-head" } };
        const { queue } = await channel.assertQueue("", {
          exclusive: true,
          autoDelete: true,
          durable: false,
          ...bounded,
        });
        for (const key of options.bindings ?? TRACE_BINDINGS) await channel.bindQueue(queue, TRACE_EXCHANGE, key);
        await channel.consume(
          queue,
          (m) => {
            if (!m) return;
            let o: Observation | undefined;
            try {
              o = observationOfTrace(m, performance.now());
            } catch (err) {
              options.onSkipped(`trace of ${m.fields.routingKey}`, describeError(err));
              return;
            }
            if (o) options.onObservation(o);
          },
          { noAck: true },
        );
      },
    });
  } catch (err) {
    await conn.close();
    await restore().catch((e: unknown) => options.log.error("tracing left on", { error: describeError(e) }));
    throw err;
  }
  options.log.info("recording from RabbitMQ", { vhost: vhost.name, tracingWasOn });
  return {
    tracingWasOn,
    stop: async () => {
      await conn.close();
      await restore();
    },
  };
}
