"""An organisation pays by bank transfer days later (audit §3.1), over real HTTP: the invoice is
sent and the order stays unpaid; settling it completes the order with what a payment brings,
notified late; an order that expired meanwhile cannot be settled."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sandbox_calls import LEGAL, ORDERS, PRIVATE, at, course_line, error_of

from invoicebox_flow import jsonutil
from invoicebox_flow.errors import InvalidRequestError, NotFoundError
from invoicebox_flow.sandbox import Buyer, Sandbox
from invoicebox_flow.sandbox.core import SandboxSettings
from invoicebox_flow.sandbox.engine import SandboxEngine

DAY = 24 * 3600



@pytest.fixture
def ib(receiver):
    with Sandbox(notification_url=receiver.url) as sandbox:
        yield sandbox


def test_the_invoice_is_sent_and_the_order_waits_unpaid(ib, api, receiver):
    order = api.create(customer=dict(LEGAL), expirationDate=at(7 * 24))
    invoiced = ib.invoice_bank_transfer(order["id"])
    assert invoiced["status"] == "created" and api.get(order["id"])["status"] == "created"
    assert ib.order_settings(order["id"])["bankTransferRequested"] is True
    [mail] = ib.mailbox(LEGAL["email"])
    assert (mail["kind"], mail["orderId"]) == ("invoice", order["id"]) and "Счёт на оплату" in mail["subject"]
    [event] = [e for e in ib.events(order["id"]) if e["effect"] == "bank_transfer_invoice"]
    assert event["detail"]["mailId"] == mail["id"]
    ib.wait_idle()
    assert receiver.received == [] and ib.documents(order["id"]) == []
    ib.invoice_bank_transfer(order["id"])  # choosing again changes nothing
    assert len(ib.mailbox(LEGAL["email"])) == 1


def test_settling_days_later_pays_the_order_and_notifies_the_shop_then(ib, api, receiver):
    order = api.create(customer=dict(LEGAL), expirationDate=at(7 * 24))
    ib.invoice_bank_transfer(order["id"])
    ib.advance_clock(3 * DAY)
    settled = ib.settle_bank_transfer(order["id"])
    assert settled["status"] == "completed"
    paid_at = datetime.fromisoformat(settled["paidAt"])
    assert paid_at - datetime.fromisoformat(order["createdAt"]) >= timedelta(days=3)
    ib.wait_idle()
    [got] = receiver.received
    sent = jsonutil.loads(got.body)
    assert (sent["id"], sent["status"], sent["paidAt"]) == (order["id"], "completed", settled["paidAt"])
    [payment] = [e for e in ib.events(order["id"]) if e["effect"] == "payment"]
    assert payment["detail"]["instrument"] == "bank_transfer"
    assert ib.order_settings(order["id"])["paymentInstrument"] == "bank_transfer"
    # paid like any order: shipments and refunds follow; a DELETE cannot take a transfer back
    assert api.ship(order).status_code == 200
    assert error_of(api.call("DELETE", f"{ORDERS}/{order['id']}"))["code"] == "wrong_order_status"


def test_bank_transfer_is_for_organisations_only(ib, api):
    order = api.create(customer=dict(PRIVATE))
    with pytest.raises(InvalidRequestError) as refused:
        ib.invoice_bank_transfer(order["id"])
    assert refused.value.code == "wrong_order_status"
    assert ib.order_settings(order["id"])["bankTransferRequested"] is False and ib.mailbox() == []


def test_an_order_that_expired_meanwhile_cannot_be_settled(ib, api, receiver):
    order = api.create(customer=dict(LEGAL), expirationDate=at(2 * 24))
    ib.invoice_bank_transfer(order["id"])
    ib.advance_clock(3 * DAY)
    assert api.get(order["id"])["status"] == "expired"
    with pytest.raises(InvalidRequestError) as refused:
        ib.settle_bank_transfer(order["id"])
    assert refused.value.code == "wrong_order_status"
    ib.wait_idle()
    assert api.get(order["id"])["status"] == "expired" and receiver.received == []


def test_settling_needs_an_invoice_sent_for_transfer_and_a_known_order(ib, api):
    order = api.create(customer=dict(LEGAL))
    with pytest.raises(InvalidRequestError):
        ib.settle_bank_transfer(order["id"])
    with pytest.raises(NotFoundError):
        ib.settle_bank_transfer("no-such-order")
    ib.invoice_bank_transfer(order["id"])
    ib.settle_bank_transfer(order["id"])
    with pytest.raises(InvalidRequestError):
        ib.settle_bank_transfer(order["id"])  # paid already
    assert len([e for e in ib.events(order["id"]) if e["effect"] == "payment"]) == 1


def test_a_paid_order_cannot_switch_to_bank_transfer(ib, api):
    order = api.create(customer=dict(LEGAL))
    Buyer().pay(order["paymentUrl"])
    with pytest.raises(InvalidRequestError):
        ib.invoice_bank_transfer(order["id"])


def test_the_engine_method_for_the_page_takes_the_payers_details():
    """The payment page offers "pay by bank transfer" through ``SandboxEngine.choose_bank_transfer``
    (the page's own HTTP test covers the form); here the method itself, without a server."""
    engine = SandboxEngine(SandboxSettings(token="t" * 32, notification_key="k", merchant_id="m-1"))
    try:
        order = engine.orders.create_order(order_payload_for(engine, {"type": "legal", "name": "ООО «Вектор»",
                                                                      "vatNumber": "7812345675"}))
        chosen = engine.choose_bank_transfer(order["orderContainerId"], {"email": "buh@vector.example", "name": ""})
        assert chosen["customer"]["email"] == "buh@vector.example" and chosen["customer"]["name"] == "ООО «Вектор»"
        assert chosen["status"] == "created"
        assert [m["to"] for m in engine.controls.snapshot("mailbox")] == ["buh@vector.example"]
        events = engine.controls.snapshot("events", order_id=order["id"])
        assert [(e["effect"], e["detail"].get("action")) for e in events] == [
            ("bank_transfer_invoice", None), ("page_interaction", "bank_transfer")]
        with pytest.raises(NotFoundError):
            engine.choose_bank_transfer("no-such-container")
        private = engine.orders.create_order(order_payload_for(engine, dict(PRIVATE)))
        with pytest.raises(InvalidRequestError):
            engine.choose_bank_transfer(private["orderContainerId"], {"email": "x@example.org"})
        assert engine.orders.get_order(private["id"])["customer"] == PRIVATE  # nothing kept from the refusal
    finally:
        engine.stop()


def order_payload_for(engine: SandboxEngine, customer: dict) -> dict:
    line = course_line(1)
    return {"merchantId": engine.settings.merchant_id, "merchantOrderId": f"B-{len(engine.state.orders)}",
            "description": "Курс", "amount": line["totalAmount"], "vatAmount": line["totalVatAmount"],
            "currencyId": "RUB", "expirationDate": at(24), "basketItems": [line], "customer": customer}
