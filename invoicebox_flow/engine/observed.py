"""What InvoiceBox did to a paid order without telling the shop, caught up by ``sync``.

InvoiceBox sends notifications for payments only; a shipment it registered by itself (an online
service shipped automatically) and a refund's later fate (paid out, or canceled: the money was not
returned) are seen only by asking the API. :func:`catch_up` asks, and applies what it finds
through the lifecycle's own transitions (``shipment_observed``, ``refund_canceled``), journaled
like any other change. What cannot be explained by the lifecycle (a refund the shop never asked
for, a shipment while nothing is left to ship) is logged and left alone: it needs a person.
"""

from __future__ import annotations

import logging

import attrs

from ..flows import State, Trigger
from ..protocol import RefundStatus
from .core import Change, Core, now
from .facts import expected_facts
from .refunds import with_refund_status, without_refund
from .shipments import outcome, with_shipment
from .views import Snapshot

log = logging.getLogger("invoicebox_flow.engine")


def catch_up(core: Core, snap: Snapshot) -> Snapshot:
    """Apply the shipments and refund outcomes InvoiceBox has and the order does not know."""
    snap = _shipments(core, snap)
    return _refunds(core, snap)


def _shipments(core: Core, snap: Snapshot) -> Snapshot:
    known = {entry.id for entry in snap.doc.shipments}
    for remote in core.client.list_shipments(order_id=snap.invoicebox_id):
        if str(remote.id) in known:
            continue
        if core.lifecycle(snap).transition(Trigger.SHIPMENT_OBSERVED, snap.state) is None:
            log.warning("order %s: InvoiceBox has shipment %s the order (%s) cannot take; left for a person",
                        snap.id, remote.id, snap.state)
            continue
        lines = [item.to_json() for item in remote.basket_items or ()]
        doc = with_shipment(snap.doc, str(remote.id), now().isoformat(), lines, observed=True)
        facts = expected_facts(snap.variant, doc.shipments[-1].event, lines, "shipment")
        snap = core.commit(snap, Change(Trigger.SHIPMENT_OBSERVED, "reconcile", doc=attrs.evolve(doc, facts=(
            *doc.facts, *facts)), target=outcome(doc), request_id=getattr(remote, "request_id", None),
            detail={"shipment": str(remote.id)}))
    return snap


def _refunds(core: Core, snap: Snapshot) -> Snapshot:
    waiting = {r.id: r for r in snap.doc.refunds if r.status == RefundStatus.CREATED.value}
    if not waiting:
        return snap
    for remote in core.client.list_refunds(parent_id=snap.invoicebox_id):
        mine = waiting.get(str(remote.id))
        if mine is None or remote.status == mine.status:
            continue
        if remote.status == RefundStatus.CANCELED.value:
            snap = core.commit(snap, Change(Trigger.REFUND_CANCELED, "reconcile",
                                            doc=without_refund(snap.doc, mine.id, remote.status),
                                            target=_after_cancel(snap, mine.id), detail={"refund": mine.id}))
        else:  # paid out: bookkeeping, the state stays
            snap = core.annotate(snap, with_refund_status(snap.doc, mine.id, remote.status), "refund_status",
                                 {"refund": mine.id, "status": remote.status})
    return snap


def _after_cancel(snap: Snapshot, refund_id: str) -> str:
    """Partially refunded while other refunds stand; else the state the refund was asked from."""
    if any(r.id != refund_id and not r.canceled for r in snap.doc.refunds):
        return State.PARTIALLY_REFUNDED.value
    canceled = next(r for r in snap.doc.refunds if r.id == refund_id)
    return canceled.requested_from or State.PAID.value
