"""The shipment and refund phases from the shop's side."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

import attrs

from ..errors import ApiError, TransportError
from ..flows import Trigger
from ..models import RefundableItem, ShipmentRequest
from ..protocol import CREATE_REFUND, CREATE_SHIPMENT
from ..store import OutboxItem
from .arguments import text
from .core import Change, Core
from .outbox import Calls
from .refunds import refund_lines, refund_request
from .shipments import Wanted, shipment_lines
from .views import OrderView, Snapshot


@attrs.define
class Fulfilment:
    core: Core
    calls: Calls

    def ship(self, order_id: str, items: Wanted, *, document_number: str | None,
             document_date: date | None, defer: bool, completes: OutboxItem | None = None) -> OrderView:
        """Documented shipment step 1: register the shipment of ``items`` (all that is left by default)."""
        snap = self.core.load(order_id)
        self.core.check(snap, Trigger.REQUEST_SHIPMENT)  # the state, before the lines are looked at
        lines = shipment_lines(order_id, snap.doc, items)
        # the request as InvoiceBox will get it, checked by the rule book before anything is stored
        assert snap.invoicebox_id is not None  # a paid order is known to InvoiceBox
        request = ShipmentRequest(order_id=snap.invoicebox_id, basket_items=lines, document_number=document_number,
                                  document_date=document_date)
        request.validate()
        payload = {"orderId": snap.invoicebox_id, "basketItems": lines, "documentNumber": request.document_number,
                   "documentDate": request.document_date.isoformat() if request.document_date else None}
        return self.calls.start(snap, CREATE_SHIPMENT.name, payload, defer=defer, completes=completes)

    def ship_on_payment(self, snap: Snapshot, item: OutboxItem) -> OrderView:
        """The follow-up of a paid order of online services: ship it all, settled in full."""
        return self.ship(snap.id, None, document_number=None, document_date=None, defer=False, completes=item)

    def send_documents(self, order_id: str) -> OrderView:
        """Legal buyers, documented optional step: the shop sends its own reporting documents."""
        return self.core.view(self.core.commit(self.core.load(order_id), Change(Trigger.SEND_DOCUMENTS, self.core.actor)))

    def claim_refund(self, order_id: str, reason: object) -> OrderView:
        """Documented refund step 1: the buyer asks for a refund (recorded, no state change)."""
        detail = {"reason": text(order_id, "reason", reason)}
        return self.core.view(self.core.commit(self.core.load(order_id), Change(Trigger.CLAIM_REFUND, "buyer",
                                                                                 detail=detail)))

    def refundable_items(self, order_id: str) -> list[RefundableItem]:
        """Documented refund step 2: the lines InvoiceBox still lets us refund."""
        snap = self.core.load(order_id)
        self.core.check(snap, Trigger.LIST_REFUNDABLE)
        try:
            items = self.core.client.refundable_items(snap.invoicebox_id)
        except (ApiError, TransportError) as exc:
            self.core.record_attempt(snap, Trigger.LIST_REFUNDABLE, exc)
            raise
        self.core.commit(snap, Change(Trigger.LIST_REFUNDABLE, self.core.actor,
                                      request_id=getattr(items, "request_id", None), detail={"lines": len(items)}))
        return list(items)

    def refund(self, order_id: str, items: Mapping[str, Decimal | int | str] | None, *, description: str | None,
               defer: bool) -> OrderView:
        """Documented refund step 3: refund ``{sku: quantity}`` (default: everything left)."""
        snap = self.core.load(order_id)
        self.core.check(snap, Trigger.REQUEST_REFUND)
        assert snap.invoicebox_id is not None  # a refundable order is known to InvoiceBox
        request = refund_request(order_id, snap.invoicebox_id, snap.doc, refund_lines(order_id, snap.doc, items),
                                 description)
        payload: dict[str, Any] = {"request": request.to_json()}
        return self.calls.start(snap, CREATE_REFUND.name, payload, defer=defer)
