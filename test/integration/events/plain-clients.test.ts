import { jetstream } from "@nats-io/jetstream";
import type { StandaloneDispatcher } from "../../../src/client/standalone-dispatcher";
import { eventHandler } from "../../../src/entrypoints/events";
import { EventsFixture } from "../../helpers/jetstream";
import { waitFor } from "../../helpers/waiters";

describe("events from and to plain NATS clients", () => {
  let fx: EventsFixture;
  let dispatch: StandaloneDispatcher;

  beforeEach(async () => ({ fx, dispatch } = await EventsFixture.withDispatcher()));
  afterEach(() => fx.cleanup());

  it("a core NATS publish and a plain JetStream publish on <prefix>.events.x.y reach the handlers", async () => {
    const seen: unknown[] = [];
    class Listener {
      name = "plain_listener";
      @eventHandler("x", "y")
      async onY(p: unknown) {
        seen.push(p);
      }
    }
    await fx.start(Listener);
    const nc = await fx.client();
    nc.publish(`${fx.prefix}.events.x.y`, JSON.stringify({ via: "core" }));
    await nc.flush();
    await jetstream(nc).publish(`${fx.prefix}.events.x.y`, JSON.stringify({ via: "jetstream" }));
    await waitFor(() => seen.length === 2, { what: "both events handled" });
    expect(seen).toEqual(expect.arrayContaining([{ via: "core" }, { via: "jetstream" }]));
  });

  it("publishes Nameko's body and no headers from the standalone dispatcher, so plain subscribers can read it", async () => {
    const nc = await fx.client();
    const sub = nc.subscribe(`${fx.prefix}.events.>`, { max: 1 });
    await nc.flush();
    await dispatch("standalone_src", "ext_event", { hello: "world", n: [1, 2] });
    for await (const m of sub) {
      expect(m.subject).toBe(`${fx.prefix}.events.standalone_src.ext_event`);
      // json.dumps default separators (docs/nameko-wire.md, JSON bodies).
      expect(m.string()).toBe('{"hello": "world", "n": [1, 2]}');
      expect(m.headers).toBeUndefined();
    }
  });
});
