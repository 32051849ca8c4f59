import type { WorkerEvent } from "../../../src/core/service-container";
import { NotificationService, PaymentService, type PaymentReceived } from "../../../examples/payments/payments-service";
import { EventsFixture } from "../../helpers/jetstream";
import { waitFor } from "../../helpers/waiters";

describe("examples/payments", () => {
  let fx: EventsFixture;

  beforeEach(() => {
    fx = new EventsFixture();
  });
  afterEach(async () => {
    await fx.cleanup();
  });

  it("the timer's payment_received reaches a handler of each type", async () => {
    const notifications = await fx.start(NotificationService);
    const succeeded = new Map<string, PaymentReceived>();
    notifications.observeWorkers((e: WorkerEvent) => {
      if (e.outcome.ok) succeeded.set(e.entrypoint.methodName, e.args[0] as PaymentReceived);
    });
    await fx.start(PaymentService);
    // The port keeps Nameko's 10 s interval; this waits for its first tick, then for every handler.
    await waitFor(() => succeeded.size === 4, { what: "all four handlers to succeed", timeoutMs: 25_000 });
    expect([...succeeded.keys()].sort()).toEqual(["notifyPayee", "recordInLedger", "refreshCache", "sendReceipt"]);
    for (const payload of succeeded.values()) {
      expect(payload).toMatchObject({
        payment_id: expect.any(String),
        payment: { currency: expect.stringMatching(/^(USD|GBP|EUR)$/) },
      });
    }
  }, 40_000);
});
