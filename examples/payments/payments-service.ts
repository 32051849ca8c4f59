// Port of payments.py: the same two services, the same event, the same handler types.
// Run: cliffracer run examples/payments/payments-service.ts
// Watch: nats sub 'events.>'   or dispatch one by hand:
//   cliffracer dispatch payments payment_received '{"payment_id": "p-1", "client": {...}, ...}'
import { randomInt, randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { EventDispatcher, eventHandler, HandlerType, timer, type Dispatch } from "cliffracer";

/** The event payload, as the Python service sends it. */
export interface PaymentReceived {
  payment_id: string;
  client: { name: string; email: string };
  payee: { name: string; email: string };
  payment: { amount: number; currency: string };
}

const CURRENCIES = ["USD", "GBP", "EUR"] as const;

/** Dispatches `payment_received` every ten seconds. */
export class PaymentService {
  name = "payments";

  @EventDispatcher() dispatch!: Dispatch;

  @timer({ interval: 10 })
  async emitEvent(): Promise<void> {
    const payload: PaymentReceived = {
      payment_id: randomUUID().replace(/-/g, ""),
      client: { name: "Ada Lovelace", email: "ada@example.com" },
      payee: { name: "Charles Babbage", email: "charles@example.com" },
      payment: { amount: randomInt(1, 10_001), currency: CURRENCIES[randomInt(CURRENCIES.length)] },
    };
    await this.dispatch("payment_received", payload);
  }
}

/** Handles `payment_received` with each handler type. */
export class NotificationService {
  name = "notifications";

  // Every instance of this service competes for each event: one receipt per payment.
  @eventHandler("payments", "payment_received")
  sendReceipt(payload: PaymentReceived): string {
    return `receipt to ${payload.client.email} for ${payload.payment.amount} ${payload.payment.currency}`;
  }

  // One handler in the whole cluster, across services, gets each event.
  @eventHandler("payments", "payment_received", { handlerType: HandlerType.SINGLETON })
  recordInLedger(payload: PaymentReceived): string {
    return `ledger entry ${payload.payment_id}`;
  }

  // Every running instance gets a copy; nothing is kept while an instance is down.
  @eventHandler("payments", "payment_received", { handlerType: HandlerType.BROADCAST, reliableDelivery: false })
  refreshCache(payload: PaymentReceived): string {
    return `cache on ${hostname()} refreshed for ${payload.payment_id}`;
  }

  // A flaky downstream: the event comes back until the handler succeeds.
  @eventHandler("payments", "payment_received", { requeueOnError: true })
  notifyPayee(payload: PaymentReceived): string {
    if (Math.random() < 0.1) throw new Error("mail server busy");
    return `notified ${payload.payee.email}`;
  }
}
