"""Notification bytes shaped like the captured production body (the InvoiceBox PHP SDK's
``examples/payment-notification.php``), behind ``Sandbox(notification_shape="production")``:
the same fields in the same order, PHP-style numbers, no ``paidAt``, ``customer.countryId``."""

from __future__ import annotations

import hashlib
import hmac
import re
from decimal import Decimal as D

import pytest
from sandbox_calls import Api, course_line

from invoicebox_flow import jsonutil
from invoicebox_flow.sandbox import Buyer, Sandbox

# The SDK's example body, byte for byte (1028 bytes, signed with key "test" as 4731e2fb…89e8).
SDK_BODY = (
    r'{"id":"0188d934-85f8-f872-2ac6-ad202d71b985","description":"Проездной билет","currencyId":"RUB",'
    r'"amount":2790.67,"vatAmount":0,"basketItems":[{"sku":"0123456789","name":"Black Edition","measure":"шт",'
    r'"measureCode":"796","quantity":1,"amount":2790.67,"amountWoVat":2790.67,"totalAmount":2790.67,'
    r'"totalVatAmount":0,"vatCode":"VATNONE","type":"commodity","paymentType":"full_prepayment"}],'
    r'"orderContainerId":"0188d934-85bd-2e43-9057-53275f15a1e2","merchantId":"ffffffff-ffff-ffff-ffff-ffffffffffff",'
    r'"status":"success","subtype":"order","createdAt":"2023-06-20T14:27:58+00:00","merchantOrderId":"55626",'
    r'"merchantOrderIdVisible":"55626","expirationDate":"2023-06-20T21:00:00+00:00","fileIds":[],'
    r'"paymentUrl":"https:\/\/pay.invoicebox.ru\/order\/0188d934-85bd-2e43-9057-53275f15a1e2",'
    r'"customer":{"type":"legal","name":"OOO TEST","phone":"78121111111","email":"test@test.test",'
    r'"vatNumber":"7804445210","countryId":"RUS","registrationAddress":"123321, Колотушкина, 1, 1"},'
    r'"languageId":"ru","processable":true}'
).encode()
SDK_KEY, SDK_SIGNATURE = "test", "4731e2fb446ba519fd9d8798a1a0873f073189e8"
SDK_MERCHANT = "ffffffff-ffff-ffff-ffff-ffffffffffff"
SDK_CONTAINER = "0188d934-85bd-2e43-9057-53275f15a1e2"

TICKET = {"sku": "0123456789", "name": "Black Edition", "measure": "шт", "measureCode": "796", "quantity": 1,
          "amount": D("2790.67"), "amountWoVat": D("2790.67"), "totalAmount": D("2790.67"),
          "totalVatAmount": D("0.00"), "vatCode": "VATNONE", "type": "commodity", "paymentType": "full_prepayment"}
# The order's customer as a shop would send it: another field order, no countryId.
BUYER = {"email": "test@test.test", "type": "legal", "name": "OOO TEST", "phone": "78121111111",
         "vatNumber": "7804445210", "registrationAddress": "123321, Колотушкина, 1, 1"}



def signed(key: str, body: bytes) -> str:
    return hmac.new(key.encode(), body, hashlib.sha1).hexdigest()


def test_the_sdk_body_is_what_its_key_signs():
    assert len(SDK_BODY) == 1028 and signed(SDK_KEY, SDK_BODY) == SDK_SIGNATURE


def test_the_production_shape_reproduces_the_captured_body(receiver):
    with Sandbox(notification_url=receiver.url, merchant_id=SDK_MERCHANT, notification_shape="production") as ib:
        order = Api(ib).create(
            merchantOrderId="55626", description="Проездной билет", basketItems=[dict(TICKET)], customer=dict(BUYER),
            orderContainerId=SDK_CONTAINER, notificationUrl=receiver.url)
        Buyer().pay(order["paymentUrl"])
        ib.wait_idle()
        [got] = receiver.received
        assert got.signature == signed(ib.notification_key, got.body)  # over exactly these bytes

    # Only what differs from one order to another is put back to the SDK's values; the status is
    # the documented "completed" where the SDK's sample says "success".
    sent = jsonutil.loads(got.body)
    ours = got.body.decode()
    for mine, theirs in ((sent["id"], "0188d934-85f8-f872-2ac6-ad202d71b985"),
                         (sent["createdAt"], "2023-06-20T14:27:58+00:00"),
                         (sent["expirationDate"], "2023-06-20T21:00:00+00:00"),
                         (sent["paymentUrl"].replace("/", "\\/"),
                          f"https:\\/\\/pay.invoicebox.ru\\/order\\/{SDK_CONTAINER}")):
        ours = ours.replace(mine, theirs)
    assert ours.encode() == SDK_BODY.replace(b'"status":"success"', b'"status":"completed"')


def test_production_numbers_are_written_like_php_floats(receiver):
    line = dict(course_line(3), amount=D("123.96"), amountWoVat=D("103.30"), totalAmount=D("371.88"),
                totalVatAmount=D("61.98"))
    with Sandbox(notification_url=receiver.url, notification_shape="production") as ib:
        Api(ib).paid(basketItems=[line, dict(course_line(1), sku="GIFT", totalVatAmount=D("200.00"))])
        ib.wait_idle()
    text = receiver.received[0].body.decode()
    assert '"amountWoVat":103.3,' in text and '"amount":1571.88,' in text and '"totalAmount":1200,' in text
    assert '"quantity":3,' in text and '"paidAt"' not in text and "successUrl" not in text
    assert '"countryId":"RUS"' in text
    assert re.search(r'"merchantOrderIdVisible":"SHOP-[0-9a-f]{10}"', text)


def test_the_default_shape_is_the_order_as_the_api_returns_it(receiver):
    with Sandbox(notification_url=receiver.url) as ib:
        order = Api(ib).paid()
        ib.wait_idle()
        api_order = ib.order(order["id"])
    sent = jsonutil.loads(receiver.received[0].body)
    assert sent == api_order and '"amountWoVat":1000.00' in receiver.received[0].body.decode()


def test_an_unknown_shape_is_refused():
    with pytest.raises(ValueError):
        Sandbox(notification_shape="xml")
