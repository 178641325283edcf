"""Lifecycle events: typed, immutable records of every change the engine commits.

:meth:`Core.commit <invoicebox_flow.engine.core.Core.commit>` (and ``add_order`` for ``place``,
``annotate`` for bookkeeping) appends one event in the same store transaction as the change:
no event without its state change, no state change without its event. A failed call or a
refused action changes nothing and appends no event (it is only journaled).

The catalogue — which class a change's event is:

=====================  ==============================================  ==========================
event                  committed by                                    carries, besides the rest
=====================  ==============================================  ==========================
``OrderPlaced``        ``place``                                       amount, vat_amount, currency
``PaymentLinkIssued``  ``issue_payment_link`` (create order accepted)  invoicebox_id, payment_url
``OrderPaid``          ``confirm_payment``                             amount paid, currency
``PaymentDeclined``    ``decline_payment`` (the buyer declined)
``OrderShipped``       ``shipment_accepted``                           shipment_id
``OrderRefunded``      ``refund_accepted``                             refund_id, amount, refunded_amount, partial
``OrderCanceled``      ``cancel``
``OrderExpired``       ``expire``
``ExtensionStep``      a transition the flow definition adds           (its ``trigger``: ``pack`` …)
``LifecycleStep``      every other documented or undrawn transition:
                       ``request_invoice``, ``redirect_buyer``,
                       ``buyer_returned``, ``refuse_shipping``,
                       ``update``, ``request_shipment``,
                       ``send_documents``, ``claim_refund``,
                       ``list_refundable``, ``request_refund``, and
                       the refused calls ``*_failed``
``OrderAnnotated``     bookkeeping that is not a transition
                       (``confirm_facts``: the ids of issued receipts)
=====================  ==============================================  ==========================

Extension transitions get their class from the definition: a transition whose origin is
``Origin.EXTENSION`` is an :class:`ExtensionStep` whose ``trigger`` names it (subscribe with
``triggers=("pack",)`` to take only those). One generic class rather than a class generated
per trigger keeps every event type a name type checkers know.

Every event carries its ``id`` (unique, stable: the idempotency key a handler keys its effects
by), its ``position`` in the feed, the order id, the trigger and actor, the states before and
after, the commit time and ``order``: the :class:`~.views.OrderView` exactly as the change left
it. The class-specific fields are read from that snapshot, so they can never disagree with it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar

import attrs

from ..flows import FlowDefinition, Lifecycle, Origin, Trigger
from ..store import EventDraft, OrderRecord, StoredEvent
from .views import OrderView, Snapshot


@attrs.frozen(kw_only=True)
class OrderEvent:
    """What every lifecycle event carries. Subscribe to ``OrderEvent`` to take them all."""

    id: str
    position: str
    order_id: str
    trigger: str
    from_state: str
    to_state: str
    actor: str
    at: datetime
    order: OrderView

    # the fields a class reads from the snapshot: {attribute: OrderView attribute}
    _FROM_ORDER: ClassVar[Mapping[str, str]] = {}

    @classmethod
    def _details(cls, order: OrderView) -> dict[str, Any]:
        return {name: getattr(order, source) for name, source in cls._FROM_ORDER.items()}


@attrs.frozen(kw_only=True)
class OrderPlaced(OrderEvent):
    """The buyer placed the order (nothing is sent to InvoiceBox yet)."""

    amount: Decimal
    vat_amount: Decimal
    currency: str
    _FROM_ORDER: ClassVar[Mapping[str, str]] = {"amount": "amount", "vat_amount": "vat_amount", "currency": "currency"}


@attrs.frozen(kw_only=True)
class PaymentLinkIssued(OrderEvent):
    """InvoiceBox created the order and answered with its id and payment link."""

    invoicebox_id: str | None
    payment_url: str | None
    _FROM_ORDER: ClassVar[Mapping[str, str]] = {"invoicebox_id": "invoicebox_id", "payment_url": "payment_url"}


@attrs.frozen(kw_only=True)
class OrderPaid(OrderEvent):
    """A signed notification (or a catch-up with the API) says the order is paid."""

    amount: Decimal
    currency: str
    _FROM_ORDER: ClassVar[Mapping[str, str]] = {"amount": "paid_amount", "currency": "currency"}


@attrs.frozen(kw_only=True)
class PaymentDeclined(OrderEvent):
    """The buyer declined on the payment page (and may still pay later)."""


@attrs.frozen(kw_only=True)
class OrderShipped(OrderEvent):
    """InvoiceBox registered the shipment (it issues the receipt or the documents)."""

    shipment_id: str

    @classmethod
    def _details(cls, order: OrderView) -> dict[str, Any]:
        return {"shipment_id": order.shipments[-1].id}


@attrs.frozen(kw_only=True)
class OrderRefunded(OrderEvent):
    """InvoiceBox registered a refund: ``amount`` now, ``refunded_amount`` in all; ``partial``
    while some of the payment is left."""

    refund_id: str
    amount: Decimal
    refunded_amount: Decimal
    partial: bool

    @classmethod
    def _details(cls, order: OrderView) -> dict[str, Any]:
        refund = order.refunds[-1]
        return {"refund_id": refund.id, "amount": refund.amount, "refunded_amount": order.refunded_amount,
                "partial": order.refunded_amount < order.paid_amount}


@attrs.frozen(kw_only=True)
class OrderCanceled(OrderEvent):
    """The shop canceled the unpaid order (or reversed a payment it refused)."""


@attrs.frozen(kw_only=True)
class OrderExpired(OrderEvent):
    """InvoiceBox reports the order expired unpaid."""


@attrs.frozen(kw_only=True)
class LifecycleStep(OrderEvent):
    """Any other documented or undrawn transition; ``trigger`` says which."""


@attrs.frozen(kw_only=True)
class ExtensionStep(OrderEvent):
    """A transition the shop's flow definition added; ``trigger`` says which."""


