/**
 * What each span says (docs/tracing.md, Spans): names as opentelemetry-instrumentation-nameko gives
 * them, so a trace reads alike on both sides, and attributes from OpenTelemetry's messaging and RPC
 * semantic conventions. Built once per entrypoint or proxy where they do not change per call.
 */
import { SpanKind, type Attributes } from "@opentelemetry/api";
import type { EntrypointSpan } from "./tracing";

const NAMEKO = "nameko";
const NATS = "nats";

/** The span of an `@rpc` worker. */
export function rpcServerSpan(service: string, method: string, subject: string): EntrypointSpan {
  return {
    kind: SpanKind.SERVER,
    attributes: {
      "rpc.system": NAMEKO,
      "rpc.service": service,
      "rpc.method": method,
      "messaging.system": NATS,
      "messaging.operation.type": "process",
      "messaging.destination.name": subject,
    },
  };
}

/** The span of an `@eventHandler` worker. */
export function eventConsumerSpan(
  source: string,
  eventType: string,
  subject: string,
  consumerGroup: string,
  handlerType: string,
): EntrypointSpan {
  return {
    kind: SpanKind.CONSUMER,
    attributes: {
      "messaging.system": NATS,
      "messaging.operation.type": "process",
      "messaging.destination.name": subject,
      "messaging.consumer.group.name": consumerGroup,
      "nameko.events.source": source,
      "nameko.events.event_type": eventType,
      "nameko.events.handler_type": handlerType,
    },
  };
}

/** The span of a `@timer` worker: no message started it. */
export function timerSpan(intervalSeconds: number): EntrypointSpan {
  return { kind: SpanKind.INTERNAL, attributes: { "nameko.timer.interval": intervalSeconds } };
}

/** The span of an `@http` worker. */
export function httpServerSpan(methods: readonly string[], route: string): EntrypointSpan {
  return { kind: SpanKind.SERVER, attributes: { "http.route": route, "nameko.http.methods": methods.join(",") } };
}

/** The span of a `@wsRpc` worker: a call in a frame of a WebSocket. */
export function wsRpcServerSpan(service: string, method: string): EntrypointSpan {
  return {
    kind: SpanKind.SERVER,
    attributes: {
      "rpc.system": NAMEKO,
      "rpc.service": service,
      "rpc.method": method,
      "network.protocol.name": "websocket",
    },
  };
}

/** The name of a worker's span, `service.method`. */
export function workerSpanName(service: string, method: string): string {
  return `${service}.${method}`;
}

/** Name and attributes of an outgoing call's CLIENT span. */
export function rpcClientSpan(service: string, method: string): { name: string; attributes: Attributes } {
  return {
    name: `RPC to ${service}.${method}`,
    attributes: {
      "rpc.system": NAMEKO,
      "rpc.service": service,
      "rpc.method": method,
      "messaging.system": NATS,
      "messaging.operation.type": "send",
    },
  };
}

/** Name and attributes of a dispatched event's PRODUCER span. */
export function eventProducerSpan(source: string, eventType: string): { name: string; attributes: Attributes } {
  return {
    name: `Dispatch event ${source}.${eventType}`,
    attributes: {
      "messaging.system": NATS,
      "messaging.operation.type": "send",
      "nameko.events.source": source,
      "nameko.events.event_type": eventType,
    },
  };
}
