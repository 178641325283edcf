"""Twenty identical signed payment notifications at once, over real HTTP, on SQLite and
PostgreSQL: InvoiceBox may deliver the same notification again while the first delivery is still
being answered (a retry after a timeout, a duplicate), and a shop may run several web workers.

The documentation answers a repeated notification with ``success``. The copies race for the
same compare-and-set: one applies the payment, each other one either sees it processed or loses
the race — and a lost race on a duplicate is a duplicate, answered ``success`` too, never
``out_of_service`` (which would make InvoiceBox deliver it ten more times) and never logged as
an ERROR. The shop's stock check before accepting the payment is slow, so every copy is in the
shop while the first is still deciding; the test checks that they were.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from helpers import course_lines, make_shop, pay, private_customer

from invoicebox_flow.flows import State, Trigger
from invoicebox_flow.signature import SIGNATURE_HEADER

pytestmark = pytest.mark.every_backend

COPIES = 20


def captured_payment_notification(flow, buyer, sandbox, order_id: str) -> tuple[bytes, str]:
    """The exact bytes and signature of the order's payment notification, which the sandbox
    signed but never delivered (a ``drop`` fault): the shop has not heard of the payment."""
    flow.place(order_id, course_lines(), private_customer(), description="Курс")
    sandbox.inject_notification_fault("drop")
    pay(flow, buyer, sandbox, order_id)
    assert flow.get(order_id).state is not State.PAID
    attempts = sandbox.notifications(flow.get(order_id).invoicebox_id)
    [notification] = {n["body"]: n for n in attempts if n["kind"] == "payment" and not n["delivered"]}.values()
    return notification["body"].encode("utf-8"), notification["signature"]


def post_all_at_once(url: str, body: bytes, signature: str, copies: int) -> list[tuple[float, float, dict[str, object]]]:
    """POST ``copies`` identical requests from as many threads, released together; each with when
    it was sent and when it was answered."""
    start = threading.Barrier(copies)

    def post(_: int) -> tuple[float, float, dict[str, object]]:
        with requests.Session() as session:  # a connection each: the copies really overlap
            start.wait(timeout=30)
            sent = time.monotonic()
            response = session.post(url, data=body, timeout=30,
                                    headers={SIGNATURE_HEADER: signature, "Content-Type": "application/json"})
            answered = time.monotonic()
        assert response.status_code == 200
        return sent, answered, json.loads(response.content)

    with ThreadPoolExecutor(max_workers=copies) as pool:
        return list(pool.map(post, range(copies)))


class SlowStockCheck:
    """The shop's ``can_fulfil``, asked before a payment is accepted, checking stock in a slow
    warehouse system: while it thinks, every other copy of the notification arrives."""

    def __init__(self, seconds: float = 0.5) -> None:
        self.seconds = seconds
        self.asked = 0

    def __call__(self, view: object) -> bool:
        self.asked += 1
        time.sleep(self.seconds)
        return True


def test_twenty_identical_notifications_at_once_are_all_answered_success(client, store, sandbox, buyer, caplog):
    stock = SlowStockCheck()
    shop, served = make_shop(client, store, sandbox, can_fulfil=stock)
    try:
        flow = shop.flow
        body, signature = captured_payment_notification(flow, buyer, sandbox, "BURST-1")
        caplog.set_level(logging.INFO)
        caplog.clear()

        posted = post_all_at_once(shop.notification_url, body, signature, COPIES)

        # every copy was sent before the first was answered: all of them were in the shop at once
        assert max(sent for sent, _, _ in posted) < min(answered for _, answered, _ in posted)
        assert stock.asked >= 1
        assert [answer for _, _, answer in posted] == [{"status": "success"}] * COPIES  # as documented
        assert flow.get("BURST-1").state is State.PAID
        payments = [e for e in flow.history("BURST-1") if e.trigger == Trigger.CONFIRM_PAYMENT]
        assert len(payments) == 1, payments
        errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert errors == [], [r.getMessage() for r in errors]
        rejected = [r.getMessage() for r in caplog.records if r.name == "invoicebox_flow.webhook"
                    and r.levelno >= logging.WARNING]
        assert rejected == []
    finally:
        served.close()
