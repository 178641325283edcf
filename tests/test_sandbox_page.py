"""The payment page and what InvoiceBox does after a payment, a shipment and a refund:
the page over plain HTTP, receipts for private payers, documents for legal ones, the buyer's
mailbox, the signed notification, and the events in the documented order."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal as D
from html.parser import HTMLParser

import pytest
import requests

from invoicebox_flow import jsonutil
from invoicebox_flow.flows import Effect, sequence
from invoicebox_flow.sandbox import Buyer, Sandbox
from invoicebox_flow.sandbox.testing import NotificationReceiver


def at(hours: float) -> str:
    return (datetime.now(timezone.utc) + timedelta(hours=hours)).replace(microsecond=0).isoformat()


SERVICE = {"sku": "COURSE-PY-90", "name": "Онлайн-курс «Python для аналитиков»", "measure": "шт.",
           "measureCode": "796", "quantity": 2, "amount": D("1200.00"), "amountWoVat": D("1000.00"),
           "totalAmount": D("2400.00"), "totalVatAmount": D("400.00"), "vatCode": "RUS_VAT20", "type": "service",
           "paymentType": "full_prepayment"}
BOOK = {"sku": "BOOK-1", "name": "Книга «Python»", "measure": "шт.", "measureCode": "796", "quantity": 3,
        "amount": D("990.00"), "amountWoVat": D("900.00"), "totalAmount": D("2970.00"),
        "totalVatAmount": D("270.00"), "vatCode": "RUS_VAT10", "type": "commodity", "paymentType": "full_prepayment"}
GOODS_BY_TAG = dict(BOOK, sku="MUG-1", name="Кружка", type=1)

PRIVATE = {"type": "private", "name": "Анна Смирнова", "email": "anna@example.org", "phone": "79215550101"}
LEGAL = {"type": "legal", "name": "ООО «Вектор»", "vatNumber": "7812345675", "taxRegistrationReasonCode": "781201001",
         "registrationAddress": "191186, Санкт-Петербург, Невский пр., 1", "email": "buh@vector.example"}


class Shop:
    """Creates orders in the sandbox with plain HTTP."""

    def __init__(self, ib: Sandbox) -> None:
        self.ib = ib
        self.session = requests.Session()
        self.session.trust_env = False

    def call(self, method: str, path: str, payload=None) -> dict:
        response = self.session.request(method, f"{self.ib.url}/v3{path}",
                                        data=jsonutil.dumps(payload).encode() if payload is not None else None,
                                        headers={"Authorization": f"Bearer {self.ib.token}",
                                                 "Content-Type": "application/json"})
        assert response.status_code == 200, response.text
        return jsonutil.loads(response.content)["data"]

    def order(self, lines=(SERVICE,), customer=PRIVATE, **overrides) -> dict:
        lines = [dict(line) for line in lines]
        payload = {
            "merchantId": self.ib.merchant_id, "merchantOrderId": f"SHOP-{uuid.uuid4().hex[:8]}",
            "description": "Заказ в магазине", "amount": sum(l["totalAmount"] for l in lines),
            "vatAmount": sum(l["totalVatAmount"] for l in lines), "currencyId": "RUB", "expirationDate": at(24),
            "basketItems": lines, "customer": dict(customer), "successUrl": "http://shop.example/ok",
            "failUrl": "http://shop.example/fail",
        }
        payload.update(overrides)
        return self.call("POST", "/billing/api/order/order", payload)

    def ship(self, order: dict, lines=None) -> dict:
        return self.call("POST", "/billing/api/order/shipment",
                         {"orderId": order["id"], "basketItems": lines or order["basketItems"]})

    def refund(self, order: dict, lines=None) -> dict:
        lines = lines or order["basketItems"]
        return self.call("POST", "/billing/api/order/refund-order", {
            "parentId": order["id"], "merchantOrderId": f"{order['merchantOrderId']}-R", "description": "Возврат",
            "amount": sum(l["totalAmount"] for l in lines), "vatAmount": sum(l["totalVatAmount"] for l in lines),
            "basketItems": lines})


class Page(HTMLParser):
    """The parts of the payment page a test looks at: inputs, forms, cells by class, text."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.inputs: dict[str, dict] = {}
        self.forms: list[str] = []
        self.cells: dict[str, list[str]] = {}
        self.buttons: list[str] = []
        self._open: list[tuple[str, str | None]] = []
        self.text = ""
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "input":
            self.inputs[attributes["name"]] = {"value": attributes.get("value"), "readonly": "readonly" in attributes}
        if tag == "form":
            self.forms.append(attributes["action"])
        self._open.append((tag, attributes.get("class")))

    def handle_endtag(self, tag):
        if self._open:
            self._open.pop()

    def handle_data(self, data):
        self.text += data
        if self._open and self._open[-1][0] == "button":
            self.buttons.append(data.strip())
        if self._open and self._open[-1][0] == "td" and self._open[-1][1]:
            for css in self._open[-1][1].split():
                self.cells.setdefault(css, []).append(data.strip())


