"""What real orders meet beyond the documented diagrams: InvoiceBox's own settings and what it
does without telling the shop.

Refund payouts that take days, the «Контроль отгрузки» payment page, status notifications,
InvoiceBox shipping online services itself, an organisation paying by bank transfer, a refund
InvoiceBox cancels, a lost answer, and changes made at InvoiceBox behind the shop's back. The
steps that choose InvoiceBox's settings make the scenario's own sandbox, so they come before
the first step that uses the shop.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from pytest_bdd import given, then, when

from ...errors import ApiError
from .patterns import Texts

if TYPE_CHECKING:
    from ..world import InvoiceboxWorld


# --- InvoiceBox's settings (the scenario's own sandbox) ------------------------------------------


@given(Texts("ИнвойсБокс выплачивает возвраты через {days:Days}", "InvoiceBox pays refunds out after {days:Days}"))
def refunds_paid_later(invoicebox_world: InvoiceboxWorld, days: int) -> None:
    """A refund stays ``created`` until the sandbox's clock has moved ``days`` on ("up to two
    banking days"), then ``completed`` with its receipt or documents."""
    invoicebox_world.use_sandbox(refund_payout_delay=days * 86400)


@given(Texts(
    "в ИнвойсБокс включён контроль отгрузки на платёжной странице",
    "InvoiceBox's shipping control on the payment page is on",
))
def shipping_control(invoicebox_world: InvoiceboxWorld) -> None:
    """«Контроль отгрузки на платёжной странице»: the payer waits on the page until the shop has
    answered the payment notification; ``shipping_unavailable`` sends them to the fail URL."""
    invoicebox_world.use_sandbox(shipping_control=True)


@given(Texts(
    "ИнвойсБокс уведомляет магазин об отмене и истечении заказов",
    "InvoiceBox notifies the shop of canceled and expired orders",
))
def status_notifications(invoicebox_world: InvoiceboxWorld) -> None:
    """Signed status notifications (``canceled``, ``expired``) besides the payment's."""
    invoicebox_world.use_sandbox(status_notifications=("canceled", "expired"))


@given(Texts(
    "ИнвойсБокс сам отгружает оплаченные онлайн-услуги",
    "InvoiceBox ships paid online services by itself",
))
def invoicebox_ships_services(invoicebox_world: InvoiceboxWorld) -> None:
    """InvoiceBox registers the shipment of a paid services-only order itself; the shop learns
    of it only by asking (``sync``)."""
    invoicebox_world.use_sandbox(auto_shipment=True)


@given(Texts(
    "магазин отгружает онлайн-услуги сразу после оплаты",
    "the shop ships online services as soon as they are paid",
))
def shop_ships_on_payment(invoicebox_world: InvoiceboxWorld) -> None:
    """The orders the scenario places ask to ship themselves once paid (``place(auto_ship=True)``)."""
    invoicebox_world.auto_ship = True


@given(Texts("ИнвойсБокс отменит следующий возврат", "InvoiceBox will cancel the next refund"))
def next_refund_canceled(invoicebox_world: InvoiceboxWorld) -> None:
    """The next refund is accepted, then ends ``canceled``: no money goes back, no receipt."""
    invoicebox_world.sandbox.inject_refund_fault("canceled")


@given(Texts(
    "ИнвойсБокс проведёт следующую отгрузку, но ответ на неё потеряется",
    "InvoiceBox will register the next shipment but its answer will be lost",
))
def next_shipment_answer_lost(invoicebox_world: InvoiceboxWorld) -> None:
    """The shipment is made, its answer lost, and InvoiceBox's list cannot tell for a while: the
    call's outcome is unknown and stays pending (the client's listing before the call passes)."""
    sandbox = invoicebox_world.sandbox
    sandbox.inject_fault("list_shipments", "slow", delay=0.01)
    sandbox.inject_fault("list_shipments", "server_error", times=20)
    sandbox.inject_fault("create_shipment", "server_error_after_commit")


@when(Texts("ИнвойсБокс снова отвечает на все запросы", "InvoiceBox answers every request again"))
def invoicebox_recovers(invoicebox_world: InvoiceboxWorld) -> None:
    invoicebox_world.sandbox.clear_faults()


# --- what InvoiceBox does without telling the shop ----------------------------------------------


@given(Texts("ИнвойсБокс сам провёл отгрузку заказа", "InvoiceBox has shipped the order by itself"))
@when(Texts("ИнвойсБокс сам проводит отгрузку заказа", "InvoiceBox ships the order by itself"))
def invoicebox_ships(invoicebox_world: InvoiceboxWorld) -> None:
    """A shipment of the whole order registered at InvoiceBox, documents issued, the shop not told."""
    invoicebox_world.sandbox.drift_shipment(invoicebox_world.invoicebox_id())
    invoicebox_world.sandbox.wait_idle()


