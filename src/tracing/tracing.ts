/**
 * OpenTelemetry spans for workers, outgoing calls and dispatched events (docs/tracing.md). The
 * trace context travels in context data as `traceparent`/`tracestate`, so on the wire as
 * `nameko.traceparent`/`nameko.tracestate`, as opentelemetry-instrumentation-nameko sends and reads
 * it (docs/tracing.md, Interoperating with Nameko). Only `@opentelemetry/api` is used: without a
 * registered SDK nothing here runs past {@link tracingOn}, and context data passes through unchanged.
 */
import {
  context,
  propagation,
  ProxyTracerProvider,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
  type TextMapGetter,
} from "@opentelemetry/api";
import { describeError } from "../../compat";

/** The instrumentation scope of every span Cliffracer starts. */
export const TRACER_NAME = "cliffracer";

/** The provider the API answers with while no SDK is registered (a fresh proxy has no delegate). */
const NOOP_PROVIDER = new ProxyTracerProvider().getDelegate();

/**
 * True when an SDK's tracer provider is registered. Checked per worker and per outgoing call
 * before anything is allocated: with the API alone, a span would be a non-recording no-op, and
 * the context data the caller sent already carries its trace context on.
 */
export function tracingOn(): boolean {
  const provider = trace.getTracerProvider();
  return !(provider instanceof ProxyTracerProvider) || provider.getDelegate() !== NOOP_PROVIDER;
}

/** The trace context of an outgoing span by context data key; `undefined` for a field to remove. */
export type TraceCarrier = Readonly<Record<string, string | undefined>>;

/** How a worker's span describes its entrypoint: kind and attributes, fixed per entrypoint. */
export interface EntrypointSpan {
  readonly kind: SpanKind;
  readonly attributes: Attributes;
}

/** Reads only text values: context data may hold any JSON value under a propagator's key. */
const carrierGetter: TextMapGetter<Readonly<Record<string, unknown>>> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => {
    const value = carrier[key];
    return typeof value === "string" ? value : undefined;
  },
};

/**
 * The span of one worker, child of the trace context its caller sent in `carrier` (context data,
 * or HTTP headers). A missing or malformed `traceparent` is ignored: the worker starts a new trace.
 * The base is the root context, never the active one, so a context leaked into a transport's
 * callback cannot adopt the worker.
 */
export class WorkerSpan {
  private constructor(
    readonly span: Span,
    readonly context: Context,
  ) {}

  static start(
    name: string,
    describe: EntrypointSpan | undefined,
    carrier: Readonly<Record<string, unknown>>,
  ): WorkerSpan {
    const parent = propagation.extract(ROOT_CONTEXT, carrier, carrierGetter);
    const span = trace
      .getTracer(TRACER_NAME)
      .startSpan(name, { kind: describe?.kind ?? SpanKind.INTERNAL, attributes: describe?.attributes }, parent);
    return new WorkerSpan(span, trace.setSpan(parent, span));
  }

  /** Run `fn` with this span active, so spans started inside it (outgoing calls, the user's) are its children. */
  run<T>(fn: () => T): T {
    return context.with(this.context, fn);
  }

  /** End, with the worker's error if it failed: an unexpected one sets the status to ERROR, an expected one is recorded only. */
  end(failure?: { error: unknown; expected: boolean }): void {
    if (failure) failed(this.span, failure.error, failure.expected);
    this.span.end();
  }
}

/**
 * Run `send` inside a new span of `kind` (CLIENT for a call, PRODUCER for an event), child of the
 * active span. `send` gets the trace context to inject into the outgoing context data, as text
 * entries (`traceparent`, `tracestate`). The span ends when the returned promise settles.
 */
export function traceOutgoing<T>(
  name: string,
  kind: SpanKind,
  attributes: Attributes,
  send: (carrier: TraceCarrier) => Promise<T>,
): Promise<T> {
  const { span, carrier } = startOutgoing(name, kind, attributes);
  let sent: Promise<T>;
  try {
    sent = send(carrier);
  } catch (err) {
    sent = Promise.reject(err);
  }
  return sent.then(
    (value) => {
      span.end();
      return value;
    },
    (err: unknown) => {
      failed(span, err, false);
      span.end();
      throw err;
    },
  );
}

/** Like {@link traceOutgoing} for a send that returns at once (a fire-and-forget call); what it throws is rethrown. */
export function traceOutgoingSync<T>(
  name: string,
  kind: SpanKind,
  attributes: Attributes,
  send: (carrier: TraceCarrier) => T,
): T {
  const { span, carrier } = startOutgoing(name, kind, attributes);
  try {
    return send(carrier);
  } catch (err) {
    failed(span, err, false);
    throw err;
  } finally {
    span.end();
  }
}

/** The carrier lists every field of the propagator: one it left unset is sent as removed, so a caller's stale `tracestate` does not travel on. */
function startOutgoing(name: string, kind: SpanKind, attributes: Attributes): { span: Span; carrier: TraceCarrier } {
  const span = trace.getTracer(TRACER_NAME).startSpan(name, { kind, attributes });
  const carrier: Record<string, string | undefined> = {};
  propagation.inject(trace.setSpan(context.active(), span), carrier);
  for (const field of propagation.fields()) if (!(field in carrier)) carrier[field] = undefined;
  return { span, carrier };
}

function failed(span: Span, error: unknown, expected: boolean): void {
  if (error instanceof Error) span.recordException(error);
  else span.recordException(String(error));
  if (expected) span.setAttribute("nameko.exception.expected", true);
  else span.setStatus({ code: SpanStatusCode.ERROR, message: `${errorName(error)}: ${describeError(error)}` });
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}
