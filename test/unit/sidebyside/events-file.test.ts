// Events files: the events a side-by-side comparison dispatches, checked item by item.
import { InvalidCallsFile, parseEventsFile } from "../../../sidebyside";

describe("parseEventsFile", () => {
  it("reads events with their source, type, payload and optional context", () => {
    const text =
      '[{"source": "payments", "type": "paid", "payload": {"id": 1}},' +
      ' {"source": "payments", "type": "paid", "payload": null, "context": {"user_id": "u"}}]';
    expect(parseEventsFile(text)).toEqual([
      { source: "payments", type: "paid", payload: { id: 1 } },
      { source: "payments", type: "paid", payload: null, context: { user_id: "u" } },
    ]);
  });

  it("names the event that is not one", () => {
    expect(() => parseEventsFile("{}")).toThrow("an events file is a JSON list of events");
    expect(() => parseEventsFile('[{"source": "a", "type": "b"}]')).toThrow('event 1: a "payload"');
    expect(() => parseEventsFile('[{"source": "a", "type": "b", "payload": 1}, {"type": "b"}]')).toThrow(
      InvalidCallsFile,
    );
    expect(() => parseEventsFile('[{"source": "a", "type": "b", "payload": 1, "context": []}]')).toThrow(
      'event 1: "context" is an object',
    );
  });
});
