"""One strategy per InvoiceBox write: how to make the call, how to find its effect when the last
attempt's answer was lost, and what an accepted call changes in the order.

The triggers that request a call, record its acceptance and its refusal are not written here:
they come from the flow definition (``Lifecycle.call(name)``), where the documented steps
declare them. A new InvoiceBox write is one strategy class here plus its client method.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import attrs

from ..flows import State
from ..models import OrderRequest, RefundRequest, ShipmentRequest
from ..protocol import CREATE_ORDER, CREATE_REFUND, CREATE_SHIPMENT, Endpoint
from ..store import OutboxItem
from .core import now
from .document import OrderDocument
from .facts import expected_facts
from .refunds import with_refund
from .shipments import matches, outcome, with_shipment
from .views import Snapshot


@attrs.frozen
class Accepted:
    """What an accepted call changes: the new document, and what the commit records with it."""

    doc: OrderDocument
    request_id: str | None
    result: Mapping[str, Any]
    invoicebox_id: str | None = None
    target: str | None = None  # the destination, when the definition lets the engine choose


class CallStrategy(Protocol):
    endpoint: Endpoint

    def perform(self, client: Any, payload: Mapping[str, Any]) -> Any: ...

    def lookup(self, client: Any, snap: Snapshot, payload: Mapping[str, Any]) -> Any | None: ...

    def accepted(self, snap: Snapshot, payload: Mapping[str, Any], result: Any) -> Accepted: ...


class CreateOrder:
    """Documented payment steps 2–3: create the order; keep its id and payment link."""

    endpoint = CREATE_ORDER

    def perform(self, client: Any, payload: Mapping[str, Any]) -> Any:
        return client.create_order(OrderRequest.from_json(payload["request"]))

    def lookup(self, client: Any, snap: Snapshot, payload: Mapping[str, Any]) -> Any | None:
        return client.find_order_by_merchant_order_id(snap.record.merchant_order_id)

    def accepted(self, snap: Snapshot, payload: Mapping[str, Any], result: Any) -> Accepted:
        doc = attrs.evolve(snap.doc, resume_state=None, payment_url=result.payment_url,
                           order_container_id=result.order_container_id)
        return Accepted(doc, result.request_id, {"id": result.id}, invoicebox_id=result.id)


class CreateShipment:
    """Documented shipment step 1: register the shipment; InvoiceBox then issues the
    «полный расчёт» receipt (private) or the reporting documents (legal)."""

    endpoint = CREATE_SHIPMENT

    def perform(self, client: Any, payload: Mapping[str, Any]) -> Any:
        return client.create_shipment(ShipmentRequest.from_json({k: v for k, v in payload.items() if v is not None}))

    def lookup(self, client: Any, snap: Snapshot, payload: Mapping[str, Any]) -> Any | None:
        # this call's shipment: one the order does not know yet, carrying exactly its lines
        known = {entry.id for entry in snap.doc.shipments}
        return next((s for s in client.list_shipments(order_id=snap.invoicebox_id)
                     if str(s.id) not in known and matches(s.basket_items or (), payload["basketItems"])), None)

    def accepted(self, snap: Snapshot, payload: Mapping[str, Any], result: Any) -> Accepted:
        doc = with_shipment(snap.doc, str(result.id), now().isoformat(), payload["basketItems"])
        facts = expected_facts(snap.variant, doc.shipments[-1].event, payload["basketItems"], "shipment")
        doc = attrs.evolve(doc, facts=(*doc.facts, *facts))
        return Accepted(doc, result.request_id, {"id": result.id}, target=outcome(doc))


class CreateRefund:
    """Documented refund step 3: register the refund; InvoiceBox returns the money and issues
    the «возврат» receipt (private) or the refund documents (legal)."""

    endpoint = CREATE_REFUND

    def perform(self, client: Any, payload: Mapping[str, Any]) -> Any:
        return client.create_refund(RefundRequest.from_json(payload["request"]))

    def lookup(self, client: Any, snap: Snapshot, payload: Mapping[str, Any]) -> Any | None:
        wanted = payload["request"]["merchantOrderId"]
        return next((r for r in client.list_refunds(parent_id=snap.invoicebox_id) if r.merchant_order_id == wanted),
                    None)

    def accepted(self, snap: Snapshot, payload: Mapping[str, Any], result: Any) -> Accepted:
        request = payload["request"]
        doc = with_refund(snap.doc, request, str(result.id), result.status, snap.doc.resume_state)
        facts = expected_facts(snap.variant, f"refund:{request['merchantOrderId']}", request["basketItems"], "refund")
        doc = attrs.evolve(doc, facts=(*doc.facts, *facts))
        done = doc.refunded_amount >= doc.paid_amount
        target = (State.REFUNDED if done else State.PARTIALLY_REFUNDED).value
        return Accepted(doc, result.request_id, {"id": result.id}, target=target)


STRATEGIES: Mapping[str, CallStrategy] = {s.endpoint.name: s for s in (CreateOrder(), CreateShipment(), CreateRefund())}


def strategy(item: OutboxItem) -> CallStrategy:
    try:
        return STRATEGIES[item.action]
    except KeyError:
        raise ValueError(f"outbox item {item.id}: unknown action {item.action!r}") from None
