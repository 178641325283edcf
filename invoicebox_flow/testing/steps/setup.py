"""How the shop and InvoiceBox are set up.

Keys, policies, faults, the clock and rate limits. Steps that choose the sandbox (a rate limit)
or the client come before the first step that uses the shop; notification faults act on the
*next* notification InvoiceBox sends.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from pytest_bdd import given, when

from .patterns import Texts

if TYPE_CHECKING:
    from ..world import InvoiceboxWorld

CREATE_FAULTS = {
    "создаёт его и отвечает 500": ("server_error_after_commit", None),
    "создаёт его и отвечает дольше таймаута": ("slow_after_commit", 1.0),
    "создаёт его и обрывает соединение": ("drop_after_commit", None),
    "отвечает 500, ничего не создав": ("server_error", None),
    "creates it and answers 500": ("server_error_after_commit", None),
    "creates it and answers after the client's timeout": ("slow_after_commit", 1.0),
    "creates it and drops the connection": ("drop_after_commit", None),
    "answers 500 without creating it": ("server_error", None),
}


@given(Texts(
    "магазин настроен с неверным ключом уведомлений",
    "the shop is configured with a wrong notification key",
))
def shop_with_wrong_key(invoicebox_world: InvoiceboxWorld) -> None:
    """The shop's notification key is not InvoiceBox's: genuine notifications fail its check."""
    invoicebox_world.use_shop(notification_key=secrets.token_hex(20))


@given(Texts("магазин не может выполнить ни одного заказа", "the shop cannot fulfil any order"))
def shop_cannot_fulfil(invoicebox_world: InvoiceboxWorld) -> None:
    """The shop's ``can_fulfil`` refuses every order: a paid one is answered "shipping_unavailable"."""
    invoicebox_world.use_shop(can_fulfil=lambda order: False)


@given(Texts(
    "ИнвойсБокс доставит следующее уведомление дважды",
    "InvoiceBox will deliver the next notification twice",
))
def next_notification_twice(invoicebox_world: InvoiceboxWorld) -> None:
    """The sandbox's ``duplicate`` fault: the same bytes, delivered twice."""
    invoicebox_world.sandbox.inject_notification_fault("duplicate")


@given(Texts(
    "ИнвойсБокс придержит следующее уведомление до отправки следующего за ним",
    "InvoiceBox will hold the next notification back until the one after it is sent",
))
def next_notification_held(invoicebox_world: InvoiceboxWorld) -> None:
    """The sandbox's ``reorder`` fault: delivered after the next one, or by ``ИнвойсБокс доставляет
    придержанное уведомление``."""
    invoicebox_world.sandbox.inject_notification_fault("reorder")


@given(Texts("ИнвойсБокс потеряет следующее уведомление", "InvoiceBox will lose the next notification"))
def next_notification_lost(invoicebox_world: InvoiceboxWorld) -> None:
    """The next notification never reaches the shop (held back by the ``reorder`` fault, and no
    other notification follows in the scenario): the shop learns of the payment by ``sync``."""
    invoicebox_world.sandbox.inject_notification_fault("reorder")


@given(Texts(
    "ИнвойсБокс задержит следующее уведомление на {seconds:g} с",
    "InvoiceBox will deliver the next notification {seconds:g} s late",
))
def next_notification_late(invoicebox_world: InvoiceboxWorld, seconds: float) -> None:
    """The sandbox's ``delay`` fault: the notification leaves ``seconds`` later than it would."""
    invoicebox_world.sandbox.inject_notification_fault("delay", delay=seconds)


@given(Texts(
    "сумма заказа изменена в ИнвойсБокс в обход магазина",
    "the order's amount was changed at InvoiceBox behind the shop's back",
))
def amount_changed_behind_shop(invoicebox_world: InvoiceboxWorld) -> None:
    """The order's first line, one unit of it, replaces the basket at InvoiceBox (an API update)."""
    world = invoicebox_world
    first = world.lines[world.order_id()][0]
    changed = world.client.update_order(world.invoicebox_id(), basket_items=[world.line_part(first.sku, 1)])
    assert changed.amount != world.view().amount


