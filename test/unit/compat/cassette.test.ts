// The cassette model: lines written and read back, bad lines reported by number, masking.
import {
  addMaskOption,
  CASSETTE_FORMAT,
  CASSETTE_VERSION,
  cassetteLine,
  InvalidMaskSpec,
  MASK,
  maskCall,
  maskEvent,
  parseCassette,
  type CassetteHeader,
  type HandledEvent,
  type RecordedCall,
  type RecordedEvent,
} from "../../../compat";

const header: CassetteHeader = {
  kind: "header",
  format: CASSETTE_FORMAT,
  version: CASSETTE_VERSION,
  recordedAt: "2026-12-07T03:00:00.000Z",
  side: "amqp",
  services: ["orders"],
  masks: {},
};

const event: RecordedEvent = {
  kind: "event",
  source: "orders",
  type: "placed",
  payload: { id: 1 },
  context: { user_id: "u-1" },
  callIdStack: ["orders.place.abc"],
};

const call = (n: number): RecordedCall => ({
  kind: "call",
  service: "orders",
  method: "place",
  args: [n],
  kwargs: { card: { number: "4111", cvv: "123" } },
  context: { user_id: "u-1", auth_token: "secret" },
  callIdStack: ["standalone_rpc_proxy.call.x"],
  reply: { result: n * 2, error: null },
  durationMs: 1.5,
  events: [event],
  calls: [],
});

const handled: HandledEvent = {
  kind: "handled",
  service: "shipping",
  handler: "on_placed",
  source: "orders",
  type: "placed",
  payload: { id: 1 },
  context: { user_id: "u-1" },
  callIdStack: ["orders.place.abc"],
  workerCallId: "shipping.on_placed.def",
  events: [{ ...event, source: "shipping", type: "shipped" }],
  calls: [call(1)],
};

describe("cassette lines", () => {
  it("reads back a handled event with what its handler did, beside calls and events of version 1", () => {
    const parsed = parseCassette(cassetteLine(header) + cassetteLine(call(1)) + cassetteLine(handled));
    expect(parsed.problems).toEqual([]);
    expect(parsed.entries).toEqual([call(1), handled]);
  });

  it("names what is wrong in a handled event line", () => {
    const text =
      cassetteLine(header) +
      cassetteLine({ ...handled, handler: 3 } as unknown as HandledEvent) +
      cassetteLine({ ...handled, calls: [event] } as unknown as HandledEvent) +
      cassetteLine({ ...handled, kind: "other" } as unknown as HandledEvent);
    expect(parseCassette(text).problems).toEqual([
      { line: 2, message: "line: handler must be a method name or null" },
      { line: 3, message: 'line.calls[0]: kind must be "call"' },
      { line: 4, message: 'line: kind must be "call", "event" or "handled"' },
    ]);
  });

  it("reads back what it writes, large integers and NaN included", () => {
    const big = { ...call(1), reply: { result: 2n ** 70n, error: null }, args: [Number.NaN] };
    const parsed = parseCassette(cassetteLine(header) + cassetteLine(big) + cassetteLine(event));
    expect(parsed.problems).toEqual([]);
    expect(parsed.header).toEqual(header);
    expect(parsed.entries).toEqual([big, event]);
  });

  it("reports a broken line by its number and keeps every other line", () => {
    const text = [
      cassetteLine(header),
      cassetteLine(call(1)),
      '{"kind": "call", "service": "orders", "method": \n',
      cassetteLine(call(2)),
      '{"kind": "call", "service": "orders"}\n',
      cassetteLine(call(3)),
    ].join("");
    const parsed = parseCassette(text);
    expect(parsed.entries.map((e) => (e as RecordedCall).args[0])).toEqual([1, 2, 3]);
    expect(parsed.problems).toEqual([
      { line: 3, message: expect.any(String) },
      { line: 5, message: expect.stringContaining("a call needs service and method") },
    ]);
  });

  it("names the nested entry that is wrong", () => {
    const bad = { ...call(1), calls: [{ ...call(2), reply: "yes" }] };
    const parsed = parseCassette(cassetteLine(header) + cassetteLine(bad as unknown as RecordedCall));
    expect(parsed.problems).toEqual([{ line: 2, message: "line.calls[0]: reply must be {result, error} or null" }]);
  });

  it("reports a missing or unknown header", () => {
    expect(parseCassette("").problems).toEqual([{ line: 1, message: "the cassette is empty: no header line" }]);
    expect(parseCassette(cassetteLine(call(1))).problems).toEqual([
      { line: 1, message: "the first line is not a cassette header" },
    ]);
    const v2 = parseCassette(cassetteLine({ ...header, version: 2 }) + cassetteLine(call(1)));
    expect(v2.problems).toEqual([{ line: 1, message: "header: version 2 is not supported (1 is)" }]);
  });
});

describe("masking", () => {
  it("masks kwargs by name, args by index, context keys and nested paths", () => {
    const masks = addMaskOption("orders.place:card.cvv,args.0,context.auth_token");
    expect(masks).toEqual({ "orders.place": ["card.cvv", "args.0", "context.auth_token"] });
    const masked = maskCall(call(7), masks);
    expect(masked.args).toEqual([MASK]);
    expect(masked.kwargs).toEqual({ card: { number: "4111", cvv: MASK } });
    expect(masked.context).toEqual({ user_id: "u-1", auth_token: MASK });
    expect(call(7).kwargs).toEqual({ card: { number: "4111", cvv: "123" } }); // not changed in place
  });

  it("leaves a call alone when the path leads nowhere or the method is not listed", () => {
    const masks = addMaskOption("orders.place:missing,args.5");
    expect(maskCall(call(1), masks)).toEqual(call(1));
    expect(maskCall({ ...call(1), method: "cancel" }, addMaskOption("orders.place:card"))).toEqual({
      ...call(1),
      method: "cancel",
    });
  });

  it("masks event payloads by source and type", () => {
    expect(maskEvent(event, addMaskOption("orders.placed:payload.id")).payload).toEqual({ id: MASK });
  });

  it("refuses a mask option it cannot read", () => {
    expect(() => addMaskOption("orders:card")).toThrow(InvalidMaskSpec);
    expect(() => addMaskOption("orders.place:")).toThrow("no path given");
    expect(() => addMaskOption("orders.place:card..cvv")).toThrow("has an empty step");
  });
});
