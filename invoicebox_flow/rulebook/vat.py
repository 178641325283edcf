"""VAT codes, their rates and the arithmetic of a basket line, exact in ``Decimal``.

Every code is tax-included, ``*_ADDED`` too: the official MCP server computes VAT as
``total × p/(100+p)`` "при любой ставке" and checks ``amountWoVat × quantity + VAT = total``
(``src/tools/writes.ts::vatFromCode``, ``src/core/money.ts``); ``_ADDED`` and the 2021 codes
``RUS_VAT110``/``RUS_VAT120`` only name a different rate on the receipt.

Two readings of a line's VAT exist in InvoiceBox's own code and both are accepted
(:data:`~.catalogue.LINE_VAT`): of the line total (:func:`vat_of_total`, the MCP server) and per
unit × quantity (:func:`vat_per_unit`, the Bitrix module).
"""

from __future__ import annotations

import decimal
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_DOWN, ROUND_HALF_UP, Decimal
from typing import Final

from .catalogue import VAT_CODE
from .values import KOPECK, ZERO, NumberLike, to_decimal

__all__ = [
    "DOCUMENTED_VAT_CODES",
    "KOPECK",
    "LEGACY_VAT_CODES",
    "ROUND_POLICIES",
    "ROUND_POLICY_DEFAULT",
    "VAT_CODES",
    "ZERO",
    "amount_wo_vat",
    "exact",
    "is_vat_added",
    "line_total",
    "round_kopecks",
    "vat_of_total",
    "vat_per_unit",
    "vat_rate",
]

# The four codes the documentation lists today: what new code should use (22 % aside, see below).
DOCUMENTED_VAT_CODES: Final = ("VATNONE", "RUS_VAT0", "RUS_VAT10", "RUS_VAT20")
# Still sent by the official Bitrix module, no longer documented: accepted with a warning.
LEGACY_VAT_CODES: Final = ("NONE", "RUS_VAT110", "RUS_VAT120")

# Every known code and its rate. RUS_VAT22 (the standard rate since 2026), 7 %, 5 % and the
# *_ADDED codes come from the official MCP server only (src/registry/vat.ts).
VAT_CODES: Final[dict[str, Decimal]] = {
    "VATNONE": Decimal("0"),
    "RUS_VAT0": Decimal("0"),
    "RUS_VAT10": Decimal("0.10"),
    "RUS_VAT20": Decimal("0.20"),
    "RUS_VAT22": Decimal("0.22"),
    "RUS_VAT7": Decimal("0.07"),
    "RUS_VAT5": Decimal("0.05"),
    "RUS_VAT22_ADDED": Decimal("0.22"),
    "RUS_VAT20_ADDED": Decimal("0.20"),
    "RUS_VAT10_ADDED": Decimal("0.10"),
    "RUS_VAT7_ADDED": Decimal("0.07"),
    "RUS_VAT5_ADDED": Decimal("0.05"),
    "NONE": Decimal("0"),
    "RUS_VAT110": Decimal("0.10"),
    "RUS_VAT120": Decimal("0.20"),
}

# orderSetting.roundPolicy -> the rounding of a line's amount × quantity to kopecks; None for
# "none", where the total only has to cover the exact product (catalogue.LINE_TOTAL).
ROUND_POLICIES: Final[dict[str, str | None]] = {
    "strict": ROUND_HALF_UP,
    "none": None,
    "floor": ROUND_FLOOR,
    "ceil": ROUND_CEILING,
    "halfUp": ROUND_HALF_UP,
    "halfDown": ROUND_HALF_DOWN,
}
ROUND_POLICY_DEFAULT: Final = "strict"

# Numbers below 10**18 with at most 18 decimals (values.to_decimal guarantees both) multiply and
# divide exactly, or far from a rounding tie, in 60 digits.
_WIDE: Final = decimal.Context(prec=60, rounding=ROUND_HALF_UP)


def exact(price: NumberLike, quantity: NumberLike) -> Decimal:
    """``price × quantity`` without rounding."""
    return _WIDE.multiply(to_decimal(price, name="amount"), to_decimal(quantity, name="quantity"))


def round_kopecks(value: Decimal, rounding: str = ROUND_HALF_UP) -> Decimal:
    return value.quantize(KOPECK, rounding=rounding, context=_WIDE)


def vat_rate(code: str) -> Decimal:
    """The rate of ``code`` (``Decimal("0.22")`` for ``RUS_VAT22``); an unknown code raises
    :class:`~invoicebox_flow.errors.BasketError` with code ``wrong_vat_code``."""
    rate = VAT_CODES.get(code) if isinstance(code, str) else None
    if rate is None:
        raise VAT_CODE.exception("vatCode", f"unknown VAT code {code!r}; known: {', '.join(VAT_CODES)}")
    return rate


def is_vat_added(code: str) -> bool:
    """True for the ``*_ADDED`` codes (MCP-only). They name the receipt's rate differently; the
    arithmetic is the same as for the tax-included code of the same rate."""
    return isinstance(code, str) and code in VAT_CODES and code.endswith("_ADDED")


def vat_of_total(total: NumberLike, code: str) -> Decimal:
    """VAT contained in a line total, in kopecks: ``round(total × r/(1+r), 2)``.

    ``vat_of_total(Decimal("371.88"), "RUS_VAT20") == Decimal("61.98")`` (the documented line);
    ``vat_of_total(Decimal("2440.00"), "RUS_VAT22") == Decimal("440.00")``.
    """
    rate = vat_rate(code)
    total = to_decimal(total, name="totalAmount")
    if not rate:
        return ZERO
    return round_kopecks(_WIDE.divide(_WIDE.multiply(total, rate), 1 + rate))


def amount_wo_vat(unit_price: NumberLike, code: str) -> Decimal:
    """Unit price without VAT: ``round(price / (1 + r), 2)``; ``123.96`` at 20 % → ``103.30``."""
    rate = vat_rate(code)
    price = to_decimal(unit_price, name="amount")
    return round_kopecks(_WIDE.divide(price, 1 + rate) if rate else price)


def vat_per_unit(unit_price: NumberLike, quantity: NumberLike, code: str) -> Decimal:
    """A line's VAT as the official Bitrix module computes it: the VAT of one unit times the
    quantity, ``round((price − round(price/(1+r), 2)) × quantity, 2)``. ``1.00 × 5`` at 20 % →
    ``0.85`` (the VAT of the total is ``0.83``)."""
    if not vat_rate(code):
        return ZERO
    price = to_decimal(unit_price, name="amount")
    return round_kopecks(exact(price - amount_wo_vat(price, code), quantity))


def line_total(unit_price: NumberLike, quantity: NumberLike, rounding: str = ROUND_HALF_UP) -> Decimal:
    """``unit_price × quantity`` rounded to kopecks (half-up unless told otherwise)."""
    return round_kopecks(exact(unit_price, quantity), rounding)