@given(Texts(
    'в личном кабинете ИнвойсБокс уже вернули {quantity:d} шт. "{sku:Q}"',
    '{quantity:d} of "{sku:Q}" were already refunded in the InvoiceBox dashboard',
))
def refunded_in_dashboard(invoicebox_world: InvoiceboxWorld, quantity: int, sku: str) -> None:
    """A refund the shop did not make (created directly at InvoiceBox)."""
    from ...models import RefundRequest

    world = invoicebox_world
    world.client.create_refund(RefundRequest(parent_id=world.invoicebox_id(), merchant_order_id=f"CABINET-{sku}",
                                             description="Возврат из личного кабинета",
                                             basket_items=[world.line_part(sku, quantity)]))
    world.sandbox.wait_idle()


@given(Texts("ИнвойсБокс на следующее создание заказа {fault}", "on the next order creation InvoiceBox {fault}"))
def create_order_fault(invoicebox_world: InvoiceboxWorld, fault: str) -> None:
    """A fault of the next create call: «создаёт его и отвечает 500», «создаёт его и отвечает
    дольше таймаута», «создаёт его и обрывает соединение», «отвечает 500, ничего не создав»
    (English: creates it and answers 500 / answers after the client's timeout / drops the
    connection; answers 500 without creating it)."""
    kind, delay = CREATE_FAULTS[fault]
    if kind == "slow_after_commit":
        invoicebox_world.use_client(timeout=(1.0, 0.3))  # the answer comes after the client stopped waiting
    invoicebox_world.sandbox.inject_fault("create_order", kind, delay=delay)


@given(Texts(
    "в ИнвойсБокс уже прошло {days:Days}, а магазин об этом не знает",
    "{days:Days} have already passed at InvoiceBox without the shop knowing",
))
@when(Texts("проходит {days:Days}", "{days:Days} pass", "{days:Days} passes"))
def days_pass(invoicebox_world: InvoiceboxWorld, days: int) -> None:
    """The sandbox's clock moves on: unpaid orders past their expiration date expire, refunds
    due are paid out, and what InvoiceBox sends about it (status notifications) is delivered."""
    invoicebox_world.sandbox.advance_clock(days * 86400)
    invoicebox_world.sandbox.wait_idle()


@given(Texts(
    "ИнвойсБокс пропускает не больше {limit:d} запросов за {seconds:d} секунду",
    "InvoiceBox lets through at most {limit:d} requests per {seconds:d} s",
))
def rate_limited_invoicebox(invoicebox_world: InvoiceboxWorld, limit: int, seconds: int) -> None:
    """A sandbox of the scenario's own with this rate limit (before the shop is used)."""
    invoicebox_world.use_sandbox(rate_limit=limit, rate_window=float(seconds))


@given(Texts("клиент магазина не ограничивает темп", "the shop's client does not pace itself"))
def unpaced_client(invoicebox_world: InvoiceboxWorld) -> None:
    """No client-side rate limiter and no retries of reads: every 429 shows."""
    invoicebox_world.use_client(rate_limit=None, max_read_retries=0)


@given(Texts(
    "клиент магазина ограничивает себя {limit:d} запросами за {seconds:d} секунду",
    "the shop's client paces itself to {limit:d} requests per {seconds:d} s",
))
def paced_client(invoicebox_world: InvoiceboxWorld, limit: int, seconds: int) -> None:
    """The client's own :class:`~invoicebox_flow.RateLimiter`."""
    from ...ratelimit import RateLimiter

    invoicebox_world.use_client(rate_limit=RateLimiter(limit, float(seconds)))


@when(Texts(
    "магазин подряд делает {count:d} запросов проверки авторизации",
    "the shop checks its authorisation {count:d} times in a row",
))
def many_auth_checks(invoicebox_world: InvoiceboxWorld, count: int) -> None:
    """``check_auth`` ``count`` times; the 429s are counted, not raised."""
    from ...errors import RateLimitError

    for _ in range(count):
        try:
            invoicebox_world.client.check_auth()
        except RateLimitError:
            invoicebox_world.rate_limited += 1
