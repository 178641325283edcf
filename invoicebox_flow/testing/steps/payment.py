"""The payment sequence, the payment page and the buyer's return.

The documented steps in the words of the diagrams. The buyer
(:class:`~invoicebox_flow.sandbox.Buyer`) opens the sandbox's payment page and pays or declines
over HTTP; the sandbox then notifies the shop's endpoint, served on loopback.
"""

from __future__ import annotations

import re
from decimal import Decimal
from html import unescape
from typing import TYPE_CHECKING

from pytest_bdd import given, then, when

from ..vocabulary import money
from .patterns import Texts

if TYPE_CHECKING:
    from ..world import InvoiceboxWorld

PAY_FORM = 'id="pay-form"'


@given(Texts("Покупатель создает заказ", "the buyer places the order"))
@when(Texts("Покупатель создает заказ", "the buyer places the order"))
def buyer_places_order(invoicebox_world: InvoiceboxWorld) -> None:
    """Documented step 1: the shop records the order ("оформлен"); InvoiceBox knows nothing yet."""
    invoicebox_world.place()


@when(Texts("Магазин вызывает метод создания заказа", "the shop creates the order at InvoiceBox"))
def shop_creates_invoice(invoicebox_world: InvoiceboxWorld) -> None:
    """Documented steps 2–3: ``request_invoice``."""
    invoicebox_world.flow.request_invoice(invoicebox_world.order_id())


@then(Texts(
    "ИнвойсБокс возвращает идентификатор заказа и ссылку на оплату",
    "InvoiceBox returns the order id and the payment link",
))
def invoicebox_returns_link(invoicebox_world: InvoiceboxWorld) -> None:
    """The shop holds InvoiceBox's id and payment link, InvoiceBox has the order unpaid with the
    shop's number and amount, and the answer's X-Request-Id is in the journal."""
    world = invoicebox_world
    view = world.view()
    assert view.state == "payment_link_issued", view.state
    assert view.invoicebox_id and view.payment_url and view.payment_url.startswith(world.sandbox.url + "/pay/")
    remote = world.sandbox.order(view.invoicebox_id)
    assert remote["status"] == "created"
    assert remote["merchantOrderId"] == view.order_id
    assert remote["paymentUrl"] == view.payment_url
    assert Decimal(remote["amount"]) == view.amount
    answered = [j for j in world.journal() if j.trigger == "issue_payment_link"]
    assert len(answered) == 1 and answered[0].request_id, "the answer's X-Request-Id is journaled"


@when(Texts(
    "Магазин перенаправляет покупателя на платёжную страницу",
    "the shop redirects the buyer to the payment page",
))
@given(Texts(
    "Магазин перенаправил покупателя на платёжную страницу",
    "the shop redirected the buyer to the payment page",
))
def shop_redirects_buyer(invoicebox_world: InvoiceboxWorld) -> None:
    """Documented step 4: ``redirect_buyer`` gives the order's payment link."""
    world = invoicebox_world
    url = world.flow.redirect_buyer(world.order_id())
    assert url == world.view().payment_url
    world.payment_urls[world.order_id()] = url


@when(Texts(
    "Покупатель взаимодействует с платёжной страницей и получает счёт",
    "the buyer opens the payment page and gets the invoice",
))
def buyer_opens_page(invoicebox_world: InvoiceboxWorld) -> None:
    """Documented step 5: the buyer's GET of the payment page."""
    invoicebox_world.page = invoicebox_world.buyer.open(invoicebox_world.payment_url())


@then(Texts(
    "на платёжной странице видны позиции и сумма заказа",
    "the payment page shows the order's lines and amount",
))
def page_shows_order(invoicebox_world: InvoiceboxWorld) -> None:
    """Every line's name and the order's amount are on the page, with its pay button."""
    world = invoicebox_world
    assert world.page is not None, "the buyer has not opened the payment page"
    page = unescape(world.page)
    for line in world.lines[world.order_id()]:
        assert line.name in page, line.name
    shown = re.search(r'id="amount">([^<]+)<', page)
    assert shown and money(shown.group(1)) == world.view().amount
    assert PAY_FORM in page


@then(Texts("на платёжной странице видны реквизиты покупателя", "the payment page shows the buyer's details"))
def page_shows_legal_details(invoicebox_world: InvoiceboxWorld) -> None:
    """A legal buyer's INN is on the page, with its pay button."""
    world = invoicebox_world
    customer = world.customer_of[world.order_id()]
    inn = getattr(customer, "vat_number", None)
    assert world.page is not None and PAY_FORM in world.page
    assert isinstance(inn, str) and inn in world.page, inn


@when(Texts("Покупатель оплачивает счёт", "the buyer pays the invoice"))
def buyer_pays_invoice(invoicebox_world: InvoiceboxWorld) -> None:
    """Documented step 6: the buyer presses «Оплатить» (the notification follows in the background)."""
    invoicebox_world.location = invoicebox_world.buyer.pay(invoicebox_world.payment_url())