@pytest.fixture
def receiver():
    with NotificationReceiver() as shop_endpoint:
        yield shop_endpoint


@pytest.fixture
def ib(receiver):
    with Sandbox(notification_url=receiver.url) as sandbox:
        yield sandbox


@pytest.fixture
def shop(ib) -> Shop:
    return Shop(ib)


def effects(ib: Sandbox, order_id: str) -> list[tuple[str, str | None]]:
    return [(e["effect"], e["receipt"]) for e in ib.events(order_id)]


def documented_effects(name: str) -> list[tuple[str, str | None]]:
    """The InvoiceBox-side effects of a documented sequence, in its order."""
    return [(step.effect.value, step.receipt) for step in sequence(name).steps if step.effect is not None]


# --- the page ------------------------------------------------------------------------------------------


def test_the_page_shows_the_invoice_with_items_vat_and_payer_fields(ib, shop):
    order = shop.order(lines=(SERVICE, BOOK), merchantOrderIdVisible="№ 731")
    page = Page(Buyer().open(order["paymentUrl"]))
    assert ib.merchant_id in page.text and "№ 731" in page.text and "Заказ в магазине" in page.text
    assert page.cells["name"] == [SERVICE["name"], BOOK["name"]]
    assert page.cells["quantity"] == ["2", "3"]
    assert page.cells["price"] == ["1 200,00", "990,00"]
    assert page.cells["total"] == ["2 400,00", "2 970,00"]
    assert page.cells["vat"] == ["НДС 20%", "НДС 10%"]
    assert page.cells["vat-amount"] == ["400,00", "270,00"]
    assert "5 370,00" in page.text and "670,00" in page.text
    assert set(page.inputs) == {"name", "email", "phone"}
    assert page.inputs["email"] == {"value": "anna@example.org", "readonly": False}
    assert page.buttons == ["Оплатить", "Отказаться"]
    cid = order["orderContainerId"]
    assert page.forms == [f"/pay/order/{cid}/pay", f"/pay/order/{cid}/decline"]
    assert effects(ib, order["id"]) == [(Effect.PAGE_INTERACTION.value, None)]


def test_locked_payer_fields_are_read_only_and_keep_their_value(ib, shop):
    order = shop.order(invoiceSetting={"customerLockedFields": ["email"]})
    page = Page(Buyer().open(order["paymentUrl"]))
    assert page.inputs["email"]["readonly"] and not page.inputs["name"]["readonly"]
    Buyer().pay(order["paymentUrl"], email="someone@else.example", name="Анна Петрова")
    customer = ib.order(order["id"])["customer"]
    assert customer["email"] == "anna@example.org" and customer["name"] == "Анна Петрова"


def test_a_locked_customer_locks_every_field_and_legal_payers_see_inn_and_kpp(shop):
    order = shop.order(customer=LEGAL, invoiceSetting={"customerLocked": True})
    page = Page(Buyer().open(order["paymentUrl"]))
    assert set(page.inputs) == {"name", "email", "phone", "vatNumber", "taxRegistrationReasonCode"}
    assert all(field["readonly"] for field in page.inputs.values())
    assert page.inputs["vatNumber"]["value"] == "7812345675"
    assert page.inputs["taxRegistrationReasonCode"]["value"] == "781201001"


def test_an_unknown_invoice_is_a_404_page(ib):
    response = requests.get(f"{ib.url}/pay/order/{uuid.uuid4()}")
    assert response.status_code == 404 and "text/html" in response.headers["Content-Type"]


# --- paying ------------------------------------------------------------------------------------------------


