import { EventPublisher } from "../client/event-publisher";
import type { ContainerHandle, DependencyProvider, WorkerContext } from "../core/extension";
import { registerDependency } from "../core/metadata";
import { ensureEventsStream, eventsSettings } from "../nats/jetstream";
import { SpanKind } from "@opentelemetry/api";
import { contextHeaders, withContextEntries } from "../nats/headers";
import { eventProducerSpan } from "../tracing/attributes";
import { traceOutgoing, tracingOn } from "../tracing/tracing";

/**
 * What `@EventDispatcher()` injects: publish `payload` as event `eventType` of this service.
 * Resolves once the event is stored; rejects for an invalid event type or a failed publish.
 */
export type Dispatch = (eventType: string, payload?: unknown) => Promise<void>;

/** Provides each worker a Dispatch that carries the worker's context (docs/nameko-wire.md, Event dispatch). */
export class EventDispatcherProvider implements DependencyProvider {
  private publisher?: EventPublisher;
  private serviceName = "";

  constructor(readonly attrName: string) {}

  async setup(container: ContainerHandle): Promise<void> {
    this.serviceName = container.serviceName;
    this.publisher = new EventPublisher(container.nats, container.config.prefix);
    // Nameko declares the events exchange when the dispatcher is set up; the stream is our exchange.
    await ensureEventsStream(container.nats, eventsSettings(container.config.prefix, container.config.events), {
      update: true,
      log: container.log,
    });
  }

  getDependency(worker: WorkerContext): Dispatch {
    const publisher = this.publisher;
    if (!publisher) throw new Error(`@EventDispatcher ${this.attrName} used before setup`);
    const source = this.serviceName;
    return async (eventType: string, payload?: unknown): Promise<void> => {
      // The stack ends with this worker's call id, so the handler's stack continues it
      // (docs/nameko-wire.md, Call id stack).
      const headers = contextHeaders(worker);
      if (!tracingOn()) {
        await publisher.publish(source, eventType, payload, headers);
        return;
      }
      const { name, attributes } = eventProducerSpan(source, eventType);
      await traceOutgoing(name, SpanKind.PRODUCER, attributes, (carrier) =>
        publisher.publish(source, eventType, payload, withContextEntries(headers, carrier)),
      );
    };
  }
}

/** Inject a Dispatch that publishes events of this service (Nameko's EventDispatcher). */
export function EventDispatcher(): PropertyDecorator {
  return (target, propertyKey) => {
    const attrName = String(propertyKey);
    registerDependency(target, () => new EventDispatcherProvider(attrName));
  };
}
