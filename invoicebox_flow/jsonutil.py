"""JSON as InvoiceBox speaks it: amounts are JSON numbers, read and written as ``Decimal``.

The standard ``json`` module can read numbers into ``Decimal`` (``parse_float``) but cannot
write a ``Decimal`` as a number, so writing uses ``simplejson`` (``use_decimal=True``).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import simplejson


def loads(data: str | bytes) -> Any:
    """Parse JSON; every non-integer number becomes a ``Decimal``, never a float."""
    if isinstance(data, bytes):
        data = data.decode("utf-8")
    return json.loads(data, parse_float=Decimal)


def dumps(obj: Any) -> str:
    """Compact JSON, raw UTF-8 (no ``\\uXXXX``), ``Decimal`` written as a number."""
    text: str = simplejson.dumps(obj, use_decimal=True, ensure_ascii=False, separators=(",", ":"))
    return text


def dumps_php(obj: Any) -> str:
    """Compact JSON the way InvoiceBox (PHP ``json_encode`` with unescaped unicode) writes it:
    raw UTF-8 and every ``/`` escaped as ``\\/``. A ``/`` can only occur inside strings in JSON,
    so escaping it everywhere is exact."""
    return dumps(obj).replace("/", "\\/")
