// Linking a worker's outgoing calls and events to the call that started it, through the call id stack.
import { encodeJson, MASK, type CassetteEntry, type RecordedCall } from "../../../compat";
import { CassetteAssembler, type Observation } from "../../../sidebyside";

const STACK = "nameko.call_id_stack";

function assemble(services: string[], observations: Observation[], masks = {}): CassetteEntry[] {
  const out: CassetteEntry[] = [];
  const a = new CassetteAssembler({ services, masks, onEntry: (e) => out.push(e) });
  observations.forEach((o) => a.observe(o));
  // Long after: what waits for a delivery that never came is taken as it is.
  a.settle(clock + 1_000_000);
  return out;
}

let clock = 0;
const request = (
  service: string,
  method: string,
  stack: string[],
  replyKey: string,
  args: unknown[] = [],
): Observation => ({
  kind: "request",
  at: (clock += 1),
  service,
  method,
  body: encodeJson({ args, kwargs: {} }),
  headers: { "nameko.user_id": "u-1", [STACK]: stack },
  replyKey,
});
const reply = (replyKey: string, result: unknown): Observation => ({
  kind: "reply",
  at: (clock += 1),
  replyKey,
  body: encodeJson({ result, error: null }),
});
const event = (source: string, type: string, stack: string[], payload: unknown = {}): Observation => ({
  kind: "event",
  at: (clock += 1),
  source,
  type,
  body: encodeJson(payload),
  headers: { [STACK]: stack },
});

const CALLER = ["standalone_rpc_proxy.call.c0"];