def test_paying_a_private_order_through_the_page(ib, shop, receiver):
    order = shop.order()
    Buyer().open(order["paymentUrl"])
    response = requests.post(order["paymentUrl"] + "/pay", data={"email": "anna@example.org"}, allow_redirects=False)
    assert response.status_code == 303 and response.headers["Location"] == "http://shop.example/ok"
    paid = ib.order(order["id"])
    assert paid["status"] == "completed" and datetime.fromisoformat(paid["paidAt"])
    ib.wait_idle()

    receipts = ib.receipts(order["id"])
    assert len(receipts) == 1
    receipt = receipts[0]
    assert (receipt["type"], receipt["amount"], receipt["vatAmount"], receipt["contact"]) == \
        ("prepayment_full", D("2400.00"), D("400.00"), "anna@example.org")
    assert [(i["name"], i["quantity"], i["amount"], i["vatCode"], i["vatAmount"], i["paymentType"])
            for i in receipt["items"]] == [(SERVICE["name"], 2, D("2400.00"), "RUS_VAT20", D("400.00"), "full_prepayment")]
    assert [(m["kind"], m["refs"]) for m in ib.mailbox("anna@example.org")] == [("receipt", [receipt["id"]])]

    assert len(receiver.received) == 1
    delivered = receiver.received[0]
    expected = hmac.new(ib.notification_key.encode(), delivered.body, hashlib.sha1).hexdigest()
    assert delivered.signature == expected
    assert delivered.headers["Content-Type"] == "application/json"
    assert jsonutil.loads(delivered.body) == ib.order(order["id"])
    assert b"http:\\/\\/" in delivered.body and "Онлайн-курс".encode() in delivered.body  # PHP-style bytes
    [attempt] = ib.notifications(order["id"])
    assert attempt["delivered"] and attempt["attempt"] == 1 and attempt["body"].encode() == delivered.body

    assert effects(ib, order["id"]) == documented_effects("private-payment")
    receipt_delivered = ib.events(order["id"])[-1]
    assert delivered.at >= receipt_delivered["at"]  # the notification is the last documented step


def test_paying_a_legal_order_registers_no_receipt(ib, shop, receiver):
    order = shop.order(customer=LEGAL)
    Buyer().open(order["paymentUrl"])
    assert Buyer().pay(order["paymentUrl"]) == "http://shop.example/ok"
    ib.wait_idle()
    assert ib.receipts() == [] and ib.mailbox() == []
    assert len(receiver.received) == 1 and jsonutil.loads(receiver.received[0].body)["status"] == "completed"
    assert effects(ib, order["id"]) == documented_effects("legal-payment")


def test_without_a_success_url_the_buyer_lands_on_a_sandbox_page(ib, shop):
    order = shop.order(successUrl=None, failUrl=None)
    location = Buyer().pay(order["paymentUrl"])
    assert location == f"{ib.url}/pay/done/{order['orderContainerId']}"
    assert "Оплата принята" in requests.get(location).text


def test_declining_keeps_the_order_payable(ib, shop):
    order = shop.order()
    assert Buyer().decline(order["paymentUrl"]) == "http://shop.example/fail"
    assert ib.order(order["id"])["status"] == "created"
    assert Buyer().pay(order["paymentUrl"]) == "http://shop.example/ok"
    assert ib.order(order["id"])["status"] == "completed"


def test_a_paid_order_shows_its_status_and_cannot_be_paid_again(ib, shop):
    order = shop.order()
    Buyer().pay(order["paymentUrl"])
    page = Page(Buyer().open(order["paymentUrl"]))
    assert "Заказ оплачен" in page.text and page.forms == []
    again = requests.post(order["paymentUrl"] + "/pay", allow_redirects=False)
    assert again.status_code == 409
    with pytest.raises(requests.HTTPError):
        Buyer().decline(order["paymentUrl"])
    ib.wait_idle()
    assert len(ib.receipts(order["id"])) == 1 and len(ib.notifications(order["id"])) == 1


def test_canceled_and_expired_orders_cannot_be_paid(ib, shop):
    canceled = shop.order()
    shop.call("DELETE", f"/billing/api/order/order/{canceled['id']}")
    expiring = shop.order(expirationDate=at(1))
    ib.advance_clock(2 * 3600)
    for order, text in ((canceled, "Заказ отменён"), (expiring, "Срок оплаты заказа истёк")):
        assert text in Buyer().open(order["paymentUrl"])
        assert requests.post(order["paymentUrl"] + "/pay", allow_redirects=False).status_code == 409
    assert [o["status"] for o in ib.orders()] == ["canceled", "expired"]
    ib.wait_idle()
    assert ib.receipts() == [] and ib.notifications() == []


# --- shipment ---------------------------------------------------------------------------------------------


