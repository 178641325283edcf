"""Two real-world paths of the payment page, over plain HTTP: an organisation choosing to pay by
bank transfer (the invoice is issued and awaits the money), and «Контроль отгрузки на платёжной
странице» (DOCS ``merchant/notification/shipping-unavailable.md``): the payer waits while the
payment notification is delivered, then learns the shop's answer and goes on to ``successUrl``
or, when the shop cannot provide the order, to ``failUrl``."""

from __future__ import annotations

import pytest
import requests
from page_shop import LEGAL, PRIVATE, SERVICE, Page, Shop

from invoicebox_flow.flows import Effect, sequence
from invoicebox_flow.sandbox import Buyer, Sandbox
from invoicebox_flow.sandbox.testing import NotificationReceiver, error_answer, out_of_service

FAST_RETRIES = (0.02, 0.05, 0.1)


@pytest.fixture
def receiver():
    with NotificationReceiver() as shop_endpoint:
        yield shop_endpoint


@pytest.fixture
def ib(receiver):
    """A sandbox whose shop turned on «Контроль отгрузки на платёжной странице» (which the
    bank-transfer choice does not depend on)."""
    with Sandbox(notification_url=receiver.url, shipping_control=True, notification_retry_delays=FAST_RETRIES) as sandbox:
        yield sandbox


def page_actions(ib: Sandbox, order_id: str) -> list[str]:
    return [e["detail"].get("action") for e in ib.events(order_id) if e["effect"] == Effect.PAGE_INTERACTION.value]


# --- «Оплатить по счёту (банковский перевод)» ---------------------------------------------------------


def test_an_organisation_chooses_a_bank_transfer_and_the_invoice_awaits_the_money(ib, receiver):
    order = Shop(ib).order(customer=LEGAL)
    buyer = Buyer()
    page = Page(buyer.open(order["paymentUrl"]))
    assert page.by_id["bank-transfer"] == "Оплатить по счёту (банковский перевод)"
    assert f"/pay/order/{order['orderContainerId']}/bank-transfer" in page.forms

    page = Page(buyer.pay_by_bank_transfer(order["paymentUrl"]))
    awaiting = page.by_id["bank-transfer-status"]
    assert awaiting.startswith("◷ Счёт выставлен, ожидаем оплату")
    assert "2\u202f400,00\u00a0₽" in awaiting and "ООО «Вектор», ИНН 7812345675" in awaiting
    assert "bank-transfer" not in page.by_id and "pay-form" in page.attrs_by_id  # still payable now
    assert ib.order(order["id"])["status"] == "created"
    assert page_actions(ib, order["id"]) == ["view", "bank_transfer", "view"]
    ib.wait_idle()
    assert receiver.received == [] and ib.receipts() == [] and ib.documents() == []

    assert buyer.pay(order["paymentUrl"]) == "http://shop.example/ok"
    assert ib.order(order["id"])["status"] == "completed"


def test_a_private_buyer_is_offered_no_bank_transfer_and_cannot_choose_one(ib):
    order = Shop(ib).order(customer=PRIVATE)
    assert "bank-transfer" not in Page(Buyer().open(order["paymentUrl"])).by_id
    refused = requests.post(order["paymentUrl"] + "/bank-transfer", allow_redirects=False)
    assert refused.status_code == 409
    assert Page(refused.text).by_id["notice"] == "Это действие недоступно для счёта в его текущем состоянии."
    assert "bank_transfer" not in page_actions(ib, order["id"])


def test_a_paid_invoice_cannot_be_switched_to_a_bank_transfer(ib):
    order = Shop(ib).order(customer=LEGAL)
    Buyer().pay(order["paymentUrl"])
    with pytest.raises(requests.HTTPError) as refused:
        Buyer().pay_by_bank_transfer(order["paymentUrl"])
    assert refused.value.response.status_code == 409
    assert Page(refused.value.response.text).by_class["status-title"] == ["Счёт оплачен"]


# --- «Контроль отгрузки на платёжной странице» --------------------------------------------------------