@then(Texts("ИнвойсБокс перенаправляет покупателя на сайт магазина", "InvoiceBox redirects the buyer to the shop"))
def invoicebox_redirects_to_shop(invoicebox_world: InvoiceboxWorld) -> None:
    """To the shop's success URL, after the payment; the order is "completed" at InvoiceBox."""
    world = invoicebox_world
    assert world.location == world.flow.success_url
    effects = [e["effect"] for e in world.sandbox.events(world.invoicebox_id())]
    assert effects.index("payment") < effects.index("redirect_to_shop")
    assert world.sandbox.order(world.invoicebox_id())["status"] == "completed"


@then(Texts("ИнвойсБокс уведомляет Магазин об успешной оплате", "InvoiceBox notifies the shop of the payment"))
def invoicebox_notifies_shop(invoicebox_world: InvoiceboxWorld) -> None:
    """The last notification was delivered, correctly signed, answered "success", and the shop
    confirmed the payment once, as the notification's doing."""
    from ...signature import is_valid

    world = invoicebox_world
    attempts = world.notification_attempts()
    assert attempts and attempts[-1]["delivered"], attempts
    last = attempts[-1]
    assert last["status"] == 200 and world.decoded(last["response"]) == {"status": "success"}
    assert is_valid(last["body"].encode("utf-8"), last["signature"], world.sandbox.notification_key)
    confirmed = [j for j in world.journal() if j.trigger == "confirm_payment"]
    assert len(confirmed) == 1 and confirmed[0].actor == "invoicebox-notification"


@when(Texts("покупатель оплачивает заказ на платёжной странице", "the buyer pays on the payment page"))
def buyer_pays_on_page(invoicebox_world: InvoiceboxWorld) -> None:
    """Open the page, pay, and wait until InvoiceBox has done everything that follows."""
    invoicebox_world.pay()


@when(Texts(
    'покупатель оплачивает заказ "{label:Q}" на платёжной странице',
    'the buyer pays the order "{label:Q}" on the payment page',
))
def buyer_pays_labelled(invoicebox_world: InvoiceboxWorld, label: str) -> None:
    """The same for a named order."""
    invoicebox_world.pay(label)


@when(Texts(
    "покупатель оплачивает заказ на платёжной странице и сразу возвращается на сайт магазина",
    "the buyer pays on the payment page and comes straight back to the shop",
))
def buyer_pays_and_returns(invoicebox_world: InvoiceboxWorld) -> None:
    """Pay and follow the redirect at once, without waiting for InvoiceBox's notification."""
    invoicebox_world.pay(wait=False)
    invoicebox_world.return_to_shop(success=True)


@when(Texts(
    "покупатель отказывается от оплаты на платёжной странице",
    "the buyer declines to pay on the payment page",
))
def buyer_declines(invoicebox_world: InvoiceboxWorld) -> None:
    """The buyer presses «Отказаться»."""
    world = invoicebox_world
    world.page = world.buyer.open(world.payment_url())
    world.location = world.buyer.decline(world.payment_url())
    world.sandbox.wait_idle()


@then(Texts(
    "ИнвойсБокс перенаправляет покупателя на адрес неуспешной оплаты",
    "InvoiceBox sends the buyer to the shop's failure address",
))
def redirected_to_fail_url(invoicebox_world: InvoiceboxWorld) -> None:
    """To the shop's fail URL; the order stays unpaid ("created") at InvoiceBox."""
    world = invoicebox_world
    assert world.location == world.flow.fail_url
    assert world.sandbox.order(world.invoicebox_id())["status"] == "created"


@when(Texts(
    "покупатель возвращается на сайт магазина по адресу успешной оплаты",
    "покупатель ещё раз возвращается на сайт магазина по адресу успешной оплаты",
    "the buyer returns to the shop's success address",
    "the buyer returns to the shop's success address again",
))
def buyer_returns(invoicebox_world: InvoiceboxWorld) -> None:
    """The buyer follows InvoiceBox's redirect to the success URL (``buyer_returned``)."""
    invoicebox_world.return_to_shop(success=True)


@when(Texts(
    "покупатель возвращается на сайт магазина по адресу неуспешной оплаты",
    "the buyer returns to the shop's failure address",
))
def buyer_returns_failed(invoicebox_world: InvoiceboxWorld) -> None:
    """The buyer follows the redirect to the fail URL: "оплата отклонена"."""
    invoicebox_world.return_to_shop(success=False)


@then(Texts("оплатить заказ на платёжной странице нельзя", "the order cannot be paid on the payment page"))
def cannot_pay(invoicebox_world: InvoiceboxWorld) -> None:
    """The page has no pay button, paying is refused with HTTP 409, and nothing changed at InvoiceBox."""
    import requests

    world = invoicebox_world
    status = world.sandbox.order(world.invoicebox_id())["status"]
    assert PAY_FORM not in world.buyer.open(world.payment_url())
    try:
        world.buyer.pay(world.payment_url())
    except requests.HTTPError as refused:
        assert refused.response is not None and refused.response.status_code == 409
    else:
        raise AssertionError("the payment page accepted the payment")
    assert world.sandbox.order(world.invoicebox_id())["status"] == status
