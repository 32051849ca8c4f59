import { eventConsumerConfig, eventsSettings, eventsStreamConfig } from "../../../src/nats/jetstream";
import { defaultConfig } from "../../../src/config/defaults";

const SECOND_NS = 1_000_000_000;

describe("events stream settings", () => {
  it("captures [prefix.]events.> with interest retention on file storage, kept at most max_age", () => {
    const s = eventsSettings("acme", { ...defaultConfig().events, maxAgeSeconds: 3600 });
    expect(eventsStreamConfig(s)).toMatchObject({
      name: "ACME_NAMEKO_EVENTS",
      subjects: ["acme.events.>"],
      retention: "interest",
      storage: "file",
      discard: "old",
      max_age: 3600 * SECOND_NS,
    });
  });

  it("uses events.> and NAMEKO_EVENTS without a prefix, and a configured stream name over the derived one", () => {
    expect(eventsStreamConfig(eventsSettings("", defaultConfig().events))).toMatchObject({
      name: "NAMEKO_EVENTS",
      subjects: ["events.>"],
    });
    expect(eventsSettings("", { ...defaultConfig().events, streamName: "MY_EVENTS" }).streamName).toBe("MY_EVENTS");
  });

  it("fills fields a hand-built config leaves out with the defaults", () => {
    const s = eventsSettings("", { maxAgeSeconds: 60 });
    const d = defaultConfig().events;
    expect(s).toMatchObject({
      maxAgeSeconds: 60,
      ackWaitSeconds: d.ackWaitSeconds,
      maxAckPending: d.maxAckPending,
      storage: d.storage,
    });
  });
});

describe("event consumer config", () => {
  const spec = {
    stream: "S",
    name: "evt-a-b--svc_m-0123456789",
    filterSubject: "events.a.b",
    ackWaitSeconds: 30,
    maxAckPending: 100,
  };

  it("is a durable pull consumer with explicit acks, new events only, and unlimited redelivery", () => {
    expect(eventConsumerConfig(spec)).toEqual({
      name: spec.name,
      durable_name: spec.name,
      description: undefined,
      filter_subject: "events.a.b",
      ack_policy: "explicit",
      deliver_policy: "new",
      replay_policy: "instant",
      ack_wait: 30 * SECOND_NS,
      max_ack_pending: 100,
      max_deliver: -1,
    });
  });

  it("gets an inactive_threshold only when it must not outlive its users", () => {
    expect(eventConsumerConfig(spec).inactive_threshold).toBeUndefined();
    expect(eventConsumerConfig({ ...spec, inactiveThresholdSeconds: 5 }).inactive_threshold).toBe(5 * SECOND_NS);
  });
});
