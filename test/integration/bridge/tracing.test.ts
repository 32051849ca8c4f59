// One trace across the bridge (docs/tracing.md): a Nameko caller on AMQP sends its trace context as
// `nameko.traceparent`; the bridge carries it to a TypeScript service on NATS, which calls another
// TypeScript service, calls a Nameko service back through the bridge and dispatches an event. Every
// span lands in one trace, and the AMQP request and event the bridge publishes carry the calling
// and dispatching spans' traceparent, as opentelemetry-instrumentation-nameko reads it.
import { SpanKind, SpanStatusCode } from "@opentelemetry/api";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { eventHandler, rpc, RpcProxy, type ServiceProxy } from "cliffracer";
import { EventDispatcher, type Dispatch } from "../../../src/dependencies/event-dispatcher";
import { startPeerHandler, type PeerHandler, type PeerService, type PeerWorker } from "../../interop/nameko-peer";
import { installTracing, spanNamed, traceparentOf, type TestTracing } from "../../helpers/tracing";
import { waitFor } from "../../helpers/waiters";
import { BridgeFixture } from "./bridge-fixture";

const CALLER_TRACE = "0af7651916cd43dd8448eb211c80319c";
const CALLER_SPAN = "b7ad6b7169203331";

class Front {
  name = "front";
  @RpcProxy("stock") stock!: ServiceProxy;
  @RpcProxy("ledger") ledger!: ServiceProxy;
  @EventDispatcher() dispatch!: Dispatch;

  @rpc()
  async order(n: number): Promise<{ reserved: unknown; noted: unknown }> {
    const reserved = await this.stock.reserve(n);
    const noted = await this.ledger.note(n);
    await this.dispatch("ordered", { n });
    return { reserved, noted };
  }

  @rpc()
  async fail(): Promise<unknown> {
    return this.stock.missing();
  }
}

class Stock {
  name = "stock";

  @rpc()
  reserve(n: number): number {
    return n;
  }

  @eventHandler("front", "ordered")
  onOrdered(): void {}
}

describe("tracing across the bridge", () => {
  const fx = new BridgeFixture();
  let tracing: TestTracing;
  let ledger: PeerService;
  let audit: PeerHandler;

  beforeAll(async () => {
    tracing = installTracing();
    await fx.setup();
    ledger = await fx.peerService({
      name: "ledger",
      methods: {
        note: function (this: PeerWorker, n: number) {
          return { n, traceparent: this.data.traceparent };
        },
      },
    });
    // A Nameko handler of front's event on RabbitMQ, reached through the bridge's event legs.
    audit = await startPeerHandler({
      uri: fx.vhost.uri,
      source: "front",
      eventType: "ordered",
      service: "audit",
      method: "on_ordered",
    });
    await fx.nats.start(Stock);
    await fx.nats.start(Front);
    await fx.readyBridge({ natsServices: ["front"], amqpServices: ["ledger"] });
  });
  afterAll(async () => {
    await audit.stop();
    await fx.cleanup();
    await tracing.uninstall();
  });

  it("a call from AMQP through the bridge yields one trace of nested spans, continued on AMQP as nameko.traceparent", async () => {
    const caller = await fx.peerCaller({ contextData: { traceparent: `00-${CALLER_TRACE}-${CALLER_SPAN}-01` } });
    const out = (await caller.call("front", "order", [3])) as { reserved: number; noted: { traceparent: string } };
    expect(out.reserved).toBe(3);

    const handled = await waitFor(() => tracing.spans().find((s) => s.name === "stock.onOrdered"), {
      what: "the event handler's span",
    });
    const spans = tracing.spans();
    const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;
    const idOf = (span: ReadableSpan) => span.spanContext().spanId;

    const order = spanNamed(spans, "front.order");
    expect(order.kind).toBe(SpanKind.SERVER);
    expect(parentOf(order)).toBe(CALLER_SPAN);
    expect(order.attributes).toMatchObject({ "rpc.system": "nameko", "rpc.service": "front", "rpc.method": "order" });

    const toStock = spanNamed(spans, "RPC to stock.reserve");
    expect(toStock.kind).toBe(SpanKind.CLIENT);
    expect(parentOf(toStock)).toBe(idOf(order));
    const reserve = spanNamed(spans, "stock.reserve");
    expect(parentOf(reserve)).toBe(idOf(toStock));

    const toLedger = spanNamed(spans, "RPC to ledger.note");
    expect(parentOf(toLedger)).toBe(idOf(order));
    // What the Nameko service got: the header on the AMQP message the bridge published, and its context data.
    const delivery = ledger.deliveries.find((d) => d.routingKey === "ledger.note")!;
    expect(delivery.properties.headers?.["nameko.traceparent"]).toBe(traceparentOf(toLedger));
    expect(out.noted.traceparent).toBe(traceparentOf(toLedger));

    const dispatched = spanNamed(spans, "Dispatch event front.ordered");
    expect(dispatched.kind).toBe(SpanKind.PRODUCER);
    expect(parentOf(dispatched)).toBe(idOf(order));
    expect(handled.kind).toBe(SpanKind.CONSUMER);
    expect(parentOf(handled)).toBe(idOf(dispatched));
    expect(handled.attributes).toMatchObject({ "messaging.system": "nats", "nameko.events.source": "front" });
    const [bridged] = await audit.waitFor(1);
    expect(bridged.properties.headers?.["nameko.traceparent"]).toBe(traceparentOf(dispatched));

    const trace = [order, toStock, reserve, toLedger, dispatched, handled];
    expect(new Set(trace.map((s) => s.spanContext().traceId))).toEqual(new Set([CALLER_TRACE]));
  });

  it("a failed outgoing call marks its CLIENT span and the worker's span as errors", async () => {
    const caller = await fx.peerCaller();
    await expect(caller.call("front", "fail")).rejects.toThrow(/MethodNotFound/);
    const failed = spanNamed(tracing.spans(), "front.fail");
    expect(failed.status.code).toBe(SpanStatusCode.ERROR);
    const call = spanNamed(tracing.spans(), "RPC to stock.missing");
    expect(call.status.code).toBe(SpanStatusCode.ERROR);
    expect(call.parentSpanContext?.spanId).toBe(failed.spanContext().spanId);
    // No traceparent from the caller: the worker started a trace of its own.
    expect(failed.parentSpanContext).toBeUndefined();
  });
});
