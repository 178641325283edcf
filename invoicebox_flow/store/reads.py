"""The store's reads of the hot path, each built once with bind parameters (building a Core
expression per call costs more than executing it on SQLite), and what a notification's read finds."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import and_, bindparam, case, exists, null, or_, select, type_coerce

from .records import OrderRecord
from .rows import order_of
from .schema import journal, orders, processed_notifications

GET_ORDER = select(orders).where(orders.c.id == bindparam("p_id"))
ORDER_EXISTS = select(orders.c.id).where(orders.c.id == bindparam("p_id"))
FIND = {
    (True, False): select(orders).where(orders.c.merchant_order_id == bindparam("moid")),
    (False, True): select(orders).where(orders.c.invoicebox_id == bindparam("ib")),
    (True, True): select(orders).where(orders.c.merchant_order_id == bindparam("moid"),
                                       orders.c.invoicebox_id == bindparam("ib")),
}
_PROCESSED = exists(select(processed_notifications.c.key).where(processed_notifications.c.key == bindparam("key")))
IS_PROCESSED = select(_PROCESSED)
# a notification's order, by its InvoiceBox id or its merchantOrderId, and whether it is processed;
# a replay's row comes without its document (nothing reads it), so that a replay moves no JSON
_REPLAYED = and_(_PROCESSED, orders.c.invoicebox_id == bindparam("ib"))
NOTIFICATION_ORDERS = select(
    *(type_coerce(case((_REPLAYED, null()), else_=column), column.type).label(column.name) if column.name == "data"
      else column for column in orders.c),
    _PROCESSED.label("processed")).where(
    or_(orders.c.invoicebox_id == bindparam("ib"), orders.c.merchant_order_id == bindparam("moid")))
WHY_NOT = select(exists(ORDER_EXISTS).label("known"), _PROCESSED.label("processed"))
JOURNAL = select(journal).where(journal.c.order_id == bindparam("p_id")).order_by(journal.c.seq)


_INVOICEBOX_ID = list(orders.c.keys()).index("invoicebox_id")
_MERCHANT_ORDER_ID = list(orders.c.keys()).index("merchant_order_id")


class NotificationOrder:
    """What one read found for a notification: the order with its InvoiceBox id and the one
    with its ``merchantOrderId`` (the same order, or None), and whether its key is processed.

    The orders are made from their rows when first asked for: a replay needs neither, and its
    row comes without the order's document."""

    def __init__(self, rows: Sequence[Sequence[Any]], convert: Callable[[Sequence[Any]], Sequence[Any]],
                 invoicebox_id: str | None, merchant_order_id: str | None) -> None:
        self._rows, self._convert = rows, convert
        self._invoicebox_id, self._merchant_order_id = invoicebox_id, merchant_order_id
        self.processed = bool(rows) and bool(rows[0][-1])

    @property
    def replay(self) -> bool:
        """The key is processed and an order has this InvoiceBox id: a notification applied
        already, to be answered ``success`` with nothing more read or parsed."""
        return self.processed and self._row(_INVOICEBOX_ID, self._invoicebox_id) is not None

    @functools.cached_property
    def by_invoicebox_id(self) -> OrderRecord | None:
        row = self._row(_INVOICEBOX_ID, self._invoicebox_id)
        return None if row is None else order_of(self._convert(row), row)

    @functools.cached_property
    def by_merchant_order_id(self) -> OrderRecord | None:
        row = self._row(_MERCHANT_ORDER_ID, self._merchant_order_id)
        if row is None:
            return None
        if row is self._row(_INVOICEBOX_ID, self._invoicebox_id):
            return self.by_invoicebox_id  # one order, one record
        return order_of(self._convert(row), row)

    def _row(self, column: int, value: str | None) -> Sequence[Any] | None:
        if value is None:
            return None
        return next((row for row in self._rows if row[column] == value), None)
