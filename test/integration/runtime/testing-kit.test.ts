// cliffracer/testing, used the way a service author would, on the greeting example.
import { kwargs, ValidationFailed } from "cliffracer";
import { type createStub, entrypointHook, entrypointWaiter, workerFactory } from "cliffracer/testing";
import { GreetingService } from "../../../examples/greeting/greeting-service";
import { NatsFixture } from "../../helpers/brokers";

describe("cliffracer/testing", () => {
  const fx = new NatsFixture();
  afterAll(() => fx.cleanup());

  it("workerFactory gives an instance with stubbed or given dependencies", async () => {
    const users = { get_user: async (id: number) => ({ id, name: "Grace" }) };
    const service = workerFactory(GreetingService, { users });
    expect(await service.greet_user(1)).toBe("Hello, Grace!");
    const stubbed = workerFactory(GreetingService);
    expect(stubbed.hello("Ada")).toBe("Hello, Ada!");
    await stubbed.users.get_user(5).catch(() => undefined);
    expect((stubbed.users as unknown as ReturnType<typeof createStub>).calls).toEqual([
      { path: "get_user", args: [5] },
    ]);
  });

  it("entrypointHook fires an entrypoint of a running container, with kwargs and DTO validation", async () => {
    const container = await fx.start(GreetingService);
    expect(await entrypointHook(container, "hello")("Ada", kwargs({ punctuation: "?" }))).toBe("Hello, Ada?");
    expect(await entrypointHook(container, "welcome")(kwargs({ name: "Ada", language: "fr" }))).toBe("Bienvenue, Ada");
    const err = await entrypointHook(container, "welcome")(kwargs({ name: "" })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationFailed);
    expect(Object.keys((err as ValidationFailed).fields)).toEqual(["name"]);
  });

  it("entrypointWaiter resolves when a worker of the entrypoint finished", async () => {
    // Its own prefix: another greeting_service container on the same prefix would share the calls.
    const own = new NatsFixture();
    const container = await own.start(GreetingService);
    const done = entrypointWaiter(container, "hello", { timeoutMs: 10_000 });
    const client = await own.client();
    await client.call("greeting_service", "hello", ["Lin"]);
    const event = await done;
    expect(event.outcome).toEqual({ ok: true, result: "Hello, Lin!" });
    await own.cleanup();
  });
});