@when(Texts(
    "заказ отменяют в личном кабинете ИнвойсБокс",
    "the order is canceled in InvoiceBox's personal account",
))
def canceled_by_hand(invoicebox_world: InvoiceboxWorld) -> None:
    """An unpaid order canceled at InvoiceBox by hand: no notification, whatever the settings."""
    invoicebox_world.sandbox.drift_cancel_order(invoicebox_world.invoicebox_id())
    invoicebox_world.sandbox.wait_idle()


@when(Texts(
    "покупатель выбирает оплату по счёту банковским переводом",
    "the buyer chooses to pay the invoice by bank transfer",
))
def buyer_chooses_bank_transfer(invoicebox_world: InvoiceboxWorld) -> None:
    """«Оплатить по счёту»: the invoice is mailed to the organisation; the order stays unpaid."""
    invoicebox_world.page = invoicebox_world.buyer.pay_by_bank_transfer(invoicebox_world.payment_url())


@when(Texts("на счёт ИнвойсБокс приходит банковский перевод", "the bank transfer reaches InvoiceBox"))
def transfer_arrives(invoicebox_world: InvoiceboxWorld) -> None:
    """The transfer is settled: the order is paid now, its notification follows late."""
    invoicebox_world.sandbox.settle_bank_transfer(invoicebox_world.invoicebox_id())
    invoicebox_world.sandbox.wait_idle()


@when(Texts(
    "банковский перевод приходит в ИнвойсБокс слишком поздно, и ИнвойсБокс его не принимает",
    "the bank transfer reaches InvoiceBox too late and InvoiceBox refuses it",
))
def transfer_too_late(invoicebox_world: InvoiceboxWorld) -> None:
    """Settling an order that expired meanwhile is refused by InvoiceBox (an API error)."""
    with pytest.raises(ApiError):
        invoicebox_world.sandbox.settle_bank_transfer(invoicebox_world.invoicebox_id())


# --- what the buyer and InvoiceBox show ----------------------------------------------------------


@then(Texts(
    "платёжная страница сообщает, что магазин не может выполнить заказ, и отправляет покупателя на адрес неуспешной оплаты",
    "the payment page says the shop cannot fulfil the order and sends the buyer to the failure address",
))
def page_says_cannot_fulfil(invoicebox_world: InvoiceboxWorld) -> None:
    """The payment is taken (the order is paid at InvoiceBox) but the shop answered
    ``shipping_unavailable``: the page says so and sends the buyer to the fail URL."""
    world = invoicebox_world
    page = world.buyer.last_page or ""
    assert "не может выполнить" in page, page[:500]
    assert world.location == world.flow.fail_url, world.location


@then(Texts(
    "платёжная страница сообщает, что счёт выставлен и ожидает оплаты",
    "the payment page says the invoice is issued and awaits payment",
))
def page_says_invoice_issued(invoicebox_world: InvoiceboxWorld) -> None:
    page = invoicebox_world.page or ""
    assert "ожидаем оплату" in page.lower(), page[:500]


@then(Texts(
    'на уведомление о смене статуса магазин ответил "{status:Q}"',
    'the shop answered the status notification with "{status:Q}"',
))
def status_notification_answer(invoicebox_world: InvoiceboxWorld, status: str) -> None:
    """The shop's answer to InvoiceBox's latest status (not payment) notification of the order."""
    attempts = invoicebox_world.notification_attempts(kind="status")
    assert attempts, "InvoiceBox sent no status notification"
    assert attempts[-1]["status"] == 200, attempts[-1]
    assert invoicebox_world.decoded(attempts[-1]["response"]) == {"status": status}


@then(Texts('возврат в ИнвойсБокс в статусе "{status:Q}"', 'the refund\'s status at InvoiceBox is "{status:Q}"'))
def remote_refund_status(invoicebox_world: InvoiceboxWorld, status: str) -> None:
    """The status of the order's latest refund at InvoiceBox: created, completed, canceled."""
    refunds = invoicebox_world.sandbox.refunds(invoicebox_world.invoicebox_id())
    assert refunds and refunds[-1]["status"] == status, refunds


@then(Texts(
    'магазин записал возврат в статусе "{status:Q}"',
    'the shop recorded the refund with the status "{status:Q}"',
))
def recorded_refund_status(invoicebox_world: InvoiceboxWorld, status: str) -> None:
    refunds = invoicebox_world.view().refunds
    assert refunds and refunds[-1].status == status, refunds


@then(Texts(
    "в журнале заказа магазин записал то, что ИнвойсБокс сделал сам: {triggers}",
    "the order's journal records what InvoiceBox did by itself: {triggers}",
))
def journaled_catch_up(invoicebox_world: InvoiceboxWorld, triggers: str) -> None:
    """The transitions ``sync`` applied (actor ``reconcile``), in order, comma-separated."""
    wanted = [t.strip() for t in triggers.split(",")]
    assert [e.trigger for e in invoicebox_world.journal() if e.actor == "reconcile"] == wanted
