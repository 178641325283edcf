"""What a verified notification means for an order, and how a lost one is caught up (sync).

The answers follow the documentation (reference §8.3): a repeated notification is ``success``
and changes nothing; another InvoiceBox order for an order paid already is
``order_already_paid``; an order we no longer sell is ``order_not_found``; an order whose
create call has not finished is ``out_of_service`` (InvoiceBox retries). Only the payment is
documented as a notification: any other status a signed notification claims is confirmed with
the API before it is applied, so a forged or mistaken status cannot cancel a payable order.
"""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

import attrs

from .. import money
from ..errors import ApiError, TransportError
from ..flows import Trigger
from ..models import Order
from ..protocol import NotificationAnswer, OrderStatus
from ..store import NotificationOrder
from ..webhook import VerifiedNotification
from .core import Change, Core, OutboxWork
from .decisions import can_fulfil_once
from .facts import expected_facts
from .observed import catch_up
from .outbox import Calls
from .views import OrderView, Snapshot

log = logging.getLogger("invoicebox_flow.engine")

Answer = tuple[str, str | None]  # ("success", None) or ("error", code)
SUCCESS: Answer = ("success", None)
AUTO_SHIP = "ship_on_payment"  # the follow-up that ships a paid order of online services

_STATUS_TRIGGERS = {OrderStatus.EXPIRED.value: Trigger.EXPIRE.value, OrderStatus.CANCELED.value: Trigger.CANCEL.value,
                    "cancelled": Trigger.CANCEL.value}


def _error(code: NotificationAnswer) -> Answer:
    return ("error", code.value)


class Payment(Protocol):
    """What a payment is recorded from: an order InvoiceBox's API returned, or a verified
    notification."""

    @property
    def amount(self) -> Decimal | None: ...

    @property
    def paid_at(self) -> datetime | None: ...


