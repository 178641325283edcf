"""What a shipment or refund asks for, from the shop's side: the caller's ``{sku: quantity}`` map
checked against the order's lines, and the money a part of a line carries.

Both are user input at the public API (``flow.ship(order_id, {"BOOK-1": 2})``), so every way
they can be wrong is a typed :class:`~invoicebox_flow.errors.ValidationError` naming the field,
raised before anything is stored or sent: a map that is not a map, a key that is not one of the
order's SKUs, a quantity the rule book refuses (:func:`invoicebox_flow.rulebook.parse_quantity`).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from .. import money
from ..errors import BasketError, ValidationError
from .arguments import field_error
from .document import OrderDocument, OrderLine

ITEMS = "items"  # the public methods' argument, named in field errors


def quantities(order_id: str, doc: OrderDocument, wanted: object, *, verb: str) -> dict[str, Decimal]:
    """``wanted`` (``{sku: quantity}``) as exact quantities of lines of the order; ``verb``
    (``ship``, ``refund``) words the errors."""
    if not isinstance(wanted, Mapping):
        raise field_error(ITEMS, f"order {order_id}: {verb} lines as {{sku: quantity}}, not {type(wanted).__name__}")
    if not wanted:
        raise field_error(ITEMS, f"order {order_id}: no lines to {verb} were given", code="validation")
    unknown = [sku for sku in wanted if not isinstance(sku, str) or doc.line(sku) is None]
    if unknown:
        names = ", ".join(sku if isinstance(sku, str) else repr(sku) for sku in unknown)
        raise ValidationError(f"order {order_id} has no line {names}", code="validation",
                              fields=[{"name": "basketItems", "code": "wrong_value", "message": str(sku)} for sku in unknown])
    return {sku: money.parse_quantity(qty, field=f"quantity of {sku}") for sku, qty in wanted.items()}


def share(order_id: str, line: OrderLine, qty: Decimal, *, left: Decimal, left_amount: Decimal,
          left_vat: Decimal) -> tuple[Decimal, Decimal]:
    """``(totalAmount, totalVatAmount)`` of ``qty`` of ``line``: exactly what is left when ``qty``
    is all that is left (so rounding never leaves a kopeck behind), else price × quantity and
    the VAT of that total. A part of a paid-for line that rounds to 0.00 is refused: it would
    settle or refund a quantity for nothing (a 0.00 receipt line) — most likely a typo."""
    if qty == left:
        return left_amount, left_vat
    total = money.to_money(line.unit_price * qty)
    if total <= 0 < line.unit_price:
        raise field_error(f"quantity of {line.sku}", f"order {order_id}: {qty} × {line.sku} at {line.unit_price} "
                          "is less than a kopeck", error=BasketError)
    return total, money.vat_of_total(total, line.vat_code)
