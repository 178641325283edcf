"""Single values as the API takes them: decimals, kopeck amounts, quantities, ATOM date-times.

Each parser returns the value or raises a typed :class:`~invoicebox_flow.errors.ValidationError`
naming the field, never a raw ``decimal.InvalidOperation``, ``TypeError`` or ``KeyError``: these
are what the shop's code calls with its users' input (a refund's ``{sku: quantity}``, a shipped
subset, an expiry date).
"""

from __future__ import annotations

import decimal
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Final

from .catalogue import EXPIRATION, NUMBER, POSITIVE_TOTAL, QUANTITY
from .findings import Rule

__all__ = [
    "KOPECK",
    "MAX_DECIMALS",
    "QUANTITY_DECIMALS",
    "ZERO",
    "decimals_of",
    "number_or_reason",
    "parse_datetime",
    "parse_money",
    "parse_quantity",
    "quantity_or_reason",
    "to_decimal",
    "to_money",
]

KOPECK: Final = Decimal("0.01")
ZERO: Final = Decimal("0.00")
QUANTITY_DECIMALS: Final = 6  # catalogue.QUANTITY
MAX_DECIMALS: Final = 18  # of a number in a request (catalogue.NUMBER): products stay exact in 60 digits
_LIMIT: Final = Decimal(10) ** 18

NumberLike = Decimal | int | str


def decimals_of(number: Decimal) -> int:
    """How many fractional digits ``number`` is written with (``Decimal("1.50")`` → 2, ``"1E+3"`` → 0)."""
    exponent = number.as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def number_or_reason(value: object, *, max_decimals: int | None = None) -> Decimal | str:
    """``value`` as a finite ``Decimal`` below 10**18 in magnitude (and with at most
    ``max_decimals`` decimals, when given), or the reason it is not one (for checks that collect)."""
    if type(value) is Decimal and max_decimals is None and value.is_finite() and -_LIMIT < value < _LIMIT:
        return value  # what JSON reading gives: the common case, decided in one line
    if isinstance(value, float):
        return (f"money and quantities are never float (got {value!r}); pass a Decimal, an int or a str, "
                "and parse JSON with jsonutil.loads")
    if isinstance(value, bool) or not isinstance(value, (Decimal, int, str)):
        return f"expected a number, got {type(value).__name__}"
    try:
        number = value if isinstance(value, Decimal) else Decimal(value.strip() if isinstance(value, str) else value)
    except (decimal.InvalidOperation, ValueError):
        return f"{value!r} is not a number"
    if not number.is_finite():
        return f"{value!r} is not a finite number"
    if abs(number) >= _LIMIT:
        return f"{value!r} is out of range (|x| < 10**18)"
    if max_decimals is not None and decimals_of(number.normalize()) > max_decimals:
        return f"{value!r} has more than {max_decimals} decimals"
    return number


def quantity_or_reason(value: object) -> Decimal | str:
    """A positive quantity with at most 6 decimals, or the reason ``value`` is not one."""
    number = number_or_reason(value, max_decimals=QUANTITY_DECIMALS)
    if isinstance(number, str):
        return number
    if number <= 0:
        return f"must be more than zero, got {value!r}"
    return number


def _number(value: object, field: str, rule: Rule) -> Decimal:
    number = number_or_reason(value)
    if isinstance(number, str):
        raise rule.exception(field, f"{field}: {number}")
    return number


def to_decimal(value: NumberLike, *, name: str = "value") -> Decimal:
    """``value`` as a finite ``Decimal``, unrounded. A ``float``, a ``bool``, ``None``, text that is
    not a number, NaN, infinities and numbers from 10**18 up raise
    :class:`~invoicebox_flow.errors.ValidationError` with code ``wrong_value``."""
    return _number(value, name, NUMBER)


def to_money(value: NumberLike, *, name: str = "amount") -> Decimal:
    """``value`` rounded half-up to kopecks: ``to_money("1.005") == Decimal("1.01")``."""
    return to_decimal(value, name=name).quantize(KOPECK, rounding=ROUND_HALF_UP)


def parse_quantity(value: object, *, field: str = "quantity") -> Decimal:
    """A basket quantity: a positive finite number with at most 6 decimals (``Decimal("0.5")``).

    Refused with :class:`~invoicebox_flow.errors.BasketError` (code ``wrong_value``, ``field``
    named): ``"abc"``, ``None``, ``True``, ``"NaN"``, ``"0.0000001"``, ``1.0`` (a float), ``0``, ``-1``.
    """
    number = quantity_or_reason(value)
    if isinstance(number, str):
        raise QUANTITY.exception(field, f"{field}: {number}")
    return number


def parse_money(value: object, *, field: str = "amount", positive: bool = False) -> Decimal:
    """An amount in kopecks (rounded half-up). With ``positive=True`` an amount that rounds to
    ``0.00`` or below is refused (``"0.004"``); otherwise only a negative one is."""
    amount = _number(value, field, NUMBER).quantize(KOPECK, rounding=ROUND_HALF_UP)
    if positive and amount <= 0:
        raise POSITIVE_TOTAL.exception(field, f"{field} must be at least 0.01, got {value!r}")
    if amount < 0:
        raise POSITIVE_TOTAL.exception(field, f"{field} must not be negative, got {value!r}")
    return amount


def parse_datetime(value: object, *, field: str = "expirationDate", rule: Rule = EXPIRATION) -> datetime:
    """A timezone-aware date-time from an aware ``datetime`` or ATOM text with an offset
    (``2024-07-01T09:00:00+03:00``). A naive one, or text without an offset, is refused:
    which zone was meant cannot be guessed."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            raise rule.exception(field, f"{field}: expected an ATOM date-time like 2024-07-01T09:00:00+00:00, "
                                        f"got {value!r}") from None
    else:
        raise rule.exception(field, f"{field}: expected a date-time, got {type(value).__name__}")
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise rule.exception(field, f"{field}: {value!r} has no timezone; give an aware datetime "
                                    "(e.g. datetime.now(timezone.utc)) or an offset like +03:00")
    return parsed