describe("CassetteAssembler", () => {
  it("nests a worker's outgoing call and event under the call that started it", () => {
    const worker = [...CALLER, "orders.place.w1"];
    const entries = assemble(
      ["orders"],
      [
        request("orders", "place", CALLER, "r1", [5]),
        request("stock", "reserve", worker, "r2", [5]),
        reply("r2", true),
        event("orders", "placed", worker, { id: 5 }),
        reply("r1", "ok"),
      ],
    );
    expect(entries).toHaveLength(1);
    const call = entries[0] as RecordedCall;
    expect(call).toMatchObject({
      service: "orders",
      method: "place",
      args: [5],
      context: { user_id: "u-1" },
      callIdStack: CALLER,
      reply: { result: "ok", error: null },
      workerCallId: "orders.place.w1",
      events: [{ source: "orders", type: "placed", payload: { id: 5 }, callIdStack: worker }],
      calls: [{ service: "stock", method: "reserve", reply: { result: true, error: null }, calls: [] }],
    });
    expect(call.durationMs).toBeGreaterThan(0);
    expect(call.ambiguous).toBeUndefined();
  });

  it("links by the end of the stack when the worker's stack was cut to parent_calls_tracked + 1", () => {
    const deep = Array.from({ length: 11 }, (_, i) => `a.b.${i}`);
    const worker = [...deep.slice(1), "orders.place.w1"];
    const entries = assemble(
      ["orders"],
      [request("orders", "place", deep, "r1"), event("orders", "placed", worker), reply("r1", null)],
    );
    expect((entries[0] as RecordedCall).events).toHaveLength(1);
  });

  it("writes an event of a recorded source outside any call as its own line (after the quiet time), and ignores other traffic", () => {
    const entries = assemble(
      ["orders"],
      [
        event("orders", "tick", ["orders.timer.t1"], { n: 1 }),
        event("billing", "paid", []),
        request("billing", "charge", CALLER, "r9"),
        reply("r9", 1),
      ],
    );
    expect(entries).toEqual([
      {
        kind: "event",
        source: "orders",
        type: "tick",
        payload: { n: 1 },
        context: {},
        callIdStack: ["orders.timer.t1"],
      },
    ]);
  });

  it("marks calls whose worker cannot be told apart, and still records each once", () => {
    const entries = assemble(
      ["orders"],
      [
        request("orders", "place", CALLER, "r1", [1]),
        request("orders", "place", CALLER, "r2", [2]),
        event("orders", "placed", [...CALLER, "orders.place.wA"]),
        event("orders", "placed", [...CALLER, "orders.place.wB"]),
        reply("r2", 2),
        reply("r1", 1),
      ],
    );
    const calls = entries as RecordedCall[];
    expect(calls.map((c) => c.args[0])).toEqual([2, 1]);
    expect(calls.every((c) => c.ambiguous === true && c.events.length === 1)).toBe(true);
  });

  it("masks nested calls and events by their own method or event type", () => {
    const worker = [...CALLER, "orders.place.w1"];
    const entries = assemble(
      ["orders"],
      [
        request("orders", "place", CALLER, "r1", ["4111"]),
        request("payments", "charge", worker, "r2", ["4111"]),
        reply("r2", true),
        event("orders", "placed", worker, { card: "4111" }),
        reply("r1", "ok"),
      ],
      { "orders.place": ["args.0"], "payments.charge": ["args.0"], "orders.placed": ["payload.card"] },
    );
    const call = entries[0] as RecordedCall;
    expect(call.args).toEqual([MASK]);
    expect(call.calls[0]?.args).toEqual([MASK]);
    expect(call.events[0]?.payload).toEqual({ card: MASK });
  });

  it("forgets calls whose reply never came once they are older than asked, and goes on linking the others", () => {
    const out: CassetteEntry[] = [];
    const a = new CassetteAssembler({ services: ["orders"], masks: {}, onEntry: (e) => out.push(e) });
    const lost = ["standalone_rpc_proxy.call.lost"];
    a.observe(request("orders", "place", lost, "lost", [1]));
    a.observe(request("stock", "reserve", [...lost, "orders.place.wl"], "lost-child", [1]));
    const cutoff = (clock += 1);
    a.observe(request("orders", "place", CALLER, "kept", [2]));
    expect(a.open).toBe(2);
    expect(a.discardOpenBefore(cutoff)).toBe(1);
    expect(a.open).toBe(1);
    // A late reply of the forgotten call or of its worker's call is ignored.
    a.observe(reply("lost-child", true));
    a.observe(reply("lost", "late"));
    a.observe(request("stock", "reserve", [...CALLER, "orders.place.wk"], "kept-child", [2]));
    a.observe(reply("kept-child", true));
    a.observe(reply("kept", "ok"));
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({
      args: [2],
      reply: { result: "ok" },
      calls: [{ args: [2], reply: { result: true } }],
    });
    expect(a.open).toBe(0);
  });

  it("leaves out a request whose body is not JSON and says so", () => {
    const skipped: string[] = [];
    const a = new CassetteAssembler({
      services: ["orders"],
      masks: {},
      onEntry: () => undefined,
      onSkipped: (w) => skipped.push(w),
    });
    a.observe({
      kind: "request",
      at: 1,
      service: "orders",
      method: "place",
      body: "{oops",
      headers: {},
      replyKey: "r",
    });
    expect(skipped).toEqual(["request to orders.place"]);
    expect(a.open).toBe(0);
  });
});

const delivery = (
  queue: string,
  source: string,
  type: string,
  stack: string[],
  payload: unknown = {},
): Observation => ({
  kind: "delivery",
  at: (clock += 1),
  queue,
  source,
  type,
  body: encodeJson(payload),
  headers: { "nameko.user_id": "u-2", [STACK]: stack },
  redelivered: false,
});