@attrs.define
class Notifications:
    core: Core
    calls: Calls

    def apply(self, notification: VerifiedNotification, key: str, found: NotificationOrder | None = None) -> Answer:
        """Apply a verified notification once. ``key`` names it in processed notifications;
        ``found`` is what :meth:`look_up` read for it (read here when not given)."""
        if found is None:
            found = self.look_up(key, notification.id or None, notification.merchant_order_id or None)
        if found.replay:
            return SUCCESS  # applied already (the read carries no document for it)
        snap, answer = self._find(notification, found)
        if snap is None:
            return answer
        if found.processed:
            return SUCCESS
        doc = snap.doc
        amount = notification.amount
        if notification.currency_id != doc.currency or amount is None or money.to_money(amount) != doc.amount:
            return _error(NotificationAnswer.ORDER_WRONG_AMOUNT)
        if notification.status == OrderStatus.COMPLETED.value:
            return self._payment(snap, notification, key)
        trigger = _STATUS_TRIGGERS.get(notification.status or "")
        if trigger is None or snap.state not in self.core.lifecycle(snap).awaiting_payment_states:
            return SUCCESS  # nothing for us to do; an error answer would only make it retry
        return self._confirmed_status(snap, trigger, key)

    def look_up(self, key: str, invoicebox_id: str | None, merchant_order_id: str | None) -> NotificationOrder:
        """The notification's order by either id and whether ``key`` is processed, in one read."""
        return self.core.store.notification_orders(invoicebox_id, merchant_order_id, key)

    def _find(self, notification: VerifiedNotification, found: NotificationOrder) -> tuple[Snapshot | None, Answer]:
        record = found.by_invoicebox_id if notification.id else None
        if record is None and notification.merchant_order_id:
            record = found.by_merchant_order_id
            if record is not None and record.invoicebox_id and record.invoicebox_id != notification.id:
                lifecycle = self.core.definition.lifecycle(record.variant)
                paid = record.state in lifecycle.paid_states  # the state alone: no need to parse the document
                return None, _error(NotificationAnswer.ORDER_ALREADY_PAID if paid else NotificationAnswer.ORDER_NOT_FOUND)
        if record is None:
            return None, _error(NotificationAnswer.ORDER_NOT_FOUND)
        return Snapshot.of(record), SUCCESS

    def _payment(self, snap: Snapshot, notification: VerifiedNotification, key: str) -> Answer:
        lifecycle = self.core.lifecycle(snap)
        if snap.state in lifecycle.awaiting_payment_states:
            fulfil = can_fulfil_once(self.core, snap, key)  # the shop is asked once, whatever the copies
            if fulfil is None:
                return _error(NotificationAnswer.OUT_OF_SERVICE)  # another copy is being decided: ask again later
            if not fulfil:
                self.core.commit(snap, Change(Trigger.REFUSE_SHIPPING, "invoicebox-notification",
                                              doc=paid_document(snap, notification), notification_key=key))
                return _error(NotificationAnswer.SHIPPING_UNAVAILABLE)
            self._record_payment(snap, notification, actor="invoicebox-notification", key=key)
            return SUCCESS
        if snap.state in lifecycle.paid_states:
            # the same payment told again, or another InvoiceBox order of an order paid already
            return SUCCESS if snap.invoicebox_id == notification.id else _error(NotificationAnswer.ORDER_ALREADY_PAID)
        if snap.state in lifecycle.final_states:
            return _error(NotificationAnswer.ORDER_NOT_FOUND)  # we no longer sell it: InvoiceBox must not count it paid
        return _error(NotificationAnswer.OUT_OF_SERVICE)  # our create call has not finished: deliver it again later

    def _confirmed_status(self, snap: Snapshot, trigger: str, key: str) -> Answer:
        """A notification claims the order expired or was canceled: believe InvoiceBox's API."""
        try:
            remote = self.core.client.get_order(snap.invoicebox_id)
        except (ApiError, TransportError) as exc:
            log.warning("order %s: could not confirm a %r notification with the API (%s); asking for it again",
                        snap.id, trigger, exc)
            return _error(NotificationAnswer.OUT_OF_SERVICE)
        if remote.status == OrderStatus.COMPLETED.value:
            self._record_payment(snap, remote, actor="reconcile", key=None)
        elif _STATUS_TRIGGERS.get(remote.status) == trigger:
            self.core.commit(snap, Change(trigger, "invoicebox-notification", request_id=remote.request_id,
                                          notification_key=key))
        else:
            log.warning("order %s: a signed notification says %r but InvoiceBox's API says %r; ignored",
                        snap.id, trigger, remote.status)
        return SUCCESS

    def confirm_payment(self, snap: Snapshot, remote: Order, *, actor: str, key: str | None) -> OrderView:
        """Record the payment; an order of online services that ships on payment gets its
        shipment queued in the same transaction and made right after it."""
        shipped, paid = self._record_payment(snap, remote, actor=actor, key=key)
        return shipped or self.core.view(paid)

    def _record_payment(self, snap: Snapshot, remote: Payment, *, actor: str,
                        key: str | None) -> tuple[OrderView | None, Snapshot]:
        """:meth:`confirm_payment` without building the order's view (a notification is answered
        without one): the view of the automatic shipment if one was made, and the paid order."""
        follow_up = self.calls.follow_up(AUTO_SHIP, snap.id) if snap.doc.auto_ship else None
        work = OutboxWork(add=(follow_up,), claim_as=self.calls.worker_id) if follow_up else OutboxWork()
        paid = self.core.commit(snap, Change(
            Trigger.CONFIRM_PAYMENT, actor, doc=paid_document(snap, remote), notification_key=key, outbox=work,
            detail={"paidAt": remote.paid_at.isoformat() if remote.paid_at else None}))
        shipped = self.calls.run_claimed(snap.id, follow_up.key, inline=True) if follow_up is not None else None
        return shipped, paid

    def sync(self, order_id: str) -> OrderView:
        """Ask InvoiceBox what it knows and catch up. An order awaiting payment: paid (a lost
        notification), expired, or canceled elsewhere. A paid one: shipments InvoiceBox made by
        itself, refunds paid out or canceled (:mod:`.observed`). Others are returned as is."""
        snap = self.core.load(order_id)
        lifecycle = self.core.lifecycle(snap)
        if not snap.invoicebox_id:
            return self.core.view(snap)
        if snap.state in lifecycle.paid_states and not lifecycle.state(snap.state).requested:
            return self.core.view(catch_up(self.core, snap))
        if snap.state not in lifecycle.awaiting_payment_states:
            return self.core.view(snap)
        remote = self.core.client.get_order(snap.invoicebox_id)
        if remote.status == OrderStatus.COMPLETED.value:
            return self.confirm_payment(snap, remote, actor="reconcile", key=None)
        trigger = _STATUS_TRIGGERS.get(remote.status)
        if trigger:
            return self.core.view(self.core.commit(snap, Change(trigger, "reconcile", request_id=remote.request_id)))
        return self.core.view(snap)


def paid_document(snap: Snapshot, remote: Payment) -> Any:
    """The document once paid: the amount InvoiceBox took, and the receipt the payment brings."""
    if remote.amount is None:
        raise ValueError(f"order {snap.id}: a payment that does not say its amount")  # (checked before, for a notification)
    facts = expected_facts(snap.variant, "payment", (ln.to_json() for ln in snap.doc.lines), "notification")
    return attrs.evolve(snap.doc, paid_amount=money.to_money(remote.amount), facts=(*snap.doc.facts, *facts))
