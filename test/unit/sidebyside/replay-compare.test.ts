// Replay's verdict without brokers: value diffs by JSON path, list pairing, ignore patterns, noise
// from repeated recordings, the report and JUnit XML.
import { MASK, type HandledEvent, type RecordedCall } from "../../../compat";
import {
  diffOutcomes,
  diffValues,
  escapeXml,
  formatDifference,
  formatReport,
  IgnoreRules,
  InvalidIgnorePattern,
  handledKey,
  junitXml,
  noisyHandledPaths,
  noisyPaths,
  recordedOutcome,
  requestKey,
  type ReplayReport,
} from "../../../sidebyside";

function call(partial: Partial<RecordedCall> = {}): RecordedCall {
  return {
    kind: "call",
    service: "orders",
    method: "place",
    args: [1],
    kwargs: {},
    context: {},
    callIdStack: [],
    reply: { result: null, error: null },
    durationMs: 1,
    events: [],
    calls: [],
    ...partial,
  };
}

const lines = (expected: unknown, got: unknown, path = ""): string[] =>
  diffValues(expected, got, path).map(formatDifference);

describe("diffValues", () => {
  it("names each differing leaf by its JSON path, with what was expected and what came", () => {
    expect(
      lines(
        { items: [{ price: 1 }, { price: 2 }, { price: 3 }], "odd key": true },
        { items: [{ price: 1 }, { price: 2 }, { price: 4 }], "odd key": false },
        "reply.result",
      ),
    ).toEqual(["reply.result.items[2].price: expected 3, got 4", 'reply.result["odd key"]: expected true, got false']);
  });

  it("reports missing and extra keys and list items", () => {
    expect(lines({ a: 1, b: [1, 2] }, { b: [1], c: "x" })).toEqual([
      "a: missing, expected 1",
      "b[1]: missing, expected 2",
      'c: extra, got "x"',
    ]);
  });

  it("compares numbers as CPython writes them and lets a masked recorded value match anything", () => {
    expect(diffValues({ big: 12345678901234567890n, f: 1 }, { big: 12345678901234567890n, f: 1 })).toEqual([]);
    expect(diffValues({ card: MASK, n: 1 }, { card: "4111", n: 1 })).toEqual([]);
    expect(lines(null, { a: 1 }, "reply.error")).toEqual(['reply.error: expected null, got {"a": 1}']);
  });
});

describe("diffOutcomes", () => {
  const ev = (type: string, payload: unknown) => ({ source: "orders", type, payload });
  it("pairs events before diffing, so one missing event does not shift the others", () => {
    const expected = { reply: { result: 1, error: null }, events: [ev("a", 1), ev("b", 2), ev("c", 3)], calls: [] };
    const got = { reply: { result: 1, error: null }, events: [ev("a", 1), ev("c", 3)], calls: [] };
    expect(diffOutcomes(expected, got).map(formatDifference)).toEqual([
      'events[1]: missing, expected {"source": "orders", "type": "b", "payload": 2}',
    ]);
  });

  it("diffs calls of the same method by field and names extra calls", () => {
    const c = (kwargs: Record<string, unknown>) => ({ service: "stock", method: "reserve", args: [], kwargs });
    const expected = { events: [], calls: [c({ n: 3 })] };
    const got = { events: [], calls: [c({ count: 3 }), { service: "audit", method: "log", args: [], kwargs: {} }] };
    expect(diffOutcomes(expected, got).map(formatDifference)).toEqual([
      "calls[0].kwargs.n: missing, expected 3",
      "calls[0].kwargs.count: extra, got 3",
      'calls[1]: extra, got {"service": "audit", "method": "log", "args": [], "kwargs": {}}',
    ]);
  });

  it("compares an error by exc_type, exc_path and value, not its arguments", () => {
    const err = (exc_args: unknown[]) => ({
      result: null,
      error: { exc_type: "ValueError", exc_path: "builtins.ValueError", exc_args, value: "no" },
    });
    expect(
      diffOutcomes(recordedOutcome(call({ reply: err(["no"]) })), recordedOutcome(call({ reply: err([1]) }))),
    ).toEqual([]);
  });
});

describe("IgnoreRules", () => {
  const rules = new IgnoreRules([
    "reply.result.*.updated_at",
    "events[*].payload.id",
    "**.trace",
    "orders.place:calls",
  ]);
  it.each([
    ["orders.place", "reply.result.order.updated_at", true],
    ["orders.place", "reply.result.updated_at", false],
    ["orders.place", "events[3].payload.id", true],
    ["orders.place", "events[3].payload.id.part", true],
    ["orders.place", "events[3].payload.ids", false],
    ["orders.place", "reply.result.items[2].trace", true],
    ["orders.place", "calls[1]", true],
    ["orders.cancel", "calls[1]", false],
  ])("for %s, %s ignored: %s", (target, path, ignored) => {
    expect(rules.ignores(target, path)).toBe(ignored);
  });

  it("reads quoted keys and refuses a pattern it cannot read", () => {
    expect(new IgnoreRules(['reply.result["odd key"]']).ignores("a.b", 'reply.result["odd key"].x')).toBe(true);
    expect(() => new IgnoreRules(["reply..x"])).toThrow(InvalidIgnorePattern);
    expect(() => new IgnoreRules(["reply[x]"])).toThrow(/expected \[<index>\]/);
  });

  it("ignores the noise paths given for a call", () => {
    expect(new IgnoreRules().ignores("orders.place", "reply.result.ref", new Set(["reply.result.ref"]))).toBe(true);
    expect(new IgnoreRules().ignores("orders.place", "reply.result.n", new Set(["reply.result.ref"]))).toBe(false);
  });
});

