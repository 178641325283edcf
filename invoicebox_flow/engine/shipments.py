"""Shipment arithmetic: what is left to ship per line, what a shipment of some lines carries, and
what a registered shipment changes.

A line can be shipped in parts, as many times as needed, until nothing is left: its quantity minus
what was shipped and what was refunded (InvoiceBox counts refunded quantities as no longer to be
settled). Each shipment settles its own lines in full — 54-FZ «полный расчёт», ``paymentType``
``full_payment`` (FFD tag 1214 value 4) — while the lines still unshipped stay prepaid («предоплата
100%» from the payment). A part of a line carries its price × quantity and the VAT of that total;
the last part carries exactly what is left, so rounding never leaves a kopeck behind.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import attrs

from .. import money
from ..errors import ShipmentLimitError, ValidationError
from ..fiscal import RECEIPT_PAYMENT_TYPES, Receipt
from ..models import BasketItem
from .arguments import field_error
from .document import OrderDocument, ShipmentEntry, parts_of
from .wanted import ITEMS, quantities, share

FULL_PAYMENT = RECEIPT_PAYMENT_TYPES[Receipt.FULL_SETTLEMENT]
Wanted = Mapping[str, Any] | Sequence[BasketItem] | None


def wanted_quantities(order_id: str, doc: OrderDocument, wanted: object) -> dict[str, Decimal]:
    """``{sku: quantity}`` of a shipment request: everything left (None), a map of quantities, or
    basket items (their sku and quantity; a price or VAT code other than the order's is refused)."""
    if wanted is None:
        return {line.sku: line.shippable_quantity for line in doc.lines if line.shippable_quantity > 0}
    if isinstance(wanted, (Mapping, str, bytes)) or not isinstance(wanted, Sequence):
        return quantities(order_id, doc, wanted, verb="ship")
    out: dict[str, Decimal] = {}
    for item in wanted:
        if not isinstance(item, BasketItem):
            raise field_error(ITEMS, f"order {order_id}: ship lines by {{sku: quantity}} or as BasketItem, "
                                     f"not {type(item).__name__}")
        line = doc.line(item.sku)
        if line is not None and (item.amount != line.unit_price or item.vat_code != line.vat_code):
            raise ValidationError(f"order {order_id}: {item.sku} is shipped at its ordered price and VAT code "
                                  f"({line.unit_price}, {line.vat_code}), not {item.amount}, {item.vat_code}",
                                  code="wrong_value")
        out[item.sku] = out.get(item.sku, Decimal(0)) + money.parse_quantity(item.quantity, field=f"quantity of {item.sku}")
    return quantities(order_id, doc, out, verb="ship")


def shipment_lines(order_id: str, doc: OrderDocument, wanted: Wanted) -> list[dict[str, Any]]:
    """The camelCase basket lines of a shipment, refused (nothing sent) unless each is a line of
    the order with that much left to ship."""
    out = []
    for sku, qty in wanted_quantities(order_id, doc, wanted).items():
        line = doc.line(sku)
        assert line is not None
        if qty > line.shippable_quantity:
            raise ShipmentLimitError(f"order {order_id}: cannot ship {qty} × {sku}; "
                                     f"{line.shippable_quantity} left to ship of {line.quantity}")
        total, vat = share(order_id, line, qty, left=line.shippable_quantity, left_amount=line.shippable_amount,
                           left_vat=line.shippable_vat_amount)
        out.append(dict(doc.request_line(sku), quantity=qty, totalAmount=total, totalVatAmount=vat,
                        paymentType=FULL_PAYMENT))
    if not out:
        raise ShipmentLimitError(f"order {order_id}: nothing left to ship")
    return out


def with_shipment(doc: OrderDocument, shipment_id: str, at: str, lines: Iterable[Mapping[str, Any]], *,
                  observed: bool = False) -> OrderDocument:
    """The document once InvoiceBox registered a shipment of ``lines`` (camelCase)."""
    parts = {str(ln["sku"]): ln for ln in lines}
    updated = []
    for line in doc.lines:
        part = parts.get(line.sku)
        updated.append(line if part is None else attrs.evolve(
            line,
            shipped_quantity=line.shipped_quantity + Decimal(str(part["quantity"])),
            shipped_amount=line.shipped_amount + money.to_money(part["totalAmount"]),
            shipped_vat_amount=line.shipped_vat_amount + money.to_money(part["totalVatAmount"]),
        ))
    entry = ShipmentEntry(shipment_id, at, parts_of(parts.values()), observed=observed)
    return attrs.evolve(doc, lines=tuple(updated), shipments=(*doc.shipments, entry), resume_state=None)


def outcome(doc: OrderDocument) -> str:
    """Where a shipment leaves the order: shipped when nothing is left to ship."""
    from ..flows import State

    return (State.PARTIALLY_SHIPPED if doc.something_to_ship else State.SHIPPED).value


def matches(remote_lines: Iterable[Any], payload_lines: Iterable[Mapping[str, Any]]) -> bool:
    """True when a shipment InvoiceBox lists carries exactly the payload's (sku, quantity)."""
    mine = sorted((str(ln["sku"]), Decimal(str(ln["quantity"]))) for ln in payload_lines)
    theirs = sorted((str(item.sku), Decimal(str(item.quantity))) for item in remote_lines)
    return mine == theirs
