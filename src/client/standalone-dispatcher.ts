import type { NatsConnection } from "@nats-io/transport-node";
import { SpanKind } from "@opentelemetry/api";
import { defaultConfig, type EventsConfig, type NatsConfig } from "../config/defaults";
import { rootLogger } from "../logging";
import { connectNats, drainNats } from "../nats/connection";
import { ensureEventsStream, eventsSettings } from "../nats/jetstream";
import { withContextEntries } from "../nats/headers";
import { eventProducerSpan } from "../tracing/attributes";
import { traceOutgoing, tracingOn } from "../tracing/tracing";
import { EventPublisher } from "./event-publisher";
import type { Logger } from "../../compat";

/** Options of standaloneDispatcher; anything left out comes from the defaults (and NATS_URL). */
export interface StandaloneDispatcherOptions {
  natsUrl?: string;
  prefix?: string;
  /** Use this connection instead of opening one; it is left open by close(). */
  nats?: NatsConnection;
  natsOptions?: Partial<NatsConfig>;
  events?: Partial<EventsConfig>;
  /** Where connection status and stream creation are logged; default the root logger. */
  log?: Logger;
}

/** Publishes events as any source service, from scripts and tests; close() when done. */
export interface StandaloneDispatcher {
  (sourceService: string, eventType: string, payload?: unknown): Promise<void>;
  /** The publisher underneath, for callers that need the PubAck. */
  readonly publisher: EventPublisher;
  close(): Promise<void>;
}

/**
 * Nameko's standalone `event_dispatcher(config)`: the caller names the source service, and the
 * event carries no context headers (docs/nameko-wire.md, Standalone clients) but, with an
 * OpenTelemetry SDK registered, the trace context (docs/tracing.md, Spans). The events stream is created if it
 * is missing, never reconfigured, so a script cannot undo a service's stream settings.
 */
export async function standaloneDispatcher(options: StandaloneDispatcherOptions = {}): Promise<StandaloneDispatcher> {
  const defaults = defaultConfig();
  const prefix = options.prefix ?? defaults.prefix;
  const natsUrl = options.natsUrl ?? process.env.NATS_URL ?? defaults.natsUrl;
  const log = options.log ?? rootLogger;
  const nc =
    options.nats ??
    (await connectNats(
      { natsUrl, nats: { ...defaults.nats, ...options.natsOptions } },
      { name: "standalone_event_dispatcher", log },
    ));
  const owned = options.nats === undefined;
  try {
    await ensureEventsStream(nc, eventsSettings(prefix, { ...defaults.events, ...options.events }), {
      update: false,
      log,
    });
  } catch (err) {
    if (owned) await nc.close();
    throw err;
  }
  const publisher = new EventPublisher(nc, prefix);
  const dispatch = async (sourceService: string, eventType: string, payload?: unknown): Promise<void> => {
    if (!tracingOn()) {
      await publisher.publish(sourceService, eventType, payload);
      return;
    }
    // Only the trace context, as the Nameko instrumentation adds to its standalone dispatcher's headers.
    const { name, attributes } = eventProducerSpan(sourceService, eventType);
    await traceOutgoing(name, SpanKind.PRODUCER, attributes, (carrier) =>
      publisher.publish(sourceService, eventType, payload, withContextEntries(undefined, carrier)),
    );
  };
  return Object.assign(dispatch, {
    publisher,
    close: async (): Promise<void> => {
      if (owned) await drainNats(nc);
    },
  });
}
