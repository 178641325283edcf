"""One order, both sides: what differs, of which kind, and how a safe difference is healed.

Pure: the shop's order (its snapshot and open outbox items) and what InvoiceBox listed for it
go in, :class:`Difference` values come out; nothing is read or written here. The rules read the
lifecycle's traits (paid, final, awaiting payment, requested) rather than lists of states, so an
integrator's own states are compared as the documented states they refine.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import attrs

from .. import money
from ..engine.calls import STRATEGIES
from ..engine.refunds import refund_id
from ..engine.shipments import matches
from ..engine.views import Snapshot
from ..flows import Lifecycle, Trigger
from ..models import Order, RefundOrder, Shipment
from ..protocol import CREATE_ORDER, CREATE_REFUND, CREATE_SHIPMENT, OrderStatus, RefundStatus
from ..store import CLAIMED, PENDING, OutboxItem
from .kinds import Drift
from .remote import RemoteOrder, is_paid

_CLOSED = frozenset({OrderStatus.CANCELED.value, OrderStatus.EXPIRED.value, "cancelled"})
_NO_MONEY = frozenset({RefundStatus.CANCELED.value, "draft"})  # refunds that returned nothing


@attrs.frozen
class Plan:
    """How a safe difference is healed: ``sync`` (the engine's catch-up), ``resume`` (the
    outbox item, looked up first), ``finish`` (record the call's effect found at InvoiceBox)
    or ``give_up`` (the call never reached InvoiceBox: go back by its refusal)."""

    how: str
    action: str | None = None
    payload: Mapping[str, Any] | None = None
    result: Any = None


SYNC = Plan("sync")
RESUME = Plan("resume")


@attrs.frozen
class Difference:
    order_id: str
    kind: Drift
    detail: Mapping[str, Any]
    plan: Plan | None = None  # None: it needs a person


def compare(snap: Snapshot, lifecycle: Lifecycle, remote: RemoteOrder | None, items: Sequence[OutboxItem],
            now: dt.datetime) -> list[Difference]:
    """Every difference between the shop's order and InvoiceBox's (empty: they agree)."""
    spec = lifecycle.state(snap.state) if lifecycle.has_state(snap.state) else None
    if spec is not None and spec.requested:
        return _requested(snap, lifecycle, remote, items, now)
    if snap.invoicebox_id is None:
        return []  # InvoiceBox was never asked for this order
    found = Finder(snap)
    if remote is None:
        return [found(Drift.MISSING_AT_INVOICEBOX, invoicebox_id=snap.invoicebox_id)]
    order = remote.order
    amount = money.to_money(order.amount) if order.amount is not None else None
    if order.currency_id != snap.doc.currency or amount != snap.doc.amount:
        return [found(Drift.AMOUNT_MISMATCH, shop=f"{snap.doc.amount} {snap.doc.currency}",
                      invoicebox=f"{amount} {order.currency_id}")]
    status = order.status or ""
    if snap.state in lifecycle.awaiting_payment_states:
        if is_paid(order):
            return [found(Drift.MISSED_PAYMENT, shop=snap.state, invoicebox=status, plan=SYNC)]
        if status in _CLOSED:
            return [found(Drift.CLOSED_AT_INVOICEBOX, shop=snap.state, invoicebox=status, plan=SYNC)]
        return []
    if snap.state in lifecycle.paid_states:
        if not is_paid(order):
            return [found(Drift.STATUS_MISMATCH, shop=snap.state, invoicebox=status)]
        if snap.doc.paid_amount != amount:
            return [found(Drift.AMOUNT_MISMATCH, shop=f"paid {snap.doc.paid_amount}", invoicebox=f"paid {amount}")]
        return _shipments(found, snap, lifecycle, remote.shipments) + _refunds(found, snap, remote.refunds)
    if snap.state in lifecycle.final_states:  # closed unpaid in the shop
        if is_paid(order):
            return [found(Drift.PAID_BUT_CLOSED, shop=snap.state, invoicebox=status, amount=str(amount))]
        if status not in _CLOSED:
            return [found(Drift.STATUS_MISMATCH, shop=snap.state, invoicebox=status)]
    return []


@attrs.frozen
class Finder:
    """Makes the differences of one order, details as text (amounts exact)."""

    snap: Snapshot

    def __call__(self, kind: Drift, *, plan: Plan | None = None, **detail: Any) -> Difference:
        return Difference(self.snap.id, kind, {k: v for k, v in detail.items() if v is not None}, plan)


def _shipments(found: Finder, snap: Snapshot, lifecycle: Lifecycle, shipments: Sequence[Shipment]) -> list[Difference]:
    known = {entry.id for entry in snap.doc.shipments}
    theirs = [str(s.id) for s in shipments]
    out = []
    unseen = [s for s in theirs if s not in known]
    if unseen:
        if lifecycle.transition(Trigger.SHIPMENT_OBSERVED, snap.state) is not None:
            out.append(found(Drift.UNSEEN_SHIPMENT, shipments=unseen, plan=SYNC))
        else:
            out.append(found(Drift.UNEXPECTED_SHIPMENT, shipments=unseen, shop=snap.state))
    missing = sorted(known - set(theirs))
    if missing:
        out.append(found(Drift.MISSING_SHIPMENT, shipments=missing))
    return out


def _refunds(found: Finder, snap: Snapshot, refunds: Sequence[RefundOrder]) -> list[Difference]:
    mine = {r.id: r for r in snap.doc.refunds}
    theirs = {str(r.id): r for r in refunds}
    out = []
    unknown = [r for key, r in theirs.items() if key not in mine and r.status not in _NO_MONEY]
    if unknown:
        out.append(found(Drift.UNKNOWN_REFUND, refunds=[r.id for r in unknown],
                         amount=str(sum((money.to_money(r.amount) for r in unknown), Decimal("0.00")))))
    settled = [key for key, r in mine.items() if key in theirs and r.status == RefundStatus.CREATED.value
               and theirs[key].status != r.status]
    if settled:
        out.append(found(Drift.REFUND_SETTLED, refunds=settled, plan=SYNC))
    missing = sorted(key for key, r in mine.items() if key not in theirs and not r.canceled)
    other = sorted(key for key, r in mine.items() if key in theirs and key not in settled
                   and theirs[key].status != r.status)
    if missing or other:
        out.append(found(Drift.REFUND_MISMATCH, missing_at_invoicebox=missing or None, other_status=other or None))
    elif not out:
        lines = _line_differences(snap, theirs.values())
        if lines:
            out.append(found(Drift.REFUND_MISMATCH, lines=lines))
    return out


def _line_differences(snap: Snapshot, refunds: Any) -> dict[str, str]:
    """``{sku: "shop q × a, InvoiceBox q × a"}`` where the refunded quantity or sum of a line differs."""
    theirs: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal("0.00")])
    for refund in refunds:
        if refund.status in _NO_MONEY:
            continue
        for item in refund.basket_items or ():
            theirs[item.sku][0] += Decimal(str(item.quantity))
            theirs[item.sku][1] += money.to_money(item.total_amount)
    out = {}
    for line in snap.doc.lines:
        quantity, amount = theirs.pop(line.sku, [Decimal(0), Decimal("0.00")])
        if quantity != line.refunded_quantity or amount != line.refunded_amount:
            out[line.sku] = f"shop {line.refunded_quantity} for {line.refunded_amount}, InvoiceBox {quantity} for {amount}"
    for sku, (quantity, amount) in theirs.items():
        out[sku] = f"shop has no such line, InvoiceBox {quantity} for {amount}"
    return out


# --- an order waiting for a call -------------------------------------------------------------


def _requested(snap: Snapshot, lifecycle: Lifecycle, remote: RemoteOrder | None, items: Sequence[OutboxItem],
               now: dt.datetime) -> list[Difference]:
    action = next((name for name, call in lifecycle.calls.items() if snap.state in lifecycle.destinations(call.request)),
                  None)
    if action is None or action not in STRATEGIES:
        return []
    calls = [i for i in items if i.action == action]
    if any(i.status == CLAIMED and i.claimed_until is not None and i.claimed_until > now for i in calls):
        return []  # a worker is making the call right now
    waiting = [i for i in calls if i.status in (PENDING, CLAIMED)]
    found = Finder(snap)
    if waiting:
        item = waiting[0]
        effect = _effect(action, snap, remote, item.payload)
        if effect is None:
            return []  # queued, not made yet: its worker will make it
        return [found(Drift.UNFINISHED_CALL, call=action, item=item.id, attempts=item.attempts, plan=RESUME)]
    payload, effect = _lost_call(action, snap, remote)
    if effect is None:
        return [found(Drift.LOST_INTENT, call=action, invoicebox="nothing", plan=Plan("give_up", action))]
    return [found(Drift.LOST_INTENT, call=action, invoicebox=str(getattr(effect, "id", "")),
                  plan=Plan("finish", action, payload, effect))]


def _effect(action: str, snap: Snapshot, remote: RemoteOrder | None, payload: Mapping[str, Any]) -> Any | None:
    """What InvoiceBox has of the call ``action`` made with ``payload`` (the strategies' own lookups,
    on what the sweep read)."""
    if remote is None:
        return None
    if action == CREATE_ORDER.name:
        return remote.order
    if action == CREATE_SHIPMENT.name:
        known = {entry.id for entry in snap.doc.shipments}
        return next((s for s in remote.shipments if str(s.id) not in known
                     and matches(s.basket_items or (), payload["basketItems"])), None)
    wanted = payload["request"]["merchantOrderId"]
    return next((r for r in remote.refunds if r.merchant_order_id == wanted), None)


def _lost_call(action: str, snap: Snapshot, remote: RemoteOrder | None) -> tuple[dict[str, Any], Any | None]:
    """The payload of a call whose outbox item is gone, rebuilt from what InvoiceBox has, and
    the object it made there (None: InvoiceBox has none)."""
    if action == CREATE_ORDER.name:
        return {"request": snap.doc.request}, remote.order if remote is not None else None
    if remote is None:
        return {}, None
    if action == CREATE_SHIPMENT.name:
        known = {entry.id for entry in snap.doc.shipments}
        shipment = next((s for s in remote.shipments if str(s.id) not in known), None)
        lines = [item.to_json() for item in shipment.basket_items or ()] if shipment is not None else []
        return {"orderId": snap.invoicebox_id, "basketItems": lines}, shipment
    assert action == CREATE_REFUND.name
    wanted = refund_id(snap.id, len(snap.doc.refunds) + 1)  # the id the lost request carried
    refund = next((r for r in remote.refunds if r.merchant_order_id == wanted), None)
    return ({"request": refund.to_json()} if refund is not None else {}), refund


def remote_needs_lists(snap: Snapshot, lifecycle: Lifecycle, order: Order) -> bool:
    """Whether the shipments and refunds of ``order`` are needed to compare it: paid on either side."""
    return is_paid(order) or snap.state in lifecycle.paid_states


__all__ = ["RESUME", "SYNC", "Difference", "Plan", "compare", "remote_needs_lists"]
