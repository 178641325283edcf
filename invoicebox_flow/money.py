"""Money as InvoiceBox counts it: ``Decimal`` roubles rounded to kopecks, VAT and basket sums.

The rules themselves live in :mod:`invoicebox_flow.rulebook`, written once for the client and
the sandbox; this module is the short, stable name for the arithmetic a shop uses:

* amounts are roubles with two decimals; a ``float`` is refused everywhere with a typed
  :class:`~invoicebox_flow.errors.ValidationError` (``wrong_value``): binary fractions cannot
  hold kopecks exactly;
* every VAT code is tax-included (``RUS_VAT22``: VAT = total × 22/122), ``*_ADDED`` too, as the
  official MCP server computes them; a line's VAT may be of its total or per unit × quantity
  (the Bitrix module), see :data:`invoicebox_flow.rulebook.catalogue.LINE_VAT`;
* a line's ``totalAmount`` is ``amount × quantity`` under the order's round policy, the order's
  ``amount``/``vatAmount`` the sums of the lines.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from .errors import BasketError
from .rulebook import (
    DOCUMENTED_VAT_CODES,
    KOPECK,
    LEGACY_VAT_CODES,
    ROUND_POLICIES,
    VAT_CODES,
    ZERO,
    Problem,
    amount_wo_vat,
    basket_report,
    is_vat_added,
    line_total,
    parse_money,
    parse_quantity,
    to_decimal,
    to_money,
    vat_of_total,
    vat_per_unit,
    vat_rate,
)

__all__ = [
    "DOCUMENTED_VAT_CODES",
    "KOPECK",
    "LEGACY_VAT_CODES",
    "ROUND_POLICIES",
    "VAT_CODES",
    "amount_wo_vat",
    "basket_error",
    "basket_problems",
    "is_vat_added",
    "line_total",
    "order_totals",
    "parse_money",
    "parse_quantity",
    "to_decimal",
    "to_money",
    "validate_basket",
    "vat_of_total",
    "vat_per_unit",
    "vat_rate",
]


def basket_problems(
    amount: Any,
    vat_amount: Any,
    items: Sequence[Mapping[str, Any]],
    round_policy: Any = "strict",
) -> list[dict[str, str]]:
    """Every way the order totals and basket lines break the API's arithmetic rules.

    ``items`` are camelCase basket lines as sent on the wire (``Decimal``/``int`` numbers).
    Returns API-style problems ``{"code", "name", "message"}`` — ``name`` is the JSON path, e.g.
    ``basketItems[0].totalAmount`` — in a stable order: the order's values, each line in turn,
    then the order's sums. An empty list means the arithmetic holds (the lines' other fields —
    sku, enums, lengths — are :func:`invoicebox_flow.rulebook.basket_report`'s).
    """
    report = basket_report(amount, vat_amount, items, round_policy, fields=False)
    return [{"code": p.code, "name": p.field, "message": p.message} for p in report.problems]


def validate_basket(
    amount: Any,
    vat_amount: Any,
    items: Sequence[Mapping[str, Any]],
    round_policy: Any = "strict",
) -> None:
    """Raise :class:`BasketError` when :func:`basket_problems` finds anything: its ``code`` is
    the first problem's, its ``fields`` every problem as ``{"name", "code", "message"}``."""
    report = basket_report(amount, vat_amount, items, round_policy, fields=False)
    if report.problems:
        raise basket_error(report.problems)


def basket_error(problems: Sequence[Mapping[str, str]] | Iterable[Problem]) -> BasketError:
    """One :class:`BasketError` carrying ``problems`` (non-empty) as its field errors."""
    fields = [p.as_field() if isinstance(p, Problem) else {"name": p["name"], "code": p["code"],
                                                           "message": p["message"]} for p in problems]
    more = f" (and {len(fields) - 1} more)" if len(fields) > 1 else ""
    return BasketError(fields[0]["message"] + more, code=fields[0]["code"], fields=fields)


def order_totals(items: Iterable[Any]) -> tuple[Decimal, Decimal]:
    """``(Σ totalAmount, Σ totalVatAmount)`` of basket lines — models or camelCase dicts."""
    total = ZERO
    vat = ZERO
    for item in items:
        if isinstance(item, Mapping):
            total += to_money(item["totalAmount"], name="totalAmount")
            vat += to_money(item["totalVatAmount"], name="totalVatAmount")
        else:
            total += to_money(item.total_amount, name="totalAmount")
            vat += to_money(item.total_vat_amount, name="totalVatAmount")
    return total, vat
