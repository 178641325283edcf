"""Signed notifications from the sandbox: exact bytes and signature, retries on
``out_of_service`` (at most 10), final answers, ``shipping_unavailable`` and the reversal it
allows, the duplicate / reorder / delay faults, redelivery and the monitoring test notification."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest
import requests

from invoicebox_flow import jsonutil
from invoicebox_flow.errors import InvalidRequestError, NotFoundError
from invoicebox_flow.sandbox import TEST_NOTIFICATION_ID, Buyer, Sandbox
from invoicebox_flow.sandbox.testing import NotificationReceiver, error_answer, out_of_service

FAST = (0.01, 0.01, 0.02, 0.02, 0.02, 0.02, 0.02, 0.02, 0.02, 0.02)
LINE = {"sku": "TICKET-1", "name": "Билет на концерт", "measure": "шт.", "measureCode": "796", "quantity": 1,
        "amount": D("3000.00"), "amountWoVat": D("2500.00"), "totalAmount": D("3000.00"),
        "totalVatAmount": D("500.00"), "vatCode": "RUS_VAT20", "type": "service", "paymentType": "full_prepayment"}



@pytest.fixture
def ib(receiver):
    with Sandbox(notification_url=receiver.url, notification_retry_delays=FAST) as sandbox:
        yield sandbox


def call(ib: Sandbox, method: str, path: str, payload=None) -> requests.Response:
    return requests.request(method, f"{ib.url}/v3{path}",
                            data=jsonutil.dumps(payload).encode() if payload is not None else None,
                            headers={"Authorization": f"Bearer {ib.token}", "Content-Type": "application/json"})


def unpaid_order(ib: Sandbox, **overrides) -> dict:
    payload = {"merchantId": ib.merchant_id, "merchantOrderId": f"SHOP-{uuid.uuid4().hex[:8]}",
               "description": "Билет", "amount": D("3000.00"), "vatAmount": D("500.00"), "currencyId": "RUB",
               "expirationDate": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
               "basketItems": [dict(LINE)], "customer": {"type": "private", "email": "ivan@example.org"}}
    payload.update(overrides)
    response = call(ib, "POST", "/billing/api/order/order", payload)
    assert response.status_code == 200, response.text
    return jsonutil.loads(response.content)["data"]


def paid_order(ib: Sandbox, **overrides) -> dict:
    order = unpaid_order(ib, **overrides)
    Buyer().pay(order["paymentUrl"])
    return order


def signed_by(key: str, body: bytes) -> str:
    return hmac.new(key.encode("utf-8"), body, hashlib.sha1).hexdigest()


def test_the_signature_is_over_the_exact_bytes_sent(ib, receiver):
    order = paid_order(ib)
    ib.wait_idle()
    [got] = receiver.received
    assert got.signature == signed_by(ib.notification_key, got.body)
    reserialised = json.dumps(json.loads(got.body), ensure_ascii=False, separators=(",", ":")).encode()
    assert reserialised != got.body and signed_by(ib.notification_key, reserialised) != got.signature
    assert jsonutil.loads(got.body)["id"] == order["id"]


def test_out_of_service_is_retried_until_success(ib, receiver):
    receiver.answer_with(out_of_service(), out_of_service(), (500, "busy"), (200, "not json"), error_answer(None))
    order = paid_order(ib)
    ib.wait_idle()
    attempts = ib.notifications(order["id"])
    assert [a["attempt"] for a in attempts] == [1, 2, 3, 4, 5, 6]
    assert [a["delivered"] for a in attempts] == [False] * 5 + [True]
    assert [a["status"] for a in attempts] == [200, 200, 500, 200, 200, 200]
    assert [a["code"] for a in attempts] == ["out_of_service", "out_of_service", None, None, "out_of_service", None]
    assert len({r.body for r in receiver.received}) == 1
    assert len({r.signature for r in receiver.received}) == 1


def test_at_most_ten_retries(ib, receiver):
    receiver.answer_with(default=out_of_service())
    order = paid_order(ib)
    ib.wait_idle()
    attempts = ib.notifications(order["id"])
    assert len(attempts) == 11 == len(receiver.received)
    assert not any(a["delivered"] for a in attempts)
    assert [a["willRetry"] for a in attempts] == [True] * 10 + [False]


def test_an_unreachable_shop_is_retried_too():
    with Sandbox(notification_url="http://127.0.0.1:9/closed", notification_retry_delays=FAST[:2]) as ib:
        order = paid_order(ib)
        ib.wait_idle()
        attempts = ib.notifications(order["id"])
        assert [(a["attempt"], a["status"], a["delivered"]) for a in attempts] == [(1, None, False), (2, None, False), (3, None, False)]
        assert all(a["error"] for a in attempts)


@pytest.mark.parametrize("code", ["order_wrong_amount", "signature_error", "order_not_found", "order_already_paid"])
def test_other_error_codes_are_final(ib, receiver, code):
    receiver.answer_with(error_answer(code))
    order = paid_order(ib)
    ib.wait_idle()
    [attempt] = ib.notifications(order["id"])
    assert (attempt["delivered"], attempt["code"], attempt["willRetry"]) == (False, code, False)
    assert "shippingUnavailable" not in ib.order(order["id"])


def test_shipping_unavailable_lets_the_shop_cancel_the_paid_order(ib, receiver):
    receiver.answer_with(error_answer("shipping_unavailable"))
    order = paid_order(ib)
    ib.wait_idle()
    assert ib.order(order["id"])["shippingUnavailable"] is True
    response = call(ib, "DELETE", f"/billing/api/order/order/{order['id']}")
    assert response.status_code == 200 and jsonutil.loads(response.content)["data"]["status"] == "canceled"
    ib.wait_idle()
    returned = [e for e in ib.events(order["id"]) if e["effect"] == "money_returned"]
    assert [(e["detail"]["reason"], e["detail"]["amount"]) for e in returned] == [("reversal", D("3000.00"))]
    assert [r["type"] for r in ib.receipts(order["id"])] == ["prepayment_full", "refund"]


def test_a_shipped_order_is_not_reversed_even_when_marked(ib, receiver):
    receiver.answer_with(error_answer("shipping_unavailable"))
    order = paid_order(ib)
    ib.wait_idle()
    assert call(ib, "POST", "/billing/api/order/shipment", {"orderId": order["id"], "basketItems": [LINE]}).status_code == 200
    response = call(ib, "DELETE", f"/billing/api/order/order/{order['id']}")
    assert response.status_code == 422
    assert jsonutil.loads(response.content)["error"]["code"] == "wrong_order_status"


def test_the_order_notification_url_wins_over_the_default(ib, receiver):
    with NotificationReceiver() as own:
        order = paid_order(ib, notificationUrl=own.url)
        ib.wait_idle()
        assert len(own.received) == 1 and receiver.received == []
        assert ib.notifications(order["id"])[0]["url"] == own.url


def test_without_any_notification_url_nothing_is_sent():
    with Sandbox() as ib:
        order = paid_order(ib)
        ib.wait_idle()
        assert ib.notifications() == []
        assert [r["type"] for r in ib.receipts(order["id"])] == ["prepayment_full"]


# --- notification faults ------------------------------------------------------------------------------


def test_duplicate_delivers_the_same_bytes_twice(ib, receiver):
    ib.inject_notification_fault("duplicate")
    order = paid_order(ib)
    ib.wait_idle()
    assert len(receiver.received) == 2
    first, second = receiver.received
    assert first.body == second.body and first.signature == second.signature
    assert {a["notificationId"] for a in ib.notifications(order["id"])} == {ib.notifications(order["id"])[0]["notificationId"]}


def test_reorder_delivers_a_notification_after_the_next_one(ib, receiver):
    ib.inject_notification_fault("reorder")
    first = paid_order(ib)
    ib.wait_idle()
    assert receiver.received == []  # held back
    second = paid_order(ib)
    ib.wait_idle()
    assert [jsonutil.loads(r.body)["id"] for r in receiver.received] == [second["id"], first["id"]]


def test_clearing_faults_releases_a_held_notification(ib, receiver):
    ib.inject_notification_fault("reorder")
    order = paid_order(ib)
    ib.wait_idle()
    ib.clear_faults()
    ib.wait_idle()
    assert [jsonutil.loads(r.body)["id"] for r in receiver.received] == [order["id"]]


def test_delay_lets_a_later_notification_overtake(ib, receiver):
    ib.inject_notification_fault("delay", delay=1.5)
    late = paid_order(ib)
    early = paid_order(ib)
    ib.wait_idle()
    assert [jsonutil.loads(r.body)["id"] for r in receiver.received] == [early["id"], late["id"]]


def test_unknown_notification_faults_are_refused(ib):
    with pytest.raises(InvalidRequestError):
        ib.inject_notification_fault("explode")


# --- redelivery and the test notification -------------------------------------------------------------


def test_redeliver_sends_the_payment_notification_again(ib, receiver):
    order = paid_order(ib)
    ib.wait_idle()
    ib.redeliver(order["id"])
    ib.wait_idle()
    assert len(receiver.received) == 2 and receiver.received[0].body == receiver.received[1].body
    assert [a["attempt"] for a in ib.notifications(order["id"])] == [1, 2]


def test_redeliver_needs_a_paid_order(ib):
    unpaid = unpaid_order(ib, customer={})
    with pytest.raises(InvalidRequestError) as refused:
        ib.redeliver(unpaid["id"])
    assert refused.value.code == "wrong_order_status"
    with pytest.raises(NotFoundError):
        ib.redeliver(str(uuid.uuid4()))


def test_the_monitoring_test_notification(ib, receiver):
    record = ib.send_test_notification()
    assert record["delivered"] is True and record["kind"] == "test"
    [got] = receiver.received
    body = jsonutil.loads(got.body)
    assert (body["id"], body["merchantOrderId"], body["merchantId"]) == (TEST_NOTIFICATION_ID, "", ib.merchant_id)
    assert got.signature == signed_by(ib.notification_key, got.body) == record["signature"]
    assert ib.orders() == []
    assert [n["orderId"] for n in ib.notifications()] == [TEST_NOTIFICATION_ID]


def test_the_test_notification_goes_to_a_given_url_and_reports_failure(ib, receiver):
    with NotificationReceiver(answers=[error_answer("signature_error")]) as other:
        record = ib.send_test_notification(other.url)
        assert (record["delivered"], record["code"], record["url"]) == (False, "signature_error", other.url)
        assert len(other.received) == 1 and receiver.received == []


def test_a_test_notification_needs_some_url():
    with Sandbox() as ib, pytest.raises(InvalidRequestError):
        ib.send_test_notification()



# --- notifications of canceled and expired orders ---------------------------------------------------------


@pytest.fixture
def notifying(receiver):
    with Sandbox(notification_url=receiver.url, notification_retry_delays=FAST,
                 status_notifications=("canceled", "expired")) as sandbox:
        yield sandbox


def test_a_canceled_order_is_notified_signed_and_retried_like_a_payment(notifying, receiver):
    receiver.answer_with(out_of_service())
    order = unpaid_order(notifying)
    assert call(notifying, "DELETE", f"/billing/api/order/order/{order['id']}").status_code == 200
    notifying.wait_idle()
    first, second = receiver.received
    assert first.body == second.body and first.signature == signed_by(notifying.notification_key, first.body)
    sent = jsonutil.loads(first.body)
    assert (sent["id"], sent["status"], sent["merchantOrderId"]) == (order["id"], "canceled", order["merchantOrderId"])
    attempts = notifying.notifications(order["id"])
    assert [(a["kind"], a["attempt"], a["delivered"]) for a in attempts] == [("status", 1, False), ("status", 2, True)]


def test_an_expired_order_is_notified_when_the_clock_passes_its_expiration_date(notifying, receiver):
    order = unpaid_order(notifying, expirationDate=(datetime.now(UTC) + timedelta(hours=1)).isoformat())
    notifying.advance_clock(2 * 3600)
    notifying.wait_idle()
    [got] = receiver.received
    assert (jsonutil.loads(got.body)["id"], jsonutil.loads(got.body)["status"]) == (order["id"], "expired")


def test_a_reversed_paid_order_is_notified_paid_then_canceled(notifying, receiver):
    receiver.answer_with(error_answer("shipping_unavailable"))
    order = paid_order(notifying)
    notifying.wait_idle()
    assert call(notifying, "DELETE", f"/billing/api/order/order/{order['id']}").status_code == 200
    notifying.wait_idle()
    assert [jsonutil.loads(r.body)["status"] for r in receiver.received] == ["completed", "canceled"]


def test_only_the_chosen_statuses_are_notified(receiver):
    with Sandbox(notification_url=receiver.url, status_notifications=("canceled",)) as ib:
        expiring = unpaid_order(ib, expirationDate=(datetime.now(UTC) + timedelta(hours=1)).isoformat())
        canceled = unpaid_order(ib)
        call(ib, "DELETE", f"/billing/api/order/order/{canceled['id']}")
        ib.advance_clock(2 * 3600)
        ib.wait_idle()
        assert ib.order(expiring["id"])["status"] == "expired"
        assert [jsonutil.loads(r.body)["id"] for r in receiver.received] == [canceled["id"]]


def test_by_default_status_changes_are_not_notified(ib, receiver):
    order = unpaid_order(ib)
    call(ib, "DELETE", f"/billing/api/order/order/{order['id']}")
    ib.wait_idle()
    assert receiver.received == [] and ib.notifications() == []


def test_unknown_statuses_to_notify_are_refused():
    with pytest.raises(ValueError):
        Sandbox(status_notifications=("completed",))


# --- a notification lost for good (drift) -------------------------------------------------------------------


def test_a_dropped_notification_never_arrives_and_its_attempts_say_so(ib, receiver):
    ib.inject_notification_fault("drop")
    order = paid_order(ib)
    ib.wait_idle()
    assert receiver.received == []
    attempts = ib.notifications(order["id"])
    assert [a["attempt"] for a in attempts] == list(range(1, 12))
    assert not any(a["delivered"] for a in attempts)
    assert [a["willRetry"] for a in attempts] == [True] * 10 + [False]
    assert all(a["status"] is None and "never reached the shop" in a["error"] for a in attempts)
    [drift] = [e for e in ib.events(order["id"]) if e["effect"] == "drift"]
    assert drift["detail"]["action"] == "lose_notification" and drift["detail"]["attempts"] == 11
    assert drift["detail"]["notificationId"] == attempts[0]["notificationId"]
    # only that one is lost: the test can still hand the same bytes over
    ib.redeliver(order["id"])
    ib.wait_idle()
    [got] = receiver.received
    assert got.body.decode() == attempts[0]["body"]
