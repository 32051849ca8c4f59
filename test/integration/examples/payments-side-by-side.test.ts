// The payments example's `notifications` against its Nameko original, driven by `payment_received`
// events. Its handlers' return values go nowhere (Nameko discards them) and they neither call nor
// dispatch: what is compared is which handlers got each event, that each acknowledged it, and that
// none dispatched or called anything (docs/side-by-side.md, Events).
import { readFileSync } from "node:fs";
import { eventHandler, HandlerType } from "cliffracer";
import { itSideBySide, sideBySide, type SideBySideOptions } from "cliffracer/testing";
import { NotificationService, type PaymentReceived } from "../../../examples/payments/payments-service";
import { parseEventsFile } from "../../../sidebyside";

jest.setTimeout(120_000);

const comparison: SideBySideOptions = {
  service: "notifications",
  port: [NotificationService],
  original: { module: "examples/payments/payments.py", classes: ["NotificationService"] },
  cassette: "examples/payments/notifications.cassette.jsonl",
  events: parseEventsFile(readFileSync("examples/payments/side-by-side.events.json", "utf8")),
};

// Live with NAMEKO_PYTHON set, else against the cassette recorded from the real original.
itSideBySide("the notifications port handles payment_received in the same handlers as its original", comparison);

/** A port that lost one handler to a rename: notify_payee became notifyPayees. */
class PortWithRenamedHandler {
  name = "notifications";

  @eventHandler("payments", "payment_received")
  sendReceipt(payload: PaymentReceived): string {
    return `receipt to ${payload.client.email}`;
  }

  @eventHandler("payments", "payment_received", { handlerType: HandlerType.BROADCAST, reliableDelivery: false })
  refreshCache(payload: PaymentReceived): string {
    return `cache refreshed for ${payload.payment_id}`;
  }

  @eventHandler("payments", "payment_received")
  notifyPayees(payload: PaymentReceived): string {
    return `notified ${payload.payee.email}`;
  }
}

it("a port whose handler is renamed is caught against the cassette: the original's is missing, the port's extra", async () => {
  const result = await sideBySide({ ...comparison, original: undefined, port: [PortWithRenamedHandler] });
  expect(result.mode).toBe("cassette");
  expect(result.report.ok).toBe(false);
  const failed = result.report.calls.filter((c) => !c.ok).map((c) => `${c.target}: ${c.differences[0]?.kind}`);
  expect(failed.sort()).toEqual([
    "notifications.notifyPayees: extra",
    "notifications.notifyPayees: extra",
    "notifications.notify_payee: missing",
    "notifications.notify_payee: missing",
  ]);
  expect(result.text).toContain("the port has no handler notifications.notify_payee of payments.payment_received");
});
