"""JSON as InvoiceBox speaks it: amounts are JSON numbers, read and written as ``Decimal``.

The standard ``json`` module can read numbers into ``Decimal`` (``parse_float``) but cannot
write a ``Decimal`` as a number. Writing uses ``orjson`` (a ``Decimal`` goes in as an
``orjson.Fragment`` of its text), several times faster than ``simplejson`` on an order's
document; what orjson refuses and simplejson writes (keys that are not strings, integers beyond
64 bits, lone surrogates) is written by ``simplejson`` (``use_decimal=True``), the reference for
the output: both give the same text.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import orjson
import simplejson

_DECODER = json.JSONDecoder(parse_float=Decimal)  # built once: json.loads(..., parse_float=) builds one per call
# datetimes and dataclasses go to _number (and so to simplejson, which refuses them) as before
_ORJSON_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def loads(data: str | bytes) -> Any:
    """Parse JSON; every non-integer number becomes a ``Decimal``, never a float."""
    if isinstance(data, bytes):
        data = data.decode("utf-8")
    return _DECODER.decode(data)


def _number(value: Any) -> orjson.Fragment:
    if isinstance(value, Decimal):
        return orjson.Fragment(str(value))
    raise TypeError(f"{type(value).__name__} is not JSON")


def dumps(obj: Any) -> str:
    """Compact JSON, raw UTF-8 (no ``\\uXXXX``), ``Decimal`` written as a number."""
    try:
        return orjson.dumps(obj, default=_number, option=_ORJSON_OPTIONS).decode("utf-8")
    except TypeError:  # orjson.JSONEncodeError: what simplejson writes or refuses in its own way
        text: str = simplejson.dumps(obj, use_decimal=True, ensure_ascii=False, separators=(",", ":"))
        return text


def dumps_php(obj: Any) -> str:
    """Compact JSON the way InvoiceBox (PHP ``json_encode`` with unescaped unicode) writes it:
    raw UTF-8 and every ``/`` escaped as ``\\/``. A ``/`` can only occur inside strings in JSON,
    so escaping it everywhere is exact."""
    return dumps(obj).replace("/", "\\/")
