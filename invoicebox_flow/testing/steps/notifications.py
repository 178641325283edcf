"""Notifications.

Genuine, repeated, held back, late, lost (then ``sync``), forged, and the monitoring test
notification; what the shop answered and what InvoiceBox made of it.
"""

from __future__ import annotations

import secrets
from decimal import Decimal
from typing import TYPE_CHECKING

from pytest_bdd import then, when

from ...signature import sign
from .patterns import Texts

if TYPE_CHECKING:
    from collections.abc import Callable

    from ..world import InvoiceboxWorld

SUCCESS = {"status": "success"}


def _forged_signature(world: InvoiceboxWorld, how: str, body: bytes) -> str | None:
    key = world.sandbox.notification_key
    signers: dict[str, Callable[[], str | None]] = {
        "без подписи": lambda: None,
        "с подписью случайным ключом": lambda: sign(body, secrets.token_hex(20)),
        "с подписью токеном API вместо ключа": lambda: sign(body, world.sandbox.token),
        # a genuine signature of the unpaid order, sent with a body that says "paid"
        "с подписью другого тела": lambda: sign(world.unpaid_order_body(), key),
    }
    english = {"without a signature": "без подписи", "signed with a random key": "с подписью случайным ключом",
               "signed with the API token instead of the key": "с подписью токеном API вместо ключа",
               "signed for another body": "с подписью другого тела"}
    return signers[english.get(how, how)]()


@when(Texts(
    "на адрес уведомлений магазина приходит уведомление об оплате заказа, {how}",
    "a payment notification of the order arrives at the shop's notification address {how}",
))
def forged_notification(invoicebox_world: InvoiceboxWorld, how: str) -> None:
    """A "paid" notification the sandbox did not send: «без подписи», «с подписью случайным
    ключом», «с подписью токеном API вместо ключа», «с подписью другого тела» (English: without a
    signature, signed with a random key, signed with the API token instead of the key, signed
    for another body)."""
    world = invoicebox_world
    world.before = world.snapshot()
    body = world.paid_order_body()
    world.post_notification(body, _forged_signature(world, how, body))


@when(Texts(
    'на адрес уведомлений магазина приходит подписанное уведомление об оплате заказа, где {field} = "{value:Q}"',
    "a signed payment notification of the order arrives at the shop's notification address "
    'with {field} = "{value:Q}"',
))
def notification_with_field(invoicebox_world: InvoiceboxWorld, field: str, value: str) -> None:
    """A correctly signed "paid" notification with one field changed (``amount``, ``currencyId``, ``merchantId`` …)."""
    world = invoicebox_world
    world.before = world.snapshot()
    body = world.paid_order_body(**{field: Decimal(value) if field == "amount" else value})
    world.post_notification(body, sign(body, world.sandbox.notification_key))


@then(Texts('магазин отвечает HTTP 200 с ошибкой "{code:Q}"', 'the shop answers HTTP 200 with the error "{code:Q}"'))
def shop_answers_error(invoicebox_world: InvoiceboxWorld, code: str) -> None:
    """The shop's answer to the notification posted by the scenario."""
    assert invoicebox_world.answer is not None, "no notification was posted"
    status, body = invoicebox_world.answer
    assert status == 200 and body["status"] == "error" and body["code"] == code, invoicebox_world.answer


@then(Texts(
    'ИнвойсБокс получил от магазина ответ "{code:Q}" и больше не повторял уведомление',
    'InvoiceBox got the answer "{code:Q}" from the shop and did not retry the notification',
))
def final_notification_answer(invoicebox_world: InvoiceboxWorld, code: str) -> None:
    """One attempt, answered with the error code, not delivered and not to be retried."""
    attempts = invoicebox_world.notification_attempts()
    assert len(attempts) == 1, attempts
    assert attempts[0]["status"] == 200 and attempts[0]["code"] == code
    assert not attempts[0]["delivered"] and not attempts[0]["willRetry"]


@when(Texts("магазин сверяет заказ с ИнвойсБокс", "the shop syncs the order with InvoiceBox"))
def shop_syncs(invoicebox_world: InvoiceboxWorld) -> None:
    """``sync``: the shop asks InvoiceBox for the order's status and catches up (paid, expired, canceled)."""
    invoicebox_world.flow.sync(invoicebox_world.order_id())


@then(Texts(
    'ИнвойсБокс доставил уведомление об оплате {times:d} раза, и оба раза магазин ответил "success"',
    'InvoiceBox delivered the payment notification {times:d} times and the shop answered "success" each time',
))
def delivered_times(invoicebox_world: InvoiceboxWorld, times: int) -> None:
    """The same notification, byte for byte, delivered and answered "success" each time."""
    world = invoicebox_world
    attempts = world.notification_attempts()
    assert len(attempts) == times
    assert all(a["delivered"] and world.decoded(a["response"]) == SUCCESS for a in attempts)
    assert len({a["body"] for a in attempts}) == 1, "the same notification, byte for byte"


