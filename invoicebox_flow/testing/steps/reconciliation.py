"""Reconciliation: the sweep that compares the shop's orders with InvoiceBox's and heals drift.

The scenario makes the drift (a notification lost past every retry, a refund made in the
personal account), runs ``flow.reconcile``, and reads its report, the order and its journal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pytest_bdd import given, then, when

from .patterns import Texts

if TYPE_CHECKING:
    from ..world import InvoiceboxWorld

ACTOR = "reconcile"  # the journal's actor of what a sweep heals


@given(Texts(
    "ИнвойсБокс не сможет доставить следующее уведомление ни с одной попытки",
    "InvoiceBox will fail to deliver the next notification on every attempt",
))
def next_notification_dropped(invoicebox_world: InvoiceboxWorld) -> None:
    """The sandbox's ``drop`` notification fault: every attempt fails, and InvoiceBox gives up."""
    invoicebox_world.sandbox.inject_notification_fault("drop")


@given(Texts(
    "в личном кабинете ИнвойсБокс оформили возврат заказа",
    "a refund of the order was made in InvoiceBox's personal account",
))
def refunded_by_hand(invoicebox_world: InvoiceboxWorld) -> None:
    """A refund of all that is left, made at InvoiceBox by hand: the shop never asked for it."""
    invoicebox_world.sandbox.drift_refund(invoicebox_world.invoicebox_id())
    invoicebox_world.sandbox.wait_idle()


@when(Texts("магазин проводит сверку с ИнвойсБокс", "the shop reconciles with InvoiceBox"))
def reconcile(invoicebox_world: InvoiceboxWorld) -> None:
    """A sweep that only reports."""
    invoicebox_world.sweeps.append(invoicebox_world.flow.reconcile())


@when(Texts("магазин проводит сверку с исправлением", "the shop reconciles with InvoiceBox and heals"))
def reconcile_and_heal(invoicebox_world: InvoiceboxWorld) -> None:
    """A sweep that heals what is safe to heal, through the lifecycle's transitions."""
    invoicebox_world.sweeps.append(invoicebox_world.flow.reconcile(heal=True))


def _finding(invoicebox_world: InvoiceboxWorld, kind: str) -> Any:
    order_id = invoicebox_world.order_id()
    found = [f for f in invoicebox_world.sweeps[-1].findings if f.order_id == order_id]
    assert [str(f.kind) for f in found] == [kind], found
    return found[0]


@then(Texts(
    'сверка нашла у заказа расхождение "{kind:Q}" и исправила его',
    'the sweep found the drift "{kind:Q}" on the order and healed it',
))
def found_and_healed(invoicebox_world: InvoiceboxWorld, kind: str) -> None:
    assert str(_finding(invoicebox_world, kind).outcome) == "healed"


@then(Texts(
    'сверка нашла у заказа расхождение "{kind:Q}" и оставила его человеку',
    'the sweep found the drift "{kind:Q}" on the order and left it to a person',
))
def found_for_a_person(invoicebox_world: InvoiceboxWorld, kind: str) -> None:
    finding = _finding(invoicebox_world, kind)
    assert finding.needs_human and str(finding.outcome) == "found"
    assert invoicebox_world.sweeps[-1].exit_code == 2


@then(Texts(
    'в журнале заказа сверка записала переход "{trigger:Q}"',
    'the sweep journaled the transition "{trigger:Q}" on the order',
))
def sweep_journaled(invoicebox_world: InvoiceboxWorld, trigger: str) -> None:
    assert [e.trigger for e in invoicebox_world.journal() if e.actor == ACTOR] == [trigger]


@then(Texts("сверка ничего не записала в журнал заказа", "the sweep journaled nothing on the order"))
def sweep_journaled_nothing(invoicebox_world: InvoiceboxWorld) -> None:
    assert [e for e in invoicebox_world.journal() if e.actor == ACTOR] == []


@then(Texts("повторная сверка расхождений не находит", "a second sweep finds no drift"))
def agrees_again(invoicebox_world: InvoiceboxWorld) -> None:
    again = invoicebox_world.flow.reconcile(heal=True)
    assert again.agrees and again.exit_code == 0, again.findings


@then(Texts(
    'повторная сверка снова находит у заказа расхождение "{kind:Q}"',
    'a second sweep finds the drift "{kind:Q}" on the order again',
))
def found_again(invoicebox_world: InvoiceboxWorld, kind: str) -> None:
    invoicebox_world.sweeps.append(invoicebox_world.flow.reconcile(heal=True))
    _finding(invoicebox_world, kind)
