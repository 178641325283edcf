"""Drift between shop and InvoiceBox, for reconciliation tests, over real HTTP: orders canceled
or expired at InvoiceBox without a word to the shop, refunds and shipments made by hand in the
personal account, an amount changed at InvoiceBox. Each shows in the API as InvoiceBox would
show it, comes with no API call from the shop and no notification, and is journaled as a
``drift`` event. (Losing a notification for good is tested with the notifications.)"""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from sandbox_calls import LEGAL, book_line, course_line, error_of

from invoicebox_flow.errors import InvalidRequestError, NotFoundError
from invoicebox_flow.sandbox import Buyer, Sandbox


@pytest.fixture
def ib(receiver):
    # status notifications on: drift must stay silent even so
    with Sandbox(notification_url=receiver.url, status_notifications=("canceled", "expired")) as sandbox:
        yield sandbox


def drift_events(ib: Sandbox, order_id: str) -> list[dict]:
    return [e["detail"] for e in ib.events(order_id) if e["effect"] == "drift"]


def shop_calls(ib: Sandbox) -> list[str]:
    return [r["endpoint"] for r in ib.requests()]


@pytest.mark.parametrize("control, status", [("drift_cancel_order", "canceled"), ("drift_expire_order", "expired")])
def test_an_unpaid_order_closed_at_invoicebox_tells_the_shop_nothing(ib, api, receiver, control, status):
    order = api.create()
    assert getattr(ib, control)(order["id"])["status"] == status
    assert api.get(order["id"])["status"] == status
    ib.wait_idle()
    assert receiver.received == [] and ib.notifications() == []
    assert drift_events(ib, order["id"]) == [{"action": control.removeprefix("drift_"), "status": status}]
    assert shop_calls(ib) == ["create_order", "get_order"]


def test_a_paid_order_cannot_be_closed_that_way(ib, api):
    order = api.paid()
    for control in (ib.drift_cancel_order, ib.drift_expire_order):
        with pytest.raises(InvalidRequestError) as refused:
            control(order["id"])
        assert refused.value.code == "wrong_order_status"
    assert api.get(order["id"])["status"] == "completed" and drift_events(ib, order["id"]) == []


def test_a_refund_by_hand_returns_the_money_and_issues_the_receipt(ib, api):
    order = api.paid()
    ib.wait_idle()
    refund = ib.drift_refund(order["id"], [course_line(1)])
    assert refund["status"] == "completed" and refund["amount"] == D("1200.00")
    assert refund["merchantOrderId"].startswith("manual-")
    [listed] = api.refunds(order["id"])
    assert (listed["id"], listed["status"]) == (refund["id"], "completed")
    returned = [e["detail"] for e in ib.events(order["id"]) if e["effect"] == "money_returned"]
    assert returned == [{"amount": D("1200.00"), "refundId": refund["id"]}]
    assert [r["type"] for r in ib.receipts(order["id"])] == ["prepayment_full", "refund"]
    assert drift_events(ib, order["id"]) == [{"action": "refund", "refundId": refund["id"], "amount": D("1200.00")}]
    assert [(i["quantity"], i["availableAmount"]) for i in api.refundable(order["id"])] == [(1, D("1200.00"))]
    assert "create_refund" not in shop_calls(ib)


def test_a_refund_by_hand_defaults_to_everything_left_and_gives_a_legal_payer_documents(ib, api):
    order = api.paid(customer=dict(LEGAL), basketItems=[course_line(2), book_line(1)])
    ib.drift_refund(order["id"], [course_line(1)])
    rest = ib.drift_refund(order["id"], description="Возврат по претензии", merchant_order_id="LK-77")
    assert (rest["amount"], rest["description"], rest["merchantOrderId"]) == (D("2190.00"), "Возврат по претензии", "LK-77")
    assert sorted((line["sku"], line["quantity"]) for line in rest["basketItems"]) == [("BOOK-1", 1), ("COURSE-PY-90", 1)]
    kinds = [d["kind"] for d in ib.documents(order["id"]) if d.get("refundId") == rest["id"]]
    assert kinds == ["refund_transfer_report", "refund_act", "refund_torg12"]
    assert api.refundable(order["id"]) == []
    with pytest.raises(InvalidRequestError) as nothing_left:
        ib.drift_refund(order["id"])
    assert nothing_left.value.code == "wrong_refund_amount"


