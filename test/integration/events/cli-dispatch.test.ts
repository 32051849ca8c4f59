import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { eventHandler } from "../../../src/entrypoints/events";
import { NATS_URL } from "../../helpers/brokers";
import { EventsFixture } from "../../helpers/jetstream";
import { waitFor } from "../../helpers/waiters";

const run = promisify(execFile);
const BIN = join(__dirname, "../../../bin/cliffracer.js");

describe("cliffracer dispatch", () => {
  let fx: EventsFixture;

  beforeEach(() => {
    fx = new EventsFixture();
  });
  afterEach(async () => {
    await fx.cleanup();
  });

  const cli = (...args: string[]) =>
    run(process.execPath, [BIN, "dispatch", ...args], {
      env: { ...process.env, NATS_URL, NATS_PREFIX: fx.prefix, LOG_LEVEL: "warn" },
    });

  it("publishes the JSON payload as the named service's event and prints where it was stored", async () => {
    const seen: unknown[] = [];
    class Listener {
      name = "cli_listener";
      @eventHandler("payments", "payment_received")
      async on(p: unknown) {
        seen.push(p);
      }
    }
    await fx.start(Listener);
    const { stdout } = await cli("payments", "payment_received", '{"amount": 5, "currency": "EUR"}');
    expect(JSON.parse(stdout)).toEqual({ stream: fx.streamName, seq: 1 });
    await waitFor(() => seen.length === 1, { what: "the handler ran" });
    expect(seen).toEqual([{ amount: 5, currency: "EUR" }]);
  }, 30_000);

  it("refuses a payload that is not JSON and a wildcard event type", async () => {
    await expect(cli("payments", "paid", "{oops")).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/Payload is not valid JSON/),
    });
    await expect(cli("payments", "paid.*", "{}")).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/InvalidName/),
    });
  }, 30_000);
});