describe("CassetteAssembler, handled events", () => {
  const DISPATCHER = ["payments.emit.d0"];
  const QUEUE = "evt-payments-paid--shipping.on_paid";

  function run(observations: Observation[], quietAt?: number): { entries: CassetteEntry[]; a: CassetteAssembler } {
    const entries: CassetteEntry[] = [];
    const a = new CassetteAssembler({ services: ["shipping"], masks: {}, onEntry: (e) => entries.push(e) });
    observations.forEach((o) => a.observe(o));
    if (quietAt !== undefined) a.settle(quietAt, 10);
    return { entries, a };
  }

  it("records a delivery to a recorded service's handler queue with the handler's call and event", () => {
    const worker = [...DISPATCHER, "shipping.on_paid.w1"];
    const { entries } = run(
      [
        event("payments", "paid", DISPATCHER, { id: 1 }),
        delivery(QUEUE, "payments", "paid", DISPATCHER, { id: 1 }),
        request("stock", "reserve", worker, "r1", [1]),
        reply("r1", true),
        event("shipping", "shipped", worker, { id: 1 }),
      ],
      clock + 100,
    );
    expect(entries).toEqual([
      {
        kind: "handled",
        service: "shipping",
        handler: "on_paid",
        source: "payments",
        type: "paid",
        payload: { id: 1 },
        context: { user_id: "u-2" },
        callIdStack: DISPATCHER,
        workerCallId: "shipping.on_paid.w1",
        events: [
          {
            kind: "event",
            source: "shipping",
            type: "shipped",
            payload: { id: 1 },
            context: {},
            callIdStack: worker,
          },
        ],
        calls: [expect.objectContaining({ service: "stock", method: "reserve", reply: { result: true, error: null } })],
      },
    ]);
  });

  it("links a worker's call, reply and event seen before the delivery that started the worker", () => {
    // The firehose does not order a handler queue's delivery against the worker's own publishes.
    const worker = [...DISPATCHER, "shipping.on_paid.w9"];
    const { entries } = run(
      [
        request("stock", "reserve", worker, "r9", [9]),
        reply("r9", 9),
        event("shipping", "shipped", worker, { id: 9 }),
        delivery(QUEUE, "payments", "paid", DISPATCHER, { id: 9 }),
      ],
      clock + 100,
    );
    expect(entries).toEqual([
      expect.objectContaining({
        kind: "handled",
        handler: "on_paid",
        workerCallId: "shipping.on_paid.w9",
        events: [expect.objectContaining({ source: "shipping", type: "shipped", payload: { id: 9 } })],
        calls: [expect.objectContaining({ service: "stock", method: "reserve", reply: { result: 9, error: null } })],
      }),
    ]);
  });

  it("takes a recorded service's event whose worker never shows up as an event of its own after the quiet time", () => {
    const timer = ["shipping.tick.t1"];
    const { entries, a } = run([event("shipping", "shipped", timer, { id: 7 })]);
    expect(entries).toEqual([]);
    a.settle(clock + 100, 10);
    expect(entries).toEqual([expect.objectContaining({ kind: "event", source: "shipping", payload: { id: 7 } })]);
  });

  it("keeps a handled event open while its worker waits for a reply or was active within the quiet time", () => {
    const worker = [...DISPATCHER, "shipping.on_paid.w2"];
    const { entries, a } = run([
      delivery(QUEUE, "payments", "paid", DISPATCHER),
      request("stock", "reserve", worker, "r2", [2]),
    ]);
    a.settle(clock + 1000, 10);
    expect(entries).toEqual([]);
    a.observe(reply("r2", 2));
    a.settle(clock + 5, 10);
    expect(entries).toEqual([]);
    a.settle(clock + 10, 10);
    expect(entries).toHaveLength(1);
  });

  it("ties a singleton delivery to the recorded handler whose worker shows up, and drops one that never does", () => {
    const worker = [...DISPATCHER, "shipping.on_any.w3"];
    const { entries, a } = run([
      delivery("evt-payments-paid", "payments", "paid", DISPATCHER, { id: 3 }),
      event("shipping", "noted", worker),
      delivery("evt-payments-paid", "payments", "paid", ["other.x.y"], { id: 4 }),
    ]);
    a.close();
    expect(entries).toEqual([
      expect.objectContaining({ kind: "handled", service: "shipping", handler: "on_any", payload: { id: 3 } }),
    ]);
  });

  it("ignores deliveries to other services' handler queues and to queues that are not handlers'", () => {
    const { entries, a } = run([
      delivery("evt-payments-paid--billing.on_paid", "payments", "paid", DISPATCHER),
      delivery("rpc-shipping", "payments", "paid", DISPATCHER),
    ]);
    a.close();
    expect(entries).toEqual([]);
  });

  it("names the handler of a broadcast queue without its broadcast id", () => {
    const { entries, a } = run([
      delivery("evt-payments-paid--shipping.refresh-0123456789abcdef0123456789abcdef", "payments", "paid", []),
    ]);
    a.close();
    expect(entries).toEqual([expect.objectContaining({ service: "shipping", handler: "refresh", events: [] })]);
  });
});
