"""Refund arithmetic: what may still be refunded, per line and in total, and what a refund changes.

A refund is limited per line (quantity and money) and in total to what was paid minus what was
already refunded; a line refunded in full gives back exactly what is left of it (so rounding
can never leave a kopeck behind), a partial quantity its price × quantity with the VAT of that
total. Everything is refused before anything is sent.

A refund takes a line's units that were only prepaid first (not shipped yet: they can no longer
be shipped), then those a shipment settled. Each refund line states the settlement method
(``paymentType``, FFD tag 1214) of the receipt it reverses: ``full_prepayment`` for units only
prepaid (the payment's «предоплата 100%»), ``full_payment`` for units a shipment settled (its
«полный расчёт»). One line cannot say both, and InvoiceBox addresses lines by SKU, so a
refund that would return both kinds of one line is refused, naming the two refunds to make
instead (docs/rulebook.md, «paymentType»).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import attrs

from .. import money
from ..errors import RefundLimitError
from ..fiscal import RECEIPT_PAYMENT_TYPES, Receipt
from ..models import BasketItem, RefundRequest
from .arguments import field_error
from .document import ZERO, OrderDocument, OrderLine, RefundEntry, parts_of
from .wanted import quantities, share


def refund_lines(order_id: str, doc: OrderDocument, wanted: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """The camelCase basket lines of a refund of ``wanted`` (``{sku: quantity}``; None: all that is left)."""
    if wanted is None:
        asked = {ln.sku: ln.refundable_quantity for ln in doc.lines if ln.refundable_quantity > 0}
    else:
        asked = quantities(order_id, doc, wanted, verb="refund")
    out = []
    for sku, qty in asked.items():
        line = doc.line(sku)
        assert line is not None
        if qty > line.refundable_quantity:
            raise RefundLimitError(
                f"order {order_id}: cannot refund {qty} × {sku}; {line.refundable_quantity} left of {line.quantity}")
        total, vat = share(order_id, line, qty, left=line.refundable_quantity, left_amount=line.refundable_amount,
                           left_vat=line.refundable_vat_amount)
        if total > line.refundable_amount:
            raise RefundLimitError(f"order {order_id}: {sku} has {line.refundable_amount} left to refund, not {total}")
        out.append(dict(doc.request_line(sku), quantity=qty, totalAmount=total, totalVatAmount=vat,
                        amount=line.unit_price, paymentType=_settlement(order_id, line, qty)))
    if not out:
        raise RefundLimitError(f"order {order_id}: nothing left to refund")
    total = sum((money.to_money(ln["totalAmount"]) for ln in out), ZERO)
    if total > doc.refundable_amount:
        raise RefundLimitError(f"order {order_id}: refund {total} exceeds {doc.refundable_amount} paid and not refunded")
    return out


def _settlement(order_id: str, line: OrderLine, qty: Decimal) -> str:
    """The ``paymentType`` of a refund of ``qty`` of ``line``: the settlement its receipt reverses."""
    prepaid = line.shippable_quantity  # units neither shipped nor refunded: only prepaid
    if qty <= prepaid:
        return RECEIPT_PAYMENT_TYPES[Receipt.PREPAYMENT_FULL]  # the payment's «предоплата 100%»
    if prepaid == 0:
        return RECEIPT_PAYMENT_TYPES[Receipt.FULL_SETTLEMENT]  # a shipment's «полный расчёт»
    shipped = qty - prepaid
    raise field_error(
        f"quantity of {line.sku}",
        f"order {order_id}: {qty} × {line.sku} would return {prepaid} only prepaid and {shipped} already shipped, "
        f"which one refund line cannot state (54-FZ: «предоплата 100%» and «полный расчёт» are reversed "
        f"separately); refund {{{line.sku!r}: {prepaid}}} first, then {{{line.sku!r}: {shipped}}}",
        code="mixed_settlement")


def refund_id(order_id: str, number: int) -> str:
    """A refund's own merchantOrderId: unique per refund, at most 100 characters (API limit)."""
    suffix = f"-R{number}"
    if len(order_id) + len(suffix) > 100:
        order_id = order_id[:60] + "-" + hashlib.sha1(order_id.encode("utf-8")).hexdigest()[:12]
    return order_id + suffix


def refund_request(order_id: str, invoicebox_id: str, doc: OrderDocument, lines: list[dict[str, Any]],
                   description: str | None) -> RefundRequest:
    amount, vat = money.order_totals(lines)
    request = RefundRequest(
        parent_id=invoicebox_id,
        merchant_order_id=refund_id(order_id, len(doc.refunds) + 1),
        description=description or f"Возврат по заказу {order_id}",
        basket_items=[BasketItem.from_json(ln) for ln in lines],
        amount=amount,
        vat_amount=vat,
    )
    request.validate()
    return request


def with_refund(doc: OrderDocument, request: Mapping[str, Any], refund_id_: str, status: str,
                requested_from: str | None) -> OrderDocument:
    """The document once InvoiceBox registered the refund ``request`` (camelCase body)."""
    parts: dict[str, Mapping[str, Any]] = {ln["sku"]: ln for ln in request["basketItems"]}
    lines = []
    for line in doc.lines:
        part = parts.get(line.sku)
        lines.append(line if part is None else attrs.evolve(
            line,
            refunded_quantity=line.refunded_quantity + Decimal(str(part["quantity"])),
            refunded_amount=line.refunded_amount + money.to_money(part["totalAmount"]),
            refunded_vat_amount=line.refunded_vat_amount + money.to_money(part["totalVatAmount"]),
        ))
    entry = RefundEntry(refund_id_, request["merchantOrderId"], money.to_money(request["amount"]),
                        money.to_money(request["vatAmount"]), status,
                        parts_of(request["basketItems"]), requested_from)
    return attrs.evolve(doc, lines=tuple(lines), refunded_amount=doc.refunded_amount + entry.amount,
                        refunds=(*doc.refunds, entry), resume_state=None)


def without_refund(doc: OrderDocument, refund_id_: str, status: str) -> OrderDocument:
    """The document once InvoiceBox canceled a refund: its money counts as not returned again."""
    entry = next(r for r in doc.refunds if r.id == refund_id_)
    parts = {part.sku: part for part in entry.lines}
    lines = tuple(line if line.sku not in parts else attrs.evolve(
        line,
        refunded_quantity=line.refunded_quantity - parts[line.sku].quantity,
        refunded_amount=line.refunded_amount - parts[line.sku].amount,
        refunded_vat_amount=line.refunded_vat_amount - parts[line.sku].vat_amount,
    ) for line in doc.lines)
    refunds = tuple(attrs.evolve(r, status=status) if r.id == refund_id_ else r for r in doc.refunds)
    return attrs.evolve(doc, lines=lines, refunds=refunds, refunded_amount=doc.refunded_amount - entry.amount)


def with_refund_status(doc: OrderDocument, refund_id_: str, status: str) -> OrderDocument:
    return attrs.evolve(doc, refunds=tuple(attrs.evolve(r, status=status) if r.id == refund_id_ else r
                                           for r in doc.refunds))