@attrs.frozen(kw_only=True)
class OrderAnnotated(OrderEvent):
    """Bookkeeping that changes no state (``trigger`` names it: ``confirm_facts``)."""


_LIFECYCLE: Mapping[str, type[OrderEvent]] = {
    Trigger.PLACE: OrderPlaced, Trigger.ISSUE_PAYMENT_LINK: PaymentLinkIssued, Trigger.CONFIRM_PAYMENT: OrderPaid,
    Trigger.DECLINE_PAYMENT: PaymentDeclined, Trigger.SHIPMENT_ACCEPTED: OrderShipped,
    Trigger.REFUND_ACCEPTED: OrderRefunded, Trigger.CANCEL: OrderCanceled, Trigger.EXPIRE: OrderExpired,
}

#: Every event class by the name it is stored under.
EVENT_TYPES: Mapping[str, type[OrderEvent]] = {cls.__name__: cls for cls in (
    OrderPlaced, PaymentLinkIssued, OrderPaid, PaymentDeclined, OrderShipped, OrderRefunded, OrderCanceled,
    OrderExpired, LifecycleStep, ExtensionStep, OrderAnnotated)}


def event_class(lifecycle: Lifecycle, trigger: str, from_state: str, *, annotation: bool = False) -> type[OrderEvent]:
    """The class of the event a change appends (see the catalogue in the module docstring)."""
    if annotation:
        return OrderAnnotated
    named = _LIFECYCLE.get(trigger)
    if named is not None:  # a documented meaning, from whichever state the definition lets it fire
        return named
    transition = lifecycle.transition(trigger, from_state)
    return ExtensionStep if transition is not None and transition.origin is Origin.EXTENSION else LifecycleStep


def new_event_id() -> str:
    """A random (version 4) UUID as 32 hex digits, as ``uuid.uuid4().hex`` writes it, without
    building the ``UUID`` (every change makes one)."""
    raw = bytearray(os.urandom(16))
    raw[6] = raw[6] & 0x0F | 0x40  # version 4
    raw[8] = raw[8] & 0x3F | 0x80  # the RFC 4122 variant
    return raw.hex()


def draft(cls: type[OrderEvent], before: OrderRecord, *, trigger: str, to_state: str, actor: str,
          invoicebox_id: str | None) -> EventDraft:
    """The row of a change's event. The store adds what it writes with the change — the
    order's data, its new version, the time — so that the snapshot is exactly the stored order."""
    order = {"merchantOrderId": before.merchant_order_id, "variant": before.variant, "invoiceboxId": invoicebox_id,
             "createdAt": before.created_at.isoformat()}
    return EventDraft(id=new_event_id(), type=cls.__name__, trigger=trigger, from_state=before.state,
                      to_state=to_state, actor=actor, payload={"order": order})


def event_of(stored: StoredEvent, definition: FlowDefinition) -> OrderEvent:
    """The typed event of a stored one; ``definition`` gives the order's state labels."""
    cls = EVENT_TYPES.get(stored.type)
    if cls is None:
        raise ValueError(f"event {stored.id} has type {stored.type!r}, unknown to this invoicebox-flow; "
                         f"known: {', '.join(EVENT_TYPES)}")
    order = stored.payload["order"]
    record = OrderRecord(id=stored.order_id, merchant_order_id=order["merchantOrderId"], variant=order["variant"],
                         state=stored.to_state, version=stored.order_version, invoicebox_id=order["invoiceboxId"],
                         data=stored.order_data, created_at=datetime.fromisoformat(order["createdAt"]),
                         updated_at=stored.at)
    snapshot = Snapshot.of(record)
    view = OrderView.build(snapshot, definition.lifecycle(snapshot.variant))
    return cls(id=stored.id, position=stored.position, order_id=stored.order_id, trigger=stored.trigger,
               from_state=stored.from_state, to_state=stored.to_state, actor=stored.actor, at=stored.at,
               order=view, **cls._details(view))
