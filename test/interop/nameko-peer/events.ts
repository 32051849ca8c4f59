/**
 * Nameko 2.14 events on plain amqplib (docs/nameko-wire.md, Event dispatch, Event handler queues): a
 * dispatcher in standalone style (empty headers, exchange not declared) or in-service style (context headers,
 * exchange declared), and `@event_handler` queues of each handler type with Nameko's ack/requeue rules.
 */
import { randomUUID } from "node:crypto";
import type { ChannelModel, ConsumeMessage, MessageProperties } from "amqplib";
import {
  declareHandlerQueue,
  declareTopic,
  peerConnect,
  pyContext,
  pyContextHeaders,
  pyDumps,
  type PeerHandlerSpec,
} from "./wire";

export interface PeerDispatchOptions {
  /** In-service style: context headers (with this stack) and the exchange declared first. */
  service?: { data?: Record<string, unknown>; callIdStack: string[] };
  /** A raw body instead of the JSON of the payload. */
  rawBody?: string;
}

/** A pooled-publisher-style dispatcher: one connection, confirm channel, reused for every dispatch. */
export class PeerDispatcher {
  private constructor(private readonly conn: ChannelModel) {}

  static async start(uri: string): Promise<PeerDispatcher> {
    return new PeerDispatcher(await peerConnect(uri, 0));
  }

  /** `dispatch(source, event_type, payload)`; rejects (404) in standalone style if the exchange does not exist. */
  async dispatch(source: string, eventType: string, payload: unknown, opts: PeerDispatchOptions = {}): Promise<void> {
    const ch = await this.conn.createConfirmChannel(); // a 404 closes the channel, so one per dispatch
    ch.on("error", () => undefined);
    try {
      if (opts.service) await declareTopic(ch, `${source}.events`);
      const headers = opts.service ? pyContextHeaders(opts.service.data ?? {}, opts.service.callIdStack) : {};
      const body = opts.rawBody ?? pyDumps(payload);
      await new Promise<void>((resolve, reject) =>
        ch.publish(
          `${source}.events`,
          eventType,
          Buffer.from(body),
          { contentType: "application/json", contentEncoding: "utf-8", headers, deliveryMode: 2, priority: 0 },
          (err: unknown) => (err ? reject(err) : resolve()),
        ),
      );
      await ch.waitForConfirms();
    } finally {
      await ch.close().catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    await this.conn.close().catch(() => undefined);
  }
}

/** One event as a peer handler saw it. */
export interface PeerEvent {
  payload: unknown;
  body: string;
  exchange: string;
  routingKey: string;
  properties: MessageProperties;
  context: { data: Record<string, unknown>; parentStack: string[] };
  callIdStack: string[];
  redelivered: boolean;
}

export interface PeerHandlerOptions extends PeerHandlerSpec {
  uri: string;
  requeueOnError?: boolean;
  maxWorkers?: number;
  /** Throw to fail the handler. */
  handler?: (event: PeerEvent) => unknown;
}

export interface PeerHandler {
  queue: string;
  events: PeerEvent[];
  /** Bodies that were not decodable (acked and dropped; docs/nameko-wire.md, Event acknowledgement). */
  dropped: string[];
  /** Resolves once `n` events were handled (successfully or not). */
  waitFor(n: number, timeoutMs?: number): Promise<PeerEvent[]>;
  stop(): Promise<void>;
}

/** Declares and consumes a Nameko handler queue; acks after the handler, rejects with requeue on error if asked. */
export async function startPeerHandler(opts: PeerHandlerOptions): Promise<PeerHandler> {
  const conn = await peerConnect(opts.uri, 60);
  const ch = await conn.createChannel();
  ch.on("error", () => undefined);
  const queue = await declareHandlerQueue(ch, opts);
  await ch.prefetch(opts.maxWorkers ?? 10, false);
  const events: PeerEvent[] = [];
  const dropped: string[] = [];
  let notify = (): void => undefined;
  const onMessage = async (m: ConsumeMessage): Promise<void> => {
    const body = m.content.toString("utf8");
    let payload: unknown;
    try {
      if (m.properties.contentType !== "application/json") throw new Error("content type not accepted");
      payload = JSON.parse(body);
    } catch {
      dropped.push(body);
      ch.ack(m);
      notify();
      return;
    }
    const context = pyContext(m.properties.headers);
    const callId = `${opts.service}.${opts.method}.${randomUUID()}`;
    const event: PeerEvent = {
      payload,
      body,
      exchange: m.fields.exchange,
      routingKey: m.fields.routingKey,
      properties: m.properties,
      context,
      callIdStack: [...context.parentStack, callId].slice(-11),
      redelivered: m.fields.redelivered,
    };
    events.push(event);
    try {
      await opts.handler?.(event);
      ch.ack(m);
    } catch {
      if (opts.requeueOnError) ch.reject(m, true);
      else ch.ack(m);
    }
    notify();
  };
  const { consumerTag } = await ch.consume(queue, (m) => void (m && onMessage(m)), { noAck: false });
  return {
    queue,
    events,
    dropped,
    waitFor: (n, timeoutMs = 10000) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`peer handler ${queue}: ${events.length}/${n} events after ${timeoutMs} ms`)),
          timeoutMs,
        );
        const check = (): void => {
          if (events.length + dropped.length >= n) {
            clearTimeout(timer);
            resolve(events);
          }
        };
        const prev = notify;
        notify = () => {
          prev();
          check();
        };
        check();
      }),
    stop: async () => {
      await ch.cancel(consumerTag).catch(() => undefined);
      await conn.close().catch(() => undefined);
    },
  };
}
