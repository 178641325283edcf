"""The plain arguments of the public :class:`~invoicebox_flow.engine.OrderFlow` API, checked on
the shop's side before anything is stored or sent: flags, counts, actors, free text and a shop's
own journal detail. Each wrong value is a :class:`~invoicebox_flow.errors.ValidationError` naming
the argument; a misspelt keyword is an :class:`~invoicebox_flow.errors.UnknownArgumentError`
naming the closest one (:func:`strict_methods`).

The order data itself (baskets, customers, dates, amounts) is the rule book's and the models'
to check; the ``{sku: quantity}`` maps of ship and refund are :mod:`.wanted`'s.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any, TypeGuard, TypeVar

from .. import jsonutil
from ..errors import ValidationError
from ..models._keywords import strict_keywords
from ..rulebook import is_unicode

C = TypeVar("C", bound=type)


def field_error(name: str, message: str, *, code: str = "wrong_value",
                error: type[ValidationError] = ValidationError) -> ValidationError:
    """``error`` (a ValidationError) with one field problem, ``name``, as the API's envelope lists them."""
    return error(message, code=code, fields=[{"name": name, "code": code, "message": message}])


def storable_text(value: object) -> TypeGuard[str]:
    """Whether ``value`` is text every store can keep as a column: no NUL character
    (PostgreSQL's text cannot hold one) and nothing UTF-8 cannot carry (a lone surrogate)."""
    return isinstance(value, str) and "\x00" not in value and is_unicode(value)


def flag(name: str, value: object) -> bool:
    """``value`` as a flag: ``True`` or ``False``. A string such as ``"no"`` is truthy in
    Python: taking it as ``True`` would do the opposite of what was meant."""
    if not isinstance(value, bool):
        raise field_error(name, f"{name} is True or False, not {value!r}")
    return value


def optional_flag(name: str, value: object) -> bool | None:
    """A flag that may be left to a default rule (None)."""
    return None if value is None else flag(name, value)


def count(name: str, value: object) -> int:
    """``value`` as a whole number, at least 1 (a bool is not a number here)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise field_error(name, f"{name} is a whole number, at least 1, not {value!r}")
    return value


def actor(value: object) -> str:
    """Who caused a change, as the journal keeps it: non-empty text every store can hold."""
    if not (storable_text(value) and value.strip()):
        raise field_error("actor", f"actor is non-empty text without NUL characters, not {value!r}")
    return value


def text(order_id: str, name: str, value: object) -> str | None:
    """Optional free text the journal keeps (a refund claim's reason): Unicode text, or None."""
    if value is None or (isinstance(value, str) and is_unicode(value)):
        return value
    what = "text with a lone surrogate" if isinstance(value, str) else type(value).__name__
    raise field_error(name, f"order {order_id}: {name} is Unicode text, not {what}")


def journal_detail(order_id: str, detail: object) -> dict[str, Any]:
    """A shop's own ``detail`` for the journal: a map with text keys that JSON can hold."""
    if detail is None:
        return {}
    if not isinstance(detail, Mapping) or not all(isinstance(key, str) for key in detail):
        raise field_error("detail", f"order {order_id}: detail is a map with text keys, not {type(detail).__name__}")
    try:
        jsonutil.dumps(detail).encode("utf-8")
    except (TypeError, ValueError) as exc:  # UnicodeEncodeError (a lone surrogate) is a ValueError
        raise field_error("detail", f"order {order_id}: detail cannot be stored as JSON ({exc})") from None
    return dict(detail)


def strict_methods(cls: C) -> C:
    """Every public method of ``cls`` without ``**kwargs`` refuses a misspelt keyword with
    :class:`~invoicebox_flow.errors.UnknownArgumentError` (``flow.ship(..., defre=True)`` names
    ``defer``) instead of Python's bare ``TypeError``; signatures are unchanged."""
    for name, member in list(vars(cls).items()):
        if name.startswith("_") or not inspect.isfunction(member):
            continue
        if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in inspect.signature(member).parameters.values()):
            continue  # its own keywords are checked where they are read (place, update)
        setattr(cls, name, strict_keywords(member))
    return cls
