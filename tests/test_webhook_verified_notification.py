"""What the webhook hands its sink: the fields a payment is decided on, read at once, and the
whole order only when asked for (``VerifiedNotification``)."""

from __future__ import annotations

from decimal import Decimal

import db_fixtures
import pytest
from helpers import paid_notification

from invoicebox_flow import jsonutil
from invoicebox_flow.errors import ValidationError
from invoicebox_flow.flows import State
from invoicebox_flow.models import Order
from invoicebox_flow.signature import SIGNATURE_HEADER, sign
from invoicebox_flow.webhook import VerifiedNotification

pytestmark = pytest.mark.every_backend
db_url, store = db_fixtures.db_url, db_fixtures.store

SUCCESS = b'{"status":"success"}'


def resigned(flow, data: dict) -> tuple[bytes, dict[str, str]]:
    body = jsonutil.dumps(data).encode()
    return body, {"Content-Type": "application/json", SIGNATURE_HEADER: sign(body, flow.notification_key)}


def test_a_payment_whose_basket_cannot_be_read_still_pays_the_order_once(flow, store, buyer, receiver):
    body, _ = paid_notification(flow, buyer, receiver, "VN-1")
    data = jsonutil.loads(body)
    data["basketItems"] = [{"sku": {"not": "a string"}, "quantity": "many"}]
    data["customer"] = 42
    with pytest.raises(ValidationError):
        Order.from_json(data)  # not an order the models can read...

    mangled = resigned(flow, data)
    assert flow.handle_notification(*mangled)[2] == SUCCESS  # ...but its payment is

    assert flow.get("VN-1").state is State.PAID
    assert flow.get("VN-1").paid_amount == Decimal(str(data["amount"]))
    assert flow.handle_notification(*mangled)[2] == SUCCESS  # a replay changes nothing
    assert [e.trigger for e in store.journal("VN-1")].count("confirm_payment") == 1


def test_a_payment_that_does_not_say_its_amount_is_a_wrong_amount_and_changes_nothing(flow, store, buyer, receiver):
    body, _ = paid_notification(flow, buyer, receiver, "VN-2")
    data = jsonutil.loads(body)
    del data["amount"]
    before = store.get("VN-2")

    answer = jsonutil.loads(flow.handle_notification(*resigned(flow, data))[2])

    assert answer == {"status": "error", "code": "order_wrong_amount"}
    assert store.get("VN-2") == before


def test_the_deciding_fields_are_read_as_the_order_reads_them_and_the_order_only_on_demand(flow, buyer, receiver):
    body, _ = paid_notification(flow, buyer, receiver, "VN-3")
    data = jsonutil.loads(body)

    notification = VerifiedNotification.read(data)
    order = Order.from_json(data)

    assert (notification.id, notification.status, notification.merchant_id, notification.merchant_order_id,
            notification.amount, notification.currency_id, notification.paid_at) == (
        order.id, order.status, order.merchant_id, order.merchant_order_id, order.amount, order.currency_id,
        order.paid_at)
    assert notification.order == order
    assert notification.order is notification.order  # parsed once

    data["basketItems"] = "not a basket"
    unreadable = VerifiedNotification.read(data)  # reading it does not touch the basket...
    with pytest.raises(ValidationError):
        _ = unreadable.order  # ...asking for the whole order does


@pytest.mark.parametrize(("field", "value", "named"), [
    ("amount", "twelve", "amount"), ("paidAt", "yesterday", "paidAt"), ("id", 7, None), ("status", None, None),
    ("merchantOrderId", ["VN-4"], None)])
def test_a_deciding_field_that_cannot_be_read_is_a_typed_error(field, value, named):
    data = {"id": "0190f3a2-5c1e-7d4b-9a2f-3b8c1d0e4f57", "status": "completed", "merchantId": "m",
            "merchantOrderId": "VN-4", "amount": "10.00", "currencyId": "RUB", field: value}
    with pytest.raises(ValueError) as raised:
        VerifiedNotification.read(data)
    if named is not None:
        assert isinstance(raised.value, ValidationError)
        assert raised.value.fields[0]["name"] == named
