import { InvalidName } from "../../../compat/errors";
import type { StandaloneDispatcher } from "../../../src/client/standalone-dispatcher";
import { EventDispatcher, type Dispatch } from "../../../src/dependencies/event-dispatcher";
import { eventHandler } from "../../../src/entrypoints/events";
import { timer } from "../../../src/entrypoints/timer";
import { EventsFixture } from "../../helpers/jetstream";
import { deferred } from "../../helpers/waiters";

describe("event names", () => {
  let fx: EventsFixture;
  let dispatch: StandaloneDispatcher;

  beforeEach(async () => ({ fx, dispatch } = await EventsFixture.withDispatcher()));
  afterEach(() => fx.cleanup());

  it.each([
    ["*", "paid"],
    ["payments", ">"],
    ["pay ments", "paid"],
    ["payments", "paid now"],
    ["payments", "a.b"],
    ["", "paid"],
  ])("the standalone dispatcher refuses source %j / type %j", async (source, type) => {
    await expect(dispatch(source, type, {})).rejects.toBeInstanceOf(InvalidName);
  });

  it.each([
    ["*", "paid"],
    ["payments", "paid >"],
    ["payments", "paid\tnow"],
  ])("a handler on source %j / type %j fails at start-up", async (source, type) => {
    class Bad {
      name = "bad_handler";
      @eventHandler(source, type)
      async on() {}
    }
    await expect(fx.start(Bad)).rejects.toBeInstanceOf(InvalidName);
  });

  it("a worker's dispatch refuses a wildcard event type and the service keeps running", async () => {
    const result = deferred<unknown>();
    class Emitter {
      name = "emitter";
      @EventDispatcher() dispatch!: Dispatch;
      @timer({ interval: 3600, eager: true })
      async emit() {
        result.resolve(await this.dispatch("bad.*", {}).catch((err: unknown) => err));
      }
    }
    const c = await fx.start(Emitter);
    expect(await result.promise).toBeInstanceOf(InvalidName);
    expect(c.running).toBe(true);
  });
});
