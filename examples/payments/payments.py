"""Nameko original (run live by the side-by-side test when NAMEKO_PYTHON is set): a payments service that
dispatches ``payment_received`` on a timer, and a notifications service that handles
it with each of Nameko's handler types.

Run with Nameko 2.14:  nameko run payments --config config.yaml
"""
import random
import socket
import uuid

from nameko.events import (
    BROADCAST, SERVICE_POOL, SINGLETON, EventDispatcher, event_handler,
)
from nameko.timer import timer


class PaymentService:
    name = "payments"

    dispatch = EventDispatcher()

    @timer(interval=10)
    def emit_event(self):
        payload = {
            "payment_id": uuid.uuid4().hex,
            "client": {"name": "Ada Lovelace", "email": "ada@example.com"},
            "payee": {"name": "Charles Babbage", "email": "charles@example.com"},
            "payment": {
                "amount": random.randint(1, 10000),
                "currency": random.choice(("USD", "GBP", "EUR")),
            },
        }
        self.dispatch("payment_received", payload)


class NotificationService:
    name = "notifications"

    # Every instance of this service competes for each event: one email per payment.
    @event_handler("payments", "payment_received")
    def send_receipt(self, payload):
        return "receipt to {} for {} {}".format(
            payload["client"]["email"],
            payload["payment"]["amount"],
            payload["payment"]["currency"],
        )

    # One handler in the whole cluster, across services, gets each event.
    @event_handler("payments", "payment_received", handler_type=SINGLETON)
    def record_in_ledger(self, payload):
        return "ledger entry {}".format(payload["payment_id"])

    # Every running instance gets a copy; nothing is kept while an instance is down.
    @event_handler(
        "payments", "payment_received",
        handler_type=BROADCAST, reliable_delivery=False,
    )
    def refresh_cache(self, payload):
        return "cache on {} refreshed for {}".format(
            socket.gethostname(), payload["payment_id"])

    # A flaky downstream: the event comes back until the handler succeeds.
    @event_handler(
        "payments", "payment_received", requeue_on_error=True,
    )
    def notify_payee(self, payload):
        if random.random() < 0.1:
            raise RuntimeError("mail server busy")
        return "notified {}".format(payload["payee"]["email"])
