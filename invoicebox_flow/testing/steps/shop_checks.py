"""What the shop shows.

The order's state and amounts, what did not change, refusals, the receipts and documents it
recorded, its journal, its refundable lines and its events.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from pytest_bdd import then

from .. import vocabulary
from ..vocabulary import money
from .patterns import Texts

if TYPE_CHECKING:
    from ..world import InvoiceboxWorld

JOURNAL_COLUMNS = {"trigger": "trigger", "действие": "trigger", "state": "to_state", "состояние": "to_state"}
REFUNDABLE_COLUMNS = vocabulary.BASKET_COLUMNS | {"amount": "amount", "сумма": "amount"}


@then(Texts('заказ в состоянии "{state:Q}"', 'the order is in the state "{state:Q}"'))
def order_in_state(invoicebox_world: InvoiceboxWorld, state: str) -> None:
    """The state by its Russian name («оплачен»), its value ("paid") or with spaces ("payment link issued")."""
    assert invoicebox_world.view().state == vocabulary.state_value(state, invoicebox_world.flow.definition)


@then(Texts('заказ "{label:Q}" в состоянии "{state:Q}"', 'the order "{label:Q}" is in the state "{state:Q}"'))
def labelled_order_in_state(invoicebox_world: InvoiceboxWorld, label: str, state: str) -> None:
    """The same for a named order."""
    assert invoicebox_world.view(label).state == vocabulary.state_value(state, invoicebox_world.flow.definition)


@then(Texts("заказ не изменился", "the order has not changed"))
def order_unchanged(invoicebox_world: InvoiceboxWorld) -> None:
    """The order, its journal and InvoiceBox's order are exactly as before the attempt or notification."""
    assert invoicebox_world.before is not None, "no attempt was made"
    assert invoicebox_world.snapshot() == invoicebox_world.before


@then(Texts("действие отклонено: {reason}", "the action is refused: {reason}"))
def action_refused(invoicebox_world: InvoiceboxWorld, reason: str) -> None:
    """The typed error of the last attempt: «недопустимо в текущем состоянии», «превышает
    оплаченное», «ИнвойсБокс отклонил запрос», «результат неизвестен», «неверные данные» (not
    allowed in the current state, more than was paid, refused by InvoiceBox, outcome unknown,
    invalid data)."""
    assert isinstance(invoicebox_world.error, vocabulary.refusal(reason)), repr(invoicebox_world.error)


@then(Texts(
    "сумма заказа {amount:Amount}, в том числе НДС {vat:Amount}",
    "the order's amount is {amount:Amount} including {vat:Amount} VAT",
))
def order_amount(invoicebox_world: InvoiceboxWorld, amount: str, vat: str) -> None:
    """The order's total and VAT in the shop and at InvoiceBox."""
    view = invoicebox_world.view()
    assert (view.amount, view.vat_amount) == (money(amount), money(vat))
    if view.invoicebox_id:
        remote = invoicebox_world.sandbox.order(view.invoicebox_id)
        assert (Decimal(remote["amount"]), Decimal(remote["vatAmount"])) == (money(amount), money(vat))


@then(Texts("возвращено {refunded:Amount} из {paid:Amount}", "{refunded:Amount} of {paid:Amount} has been refunded"))
def refunded_so_far(invoicebox_world: InvoiceboxWorld, refunded: str, paid: str) -> None:
    """Refunded and paid amounts in the shop; the refunds at InvoiceBox that stand (not
    canceled) add up to the same."""
    view = invoicebox_world.view()
    assert (view.refunded_amount, view.paid_amount) == (money(refunded), money(paid))
    assert view.invoicebox_id
    remote = sum(Decimal(r["amount"]) for r in invoicebox_world.sandbox.refunds(view.invoicebox_id)
                 if r["status"] != "canceled")
    assert remote == money(refunded)


@then(Texts('магазин записал в заказ чек "{title:Q}"', 'the shop recorded the "{title:Q}" receipt on the order'))
def shop_recorded_receipt(invoicebox_world: InvoiceboxWorld, title: str) -> None:
    """The receipt kind is among the order's receipts, as the shop knows them."""
    assert vocabulary.receipt(title).value in {r.type for r in invoicebox_world.view().receipts}


@then(Texts(
    "магазин записал в заказ документы: {documents}",
    "the shop recorded the documents on the order: {documents}",
))
def shop_recorded_documents(invoicebox_world: InvoiceboxWorld, documents: str) -> None:
    """The shipment's reporting documents the order holds, exactly these kinds."""
    recorded = {d.type for d in invoicebox_world.view().documents if not d.type.startswith("refund_")}
    assert recorded == vocabulary.document_kinds(documents), recorded


