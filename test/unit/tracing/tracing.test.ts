// Worker and outgoing spans with an in-memory SDK (docs/tracing.md), without a broker: the
// container's spawnWorker is driven directly, as in test/unit/core/service-container.test.ts.
import { context, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import type { NatsConnection } from "@nats-io/transport-node";
import { defaultConfig } from "../../../src/config/defaults";
import type { Entrypoint } from "../../../src/core/extension";
import { registerEntrypoint } from "../../../src/core/metadata";
import { ServiceContainer } from "../../../src/core/service-container";
import { createLogger } from "../../../src/logging";
import { traceOutgoing, traceOutgoingSync, tracingOn, type TraceCarrier } from "../../../src/tracing/tracing";
import { installTracing, spanNamed, traceparentOf, type TestTracing } from "../../helpers/tracing";

class Expected extends Error {
  override name = "Expected";
}

const entrypoints = new Map<string, Entrypoint>();

function entry(method: string, extra: Partial<Entrypoint> = {}): MethodDecorator {
  const ep: Entrypoint = { methodName: method, ...extra };
  entrypoints.set(method, ep);
  return (target) => registerEntrypoint(target, () => ep);
}

let activeInWorker: string | undefined;

class Traced {
  name = "traced";

  @entry("work", { traceSpan: { kind: SpanKind.SERVER, attributes: { "rpc.method": "work" } } })
  async work(): Promise<string> {
    await Promise.resolve();
    activeInWorker = trace.getActiveSpan()?.spanContext().spanId;
    return "done";
  }

  @entry("boom")
  boom(): never {
    throw new Error("broken");
  }

  @entry("refuse", { expectedExceptions: [Expected] })
  refuse(): never {
    throw new Expected("no");
  }
}

const CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN = "00f067aa0ba902b7";
const CALLER = `00-${CALLER_TRACE}-${CALLER_SPAN}-01`;

const container = new ServiceContainer(Traced, defaultConfig(), {
  nats: {} as NatsConnection,
  log: createLogger({ level: "silent" }),
});

function run(method: string, data: Record<string, unknown> = {}) {
  return container.spawnWorker(entrypoints.get(method)!, [], { data, parentStack: [] });
}

describe("without an SDK", () => {
  it("tracing is off, and a worker runs with no active span", async () => {
    expect(tracingOn()).toBe(false);
    const outcome = await run("work", { traceparent: CALLER });
    expect(outcome).toEqual({ ok: true, result: "done" });
    expect(activeInWorker).toBeUndefined();
  });
});

describe("with an SDK registered", () => {
  let tracing: TestTracing;
  beforeEach(() => (tracing = installTracing()));
  afterEach(() => tracing.uninstall());

  it("a worker's span is the child of the caller's traceparent and active while the method runs", async () => {
    expect(tracingOn()).toBe(true);
    await run("work", { traceparent: CALLER });
    const span = spanNamed(tracing.spans(), "traced.work");
    expect(span.kind).toBe(SpanKind.SERVER);
    expect(span.spanContext().traceId).toBe(CALLER_TRACE);
    expect(span.parentSpanContext?.spanId).toBe(CALLER_SPAN);
    expect(span.attributes["rpc.method"]).toBe("work");
    expect(span.attributes["nameko.call_id"]).toMatch(/^traced\.work\./);
    expect(activeInWorker).toBe(span.spanContext().spanId);
  });

  it.each([["not-a-traceparent"], [`00-${"0".repeat(32)}-${CALLER_SPAN}-01`], [`00-${CALLER_TRACE}-xyz-01`], [42]])(
    "a malformed traceparent (%p) is ignored: the worker starts a new trace",
    async (traceparent) => {
      const outcome = await run("work", { traceparent });
      expect(outcome.ok).toBe(true);
      const span = spanNamed(tracing.spans(), "traced.work");
      expect(span.parentSpanContext).toBeUndefined();
      expect(span.spanContext().traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(span.spanContext().traceId).not.toBe(CALLER_TRACE);
    },
  );

  it("a worker given a trace carrier (an HTTP request's headers) takes its parent from there", async () => {
    const carrier = { traceparent: CALLER, "content-type": "application/json" };
    await container.spawnWorker(entrypoints.get("work")!, [], { data: {}, parentStack: [], traceCarrier: carrier });
    expect(spanNamed(tracing.spans(), "traced.work").parentSpanContext?.spanId).toBe(CALLER_SPAN);
  });

  it("a worker without a described entrypoint gets an INTERNAL span", async () => {
    await run("boom");
    expect(spanNamed(tracing.spans(), "traced.boom").kind).toBe(SpanKind.INTERNAL);
  });

  it("an unexpected error sets the span's status to ERROR; an expected one is only recorded", async () => {
    await run("boom");
    await run("refuse");
    const boom = spanNamed(tracing.spans(), "traced.boom");
    expect(boom.status).toEqual({ code: SpanStatusCode.ERROR, message: "Error: broken" });
    expect(boom.events.map((e) => e.name)).toEqual(["exception"]);
    const refuse = spanNamed(tracing.spans(), "traced.refuse");
    expect(refuse.status.code).toBe(SpanStatusCode.UNSET);
    expect(refuse.attributes["nameko.exception.expected"]).toBe(true);
    expect(refuse.events.map((e) => e.name)).toEqual(["exception"]);
  });

  it("an outgoing span is the active span's child and hands its own traceparent to the send", async () => {
    const parent = trace.getTracer("test").startSpan("parent");
    let sent: TraceCarrier = {};
    await context.with(trace.setSpan(context.active(), parent), () =>
      traceOutgoing("RPC to other.method", SpanKind.CLIENT, { "rpc.service": "other" }, async (carrier) => {
        sent = carrier;
      }),
    );
    parent.end();
    const span = spanNamed(tracing.spans(), "RPC to other.method");
    expect(span.kind).toBe(SpanKind.CLIENT);
    expect(span.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
    expect(sent.traceparent).toBe(traceparentOf(span));
    // tracestate listed though unset, so a stale one in the context data is removed.
    expect(Object.keys(sent).sort()).toEqual(["traceparent", "tracestate"]);
  });

  it("a failed send ends its span with ERROR and rethrows, whether it rejects or throws", async () => {
    await expect(
      traceOutgoing("async", SpanKind.CLIENT, {}, () => Promise.reject(new Error("no reply"))),
    ).rejects.toThrow("no reply");
    expect(() =>
      traceOutgoingSync("sync", SpanKind.CLIENT, {}, () => {
        throw new Error("too large");
      }),
    ).toThrow("too large");
    for (const name of ["async", "sync"])
      expect(spanNamed(tracing.spans(), name).status.code).toBe(SpanStatusCode.ERROR);
  });
});

describe("after the SDK is removed", () => {
  it("tracing is off again", () => {
    expect(tracingOn()).toBe(false);
  });
});
