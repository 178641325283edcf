"""The lifecycle service integrators embed: :class:`OrderFlow`, one façade over the engine.

:class:`OrderFlow` runs a :class:`~invoicebox_flow.flows.FlowDefinition` (the documented flow
by default, or an integrator's extension of it) on orders kept in a
:class:`~invoicebox_flow.store.Store`. Three rules make it strict:

1. **Refuse, never ignore.** An action not allowed in the order's state raises
   :class:`~invoicebox_flow.errors.IllegalTransitionError` and changes nothing.
2. **Claim before calling.** A transition that needs InvoiceBox first moves the order to a
   ``*_requested`` state *and* records the call in the outbox, in one compare-and-set
   transaction; only the winner of that transaction calls InvoiceBox (:mod:`.outbox`).
3. **Money adds up.** Refunds are limited per line and in total to what was paid minus what was
   refunded; amounts are ``Decimal`` kopecks throughout (:mod:`.refunds`).

The order's identity is the shop's own order id (InvoiceBox's ``merchantOrderId``). The work is
done by one part of the engine per concern: :mod:`.payment`, :mod:`.fulfilment`,
:mod:`.notifications`, :mod:`.outbox`, with :mod:`.core` as the one place that commits a change.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from ..errors import IllegalTransitionError, ValidationError
from ..flows import DOCUMENTED_FLOW, FlowDefinition, Origin, Variant
from ..models import BasketItem, LegalCustomer, PrivateCustomer, RefundableItem
from ..store import JournalEntry, NotificationOrder, Store
from ..webhook import Answer, NotificationHandler, VerifiedNotification
from .arguments import actor as actor_name
from .arguments import count, flag, journal_detail, optional_flag, strict_methods
from .core import Change, Core
from .delivery import Deliveries
from .events import OrderEvent, event_of
from .facts import Issuer, matched
from .fulfilment import Fulfilment
from .handlers import Handlers, Subscription
from .notifications import AUTO_SHIP, Notifications
from .outbox import Calls
from .payment import Payments, order_request
from .views import OrderView, Snapshot

if TYPE_CHECKING:
    from ..diagrams.order import EventSource
    from ..reconcile import SweepReport

F = TypeVar("F", bound=Callable[..., Any])


def _worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@strict_methods
@attrs.define
class OrderFlow:
    """The shop's side of every documented InvoiceBox sequence, strict and persisted.

    ``merchant_id`` is needed to place orders and to accept notifications, ``notification_key``
    to verify notifications; a process that only performs queued calls (a worker) needs neither.
    ``definition`` is the flow to run (:data:`~invoicebox_flow.flows.DOCUMENTED_FLOW` by default);
    ``conditions`` names the guards an extended definition refers to by name. ``can_fulfil`` is
    asked about each payment before it is accepted, once however many copies of its notification
    race in (:mod:`.decisions`): ``False`` answers ``shipping_unavailable``.

    Every committed change appends a lifecycle event (:mod:`.events`): read them all with
    :meth:`events`, or subscribe handlers (:meth:`on`, :meth:`subscribe`; ``handlers`` is the
    registry, shareable with the worker). Handlers run in the worker, or right after the commit
    in this process with ``inline_handlers=True`` (:mod:`.delivery` says what is guaranteed).
    """

    client: Any  # InvoiceboxClient (typed loosely so tests can pass the real client of any version)
    store: Store
    merchant_id: str | None = None
    notification_key: str | None = attrs.field(default=None, repr=False)
    notification_url: str | None = None
    success_url: str | None = None
    fail_url: str | None = None
    return_url: str | None = None
    order_lifetime: timedelta = timedelta(days=3)
    can_fulfil: Callable[[OrderView], bool] | None = None
    actor: str = "shop"
    retry_cap_seconds: float = 300.0
    conflict_retries: int = 3
    worker_id: str = attrs.field(factory=_worker_id)
    # longer than the client's longest call (timeouts plus lookups): a lease that runs out mid-call
    # would let a second worker look the object up before the first call has landed
    lease_seconds: float = 120.0
    definition: FlowDefinition = attrs.field(default=DOCUMENTED_FLOW, on_setattr=attrs.setters.frozen)
    conditions: Mapping[str, Callable[[OrderView], bool]] = attrs.field(factory=dict, on_setattr=attrs.setters.frozen)
    handlers: Handlers = attrs.field(factory=Handlers, on_setattr=attrs.setters.frozen)
    inline_handlers: bool = False
    _core: Core = attrs.field(init=False, repr=False)
    _calls: Calls = attrs.field(init=False, repr=False)
    _payments: Payments = attrs.field(init=False, repr=False)
    _fulfilment: Fulfilment = attrs.field(init=False, repr=False)
    _notifications: Notifications = attrs.field(init=False, repr=False)
    _notification_handler: NotificationHandler | None = attrs.field(init=False, default=None, repr=False)

    def __attrs_post_init__(self) -> None:
        self._core = Core(self, self.definition, dict(self.conditions))
        self._calls = Calls(self._core)
        self._payments = Payments(self._core, self._calls)
        self._fulfilment = Fulfilment(self._core, self._calls)
        self._notifications = Notifications(self._core, self._calls)
        self._calls.follow_ups[AUTO_SHIP] = self._fulfilment.ship_on_payment

    # ---- reading ----------------------------------------------------------------------------

    def get(self, order_id: str) -> OrderView:
        return self._core.view(self._core.load(order_id))

    def history(self, order_id: str) -> list[JournalEntry]:
        self._core.load(order_id)  # OrderNotFoundError for an unknown id, not an empty list
        return self.store.journal(order_id)

    def sequence_diagram(self, order_id: str, inspector: EventSource | None = None) -> str:
        """The Mermaid sequence diagram of what happened to the order, from its journal: one
        ``rect`` per phase, numbered as documented (see :mod:`invoicebox_flow.diagrams.order`).
        ``inspector`` (a sandbox or its inspector) adds what InvoiceBox's side saw."""
        from ..diagrams.order import story_of

        self._core.load(order_id)  # OrderNotFoundError for an id no store can hold, as everywhere
        return story_of(self.store, order_id, self.definition, inspector).diagram()

    def allowed_actions(self, order_id: str) -> list[str]:
        snap = self._core.load(order_id)
        return self._core.lifecycle(snap).allowed(snap.state)

    # ---- lifecycle events -------------------------------------------------------------------

    def events(self, after: str | None = None, *, limit: int = 100) -> list[OrderEvent]:
        """Up to ``limit`` events of every order, in commit order, after the feed position
        ``after`` (None: from the first). Store the last event's ``position`` and pass it next
        time: each event is read once, none skipped, with any number of writing processes."""
        return [event_of(stored, self.definition) for stored in self.store.read_events(after, limit=limit)]

    def order_events(self, order_id: str) -> list[OrderEvent]:
        """One order's events, oldest first (:class:`OrderNotFoundError` for an unknown id)."""
        self.store.get(order_id)
        return [event_of(stored, self.definition) for stored in self.store.order_events(order_id)]

    def on(self, *types: type[OrderEvent], name: str | None = None, triggers: Iterable[str] | None = None,
           transactional: bool = False, replay: bool = False) -> Callable[[F], F]:
        """``@flow.on(OrderPaid)``: subscribe the decorated handler (see :meth:`subscribe`)."""
        return self.handlers.on(*types, name=name, triggers=triggers, transactional=transactional, replay=replay)

    def subscribe(self, handler: Callable[..., object], *types: type[OrderEvent], name: str | None = None,
                  triggers: Iterable[str] | None = None, transactional: bool = False,
                  replay: bool = False) -> Subscription:
        """Hand ``handler(event)`` every committed event of ``types``, at least once, recorded
        per handler ``name`` (default ``module.function``) so that a delivery that succeeded is
        never made again. See :class:`~invoicebox_flow.engine.handlers.Handlers`."""
        return self.handlers.subscribe(handler, *types, name=name, triggers=triggers, transactional=transactional,
                                       replay=replay)

    @property
    def deliveries(self) -> Deliveries:
        """What runs the handlers on the events (the worker's part, :mod:`.delivery`)."""
        return self._core.deliveries

    # ---- payment phase ----------------------------------------------------------------------

    def place(self, order_id: str, items: Sequence[BasketItem], customer: PrivateCustomer | LegalCustomer, *,
              description: str, expires_at: datetime | None = None, currency: str = "RUB",
              request_invoice: bool = True, defer: bool = False, auto_ship: bool | None = None,
              **order_fields: Any) -> OrderView:
        """Documented step 1 (and, unless ``request_invoice=False``, steps 2–3).

        Everything is validated locally first: bad input raises and leaves nothing behind.
        ``auto_ship``: ship the order right after its payment commits (services only); None
        follows the definition's rule.
        """
        if not self.merchant_id:
            raise ValidationError("OrderFlow(merchant_id=...) is needed to place orders", code="configuration")
        urls = {"notification_url": self.notification_url, "success_url": self.success_url,
                "fail_url": self.fail_url, "return_url": self.return_url}
        request = order_request(self.merchant_id, order_id, items, customer, description=description,
                                expires_at=expires_at, lifetime=self.order_lifetime, currency=currency, urls=urls,
                                order_fields=order_fields)
        # the customer as the request holds it (a camelCase dict is read as the model it describes)
        variant = Variant.LEGAL if isinstance(request.customer, LegalCustomer) else Variant.PRIVATE
        return self._payments.place(order_id, request, variant, auto_ship=optional_flag("auto_ship", auto_ship),
                                    request_invoice=flag("request_invoice", request_invoice), defer=flag("defer", defer))

    def request_invoice(self, order_id: str, *, defer: bool = False) -> OrderView:
        """Documented steps 2–3: create the order at InvoiceBox, keep its id and payment link.

        With ``defer=True`` only the intent is recorded; a worker (:mod:`invoicebox_flow.worker`)
        makes the call. The same holds for :meth:`ship` and :meth:`refund`.
        """
        return self._payments.request_invoice(self._core.load(order_id), defer=flag("defer", defer))

    def redirect_buyer(self, order_id: str) -> str:
        """Documented step 4: returns the payment URL to send the buyer to."""
        return self._payments.redirect_buyer(order_id)

    def buyer_returned(self, order_id: str, *, success: bool = True) -> OrderView:
        """The buyer came back from the payment page (successUrl, or failUrl when ``success`` is false).

        The payment notification races the buyer's return; whichever comes second adapts: a
        buyer coming back to a paid order changes nothing, whichever page they come back to.
        """
        return self._payments.buyer_returned(order_id, success=flag("success", success))

    def update(self, order_id: str, **changes: Any) -> OrderView:
        """Update an unpaid order at InvoiceBox (``description``, ``expires_at``, ``items`` …)."""
        return self._payments.update(order_id, changes)

    def cancel(self, order_id: str) -> OrderView:
        """Cancel an unpaid order (DELETE at InvoiceBox once it knows the order)."""
        return self._payments.cancel(order_id)

    def sync(self, order_id: str) -> OrderView:
        """Ask InvoiceBox what it knows of the order and catch up: a lost payment notification,
        an expiry or cancellation at InvoiceBox, a shipment InvoiceBox made by itself (an online
        service), a refund paid out or canceled. Applied through the lifecycle's transitions."""
        return self._notifications.sync(order_id)

    def reconcile(self, *, since: datetime | None = None, until: datetime | None = None, heal: bool = False,
                  batch: int = 100) -> SweepReport:
        """Compare every order created in ``[since, until)`` (by default: the orders not in a final
        state and those of the last 7 days) with InvoiceBox, a batch of ``batch`` orders per few
        list calls, and report each difference (:class:`~invoicebox_flow.reconcile.Drift`). With
        ``heal`` the safe ones are healed through the lifecycle's transitions, journaled by
        ``reconcile``. An unfinished sweep of the same window is resumed. See docs/reconcile.md."""
        from ..reconcile.heal import Healer  # here: the reconcile package is built on the engine's parts
        from ..reconcile.sweep import Sweeper

        healer = Healer(self._core, self._notifications, self._calls)
        return Sweeper(self._core, healer).run(since=since, until=until, heal=flag("heal", heal), batch=batch)

    # ---- shipment phase ---------------------------------------------------------------------

    def ship(self, order_id: str, items: Mapping[str, Decimal | int | str] | Sequence[BasketItem] | None = None, *,
             document_number: str | None = None, document_date: date | None = None,
             defer: bool = False) -> OrderView:
        """Documented shipment step 1: register a shipment; InvoiceBox then issues the
        «полный расчёт» receipt (private) or the reporting documents (legal) for its lines.

        ``items``: ``{sku: quantity}`` (or basket items) to ship some lines, as many times as
        needed — the order is ``partially_shipped`` until nothing is left; by default everything
        left (neither shipped nor refunded). More than is left raises
        :class:`~invoicebox_flow.errors.ShipmentLimitError` before anything is sent."""
        return self._fulfilment.ship(order_id, items, document_number=document_number, document_date=document_date,
                                     defer=flag("defer", defer))

    def send_documents(self, order_id: str) -> OrderView:
        """Legal buyers, documented optional step: the shop sends its own reporting documents."""
        return self._fulfilment.send_documents(order_id)

    # ---- refund phase -----------------------------------------------------------------------

    def claim_refund(self, order_id: str, reason: str | None = None) -> OrderView:
        """Documented refund step 1: the buyer asks for a refund (recorded, no state change)."""
        return self._fulfilment.claim_refund(order_id, reason)

    def refundable_items(self, order_id: str) -> list[RefundableItem]:
        """Documented refund step 2: the lines InvoiceBox still lets us refund."""
        return self._fulfilment.refundable_items(order_id)

    def refund(self, order_id: str, items: Mapping[str, Decimal | int | str] | None = None, *,
               description: str | None = None, defer: bool = False) -> OrderView:
        """Documented refund step 3: refund ``{sku: quantity}`` (default: everything left).

        Refused with :class:`~invoicebox_flow.errors.RefundLimitError`, before anything is sent,
        when a line or the total would exceed what was paid minus what was already refunded. A
        line's units only prepaid are refunded first; a refund that would return both those and
        shipped units of one line is refused (``mixed_settlement``: their receipts differ, see
        docs/rulebook.md) with the two refunds to make instead.
        """
        return self._fulfilment.refund(order_id, items, description=description, defer=flag("defer", defer))

    # ---- the shop's own steps ---------------------------------------------------------------

    def fire(self, order_id: str, trigger: str, *, detail: Mapping[str, Any] | None = None,
             actor: str | None = None) -> OrderView:
        """Fire one of the definition's extension transitions (``flow.fire("A-1", "pack")``).

        The documented steps have their own methods (they talk to InvoiceBox); firing them here
        is refused with the method to call instead."""
        snap = self._core.load(order_id)
        lifecycle = self._core.lifecycle(snap)
        documented = [tr for tr in lifecycle.transitions_of(trigger) if tr.origin is not Origin.EXTENSION]
        if documented:
            raise IllegalTransitionError(order_id, trigger, snap.state, lifecycle.allowed(snap.state),
                                         reason="a documented step: call its OrderFlow method instead")
        change = Change(trigger, self.actor if actor is None else actor_name(actor), detail=journal_detail(order_id, detail))
        return self._core.view(self._core.commit(snap, change))

    # ---- notifications ----------------------------------------------------------------------

    def handle_notification(self, raw_body: bytes,
                            headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> tuple[int, list[tuple[str, str]], bytes]:
        """Verify and apply a payment notification; returns ``(status, headers, body)``.

        See :mod:`invoicebox_flow.webhook` for the answers InvoiceBox expects.
        """
        handler = self._notification_handler
        if handler is None:  # made on first use: a flow that only places orders needs no key
            handler = self._notification_handler = NotificationHandler(self)
        return handler.handle(raw_body, headers)

    def look_up_notification(self, notification_key: str, invoicebox_id: str | None,
                             merchant_order_id: str | None) -> NotificationOrder:
        """A notification's order (by its InvoiceBox id or its ``merchantOrderId``) and whether
        it was applied already (``.replay``), in one read."""
        return self._notifications.look_up(notification_key, invoicebox_id, merchant_order_id)

    def apply_notification(self, notification: VerifiedNotification, notification_key: str,
                           found: NotificationOrder | None = None) -> Answer:
        """Apply a verified notification. Returns ``("success", None)`` or ``("error", code)``.
        ``found``: what :meth:`look_up_notification` read for it, to spare reading it again."""
        return self._notifications.apply(notification, notification_key, found)

    def confirm_facts(self, order_id: str, issuer: Issuer) -> OrderView:
        """Match the receipts and documents the order expects with the ones InvoiceBox's side
        actually issued, and store their ids (``Fact.ref``).

        ``issuer`` answers ``receipts(invoicebox_id)`` and ``documents(invoicebox_id)`` — the
        sandbox's inspection client; the real API has no such endpoint."""
        def attempt(snap: Snapshot) -> OrderView:
            if not snap.invoicebox_id:
                return self._core.view(snap)
            facts, issued = matched(snap.doc.facts, issuer, snap.invoicebox_id)
            if facts == snap.doc.facts:
                return self._core.view(snap)
            return self._core.view(self._core.annotate(snap, attrs.evolve(snap.doc, facts=facts), "confirm_facts",
                                                       {"issued": issued}))
        return self._core.retrying(order_id, attempt)

    # ---- the outbox -------------------------------------------------------------------------

    def resume(self, order_id: str | None = None, *, limit: int = 50, due_now: bool = False,
               report_claimed: bool = False) -> list[OrderView | None]:
        """Perform (or reconcile) the InvoiceBox calls that are due: recorded with ``defer=True``,
        left by a crash (expired lease), or whose outcome was unknown and whose retry time has
        come (``due_now=True``: retry now, without waiting). Returns the updated orders (with
        ``report_claimed``, one entry per claimed item, None for an item that failed again).
        ``order_id`` limits it to one order (:class:`~invoicebox_flow.errors.OrderNotFoundError`
        if there is none)."""
        if order_id is not None:
            self._core.load(order_id)  # OrderNotFoundError for an unknown id, as everywhere
        return self._calls.resume(order_id, limit=count("limit", limit), due_now=flag("due_now", due_now),
                                  report_claimed=flag("report_claimed", report_claimed))
