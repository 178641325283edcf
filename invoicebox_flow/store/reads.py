"""The store's reads of the hot path, each built once with bind parameters (building a Core
expression per call costs more than executing it on SQLite), and what a notification's read finds."""

from __future__ import annotations

import attrs
from sqlalchemy import bindparam, exists, or_, select

from .records import OrderRecord
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
# a replay: the key recorded for the order that has this InvoiceBox id (both by unique index)
APPLIED = select(exists(select(processed_notifications.c.key).where(
    processed_notifications.c.key == bindparam("key"),
    processed_notifications.c.order_id == select(orders.c.id).where(
        orders.c.invoicebox_id == bindparam("ib")).scalar_subquery())))
# a notification's order, by its InvoiceBox id or its merchantOrderId, and whether it is processed
NOTIFICATION_ORDERS = select(orders, _PROCESSED.label("processed")).where(
    or_(orders.c.invoicebox_id == bindparam("ib"), orders.c.merchant_order_id == bindparam("moid")))
WHY_NOT = select(exists(ORDER_EXISTS).label("known"), _PROCESSED.label("processed"))
JOURNAL = select(journal).where(journal.c.order_id == bindparam("p_id")).order_by(journal.c.seq)


@attrs.frozen
class NotificationOrder:
    """What one read found for a notification: the order with its InvoiceBox id and the one
    with its ``merchantOrderId`` (the same order, or None), and whether its key is processed."""

    by_invoicebox_id: OrderRecord | None
    by_merchant_order_id: OrderRecord | None
    processed: bool
