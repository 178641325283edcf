"""How the sandbox's payment page writes amounts, quantities, VAT rates and dates for a Russian
reader: ``2 400,00 ₽`` (a narrow no-break space between thousands, a comma before the kopecks,
a no-break space before the sign) and ``4 декабря 2026, 22:40`` in Moscow time (the page says
«по московскому времени» next to it), month names in the genitive.

A page of one language needs twelve month names and one number pattern, so this is written
out here rather than pulling a locale-data library into every install of the package.
Amounts are ``Decimal`` throughout; a value that is not a number is shown as it came.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone, tzinfo
from decimal import ROUND_HALF_UP
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from ..money import KOPECK, to_decimal
from .clock import parse_datetime

THOUSANDS = "\u202f"  # narrow no-break space: the thousands never split across lines
BEFORE_SIGN = "\u00a0"  # no-break space between the amount and its currency sign
CURRENCY_SIGNS = {"RUB": "₽", "USD": "$", "EUR": "€", "GBP": "£", "CNY": "¥", "UZS": "сум"}
MONTHS_GENITIVE = ("января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа",
                   "сентября", "октября", "ноября", "декабря")
VAT_LABELS = {"VATNONE": "Без НДС", "RUS_VAT0": "НДС 0%", "RUS_VAT110": "НДС 10/110", "RUS_VAT120": "НДС 20/120"}


def _moscow() -> tzinfo:
    try:
        return ZoneInfo("Europe/Moscow")
    except ZoneInfoNotFoundError:  # no time zone database (Windows without tzdata)
        return timezone(timedelta(hours=3), "MSK")  # Moscow has kept UTC+3 all year since 2014


MOSCOW = _moscow()


@attrs.frozen
class Money:
    """An amount as the page shows it: ``number`` (``2 400,00``) and the currency ``sign``."""

    number: str
    sign: str

    def __str__(self) -> str:
        return f"{self.number}{BEFORE_SIGN}{self.sign}" if self.sign else self.number


def money(value: Any, currency: str | None = "RUB") -> Money:
    """``Decimal("2400")`` → ``2 400,00 ₽``; an unknown currency is shown by its code."""
    sign = CURRENCY_SIGNS.get(currency or "", currency or "")
    try:
        amount = to_decimal(value).quantize(KOPECK, rounding=ROUND_HALF_UP)
    except (TypeError, ValueError, ArithmeticError):
        return Money(str(value), sign)
    whole, _, kopecks = f"{abs(amount):f}".partition(".")
    groups = f"{int(whole):,}".replace(",", THOUSANDS)
    return Money(f"{'-' if amount < 0 else ''}{groups},{kopecks}", sign)


def quantity(value: Any) -> str:
    """``2`` → ``2``, ``Decimal("1.500")`` → ``1,5``."""
    try:
        number = to_decimal(value)
    except (TypeError, ValueError, ArithmeticError):
        return str(value)
    if number == number.to_integral():
        return str(int(number))
    return format(number.normalize(), "f").replace(".", ",")


def vat_label(code: Any) -> str:
    """``RUS_VAT20`` → ``НДС 20%``, ``RUS_VAT22_ADDED`` → ``НДС 22% сверх цены``."""
    if code in VAT_LABELS:
        return VAT_LABELS[code]
    text = str(code)
    if text.startswith("RUS_VAT"):
        rate, added = text[len("RUS_VAT"):].removesuffix("_ADDED"), text.endswith("_ADDED")
        return f"НДС {rate}%" + (" сверх цены" if added else "")
    return text


def moscow_time(value: Any) -> str | None:
    """An API date-time (``2026-12-04T19:40:40+00:00``) as ``4 декабря 2026, 22:40`` in Moscow
    time; None when it is not a date-time."""
    moment = value if isinstance(value, datetime) else parse_datetime(value)
    if moment is None:
        return None
    local = moment.astimezone(MOSCOW)
    return f"{local.day} {MONTHS_GENITIVE[local.month - 1]} {local.year}, {local:%H:%M}"