describe("noisyPaths", () => {
  it("takes the fields that differed between recordings of the same request, and only of that request", () => {
    const reply = (ref: string, n = 1) => ({ result: { n, ref }, error: null });
    const calls = [
      call({ reply: reply("a") }),
      call({
        reply: reply("b"),
        events: [{ kind: "event", source: "o", type: "t", payload: 1, context: {}, callIdStack: [] }],
      }),
      call({ args: [2], reply: reply("c", 2) }),
    ];
    const noise = noisyPaths(calls);
    expect([...noise.keys()]).toEqual([requestKey(calls[0]!)]);
    expect([...noise.get(requestKey(calls[0]!))!]).toEqual(["reply.result.ref", "events[0]"]);
  });

  it("keys requests regardless of kwargs order", () => {
    expect(requestKey(call({ kwargs: { a: 1, b: 2 } }))).toBe(requestKey(call({ kwargs: { b: 2, a: 1 } })));
  });
});

describe("noisyHandledPaths", () => {
  const handled = (payload: unknown, shipped: unknown): HandledEvent => ({
    kind: "handled",
    service: "shipping",
    handler: "on_placed",
    source: "orders",
    type: "placed",
    payload,
    context: {},
    callIdStack: [],
    events: [{ kind: "event", source: "shipping", type: "shipped", payload: shipped, context: {}, callIdStack: [] }],
    calls: [],
  });

  it("ignores what differed between two deliveries of the same event to the same handler, and nothing else", () => {
    const entries = [
      handled({ n: 1 }, { n: 1, at: "t1" }),
      handled({ n: 1 }, { n: 1, at: "t2" }),
      handled({ n: 2 }, {}),
    ];
    const noise = noisyHandledPaths(entries);
    expect([...noise.keys()]).toEqual([handledKey(entries[0]!)]);
    expect([...noise.get(handledKey(entries[0]!))!]).toEqual(["events[0].payload.at"]);
  });
});

describe("reports", () => {
  const report: ReplayReport = {
    ok: false,
    eventsNotReplayed: 1,
    problems: [{ line: 4, message: "not JSON" }],
    calls: [
      {
        number: 1,
        target: "orders.place",
        label: "orders.place(1)",
        ok: true,
        differences: [],
        ignored: 1,
        durationMs: 2,
      },
      {
        number: 2,
        target: "orders.place",
        label: 'orders.place("<&>")',
        ok: false,
        differences: [{ path: "reply.result", kind: "changed", expected: "a<b", got: "\u0001'\"&" }],
        ignored: 0,
        durationMs: 1500,
      },
    ],
  };

  it("prints one summary line, the unreadable lines and one line per difference", () => {
    expect(formatReport(report, "c.jsonl")).toBe(
      "c.jsonl: 2 calls replayed, 1 match, 1 differ, 1 unreadable line (1 difference ignored); 1 event line not replayed\n" +
        "line 4: not JSON\n" +
        'call 2 orders.place("<&>"):\n' +
        '  reply.result: expected "a<b", got "\\u0001\'\\"&"\n',
    );
  });

  it("escapes XML and replaces what XML cannot hold", () => {
    expect(escapeXml(`<a href="x">'&'</a>\u0001\ud800`)).toBe(
      "&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;\ufffd\ufffd",
    );
    expect(escapeXml("😀\n")).toBe("😀&#10;");
  });

  it("writes one JUnit test case per call and per unreadable line", () => {
    const xml = junitXml(report, 'c".jsonl');
    expect(xml).toContain('<testsuite name="cliffracer replay c&quot;.jsonl" tests="3" failures="2" errors="0"');
    expect(xml).toContain('<testcase classname="replay.orders" name="call 1 orders.place(1)" time="0.002"/>');
    expect(xml).toContain(
      '<testcase classname="replay.orders" name="call 2 orders.place(&quot;&lt;&amp;&gt;&quot;)" time="1.500">\n' +
        '      <failure message="1 difference">reply.result: expected &quot;a&lt;b&quot;, got &quot;\\u0001&apos;\\&quot;&amp;&quot;</failure>',
    );
    expect(xml).toContain('<testcase classname="replay.cassette" name="line 4" time="0.000">');
  });
});
