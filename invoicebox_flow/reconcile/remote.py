"""InvoiceBox's side of a batch of the shop's orders, read with the API's list calls.

Never one call per order: one filtered list answers for the whole batch — the orders by
``merchantOrderId[]`` (the shop's own ids, so an order whose create call was lost is found too),
then the shipments by ``orderId[]`` and the refunds by ``parentId[]`` of the paid ones — each read
page by page until its ``totalCount``. Three calls for a batch of 100 orders, whatever their
state; the client paces them with its rate limiter.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

import attrs

from ..models import Order, RefundOrder, Shipment
from ..protocol import OrderStatus
from ..store import OrderRecord

T = TypeVar("T")


@attrs.frozen
class RemoteOrder:
    """One order as InvoiceBox has it: the order, its shipments and its refunds."""

    order: Order
    shipments: tuple[Shipment, ...] = ()
    refunds: tuple[RefundOrder, ...] = ()


@attrs.define
class RemoteReader:
    """Reads InvoiceBox's side of batches of orders; counts the calls it made."""

    client: Any
    page_size: int = 100
    calls: int = 0

    def read(self, records: Sequence[OrderRecord], *, with_lists: Callable[[OrderRecord, Order], bool]
             ) -> dict[str, RemoteOrder]:
        """``{shop order id: RemoteOrder}`` for the records InvoiceBox has; ``with_lists`` says
        for which orders the shipments and refunds are needed (the paid ones)."""
        if not records:
            return {}
        wanted = sorted({r.merchant_order_id for r in records})
        found: dict[str, list[Order]] = {}
        for order in self._every_page(lambda page: self.client.find_orders(
                filters={"merchantOrderId": wanted}, order_by={"createdAt": "asc"}, page=page,
                page_size=self.page_size)):
            if order.merchant_order_id is not None:
                found.setdefault(order.merchant_order_id, []).append(order)
        matched = {r.id: order for r in records if (order := _the_order(r, found.get(r.merchant_order_id, ()))) is not None}
        listed = sorted({o.id for r in records if (o := matched.get(r.id)) is not None and with_lists(r, o)})
        shipments = self._grouped(listed, lambda page: self.client.list_shipments(
            filters={"orderId": listed}, page=page, page_size=self.page_size), lambda s: s.order_id)
        refunds = self._grouped(listed, lambda page: self.client.list_refunds(
            filters={"parentId": listed}, page=page, page_size=self.page_size), lambda r: r.parent_id)
        return {order_id: RemoteOrder(order, tuple(shipments.get(order.id, ())), tuple(refunds.get(order.id, ())))
                for order_id, order in matched.items()}

    def _grouped(self, ids: Sequence[str], fetch: Callable[[int], Any], owner: Callable[[Any], str]
                 ) -> dict[str, list[Any]]:
        if not ids:
            return {}
        wanted, out = set(ids), dict[str, list[Any]]()
        for item in self._every_page(fetch):
            if owner(item) in wanted:  # checked here too: a lenient filter must not hand us others' objects
                out.setdefault(owner(item), []).append(item)
        return out

    def _every_page(self, fetch: Callable[[int], Any]) -> Iterable[Any]:
        """Each item of every page, until the answer's ``totalCount`` (or a short page)."""
        seen: set[Any] = set()
        page = 1
        while True:
            answer = fetch(page)
            self.calls += 1
            items = list(getattr(answer, "items", answer))  # a Page of orders, a list of the others
            new = [item for item in items if item.id not in seen]
            for item in new:
                seen.add(item.id)
                yield item
            total = getattr(answer, "total_count", None)
            if not new or (len(seen) >= total if total is not None else len(items) < self.page_size):
                return
            page += 1


def _the_order(record: OrderRecord, candidates: Iterable[Order]) -> Order | None:
    """The InvoiceBox order of a shop order: the one with its id once it has one, else the newest
    with its ``merchantOrderId`` (a create call whose answer was lost)."""
    candidates = list(candidates)
    if record.invoicebox_id is not None:
        return next((o for o in candidates if o.id == record.invoicebox_id), None)
    return candidates[-1] if candidates else None


def is_paid(order: Order) -> bool:
    return order.status == OrderStatus.COMPLETED.value


__all__ = ["RemoteOrder", "RemoteReader", "is_paid"]
