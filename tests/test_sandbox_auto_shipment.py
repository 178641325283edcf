"""InvoiceBox ships an online service itself right after payment (DOCS merchant/schema.md: "Если
услуга оказывается онлайн, отгрузка по заказу может быть установлена автоматически"), behind
``Sandbox(auto_shipment=True)`` or one order's ``autoShipment`` setting, over real HTTP."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from sandbox_calls import LEGAL, Api, book_line, course_line, error_of

from invoicebox_flow.sandbox import Buyer, Sandbox
from invoicebox_flow.sandbox.testing import NotificationReceiver


@pytest.fixture
def ib():
    with Sandbox(auto_shipment=True) as sandbox:
        yield sandbox


def test_a_paid_order_of_services_is_shipped_by_invoicebox_with_the_full_settlement_receipt(ib, api):
    order = api.paid()
    ib.wait_idle()
    [shipment] = api.shipments(order["id"])
    assert (shipment["orderId"], shipment["amount"], shipment["vatAmount"]) == (order["id"], D("2400.00"), D("400.00"))
    assert [(line["sku"], line["quantity"]) for line in shipment["basketItems"]] == [("COURSE-PY-90", 2)]
    receipts = ib.receipts(order["id"])
    assert [r["type"] for r in receipts] == ["prepayment_full", "full_settlement"]
    assert receipts[1]["shipmentId"] == shipment["id"]
    [event] = [e for e in ib.events(order["id"]) if e["effect"] == "automatic_shipment"]
    assert event["detail"] == {"shipmentId": shipment["id"]}
    assert [r["endpoint"] for r in ib.requests() if r["method"] == "POST"] == ["create_order"]  # the shop asked for nothing


def test_the_shop_then_has_nothing_left_to_ship(ib, api):
    order = api.paid()
    ib.wait_idle()
    for lines in (None, [course_line(1)]):
        refused = api.ship(order, lines)
        assert refused.status_code == 422 and error_of(refused)["code"] == "wrong_shipment_amount"
    assert len(api.shipments(order["id"])) == 1


def test_a_legal_payer_gets_the_documents_of_the_automatic_shipment(ib, api):
    order = api.paid(customer=dict(LEGAL))
    ib.wait_idle()
    [shipment] = api.shipments(order["id"])
    assert [(d["kind"], d["shipmentId"]) for d in ib.documents(order["id"])] == [
        ("transfer_report", shipment["id"]), ("act", shipment["id"])]
    assert ib.receipts(order["id"]) == []


def test_an_order_with_goods_is_left_for_the_shop_to_ship(ib, api):
    order = api.paid(basketItems=[course_line(1), book_line(1)])
    ib.wait_idle()
    assert api.shipments(order["id"]) == []
    assert api.ship(order).status_code == 200


def test_the_payment_notification_finds_the_shipment_already_registered():
    with NotificationReceiver() as receiver, Sandbox(auto_shipment=True, notification_url=receiver.url) as ib:
        order = Api(ib).paid()
        [notified] = receiver.wait_for(1)
        ib.wait_idle()
        events = ib.events(order["id"])
        receipts = [(e["receipt"], e["seq"]) for e in events if e["effect"] == "receipt_registered"]
        [shipped] = [e for e in events if e["effect"] == "automatic_shipment"]
        assert [kind for kind, _ in receipts] == ["prepayment_full", "full_settlement"]
        assert receipts[0][1] < shipped["seq"] and shipped["at"] <= notified.at


def test_one_order_can_be_set_to_ship_automatically():
    with Sandbox() as ib:
        api = Api(ib)
        automatic, manual = api.create(), api.create()
        assert ib.set_order_settings(automatic["id"], auto_shipment=True)["autoShipment"] is True
        for order in (automatic, manual):
            Buyer().pay(order["paymentUrl"])
        ib.wait_idle()
        assert [len(api.shipments(o["id"])) for o in (automatic, manual)] == [1, 0]


def test_one_order_can_be_kept_from_shipping_automatically(ib, api):
    order = api.create()
    ib.set_order_settings(order["id"], auto_shipment=False)
    Buyer().pay(order["paymentUrl"])
    ib.wait_idle()
    assert api.shipments(order["id"]) == []
