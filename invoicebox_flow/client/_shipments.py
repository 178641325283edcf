"""Shipments at InvoiceBox: the goods were handed over, the service rendered (reference §3.5)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from ..models import BasketItem, Shipment, ShipmentRequest
from ..protocol import CREATE_SHIPMENT, LIST_SHIPMENTS
from ._outcome import reconciled
from ._requestor import Requestor
from ._wire import ResultList


class ShipmentsService:
    """``client.shipments``."""

    def __init__(self, requestor: Requestor):
        self._requestor = requestor

    def create(self, req: ShipmentRequest) -> Shipment:
        """``POST /billing/api/order/shipment``; safe against a lost answer.

        A shipment has no ``merchantOrderId`` to find it by, so after a timeout, a dropped
        connection or a 5xx the client looks for the shipment *this* request made among the
        order's shipments: the one with its ``documentNumber`` when the request has one (a
        shipping document's number is unique), else the one that is new since just before the
        request. So a request without a ``documentNumber`` first lists the order's shipments:
        one read more; give a ``documentNumber`` to spare it. The shipment found must also carry
        the request's lines (sku and quantity). Found ⇒ returned; else
        :class:`~invoicebox_flow.errors.ResultUnknownError` with the order's id.
        """
        before = None if req.document_number else {s.id for s in self.find(order_id=req.order_id)}

        def made_by_this_request() -> Shipment | None:
            candidates = [
                s for s in self.find(order_id=req.order_id)
                if (before is None or s.id not in before)
                and (req.document_number is None or s.document_number == req.document_number)
                and _lines(s.basket_items or ()) == _lines(req.basket_items)
            ]
            return candidates[0] if len(candidates) == 1 else None  # two alike: cannot tell which

        return reconciled(
            lambda: self._requestor.write(CREATE_SHIPMENT, body=req.to_json()).model(Shipment),
            made_by_this_request, operation="create_shipment", object_id=req.order_id,
        )

    def find(self, *, order_id: str | None = None, filters: Mapping[str, Any] | None = None,
             page: int | None = None, page_size: int | None = None) -> ResultList[Shipment]:
        """Shipments on the documented path ``GET /filter/api/order/shipment`` (the MCP server
        uses ``/billing/api/order/shipment`` instead; reference §10 item 3); one page of them
        with ``page``/``page_size``."""
        return self._requestor.read_list(LIST_SHIPMENTS, Shipment, filters,
                                         owner=("orderId", "order_id", order_id), page=page, page_size=page_size)


def _lines(items: Iterable[BasketItem]) -> Counter[tuple[str, Decimal]]:
    return Counter((item.sku, Decimal(item.quantity)) for item in items)