@then(Texts("оплата записана в журнал заказа один раз", "the payment is in the order's journal once"))
def payment_journaled_once(invoicebox_world: InvoiceboxWorld) -> None:
    """Exactly one ``confirm_payment`` in the journal."""
    assert [j.trigger for j in invoicebox_world.journal()].count("confirm_payment") == 1


@then(Texts("оплата не записана в журнал заказа", "the payment is not in the order's journal"))
def payment_not_journaled(invoicebox_world: InvoiceboxWorld) -> None:
    """No ``confirm_payment`` in the journal."""
    assert "confirm_payment" not in [j.trigger for j in invoicebox_world.journal()]


@when(Texts(
    "ИнвойсБокс повторно доставляет уведомление об оплате заказа",
    "InvoiceBox delivers the payment notification again",
))
def invoicebox_redelivers(invoicebox_world: InvoiceboxWorld) -> None:
    """One more delivery of the same bytes, as InvoiceBox's retries do."""
    world = invoicebox_world
    world.before = world.snapshot()
    world.sandbox.redeliver(world.invoicebox_id())
    world.sandbox.wait_idle()


@when(Texts("ИнвойсБокс доставляет придержанное уведомление", "InvoiceBox delivers the held notification"))
def invoicebox_delivers_held(invoicebox_world: InvoiceboxWorld) -> None:
    """The notification held back so far reaches the shop now."""
    world = invoicebox_world
    assert world.notification_attempts() == [], "the notification was held back"
    world.sandbox.redeliver(world.invoicebox_id())
    world.sandbox.wait_idle()


@when(Texts("ИнвойсБокс доставляет запоздавшие уведомления", "InvoiceBox delivers the late notifications"))
def invoicebox_delivers_late(invoicebox_world: InvoiceboxWorld) -> None:
    """Wait until the sandbox has sent everything that is due, late notifications included."""
    invoicebox_world.sandbox.wait_idle()


@then(Texts(
    'на последнее уведомление магазин ответил "{status:Q}"',
    'the shop answered the last notification with "{status:Q}"',
))
def last_answer(invoicebox_world: InvoiceboxWorld, status: str) -> None:
    """The body of the shop's answer to InvoiceBox's latest attempt."""
    last = invoicebox_world.notification_attempts()[-1]
    assert last["status"] == 200 and invoicebox_world.decoded(last["response"]) == {"status": status}


@then(Texts(
    'уведомление о заказе "{first:Q}" пришло в магазин раньше уведомления о заказе "{second:Q}"',
    'the notification of the order "{first:Q}" reached the shop before that of the order "{second:Q}"',
))
def notified_in_order(invoicebox_world: InvoiceboxWorld, first: str, second: str) -> None:
    """Compares the journal positions of the two orders' payment confirmations."""
    def confirmation(label: str) -> int:
        entries = [j for j in invoicebox_world.journal(label) if j.trigger == "confirm_payment"]
        assert len(entries) == 1 and entries[0].seq is not None
        return entries[0].seq

    assert confirmation(first) < confirmation(second)


@when(Texts(
    "ИнвойсБокс присылает тестовое уведомление мониторинга",
    "InvoiceBox sends its monitoring test notification",
))
def monitoring_notification(invoicebox_world: InvoiceboxWorld) -> None:
    """The notification with id ffffffff-… and no order, to the shop's notification address."""
    world = invoicebox_world
    if world.orders:
        world.before = world.snapshot()
    world.test_attempt = world.sandbox.send_test_notification(url=world.shop.notification_url)


@then(Texts(
    'магазин ответил на тестовое уведомление HTTP 200 "{answer:Q}"',
    'the shop answered the test notification with HTTP 200 "{answer:Q}"',
))
def monitoring_answer(invoicebox_world: InvoiceboxWorld, answer: str) -> None:
    """"success", or the error code the shop answered with."""
    attempt = invoicebox_world.test_attempt
    assert attempt is not None and attempt["status"] == 200
    body = invoicebox_world.decoded(attempt["response"])
    if answer == "success":
        assert body == SUCCESS and attempt["delivered"]
    else:
        assert body["status"] == "error" and body["code"] == answer and not attempt["delivered"]


@then(Texts("ИнвойсБокс не присылал уведомлений", "InvoiceBox sent no notification"))
def no_notifications(invoicebox_world: InvoiceboxWorld) -> None:
    """No notification of the order (of its payment or of its status), delivered or not."""
    world = invoicebox_world
    world.sandbox.wait_idle()
    assert world.sandbox.notifications(world.invoicebox_id()) == []
