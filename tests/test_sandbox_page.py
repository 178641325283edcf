"""The payment page over plain HTTP and what InvoiceBox does after a payment, a shipment and a
refund: the page's words, amounts and dates, its form, its pages for paid, canceled, expired and
unknown invoices; receipts for private payers, documents for legal ones, the buyer's mailbox,
the signed notification, and the events in the documented order.

The bank-transfer choice and «Контроль отгрузки на платёжной странице» are in
``test_sandbox_page_paths.py``; the page in a real browser in ``test_payment_page_browser.py``."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from datetime import datetime
from decimal import Decimal as D

import pytest
import requests
from page_shop import BOOK, CLOTH, GOODS_BY_TAG, LEGAL, PRIVATE, SERVICE, Page, Shop, at, rub

from invoicebox_flow import jsonutil
from invoicebox_flow.flows import Effect, sequence
from invoicebox_flow.sandbox import Buyer, Sandbox
from invoicebox_flow.sandbox.page_format import money, moscow_time, quantity, vat_label
from invoicebox_flow.sandbox.testing import NotificationReceiver


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


# --- how the page writes things -----------------------------------------------------------------------


@pytest.mark.parametrize("value, currency, shown", [
    (D("2400"), "RUB", "2\u202f400,00\u00a0₽"),
    (D("1234567.891"), "RUB", "1\u202f234\u202f567,89\u00a0₽"),
    (D("0.005"), "RUB", "0,01\u00a0₽"),  # half up, like the API's kopeck rounding
    (D("990"), "EUR", "990,00\u00a0€"),
    (D("15"), "KZT", "15,00\u00a0KZT"),  # a currency without a sign shows its code
    ("not a number", "RUB", "not a number\u00a0₽"),
])
def test_amounts_are_written_the_russian_way(value, currency, shown):
    assert str(money(value, currency)) == shown


def test_quantities_vat_rates_and_dates_in_moscow_time():
    assert [quantity(D("2")), quantity(D("2.500")), quantity(3)] == ["2", "2,5", "3"]
    assert [vat_label(code) for code in ("RUS_VAT20", "RUS_VAT10", "VATNONE", "RUS_VAT120", "RUS_VAT22_ADDED")] == \
        ["НДС 20%", "НДС 10%", "Без НДС", "НДС 20/120", "НДС 22% сверх цены"]
    assert moscow_time("2026-12-04T19:40:40+00:00") == "4 декабря 2026, 22:40"
    assert moscow_time("2026-03-31T22:30:00Z") == "1 апреля 2026, 01:30"  # past midnight in Moscow
    assert moscow_time("2026-05-09T12:00:00+03:00") == "9 мая 2026, 12:00"
    assert moscow_time("") is None and moscow_time(None) is None


# --- the page ------------------------------------------------------------------------------------------


def test_the_page_shows_the_shop_the_invoice_with_items_vat_and_payer_fields(ib, shop):
    order = shop.order(lines=(SERVICE, BOOK, CLOTH), merchantOrderIdVisible="731",
                       expirationDate="2026-12-04T19:40:40+00:00")
    page = Page(Buyer().open(order["paymentUrl"]))
    assert page.lang == "ru"
    assert page.by_id["shop-name"] == "Тестовый магазин" and ib.merchant_id not in page.html
    assert page.by_id["order-number"] == "731" and page.by_id["description"] == "Заказ в магазине"
    assert page.by_class["name"] == [SERVICE["name"], BOOK["name"], CLOTH["name"]]
    assert page.by_class["quantity"] == ["2\u00a0шт.", "3\u00a0шт.", "2,5\u00a0м"]
    assert page.by_class["price"] == [rub("1 200,00 ₽"), rub("990,00 ₽"), rub("480,00 ₽")]
    assert page.by_class["total"] == [rub("2 400,00 ₽"), rub("2 970,00 ₽"), rub("1 200,00 ₽")]
    assert page.by_class["vat"][1:] == ["НДС 20%", "НДС 10%", "НДС 20%"]  # after the column heading
    assert page.by_class["vat-amount"] == [rub("400,00 ₽"), rub("270,00 ₽"), rub("200,00 ₽")]
    assert page.by_id["total-label"] == "Итого к оплате"
    assert (page.by_id["amount"], page.by_id["vat-amount"]) == ("6\u202f570,00", "870,00")
    assert page.by_id["expiration-date"] == "4 декабря 2026, 22:40"
    assert "2026-12-04T" not in page.text
    assert page.buttons == [f"Оплатить {rub('6 570,00 ₽')}", "Отказаться от оплаты"]
    cid = order["orderContainerId"]
    assert page.forms == [f"/pay/order/{cid}/pay", f"/pay/order/{cid}/decline"]
    assert effects(ib, order["id"]) == [(Effect.PAGE_INTERACTION.value, None)]


def test_the_shop_name_is_a_sandbox_setting(receiver):
    with Sandbox(shop_name="Книжная лавка «Переплёт»") as named:
        order = Shop(named).order()
        assert Page(Buyer().open(order["paymentUrl"])).by_id["shop-name"] == "Книжная лавка «Переплёт»"


@pytest.mark.parametrize("customer, expected", [
    (PRIVATE, {"name": ("text", "name"), "email": ("email", "email"), "phone": ("tel", "tel")}),
    (LEGAL, {"name": ("text", "organization"), "email": ("email", "email"), "phone": ("tel", "tel"),
             "vatNumber": ("text", "off"), "taxRegistrationReasonCode": ("text", "off")}),
])
def test_every_payer_input_has_its_type_autocomplete_and_a_label(shop, customer, expected):
    page = Page(Buyer().open(shop.order(customer=customer)["paymentUrl"]))
    assert {name: (field["type"], field["autocomplete"]) for name, field in page.inputs.items()} == expected
    assert all(page.labels.get(field["id"] or "") for field in page.inputs.values())
    for field in page.inputs.values():  # a hint is tied to its input, so a screen reader reads it too
        if field.get("aria-describedby"):
            assert page.by_id[field["aria-describedby"] or ""]
    assert page.labels["payer-name"] == ("Наименование организации или ИП" if customer is LEGAL
                                         else "Фамилия, имя и отчество")


def test_locked_payer_fields_are_read_only_say_so_and_keep_their_value(ib, shop):
    order = shop.order(invoiceSetting={"customerLockedFields": ["email"]})
    page = Page(Buyer().open(order["paymentUrl"]))
    assert "readonly" in page.inputs["email"] and "readonly" not in page.inputs["name"]
    assert page.labels["payer-email"] == "Электронная почта (указано магазином)"  # in words, not only grey
    Buyer().pay(order["paymentUrl"], email="someone@else.example", name="Анна Петрова")
    customer = ib.order(order["id"])["customer"]
    assert customer["email"] == "anna@example.org" and customer["name"] == "Анна Петрова"


def test_a_locked_customer_locks_every_field_and_legal_payers_see_inn_and_kpp(shop):
    order = shop.order(customer=LEGAL, invoiceSetting={"customerLocked": True})
    page = Page(Buyer().open(order["paymentUrl"]))
    assert set(page.inputs) == {"name", "email", "phone", "vatNumber", "taxRegistrationReasonCode"}
    assert all("readonly" in field for field in page.inputs.values())
    assert page.inputs["vatNumber"]["value"] == "7812345675"
    assert page.inputs["taxRegistrationReasonCode"]["value"] == "781201001"


@pytest.mark.parametrize("method, path, status, title", [
    ("GET", "/pay/order/{unknown}", 404, "Счёт не найден"),
    ("POST", "/pay/order/{unknown}/pay", 404, "Счёт не найден"),
    ("GET", "/pay/order/{unknown}/pay", 405, "Действие недоступно"),
    ("GET", "/pay/nothing/here", 404, "Счёт не найден"),
])
def test_errors_under_pay_are_russian_html_pages(ib, method, path, status, title):
    response = requests.request(method, ib.url + path.format(unknown=uuid.uuid4()))
    assert response.status_code == status and response.headers["Content-Type"].startswith("text/html")
    page = Page(response.text)
    assert page.lang == "ru" and page.by_id["title"] == title
    assert not any(word in page.text for word in ("not found", "Not Found", "Method", "invoice"))


def test_the_page_is_never_cached_nor_framed(shop):
    response = requests.get(shop.order()["paymentUrl"])
    assert response.headers["Cache-Control"] == "no-store" and response.headers["X-Frame-Options"] == "DENY"


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


def test_without_shop_pages_the_buyer_lands_on_sandbox_pages_that_say_what_happened(ib, shop):
    declined, paid = shop.order(successUrl=None, failUrl=None), shop.order(successUrl=None, failUrl=None)
    buyer = Buyer()
    location = buyer.decline(declined["paymentUrl"])
    assert location == f"{ib.url}/pay/declined/{declined['orderContainerId']}"
    page = Page(buyer.last_page or "")
    assert page.by_class["status-title"] == ["Вы отказались от оплаты"] and page.by_id["amount"] == "2\u202f400,00"
    assert page.attrs_by_id["back-to-invoice"]["href"] == f"/pay/order/{declined['orderContainerId']}"

    assert buyer.pay(paid["paymentUrl"]) == f"{ib.url}/pay/done/{paid['orderContainerId']}"
    assert Page(buyer.last_page or "").by_class["status-title"] == ["Оплата принята"]


def test_declining_keeps_the_order_payable(ib, shop):
    order = shop.order()
    assert Buyer().decline(order["paymentUrl"]) == "http://shop.example/fail"
    assert ib.order(order["id"])["status"] == "created"
    assert Buyer().pay(order["paymentUrl"]) == "http://shop.example/ok"
    assert ib.order(order["id"])["status"] == "completed"


def test_a_paid_order_says_paid_shows_no_amount_due_and_cannot_be_paid_again(ib, shop):
    order = shop.order(returnUrl="http://shop.example/orders/731")
    Buyer().pay(order["paymentUrl"])
    page = Page(Buyer().open(order["paymentUrl"]))
    assert page.by_class["status-title"] == ["Счёт оплачен"] and page.attrs_by_id["status"]["data-status"] == "completed"
    assert page.by_id["total-label"] == "Оплачено" and "Итого к оплате" not in page.text and "Оплатить" not in page.text
    assert "Электронный чек будет отправлен на anna@example.org." in page.text
    assert page.forms == [] and page.buttons == []
    assert page.attrs_by_id["return"]["href"] == "http://shop.example/orders/731"

    again = requests.post(order["paymentUrl"] + "/pay", allow_redirects=False)
    assert again.status_code == 409
    refused = Page(again.text)
    assert refused.by_id["notice"] == "Это действие недоступно для счёта в его текущем состоянии."
    assert refused.by_class["status-title"] == ["Счёт оплачен"]
    with pytest.raises(requests.HTTPError):
        Buyer().decline(order["paymentUrl"])
    ib.wait_idle()
    assert len(ib.receipts(order["id"])) == 1 and len(ib.notifications(order["id"])) == 1


def test_canceled_and_expired_orders_say_so_and_cannot_be_paid(ib, shop):
    canceled = shop.order()
    shop.call("DELETE", f"/billing/api/order/order/{canceled['id']}")
    expiring = shop.order(expirationDate=at(1))
    ib.advance_clock(2 * 3600)
    for order, title, words in ((canceled, "Счёт отменён", "Магазин отменил этот счёт, оплатить его нельзя."),
                                (expiring, "Срок оплаты истёк", f"до {moscow_time(expiring['expirationDate'])}")):
        page = Page(Buyer().open(order["paymentUrl"]))
        assert page.by_class["status-title"] == [title] and words in page.text
        assert page.by_id["total-label"] == "Сумма счёта" and page.forms == []
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