def test_shipment_to_a_private_payer_issues_the_full_settlement_receipt(ib, shop):
    order = shop.order(lines=(SERVICE, BOOK))
    Buyer().pay(order["paymentUrl"])
    ib.wait_idle()
    shipment = shop.ship(order, [dict(BOOK, quantity=1, totalAmount=D("990.00"), totalVatAmount=D("90.00"))])
    ib.wait_idle()
    settlement = [r for r in ib.receipts(order["id"]) if r["type"] == "full_settlement"]
    assert len(settlement) == 1
    assert settlement[0]["shipmentId"] == shipment["id"]
    assert [(i["sku"], i["quantity"], i["amount"], i["paymentType"]) for i in settlement[0]["items"]] == \
        [("BOOK-1", 1, D("990.00"), "full_payment")]
    assert [m["refs"] for m in ib.mailbox() if m["kind"] == "receipt"][-1] == [settlement[0]["id"]]
    assert effects(ib, order["id"])[-2:] == documented_effects("private-shipment")
    assert ib.documents() == []


@pytest.mark.parametrize("lines, kinds", [
    ((SERVICE,), ["transfer_report", "act"]),
    ((BOOK,), ["transfer_report", "torg12"]),
    ((GOODS_BY_TAG,), ["transfer_report", "torg12"]),
    ((SERVICE, BOOK), ["transfer_report", "act", "torg12"]),
])
def test_shipment_to_a_legal_payer_sends_the_documents(ib, shop, lines, kinds):
    order = shop.order(lines=lines, customer=LEGAL)
    Buyer().pay(order["paymentUrl"])
    shipment = shop.ship(order)
    ib.wait_idle()
    documents = ib.documents(order["id"])
    assert [d["kind"] for d in documents] == kinds
    assert all(d["shipmentId"] == shipment["id"] for d in documents)
    by_kind = {d["kind"]: d for d in documents}
    assert by_kind["transfer_report"]["amount"] == order["amount"]
    if "act" in by_kind:
        assert [i["sku"] for i in by_kind["act"]["items"]] == ["COURSE-PY-90"]
    assert by_kind["transfer_report"]["buyer"]["vatNumber"] == "7812345675"
    [mail] = ib.mailbox(LEGAL["email"])
    assert (mail["kind"], mail["refs"]) == ("documents", [d["id"] for d in documents])
    assert ib.receipts() == []
    assert effects(ib, order["id"])[-1:] == documented_effects("legal-shipment")


# --- refund -------------------------------------------------------------------------------------------------


def test_refund_to_a_private_payer_returns_money_and_issues_the_refund_receipt(ib, shop):
    order = shop.order()
    Buyer().pay(order["paymentUrl"])
    ib.wait_idle()
    refund = shop.refund(order, [dict(SERVICE, quantity=1, totalAmount=D("1200.00"), totalVatAmount=D("200.00"))])
    ib.wait_idle()
    assert ib.refunds(order["id"])[0]["status"] == "completed"
    [receipt] = [r for r in ib.receipts(order["id"]) if r["type"] == "refund"]
    assert (receipt["refundId"], receipt["amount"], receipt["vatAmount"]) == (refund["id"], D("1200.00"), D("200.00"))
    assert ib.mailbox("anna@example.org")[-1]["refs"] == [receipt["id"]]
    assert effects(ib, order["id"])[-3:] == documented_effects("private-refund")


def test_refund_to_a_legal_payer_sends_refund_documents(ib, shop):
    order = shop.order(customer=LEGAL, lines=(SERVICE, BOOK))
    Buyer().pay(order["paymentUrl"])
    shop.ship(order)
    shop.refund(order, [BOOK])
    ib.wait_idle()
    refund_documents = [d for d in ib.documents(order["id"]) if d["kind"].startswith("refund_")]
    assert [d["kind"] for d in refund_documents] == ["refund_transfer_report", "refund_torg12"]
    assert refund_documents[0]["amount"] == D("2970.00")
    assert [m["kind"] for m in ib.mailbox()] == ["documents", "documents"]
    assert effects(ib, order["id"])[-2:] == documented_effects("legal-refund")
    assert ib.receipts() == []


def test_the_whole_private_lifecycle_follows_the_documented_sequences(ib, shop):
    order = shop.order()
    Buyer().open(order["paymentUrl"])
    Buyer().pay(order["paymentUrl"])
    ib.wait_idle()
    shop.ship(order)
    ib.wait_idle()
    shop.refund(order)
    ib.wait_idle()
    expected = (documented_effects("private-payment") + documented_effects("private-shipment")
                + documented_effects("private-refund"))
    assert effects(ib, order["id"]) == expected
    assert [e["seq"] for e in ib.events(order["id"])] == sorted(e["seq"] for e in ib.events(order["id"]))
    assert [r["type"] for r in ib.receipts(order["id"])] == ["prepayment_full", "full_settlement", "refund"]