@then(Texts(
    "магазин записал в заказ документы по возврату: {documents}",
    "the shop recorded the refund documents on the order: {documents}",
))
def shop_recorded_refund_documents(invoicebox_world: InvoiceboxWorld, documents: str) -> None:
    """The refunds' reporting documents the order holds, exactly these kinds."""
    recorded = {d.type for d in invoicebox_world.view().documents if d.type.startswith("refund_")}
    assert recorded == vocabulary.document_kinds(documents, refund=True), recorded


@then(Texts(
    "в журнале заказа Магазин предоставил покупателю документы по {phase}",
    "the order's journal shows the shop sent its documents after the {phase}",
))
def documents_journaled(invoicebox_world: InvoiceboxWorld, phase: str) -> None:
    """One successful ``send_documents``, made after the shipment («отгрузке», shipment) or a refund («возврату», refund)."""
    sent = [j for j in invoicebox_world.journal() if j.trigger == "send_documents" and j.outcome == "ok"]
    assert len(sent) == 1
    expected = {"отгрузке": {"shipped"}, "shipment": {"shipped"},
                "возврату": {"refunded", "partially_refunded"}, "refund": {"refunded", "partially_refunded"}}
    assert sent[0].from_state in vocabulary.named(expected, phase, "phase")


@then(Texts("в журнале заказа по порядку:", "the order's journal shows, in order:"))
def journal_in_order(invoicebox_world: InvoiceboxWorld, datatable: list[list[str]]) -> None:
    """The table's triggers (column trigger/действие, optionally state/состояние: the state after
    it) appear among the journal's entries in this order; other entries may come between them."""
    wanted = vocabulary.table_rows(datatable, JOURNAL_COLUMNS, "journal")
    entries = iter(invoicebox_world.journal())
    for row in wanted:
        state = vocabulary.state_value(row["to_state"], invoicebox_world.flow.definition) if row.get("to_state") else None
        found = any(e.trigger == row["trigger"] and state in (None, e.to_state) for e in entries)
        assert found, f"the journal has no {row['trigger']} (→ {state}) after the entries before it"


@then(Texts("к возврату доступны все позиции заказа", "every line of the order is refundable"))
def everything_refundable(invoicebox_world: InvoiceboxWorld) -> None:
    """The refundable lines the shop got are the order's lines, for its whole paid amount."""
    world = invoicebox_world
    view = world.view()
    assert {i.sku: i.quantity for i in world.refundable} == {ln.sku: ln.quantity for ln in view.lines}
    assert sum(i.available_amount for i in world.refundable) == view.paid_amount == view.amount


@then(Texts("к возврату доступно:", "the refundable lines are:"))
def refundable_lines(invoicebox_world: InvoiceboxWorld, datatable: list[list[str]]) -> None:
    """The refundable lines the shop got: sku/артикул, quantity/количество, optionally amount/сумма."""
    rows = vocabulary.table_rows(datatable, REFUNDABLE_COLUMNS, "refundable lines")
    got = {i.sku: i for i in invoicebox_world.refundable}
    assert set(got) == {row["sku"] for row in rows}, sorted(got)
    for row in rows:
        item = got[row["sku"]]
        assert item.quantity == Decimal(row["quantity"].replace(",", ".")), (row, item.quantity)
        if row.get("amount"):
            assert item.available_amount == money(row["amount"]), (row, item.available_amount)


@then(Texts("магазин опубликовал события: {names}", "the shop published the events: {names}"))
def events_published(invoicebox_world: InvoiceboxWorld, names: str) -> None:
    """The order's lifecycle events a shop subscribes to, in commit order (comma-separated class
    names: ``OrderPlaced, PaymentLinkIssued, OrderPaid``; a step of the shop's own definition by
    its trigger: ``pack``). The documented steps between them (``LifecycleStep``) and bookkeeping
    (``OrderAnnotated``) are left out: what a shop reacts to is what these name."""
    from ...engine import ExtensionStep, LifecycleStep, OrderAnnotated  # the engine loads with the first step

    published = [event.trigger if isinstance(event, ExtensionStep) else type(event).__name__
                 for event in invoicebox_world.flow.order_events(invoicebox_world.order_id())
                 if not isinstance(event, (LifecycleStep, OrderAnnotated))]
    assert published == [n.strip() for n in names.split(",")], published