def test_the_payer_waits_for_the_shop_and_goes_on_to_the_success_url(ib, receiver):
    order = Shop(ib).order()
    buyer = Buyer()
    assert buyer.pay(order["paymentUrl"]) == "http://shop.example/ok"
    assert len(receiver.received) == 1  # delivered before the page answered the payer

    page = Page(buyer.last_page or "")
    assert page.attrs_by_id["shop-answer"]["data-shop-answer"] == "confirmed"
    assert page.by_id["shop-answer"] == "Магазин подтвердил заказ."
    assert page.meta_refresh == "5;url=http://shop.example/ok"
    assert page.attrs_by_id["continue"]["href"] == "http://shop.example/ok"
    assert "Итого к оплате" not in page.text and page.forms == []

    ib.wait_idle()
    events = ib.events(order["id"])
    assert [(e["effect"], e["receipt"]) for e in events] == \
        [(step.effect.value, step.receipt) for step in sequence("private-payment").steps if step.effect is not None][1:]
    redirect = next(e for e in events if e["effect"] == Effect.REDIRECT_TO_SHOP.value)
    assert redirect["detail"]["location"] == "http://shop.example/ok"
    assert redirect["at"] >= receiver.received[0].at  # the shop answered first, then the payer was sent on


def test_shipping_unavailable_sends_the_payer_to_the_fail_url_and_promises_the_money_back(ib, receiver):
    receiver.answer_with(error_answer("shipping_unavailable"))
    shop = Shop(ib)
    order = shop.order()
    buyer = Buyer()
    assert buyer.pay(order["paymentUrl"]) == "http://shop.example/fail"

    page = Page(buyer.last_page or "")
    assert page.by_class["status-title"] == ["Магазин не может выполнить заказ"]
    assert page.attrs_by_id["shop-answer"]["data-shop-answer"] == "refused"
    assert "Деньги вернутся: магазин отменит платёж" in page.text
    assert page.meta_refresh == "5;url=http://shop.example/fail"
    paid = ib.order(order["id"])
    assert paid["status"] == "completed" and paid["shippingUnavailable"] is True

    shop.call("DELETE", f"/billing/api/order/order/{order['id']}")  # the shop reverses the payment (§3.4)
    ib.wait_idle()
    assert ib.order(order["id"])["status"] == "canceled"
    assert Page(Buyer().open(order["paymentUrl"])).by_class["status-title"] == ["Счёт отменён"]


def test_an_unanswered_notification_sends_the_payer_on_and_invoicebox_keeps_notifying(ib, receiver):
    receiver.answer_with(out_of_service())  # then success
    order = Shop(ib).order(lines=(SERVICE,), customer=LEGAL)
    buyer = Buyer()
    assert buyer.pay(order["paymentUrl"]) == "http://shop.example/ok"
    assert Page(buyer.last_page or "").attrs_by_id["shop-answer"]["data-shop-answer"] == "unconfirmed"
    assert "Магазин ещё не подтвердил заказ" in (buyer.last_page or "")

    ib.wait_idle()
    assert [a["delivered"] for a in ib.notifications(order["id"])] == [False, True]
    later = Page(Buyer().open(order["paymentUrl"]))
    assert later.by_id["shop-answer"] == "Магазин подтвердил заказ." and later.meta_refresh is None


@pytest.mark.parametrize("success_url", [None, "javascript:alert(1)"])
def test_without_a_web_address_to_go_on_to_the_payer_stays_on_the_result_page(ib, success_url):
    order = Shop(ib).order(successUrl=success_url)
    buyer = Buyer()
    result = f"{ib.url}/pay/order/{order['orderContainerId']}/result"
    assert buyer.pay(order["paymentUrl"]) == result
    page = Page(buyer.last_page or "")
    assert page.by_id["shop-answer"] == "Магазин подтвердил заказ."
    assert page.meta_refresh is None and "continue" not in page.by_id and "javascript" not in page.html


def test_shipping_control_without_a_notification_url_pays_as_usual():
    with Sandbox(shipping_control=True) as ib:
        order = Shop(ib).order()
        buyer = Buyer()
        assert buyer.pay(order["paymentUrl"]) == "http://shop.example/ok"
        assert buyer.last_page is None  # straight back to the shop: there is nobody to wait for
        assert ib.order(order["id"])["status"] == "completed"
