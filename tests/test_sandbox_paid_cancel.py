"""DELETE of a paid order, over real HTTP, by how the buyer paid (DOCS order/delete.md and
notification/shipping-unavailable.md): a guarantee payment without a shipment is reversed; a
pre-authorised one only after the shop answered ``shipping_unavailable``; an ordinary card
payment never ("иначе ошибка": refund it instead)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
import requests
from sandbox_calls import ORDERS, Api, body, error_of

from invoicebox_flow.errors import InvalidRequestError
from invoicebox_flow.sandbox import Buyer, Sandbox
from invoicebox_flow.sandbox.testing import error_answer


@pytest.fixture
def ib(receiver):
    with Sandbox(notification_url=receiver.url) as sandbox:
        yield sandbox


def paid_with(ib: Sandbox, api: Api, instrument: str) -> dict:
    order = api.create()
    assert ib.set_order_settings(order["id"], payment_instrument=instrument)["paymentInstrument"] == instrument
    Buyer().pay(order["paymentUrl"])
    ib.wait_idle()
    return order


def delete(api: Api, order: dict):
    return api.call("DELETE", f"{ORDERS}/{order['id']}")


def reversals(ib: Sandbox, order: dict) -> list[D]:
    return [e["detail"]["amount"] for e in ib.events(order["id"])
            if e["effect"] == "money_returned" and e["detail"].get("reason") == "reversal"]


@pytest.mark.parametrize("instrument, refused_by_shop, reversed_", [
    ("guarantee", False, True),
    ("guarantee", True, True),
    ("preauthorized", True, True),
    ("preauthorized", False, False),
    ("card", True, False),
    ("card", False, False),
])
def test_delete_reverses_a_paid_order_only_as_its_instrument_allows(ib, api, receiver, instrument, refused_by_shop,
                                                                    reversed_):
    if refused_by_shop:
        receiver.answer_with(error_answer("shipping_unavailable"))
    order = paid_with(ib, api, instrument)
    response = delete(api, order)
    ib.wait_idle()
    if reversed_:
        assert response.status_code == 200 and body(response)["data"]["status"] == "canceled"
        assert reversals(ib, order) == [D("2400.00")]
        assert [r["type"] for r in ib.receipts(order["id"])] == ["prepayment_full", "refund"]
    else:
        assert response.status_code == 422 and error_of(response)["code"] == "wrong_order_status"
        assert api.get(order["id"])["status"] == "completed" and reversals(ib, order) == []


def test_a_guarantee_payment_is_not_reversed_once_shipped(ib, api):
    order = paid_with(ib, api, "guarantee")
    assert api.ship(order).status_code == 200
    assert error_of(delete(api, order))["code"] == "wrong_order_status"


def test_the_sandbox_wide_instrument_and_the_default(receiver):
    with Sandbox(payment_instrument="card") as ib:
        order = Api(ib).create()
        assert ib.order_settings(order["id"])["paymentInstrument"] == "card"
    with Sandbox() as ib:
        order = Api(ib).create()
        assert ib.order_settings(order["id"]) == {
            "orderId": order["id"], "paymentInstrument": "preauthorized", "autoShipment": False,
            "bankTransferRequested": False, "shippingUnavailable": False}


def test_unknown_instruments_and_settings_are_refused(ib, api):
    order = api.create()
    with pytest.raises(InvalidRequestError):
        ib.set_order_settings(order["id"], payment_instrument="cash")
    unknown = requests.post(f"{ib.url}/_sandbox/orders/{order['id']}/settings", json={"colour": "red"})
    assert unknown.status_code == 422 and error_of(unknown)["code"] == "validation"
    assert ib.order_settings(order["id"])["paymentInstrument"] == "preauthorized"
    with pytest.raises(ValueError):
        Sandbox(payment_instrument="bank_transfer")
