import { InvalidName } from "../../../compat/errors";
import {
  durableConsumerName,
  eventQueueName,
  eventsExchangeName,
  eventsStreamName,
  eventsSubjectFilter,
  eventSubject,
  HandlerType,
  largeBodiesBucketName,
  methodOfSubject,
  replyQueueName,
  RPC_EXCHANGE,
  rpcBindingKey,
  rpcQueueGroup,
  rpcQueueName,
  rpcServiceSubjects,
  rpcSubject,
  validateName,
  validatePrefix,
} from "../../../compat/naming";

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error("expected a throw");
}

describe("validateName", () => {
  it("returns a usable name", () => {
    expect(validateName("service", "greeting_service")).toBe("greeting_service");
    expect(validateName("method", "get-user")).toBe("get-user");
  });

  it.each([
    ["empty", "", "is empty"],
    ["a space", "a b", "whitespace"],
    ["a tab", "a\tb", "whitespace"],
    ["a control character", "a\u0000b", "control character"],
    ["*", "a*", "wildcard"],
    [">", ">", "wildcard"],
    [".", "a.b", "`.`"],
  ])("refuses a name with %s", (_what, name, reason) => {
    for (const kind of ["service", "method", "event type"] as const) {
      const err = thrown(() => validateName(kind, name));
      expect(err).toBeInstanceOf(InvalidName);
      expect(err.message).toContain(`Invalid ${kind} name`);
      expect(err.message).toContain(reason);
    }
  });
});

describe("validatePrefix", () => {
  it("accepts empty and dotted prefixes", () => {
    expect(validatePrefix("")).toBe("");
    expect(validatePrefix("acme.prod")).toBe("acme.prod");
  });

  it.each(["acme.", ".acme", "a..b", "a.*", "a.>", "a b"])("refuses %j", (prefix) => {
    expect(thrown(() => validatePrefix(prefix))).toBeInstanceOf(InvalidName);
  });
});

describe("NATS subjects", () => {
  it("names RPC subjects, with and without prefix", () => {
    expect(rpcSubject("users", "get_user")).toBe("rpc.users.get_user");
    expect(rpcSubject("users", "get_user", "acme")).toBe("acme.rpc.users.get_user");
    expect(rpcServiceSubjects("users")).toBe("rpc.users.*");
    expect(rpcServiceSubjects("users", "acme.prod")).toBe("acme.prod.rpc.users.*");
    expect(rpcQueueGroup("users")).toBe("rpc.users");
    expect(rpcQueueGroup("users", "acme")).toBe("acme.rpc.users");
  });

  it("names event subjects and the stream filter", () => {
    expect(eventSubject("payments", "payment_received")).toBe("events.payments.payment_received");
    expect(eventSubject("payments", "payment_received", "acme")).toBe("acme.events.payments.payment_received");
    expect(eventsSubjectFilter()).toBe("events.>");
    expect(eventsSubjectFilter("acme")).toBe("acme.events.>");
  });

  it("refuses names that would reach another subject", () => {
    expect(thrown(() => rpcSubject("users", "*"))).toBeInstanceOf(InvalidName);
    expect(thrown(() => rpcSubject("users.admin", "get"))).toBeInstanceOf(InvalidName);
    expect(thrown(() => eventSubject("src", "a.b"))).toBeInstanceOf(InvalidName);
    expect(thrown(() => rpcServiceSubjects(">"))).toBeInstanceOf(InvalidName);
    expect(thrown(() => rpcSubject("users", "get", "bad prefix"))).toBeInstanceOf(InvalidName);
  });

  it("reads the method of an RPC subject as Nameko does: the last token", () => {
    expect(methodOfSubject("acme.rpc.users.get_user")).toBe("get_user");
  });

  it("names the events stream", () => {
    expect(eventsStreamName()).toBe("NAMEKO_EVENTS");
    expect(eventsStreamName("acme.prod")).toBe("ACME_PROD_NAMEKO_EVENTS");
    expect(eventsStreamName("t-1")).toBe("T-1_NAMEKO_EVENTS");
  });

  it("names the large-body bucket like the events stream", () => {
    expect(largeBodiesBucketName()).toBe("CLIFFRACER_BODIES");
    expect(largeBodiesBucketName("acme.prod")).toBe("ACME_PROD_CLIFFRACER_BODIES");
  });
});

describe("Nameko's AMQP names", () => {
  it("names the RPC exchange, queue, binding and reply queue", () => {
    expect(RPC_EXCHANGE).toBe("nameko-rpc");
    expect(rpcQueueName("minimal")).toBe("rpc-minimal");
    expect(rpcBindingKey("minimal")).toBe("minimal.*");
    expect(replyQueueName("standalone_rpc_proxy", "085956f3-41b3-4010-8d3d-fe75bdc8f6a5")).toBe(
      "rpc.reply-standalone_rpc_proxy-085956f3-41b3-4010-8d3d-fe75bdc8f6a5",
    );
    expect(eventsExchangeName("src")).toBe("src.events");
  });

  it("names event handler queues per handler type, as Nameko names them", () => {
    const base = { source: "src", service: "minimal" };
    expect(eventQueueName({ ...base, eventType: "evt_pool", handlerType: "service_pool", method: "on_pool" })).toBe(
      "evt-src-evt_pool--minimal.on_pool",
    );
    expect(eventQueueName({ ...base, eventType: "evt_single", handlerType: "singleton", method: "on_single" })).toBe(
      "evt-src-evt_single",
    );
    expect(
      eventQueueName({
        ...base,
        eventType: "evt_bcast",
        handlerType: "broadcast",
        method: "on_bcast",
        broadcastId: "4e8c2606ed1a4f2798bd65f2c4d2fa6e",
      }),
    ).toBe("evt-src-evt_bcast--minimal.on_bcast-4e8c2606ed1a4f2798bd65f2c4d2fa6e");
  });

  it("has one HandlerType whose members are Nameko's handler_type strings", () => {
    expect(HandlerType).toEqual({ SERVICE_POOL: "service_pool", SINGLETON: "singleton", BROADCAST: "broadcast" });
    const spec = { source: "src", eventType: "e", service: "minimal", method: "m" };
    expect(eventQueueName({ ...spec, handlerType: HandlerType.SINGLETON })).toBe(
      eventQueueName({ ...spec, handlerType: "singleton" }),
    );
  });

  it("requires a broadcast id for broadcast handlers", () => {
    expect(
      thrown(() =>
        eventQueueName({ source: "s", eventType: "e", handlerType: "broadcast", service: "x", method: "m" }),
      ),
    ).toBeInstanceOf(InvalidName);
  });
});

describe("durableConsumerName", () => {
  it("contains only characters JetStream accepts", () => {
    expect(durableConsumerName("evt-src-evt_pool--minimal.on_pool")).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(durableConsumerName("a b*c>d/e\\f")).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it("is readable and deterministic", () => {
    const name = durableConsumerName("evt-src-evt_pool--minimal.on_pool");
    expect(name).toMatch(/^evt-src-evt_pool--minimal_on_pool-[0-9a-f]{10}$/);
    expect(durableConsumerName("evt-src-evt_pool--minimal.on_pool")).toBe(name);
  });

  it("keeps names apart that differ only in replaced characters", () => {
    expect(durableConsumerName("a.b")).not.toBe(durableConsumerName("a_b"));
  });

  it("bounds the length", () => {
    expect(durableConsumerName("x".repeat(1000)).length).toBeLessThanOrEqual(211);
  });
});