def test_a_refund_by_hand_obeys_the_refund_rules(ib, api):
    unpaid = api.create()
    with pytest.raises(InvalidRequestError):
        ib.drift_refund(unpaid["id"])
    order = api.paid()
    with pytest.raises(InvalidRequestError) as too_much:
        ib.drift_refund(order["id"], [course_line(3)])
    assert too_much.value.code == "wrong_refund_amount"
    with pytest.raises(NotFoundError):
        ib.drift_refund("no-such-order")
    assert ib.refunds() == []


def test_a_shipment_by_hand_is_listed_and_gets_its_receipt(ib, api):
    order = api.paid()
    ib.wait_idle()
    shipment = ib.drift_shipment(order["id"], [course_line(1)])
    [listed] = api.shipments(order["id"])
    assert (listed["id"], listed["amount"]) == (shipment["id"], D("1200.00"))
    assert [(r["type"], r.get("shipmentId")) for r in ib.receipts(order["id"])][1:] == [("full_settlement", shipment["id"])]
    assert drift_events(ib, order["id"]) == [{"action": "shipment", "shipmentId": shipment["id"], "amount": D("1200.00")}]
    # the shop may still ship the rest, not more
    assert api.ship(order, [course_line(1)]).status_code == 200
    assert error_of(api.ship(order, [course_line(1)]))["code"] == "wrong_shipment_amount"


def test_a_shipment_by_hand_of_the_whole_order_gives_a_legal_payer_documents(ib, api):
    order = api.paid(customer=dict(LEGAL))
    shipment = ib.drift_shipment(order["id"])
    assert shipment["amount"] == D("2400.00")
    assert [d["kind"] for d in ib.documents(order["id"])] == ["transfer_report", "act"]
    with pytest.raises(InvalidRequestError):
        ib.drift_shipment(api.create()["id"])  # unpaid


def test_the_amount_changed_at_invoicebox_is_what_the_api_answers(ib, api):
    order = api.create()
    changed = ib.drift_change_amount(order["id"], D("2000.00"), D("333.33"))
    assert (changed["amount"], changed["vatAmount"]) == (D("2000.00"), D("333.33"))
    assert api.get(order["id"])["amount"] == D("2000.00")
    assert api.get(order["id"])["basketItems"] == order["basketItems"]
    assert drift_events(ib, order["id"]) == [{
        "action": "change_amount", "before": {"amount": D("2400.00"), "vatAmount": D("400.00")},
        "after": {"amount": D("2000.00"), "vatAmount": D("333.33")}}]
    assert ib.drift_change_amount(order["id"], "1999.99")["vatAmount"] == D("333.33")  # VAT left alone


def test_a_paid_amount_changed_at_invoicebox_is_what_the_payment_notification_says(ib, api, receiver):
    order = api.create()
    ib.drift_change_amount(order["id"], D("2300.00"))
    Buyer().pay(order["paymentUrl"])
    ib.wait_idle()
    [got] = receiver.received
    assert got.json()["amount"] == D("2300.00")


@pytest.mark.parametrize("amount", ["-1", "lots", None])
def test_a_wrong_amount_is_refused_and_changes_nothing(ib, api, amount):
    order = api.create()
    with pytest.raises(InvalidRequestError) as refused:
        ib.drift_change_amount(order["id"], amount)
    assert refused.value.code == "validation"
    assert api.get(order["id"])["amount"] == D("2400.00") and drift_events(ib, order["id"]) == []


def test_wrong_basket_items_are_refused(ib, api):
    order = api.paid()
    for lines in ([], ["COURSE-PY-90"]):
        with pytest.raises(InvalidRequestError):
            ib.drift_shipment(order["id"], lines)
    assert ib.shipments() == []
