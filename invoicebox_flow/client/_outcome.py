"""A write whose answer was lost: find out what InvoiceBox has, or say so in one error.

InvoiceBox has no idempotency key, so a write is never sent again blindly. When a write ends
*ambiguously* — a timeout, a dropped connection, a 5xx, or a success answer that cannot be
read — it may or may not have happened. :func:`reconciled` then asks InvoiceBox (a read, itself
retried) and returns what the write produced when it finds it; otherwise it raises
:class:`~invoicebox_flow.errors.ResultUnknownError`: *result unknown, it will be reconciled*
later by the same ids. A clear refusal (a 4xx) is no ambiguity and stays its typed error.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from ..errors import ApiError, InvoiceboxFlowError, ResultUnknownError, ServerError, TransportError

logger = logging.getLogger("invoicebox_flow.client")

T = TypeVar("T")


def is_ambiguous(exc: BaseException) -> bool:
    """Whether a failed write may have happened all the same."""
    if isinstance(exc, (TransportError, ServerError)):
        return True
    # an unreadable answer with a success status: the write happened, its answer is unusable
    return isinstance(exc, ApiError) and exc.status < 400


def reconciled(
    send: Callable[[], T],
    look_up: Callable[[], T | None],
    *,
    operation: str,
    merchant_order_id: str | None = None,
    object_id: str | None = None,
) -> T:
    """``send()``; after an ambiguous failure, what ``look_up()`` finds of the write's effect,
    or :class:`ResultUnknownError` naming ``merchant_order_id`` / ``object_id``."""
    try:
        return send()
    except InvoiceboxFlowError as failure:
        if not is_ambiguous(failure):
            raise
        subject = f"{operation} {merchant_order_id or object_id!r}"
        logger.warning("%s: %s; looking up what InvoiceBox has", subject, _describe(failure))
        try:
            found = look_up()
        except InvoiceboxFlowError as lookup_failure:
            raise ResultUnknownError(
                f"{subject}: result unknown, it will be reconciled ({_describe(failure)}; the look-up "
                f"failed too: {_describe(lookup_failure)})",
                operation=operation, merchant_order_id=merchant_order_id, object_id=object_id, cause=failure,
            ) from failure
        if found is None:
            raise ResultUnknownError(
                f"{subject}: result unknown, it will be reconciled ({_describe(failure)}; InvoiceBox shows "
                "no such effect yet) — reconcile by the same id, never resend under a new one",
                operation=operation, merchant_order_id=merchant_order_id, object_id=object_id, cause=failure,
            ) from failure
        logger.warning("%s: recovered %s after %s", subject, getattr(found, "id", found), _describe(failure))
        return found


def holds(got: Any, sent: Any) -> bool:
    """Whether ``got`` (an object's JSON as InvoiceBox has it) holds every value of ``sent``
    (the JSON a write sent): keys may be added, numbers compare as decimals, date-times as
    instants, lists item by item."""
    if isinstance(sent, Mapping):
        return isinstance(got, Mapping) and all(k in got and holds(got[k], v) for k, v in sent.items())
    if isinstance(sent, (list, tuple)):
        return isinstance(got, (list, tuple)) and len(got) == len(sent) and all(map(holds, got, sent))
    if isinstance(sent, bool) or sent is None or isinstance(got, bool):
        return got is sent  # True, False and None are singletons; 1 is no True
    if isinstance(sent, (int, float, Decimal)):
        number = _decimal(sent)
        return number is not None and _decimal(got) == number
    if isinstance(sent, str) and isinstance(got, str) and got != sent:
        instant = _instant(sent)
        return instant is not None and _instant(got) == instant
    return bool(got == sent)


def _decimal(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)) if isinstance(value, (int, float, Decimal, str)) else None
    except InvalidOperation:
        return None


def _instant(text: str) -> datetime | None:
    """A date-time with an offset, else ``None`` (a plain string is no instant)."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    return value if value.tzinfo is not None else None


def _describe(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__
