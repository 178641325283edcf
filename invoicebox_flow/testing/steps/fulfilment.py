"""Shipments, refunds, updates and cancellation.

After the payment: shipment (the whole order or some lines), the shop's documents, refund
claims, refundable lines, refunds (whole or by line); before it: update and cancellation.
``Магазин пытается …`` steps expect a refusal: they keep the order as it was and the error for
``Тогда действие отклонено: …`` and ``Тогда заказ не изменился``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from pytest_bdd import given, when

from .. import vocabulary
from .patterns import Texts

if TYPE_CHECKING:
    from ..world import InvoiceboxWorld

LINE_COLUMNS = {"sku": "sku", "артикул": "sku", "quantity": "quantity", "qty": "quantity",
                "количество": "quantity", "кол-во": "quantity"}


def _quantities(datatable: list[list[str]]) -> dict[str, Decimal]:
    rows = vocabulary.table_rows(datatable, LINE_COLUMNS, "lines")
    return {row["sku"]: Decimal(row["quantity"].replace(",", ".")) for row in rows}


def _ship_lines(world: InvoiceboxWorld, quantities: dict[str, Decimal]) -> None:
    # shipped lines are settled in full (54-FZ "полный расчёт")
    items = [world.line_part(sku, quantity, payment_type="full_payment") for sku, quantity in quantities.items()]
    world.flow.ship(world.order_id(), items=items)
    world.sandbox.wait_idle()


@given(Texts("Магазин отгрузил заказ", "the shop shipped the order"))
def shop_shipped(invoicebox_world: InvoiceboxWorld) -> None:
    """The whole order is shipped: "отгружен"."""
    assert invoicebox_world.flow.ship(invoicebox_world.order_id()).state == "shipped"
    invoicebox_world.sandbox.wait_idle()


@given(Texts("заказ ещё не отгружался", "the order has not been shipped yet"))
def not_shipped_yet(invoicebox_world: InvoiceboxWorld) -> None:
    """Neither the shop nor InvoiceBox knows of a shipment."""
    assert not invoicebox_world.view().shipped
    assert invoicebox_world.sandbox.shipments(invoicebox_world.invoicebox_id()) == []


@when(Texts("Магазин вызывает метод отгрузки по заказу", "the shop ships the order"))
def shop_ships(invoicebox_world: InvoiceboxWorld) -> None:
    """Documented shipment step 1 for the whole order (what was not refunded)."""
    invoicebox_world.flow.ship(invoicebox_world.order_id())
    invoicebox_world.sandbox.wait_idle()


@when(Texts('Магазин отгружает {quantity:d} шт. "{sku:Q}"', 'the shop ships {quantity:d} of "{sku:Q}"'))
def shop_ships_line(invoicebox_world: InvoiceboxWorld, quantity: int, sku: str) -> None:
    """A shipment of part of the order: ``ship(order_id, items=[…])``."""
    _ship_lines(invoicebox_world, {sku: Decimal(quantity)})


@when(Texts("Магазин отгружает позиции:", "the shop ships the lines:"))
def shop_ships_lines(invoicebox_world: InvoiceboxWorld, datatable: list[list[str]]) -> None:
    """A shipment of the lines of a table with the columns sku/артикул and quantity/количество."""
    _ship_lines(invoicebox_world, _quantities(datatable))


@when(Texts("Магазин пытается отгрузить заказ", "the shop tries to ship the order"))
def shop_tries_to_ship(invoicebox_world: InvoiceboxWorld) -> None:
    """A shipment expected to be refused."""
    invoicebox_world.attempt(lambda: invoicebox_world.flow.ship(invoicebox_world.order_id()))


@when(Texts(
    'Магазин пытается отгрузить позицию "{sku:Q}", которой нет в заказе',
    'the shop tries to ship the line "{sku:Q}", which is not in the order',
))
def shop_tries_to_ship_foreign_line(invoicebox_world: InvoiceboxWorld, sku: str) -> None:
    """A line of another basket, shipped with this order: refused before InvoiceBox is asked."""
    world = invoicebox_world
    foreign = world.line(sku)
    world.attempt(lambda: world.flow.ship(world.order_id(), items=[foreign]))
    world.sandbox.wait_idle()


@when(Texts(
    'Магазин пытается отгрузить {quantity:d} шт. "{sku:Q}"',
    'the shop tries to ship {quantity:d} of "{sku:Q}"',
))
def shop_tries_to_ship_more(invoicebox_world: InvoiceboxWorld, sku: str, quantity: int) -> None:
    """A shipment of a line of the order, expected to be refused (more than is left to ship)."""
    world = invoicebox_world
    world.attempt(lambda: world.flow.ship(world.order_id(), items={sku: quantity}))
    world.sandbox.wait_idle()


@when(Texts('Магазин выполняет действие "{trigger:Q}" по заказу', 'the shop fires "{trigger:Q}" on the order'))
def shop_fires(invoicebox_world: InvoiceboxWorld, trigger: str) -> None:
    """A step of the shop's own flow definition (``flow.fire(order_id, "pack")``): packing,
    delivery, whatever the shop added to the documented lifecycle."""
    invoicebox_world.flow.fire(invoicebox_world.order_id(), trigger)


@when(Texts('Магазин пытается выполнить действие "{trigger:Q}" по заказу',
            'the shop tries to fire "{trigger:Q}" on the order'))
def shop_tries_to_fire(invoicebox_world: InvoiceboxWorld, trigger: str) -> None:
    """The same, expected to be refused (by the state, or by the transition's guard)."""
    invoicebox_world.attempt(lambda: invoicebox_world.flow.fire(invoicebox_world.order_id(), trigger))


@when(Texts(
    "Магазин предоставляет покупателю отчётные документы (если требуется)",
    "the shop sends the buyer its own reporting documents (if required)",
))
def shop_sends_documents(invoicebox_world: InvoiceboxWorld) -> None:
    """The documented optional step of legal buyers: ``send_documents``."""
    invoicebox_world.flow.send_documents(invoicebox_world.order_id())


@when(Texts("Покупатель обращается за возвратом по заказу", "the buyer asks for a refund"))
def buyer_claims_refund(invoicebox_world: InvoiceboxWorld) -> None:
    """Documented refund step 1: ``claim_refund`` (recorded, no state change)."""
    invoicebox_world.flow.claim_refund(invoicebox_world.order_id(), reason="Передумал")


@when(Texts("Магазин получает список позиций в заказе", "the shop gets the refundable lines of the order"))
def shop_lists_refundable(invoicebox_world: InvoiceboxWorld) -> None:
    """Documented refund step 2: ``refundable_items``, kept for the checks that follow."""
    invoicebox_world.refundable = invoicebox_world.flow.refundable_items(invoicebox_world.order_id())


@when(Texts("Магазин вызывает метод оформления возврата", "the shop refunds the whole order"))
@given(Texts("Магазин вернул весь заказ", "the shop refunded the whole order"))
def shop_refunds(invoicebox_world: InvoiceboxWorld) -> None:
    """Documented refund step 3 for everything not refunded yet."""
    invoicebox_world.flow.refund(invoicebox_world.order_id())
    invoicebox_world.sandbox.wait_idle()


@when(Texts('Магазин возвращает {quantity:d} шт. "{sku:Q}"', 'the shop refunds {quantity:d} of "{sku:Q}"'))
@given(Texts('Магазин вернул {quantity:d} шт. "{sku:Q}"', 'the shop refunded {quantity:d} of "{sku:Q}"'))
def shop_refunds_line(invoicebox_world: InvoiceboxWorld, quantity: int, sku: str) -> None:
    """A refund of part of one line: ``refund(order_id, {sku: quantity})``."""
    invoicebox_world.flow.refund(invoicebox_world.order_id(), {sku: quantity})
    invoicebox_world.sandbox.wait_idle()


@when(Texts("Магазин возвращает позиции:", "the shop refunds the lines:"))
def shop_refunds_lines(invoicebox_world: InvoiceboxWorld, datatable: list[list[str]]) -> None:
    """One refund of the lines of a table with the columns sku/артикул and quantity/количество."""
    invoicebox_world.flow.refund(invoicebox_world.order_id(), _quantities(datatable))
    invoicebox_world.sandbox.wait_idle()


@when(Texts('покупатель возвращает {quantity:d} шт. "{sku:Q}"', 'the buyer returns {quantity:d} of "{sku:Q}"'))
def buyer_returns_items(invoicebox_world: InvoiceboxWorld, quantity: int, sku: str) -> None:
    """The documented refund sequence once more, for part of the order: claim, list, refund."""
    world = invoicebox_world
    order_id = world.order_id()
    world.flow.claim_refund(order_id, reason=f"{quantity} × {sku}")
    available = {i.sku: i.quantity for i in world.flow.refundable_items(order_id)}
    assert available.get(sku, 0) >= quantity, available
    world.flow.refund(order_id, {sku: quantity})
    world.sandbox.wait_idle()


@when(Texts(
    'Магазин пытается вернуть {quantity:d} шт. "{sku:Q}"',
    'the shop tries to refund {quantity:d} of "{sku:Q}"',
))
def shop_tries_to_refund(invoicebox_world: InvoiceboxWorld, quantity: int, sku: str) -> None:
    """A refund of one line expected to be refused."""
    invoicebox_world.attempt(lambda: invoicebox_world.flow.refund(invoicebox_world.order_id(), {sku: quantity}))


@when(Texts("Магазин пытается вернуть весь заказ", "the shop tries to refund the whole order"))
def shop_tries_to_refund_all(invoicebox_world: InvoiceboxWorld) -> None:
    """A refund of everything expected to be refused."""
    invoicebox_world.attempt(lambda: invoicebox_world.flow.refund(invoicebox_world.order_id()))
    invoicebox_world.sandbox.wait_idle()


@when(Texts(
    'Магазин меняет описание заказа на "{description:Q}"',
    'the shop changes the order\'s description to "{description:Q}"',
))
def shop_updates_description(invoicebox_world: InvoiceboxWorld, description: str) -> None:
    """``update`` of an unpaid order."""
    invoicebox_world.flow.update(invoicebox_world.order_id(), description=description)


@when(Texts("Магазин пытается изменить описание заказа", "the shop tries to change the order's description"))
def shop_tries_to_update(invoicebox_world: InvoiceboxWorld) -> None:
    """An update expected to be refused."""
    invoicebox_world.attempt(
        lambda: invoicebox_world.flow.update(invoicebox_world.order_id(), description="Другое описание"))


@when(Texts("Магазин отменяет заказ", "the shop cancels the order"))
def shop_cancels(invoicebox_world: InvoiceboxWorld) -> None:
    """``cancel`` (DELETE at InvoiceBox once it knows the order)."""
    invoicebox_world.flow.cancel(invoicebox_world.order_id())
    invoicebox_world.sandbox.wait_idle()


@when(Texts("Магазин пытается отменить заказ", "the shop tries to cancel the order"))
def shop_tries_to_cancel(invoicebox_world: InvoiceboxWorld) -> None:
    """A cancellation expected to be refused."""
    invoicebox_world.attempt(lambda: invoicebox_world.flow.cancel(invoicebox_world.order_id()))


@when(Texts("Магазин пытается вызвать метод создания заказа", "the shop tries to create the order at InvoiceBox"))
def shop_tries_to_create_invoice(invoicebox_world: InvoiceboxWorld) -> None:
    """``request_invoice`` expected to fail (a fault, a refusal)."""
    invoicebox_world.attempt(lambda: invoicebox_world.flow.request_invoice(invoicebox_world.order_id()))


@when(Texts(
    "магазин выполняет отложенные вызовы заказа, не дожидаясь срока повтора",
    "the shop performs the order's pending calls without waiting for their retry time",
))
def shop_resumes(invoicebox_world: InvoiceboxWorld) -> None:
    """``resume(order_id, due_now=True)``: the outbox intent is looked up and performed."""
    [view] = invoicebox_world.flow.resume(invoicebox_world.order_id(), due_now=True)
    assert view is not None and view.order_id == invoicebox_world.order_id()
