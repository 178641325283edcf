"""The lifecycle service integrators embed: triggers, guards, InvoiceBox calls, persistence.

:class:`OrderFlow` fires the lifecycle machines of :mod:`invoicebox_flow.flows` on orders kept
in a :class:`~invoicebox_flow.store.Store`. Three rules make it strict:

1. **Refuse, never ignore.** An action not allowed in the order's state raises
   :class:`~invoicebox_flow.errors.IllegalTransitionError` and changes nothing.
2. **Claim before calling.** A transition that needs InvoiceBox first moves the order to a
   ``*_requested`` state *and* records the call in the outbox, in one compare-and-set
   transaction; only the winner of that transaction calls InvoiceBox. The outcome is a second
   transition (accepted → next state; refused → back to ``resume_state``, the attempt stays in
   the journal). A crash in between leaves a pending outbox item that :meth:`OrderFlow.resume`
   or a worker reconciles by looking the object up at InvoiceBox.
3. **Money adds up.** Refunds are limited per line and in total to what was paid minus what was
   refunded; amounts are ``Decimal`` kopecks throughout.

The order's identity is the shop's own order id (InvoiceBox's ``merchantOrderId``).
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import attrs
from transitions.core import MachineError

from . import money
from .errors import (
    ApiError,
    AuthenticationError,
    NotFoundError,
    ConcurrentUpdateError,
    IllegalTransitionError,
    InvalidRequestError,
    InvoiceboxFlowError,
    RefundLimitError,
    ResultUnknownError,
    TransportError,
    ValidationError,
)
from .fiscal import Receipt, document_kinds
from .flows import State, Variant, allowed_triggers, lifecycle_machine
from .flows.lifecycle import FINAL_STATES, UNPAID_AT_INVOICEBOX
from .models import (
    BasketItem,
    LegalCustomer,
    Order,
    OrderRequest,
    PrivateCustomer,
    RefundableItem,
    RefundRequest,
    ShipmentRequest,
)
from .store import JournalEntry, OrderRecord, OutboxDraft, OutboxItem, Store

log = logging.getLogger("invoicebox_flow.engine")

ZERO = Decimal("0.00")


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _dec(value: Any) -> Decimal:
    """Amounts read back from the store: ints for whole numbers, Decimals otherwise."""
    return money.to_money(value if isinstance(value, Decimal) else str(value))


# --- firing the shared machines ------------------------------------------------------------


class _Cursor:
    """The tiny model a shared machine fires on: the state, plus what conditions look at.

    One machine serves every order (DESIGN: a machine per order costs ~77 KiB); the cursor
    lives for one transition and is thrown away.
    """

    __slots__ = ("state", "target", "shipped")

    def __init__(self, state: str, target: str | None = None, shipped: bool = False):
        self.state = state
        self.target = target
        self.shipped = shipped

    def not_shipped(self) -> bool:
        return not self.shipped

    def __getattr__(self, name: str) -> Callable[[], bool]:
        # conditions ``target_is_<state>`` choose among dynamic destinations (lifecycle.py)
        if name.startswith("target_is_"):
            wanted = name[len("target_is_"):]
            return lambda: self.target == wanted
        raise AttributeError(name)


def next_state(variant: Variant, state: str, trigger: str, *, target: str | None = None,
               shipped: bool = False, order_id: str = "?") -> str:
    """The state after ``trigger`` fires in ``state``, or :class:`IllegalTransitionError`.

    Pure: nothing is stored. A failing condition (which makes `transitions` return ``False``)
    is turned into the same typed error, never a silent no-op.
    """
    machine = lifecycle_machine(variant)
    cursor = _Cursor(state, target, shipped)
    event = machine.events.get(trigger)
    if event is None:
        raise IllegalTransitionError(order_id, trigger, state, allowed_triggers(variant, state),
                                     reason=f"no such action for {variant.value} buyers")
    try:
        fired = event.trigger(cursor)
    except MachineError:
        raise IllegalTransitionError(order_id, trigger, state, allowed_triggers(variant, state)) from None
    if not fired:
        reason = "already shipped" if trigger == "request_shipment" and shipped else "its condition does not hold"
        raise IllegalTransitionError(order_id, trigger, state, allowed_triggers(variant, state), reason=reason)
    return cursor.state


# --- what integrators read -----------------------------------------------------------------


@attrs.frozen
class OrderLine:
    sku: str
    name: str
    quantity: Decimal
    unit_price: Decimal
    total_amount: Decimal
    total_vat_amount: Decimal
    vat_code: str
    type: str
    refunded_quantity: Decimal
    refunded_amount: Decimal
    refunded_vat_amount: Decimal

    @property
    def refundable_quantity(self) -> Decimal:
        return self.quantity - self.refunded_quantity

    @property
    def refundable_amount(self) -> Decimal:
        return self.total_amount - self.refunded_amount


@attrs.frozen
class Fact:
    """A receipt or document that InvoiceBox issued for the order, and how we know."""

    kind: str  # "receipt" | "document"
    type: str  # receipt: prepayment_full / full_settlement / refund; document: transfer_report / act / torg12 / refund_*
    event: str  # "payment" | "shipment" | "refund:<refund merchantOrderId>"
    source: str  # "notification" | "shipment" | "refund" | "sandbox"
    ref: str | None = None  # the receipt's or document's id where InvoiceBox's side told us


@attrs.frozen
class OrderView:
    """A read-only snapshot of one order, as stored."""

    order_id: str
    variant: Variant
    state: State
    version: int
    invoicebox_id: str | None
    payment_url: str | None
    currency: str
    amount: Decimal
    vat_amount: Decimal
    paid_amount: Decimal
    refunded_amount: Decimal
    shipped: bool
    lines: tuple[OrderLine, ...]
    refunds: tuple[dict, ...]
    facts: tuple[Fact, ...]
    created_at: datetime
    updated_at: datetime

    @property
    def refundable_amount(self) -> Decimal:
        return self.paid_amount - self.refunded_amount

    @property
    def receipts(self) -> tuple[Fact, ...]:
        return tuple(f for f in self.facts if f.kind == "receipt")

    @property
    def documents(self) -> tuple[Fact, ...]:
        return tuple(f for f in self.facts if f.kind == "document")

    @property
    def is_final(self) -> bool:
        return self.state in FINAL_STATES

    @classmethod
    def of(cls, record: OrderRecord) -> OrderView:
        d = record.data
        lines = tuple(
            OrderLine(
                sku=ln["sku"], name=ln["name"], quantity=Decimal(str(ln["quantity"])),
                unit_price=_dec(ln["amount"]), total_amount=_dec(ln["totalAmount"]),
                total_vat_amount=_dec(ln["totalVatAmount"]), vat_code=ln["vatCode"], type=str(ln["type"]),
                refunded_quantity=Decimal(str(ln.get("refundedQuantity", 0))),
                refunded_amount=_dec(ln.get("refundedAmount", 0)),
                refunded_vat_amount=_dec(ln.get("refundedVatAmount", 0)),
            )
            for ln in d["lines"]
        )
        return cls(
            order_id=record.id, variant=Variant(record.variant), state=State(record.state), version=record.version,
            invoicebox_id=record.invoicebox_id, payment_url=d.get("paymentUrl"), currency=d["currency"],
            amount=_dec(d["amount"]), vat_amount=_dec(d["vatAmount"]), paid_amount=_dec(d.get("paidAmount", 0)),
            refunded_amount=_dec(d.get("refundedAmount", 0)), shipped=bool(d.get("shipped")), lines=lines,
            refunds=tuple(d.get("refunds", ())), facts=tuple(Fact(**f) for f in d.get("facts", ())),
            created_at=record.created_at, updated_at=record.updated_at,
        )


# --- receipts and documents the documentation promises -------------------------------------


def expected_facts(variant: Variant, event: str, lines: Iterable[Mapping[str, Any]], source: str) -> list[dict]:
    """Receipts (private) or documents (legal) InvoiceBox issues for an event, per its docs (§5.7, §5.8)."""
    if variant is Variant.PRIVATE:
        return [attrs.asdict(Fact("receipt", Receipt.for_event(event).value, event, source))]
    if event == "payment":
        return []  # organisations get documents on shipment and refund only
    kinds = document_kinds(lines, refund=event != "shipment")
    return [attrs.asdict(Fact("document", k, event, source)) for k in kinds]


# --- the service ---------------------------------------------------------------------------


@attrs.define
class OrderFlow:
    """The shop's side of every documented InvoiceBox sequence, strict and persisted.

    >>> flow = OrderFlow(client, store, merchant_id=ib.merchant_id,          # doctest: +SKIP
    ...                  notification_key=ib.notification_key)
    >>> order = flow.place("A-1", [line], PrivateCustomer(email="a@example.org"),
    ...                    description="Курс")                                 # doctest: +SKIP
    >>> order.payment_url                                                      # doctest: +SKIP
    """

    client: Any  # InvoiceboxClient (typed loosely so tests can pass the real client of any version)
    store: Store
    merchant_id: str
    notification_key: str = attrs.field(repr=False)
    notification_url: str | None = None
    success_url: str | None = None
    fail_url: str | None = None
    return_url: str | None = None
    order_lifetime: timedelta = timedelta(days=3)
    # Called with the notified Order before accepting a payment; False answers shipping_unavailable.
    can_fulfil: Callable[[OrderView], bool] | None = None
    actor: str = "shop"
    retry_cap_seconds: float = 300.0
    conflict_retries: int = 3
    worker_id: str = attrs.field(factory=lambda: f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}")
    # longer than the client's longest call (timeouts plus lookups): a lease that runs out mid-call
    # would let a second worker look the object up before the first call has landed
    lease_seconds: float = 120.0

    # ---- reading ----------------------------------------------------------------------------

    def get(self, order_id: str) -> OrderView:
        return OrderView.of(self.store.get(order_id))

    def history(self, order_id: str) -> list[JournalEntry]:
        self.store.get(order_id)  # OrderNotFoundError for an unknown id, not an empty list
        return self.store.journal(order_id)

    def allowed_actions(self, order_id: str) -> list[str]:
        record = self.store.get(order_id)
        return allowed_triggers(Variant(record.variant), record.state)

    # ---- payment phase ----------------------------------------------------------------------

    def place(
        self,
        order_id: str,
        items: Sequence[BasketItem],
        customer: PrivateCustomer | LegalCustomer,
        *,
        description: str,
        expires_at: datetime | None = None,
        currency: str = "RUB",
        request_invoice: bool = True,
        defer: bool = False,
        **order_fields: Any,
    ) -> OrderView:
        """Documented step 1 (and, unless ``request_invoice=False``, steps 2–3).

        Validates everything locally first: bad input raises and leaves nothing behind.
        """
        request = OrderRequest(
            merchant_id=self.merchant_id,
            merchant_order_id=order_id,
            description=description,
            basket_items=list(items),
            customer=customer,
            # whole seconds: the API's date-times are ATOM (no fractions)
            expiration_date=expires_at or (_now() + self.order_lifetime).replace(microsecond=0),
            currency_id=currency,
            notification_url=order_fields.pop("notification_url", self.notification_url),
            success_url=order_fields.pop("success_url", self.success_url),
            fail_url=order_fields.pop("fail_url", self.fail_url),
            return_url=order_fields.pop("return_url", self.return_url),
            **order_fields,
        )
        request.validate()
        variant = Variant.LEGAL if isinstance(customer, LegalCustomer) else Variant.PRIVATE
        payload = request.to_json()
        data = {
            "request": payload,
            "currency": currency,
            "amount": payload["amount"],
            "vatAmount": payload["vatAmount"],
            "lines": _stored_lines(payload["basketItems"]),
            "paidAmount": ZERO,
            "refundedAmount": ZERO,
            "shipped": False,
            "refunds": [],
            "facts": [],
        }
        state = next_state(variant, State.NEW.value, "place", order_id=order_id)
        now = _now()
        record = OrderRecord(id=order_id, merchant_order_id=order_id, variant=variant.value, state=state, version=1,
                             invoicebox_id=None, data=data, created_at=now, updated_at=now)
        self.store.add_order(record, self._journal(order_id, "place", State.NEW.value, state, actor="buyer"))
        if request_invoice:
            return self.request_invoice(order_id, defer=defer)
        return self.get(order_id)

    def request_invoice(self, order_id: str, *, defer: bool = False) -> OrderView:
        """Documented steps 2–3: create the order at InvoiceBox, keep its id and payment link.

        With ``defer=True`` only the intent is recorded; a worker (:mod:`invoicebox_flow.worker`)
        makes the call. The same holds for :meth:`ship` and :meth:`refund`.
        """
        record = self.store.get(order_id)
        return self._call(record, "request_invoice", "create_order", {"request": record.data["request"]}, defer)

    def redirect_buyer(self, order_id: str) -> str:
        """Documented step 4: returns the payment URL to send the buyer to."""
        record = self._fire(order_id, "redirect_buyer", actor=self.actor)
        return record.data["paymentUrl"]

    def buyer_returned(self, order_id: str, *, success: bool = True) -> OrderView:
        """The buyer came back from the payment page (successUrl, or failUrl when ``success`` is false).

        The payment notification races the buyer's return; whichever comes second adapts: a
        buyer coming back to a paid order changes nothing.
        """
        trigger = "buyer_returned" if success else "decline_payment"
        for _ in range(self.conflict_retries):
            record = self.store.get(order_id)
            if success and (record.state in _PAID_STATES or record.state == State.AWAITING_PAYMENT.value):
                return OrderView.of(record)  # the notification came first, or the buyer reloaded the page
            try:
                return OrderView.of(self._fire(order_id, trigger, actor="buyer", record=record))
            except ConcurrentUpdateError:
                continue  # the notification won the race: decide again on fresh data
        raise ConcurrentUpdateError(order_id, record.version)

    def update(self, order_id: str, **changes: Any) -> OrderView:
        """Update an unpaid order at InvoiceBox (``description``, ``expires_at``, ``items`` …)."""
        record = self.store.get(order_id)
        self._check(record, "update")
        body: dict[str, Any] = {}
        data = dict(record.data)
        if "description" in changes:
            body["description"] = changes.pop("description")
        if "expires_at" in changes:
            body["expiration_date"] = changes.pop("expires_at")
        if "items" in changes:
            items = list(changes.pop("items"))
            body["basket_items"] = items
            amount, vat = money.order_totals(items)
            body["amount"], body["vat_amount"] = amount, vat
            money.validate_basket(amount, vat, [i.to_json() for i in items])
        if changes:
            raise ValidationError(f"cannot update {', '.join(sorted(changes))}", code="validation")
        try:
            updated = self.client.update_order(record.invoicebox_id, **body)
        except (ApiError, TransportError) as exc:
            self._record_failure(record, "update", exc)
            raise
        if "basket_items" in body:
            data["amount"], data["vatAmount"] = updated.amount, updated.vat_amount
            data["lines"] = _stored_lines(i.to_json() for i in body["basket_items"])
        return OrderView.of(self._fire(order_id, "update", actor=self.actor, record=record, data=data,
                                       request_id=updated.request_id, detail={"changed": sorted(body)}))

    def cancel(self, order_id: str) -> OrderView:
        """Cancel an unpaid order (DELETE at InvoiceBox once it knows the order)."""
        record = self.store.get(order_id)
        self._check(record, "cancel")
        request_id = None
        if record.invoicebox_id:
            try:
                canceled = self.client.cancel_order(record.invoicebox_id)
            except (ApiError, TransportError) as exc:
                self._record_failure(record, "cancel", exc)
                if isinstance(exc, InvalidRequestError) and exc.code == "wrong_order_status":
                    # an earlier DELETE may have gone through with its answer lost: ask InvoiceBox
                    if self.client.get_order(record.invoicebox_id).status == "canceled":
                        return OrderView.of(self._fire(order_id, "cancel", actor="reconcile", record=record))
                raise
            request_id = canceled.request_id
        return OrderView.of(self._fire(order_id, "cancel", actor=self.actor, record=record, request_id=request_id))

    def sync(self, order_id: str) -> OrderView:
        """Ask InvoiceBox for the order's status and catch up: paid (a lost notification),
        expired, or canceled elsewhere. Unpaid orders only; anything else is returned as is."""
        record = self.store.get(order_id)
        if record.state not in {s.value for s in UNPAID_AT_INVOICEBOX} or not record.invoicebox_id:
            return OrderView.of(record)
        remote = self.client.get_order(record.invoicebox_id)
        if remote.status == "completed":
            return self._apply_payment(record, remote, actor="reconcile", notification_key=None)
        trigger = {"expired": "expire", "canceled": "cancel"}.get(remote.status)
        if trigger:
            return OrderView.of(self._fire(order_id, trigger, actor="reconcile", record=record,
                                           request_id=remote.request_id))
        return OrderView.of(record)

    # ---- shipment phase ---------------------------------------------------------------------

    def ship(self, order_id: str, items: Sequence[BasketItem] | None = None, *,
             document_number: str | None = None, document_date: date | None = None,
             defer: bool = False) -> OrderView:
        """Documented shipment step 1: register the shipment; InvoiceBox then issues the
        "полный расчёт" receipt (private) or the reporting documents (legal)."""
        record = self.store.get(order_id)
        lines = [i.to_json() for i in items] if items is not None else self._shipment_lines(record)
        payload = {"orderId": record.invoicebox_id, "basketItems": lines,
                   "documentNumber": document_number,
                   "documentDate": document_date.isoformat() if document_date else None}
        return self._call(record, "request_shipment", "create_shipment", payload, defer)

    def send_documents(self, order_id: str) -> OrderView:
        """Legal buyers, documented optional step: the shop sends its own reporting documents."""
        return OrderView.of(self._fire(order_id, "send_documents", actor=self.actor))

    # ---- refund phase -----------------------------------------------------------------------

    def claim_refund(self, order_id: str, reason: str | None = None) -> OrderView:
        """Documented refund step 1: the buyer asks for a refund (recorded, no state change)."""
        return OrderView.of(self._fire(order_id, "claim_refund", actor="buyer", detail={"reason": reason}))

    def refundable_items(self, order_id: str) -> list[RefundableItem]:
        """Documented refund step 2: the lines InvoiceBox still lets us refund."""
        record = self.store.get(order_id)
        self._check(record, "list_refundable")
        try:
            items = self.client.refundable_items(record.invoicebox_id)
        except (ApiError, TransportError) as exc:
            self._record_failure(record, "list_refundable", exc)
            raise
        request_id = getattr(items, "request_id", None)
        self._fire(order_id, "list_refundable", actor=self.actor, record=record, request_id=request_id,
                   detail={"lines": len(items)})
        return list(items)

    def refund(self, order_id: str, items: Mapping[str, Decimal | int | str] | None = None, *,
               description: str | None = None, defer: bool = False) -> OrderView:
        """Documented refund step 3: refund ``{sku: quantity}`` (default: everything left).

        Refused with :class:`RefundLimitError`, before anything is sent, when a line or the
        total would exceed what was paid minus what was already refunded.
        """
        record = self.store.get(order_id)
        self._check(record, "request_refund")
        lines = self._refund_lines(record, items)
        amount, vat = money.order_totals(lines)
        refund_no = len(record.data.get("refunds", ())) + 1
        request = RefundRequest(
            parent_id=record.invoicebox_id,
            merchant_order_id=_refund_id(order_id, refund_no),
            description=description or f"Возврат по заказу {order_id}",
            basket_items=[BasketItem.from_json(ln) for ln in lines],
            amount=amount,
            vat_amount=vat,
        )
        request.validate()
        return self._call(record, "request_refund", "create_refund", {"request": request.to_json()}, defer)

    # ---- notifications ----------------------------------------------------------------------

    def handle_notification(self, raw_body: bytes, headers: Mapping[str, str] | Iterable[tuple[str, str]]):
        """Verify and apply a payment notification; returns ``(status, headers, body)``.

        See :mod:`invoicebox_flow.webhook` for the answers InvoiceBox expects.
        """
        from .webhook import NotificationHandler

        return NotificationHandler(self).handle(raw_body, headers)

    def apply_notification(self, notification: Order, notification_key: str) -> tuple[str, str | None]:
        """Apply a verified notification. Returns ``("success", None)`` or ``("error", code)``."""
        record = None
        if notification.id:
            record = self.store.find(invoicebox_id=notification.id)
        if record is None and notification.merchant_order_id:
            record = self.store.find(merchant_order_id=notification.merchant_order_id)
            if record is not None and record.invoicebox_id and record.invoicebox_id != notification.id:
                if record.state in _PAID_STATES:
                    return "error", "order_already_paid"
                return "error", "order_not_found"
        if record is None:
            return "error", "order_not_found"
        if self.store.is_notification_processed(notification_key):
            return "success", None
        data = record.data
        if notification.currency_id != data["currency"] or _dec(notification.amount) != _dec(data["amount"]):
            return "error", "order_wrong_amount"
        if notification.status == "completed":
            return self._notified_payment(record, notification, notification_key)
        trigger = {"expired": "expire", "canceled": "cancel", "cancelled": "cancel"}.get(notification.status or "")
        if trigger is None or record.state not in {s.value for s in UNPAID_AT_INVOICEBOX}:
            return "success", None  # nothing for us to do; answering an error would only make it retry
        self._fire(record.id, trigger, actor="invoicebox-notification", record=record,
                   notification_key=notification_key)
        return "success", None

    def _notified_payment(self, record: OrderRecord, notification: Order, key: str) -> tuple[str, str | None]:
        if record.state in (State.ORDER_PLACED.value, State.INVOICE_REQUESTED.value):
            # our create call has not finished yet; ask InvoiceBox to deliver it again later
            return "error", "out_of_service"
        if record.state in (State.CANCELED.value, State.EXPIRED.value):
            return "error", "order_not_found"  # we no longer sell it; InvoiceBox must not count it paid
        if record.state not in {s.value for s in UNPAID_AT_INVOICEBOX}:
            # paid already: the same payment told again (success), or another InvoiceBox order
            return ("success", None) if record.invoicebox_id == notification.id else ("error", "order_already_paid")
        view = OrderView.of(record)
        if self.can_fulfil is not None and not self.can_fulfil(view):
            self._fire(record.id, "refuse_shipping", actor="invoicebox-notification", record=record,
                       data=self._paid_data(record, notification), notification_key=key,
                       request_id=None)
            return "error", "shipping_unavailable"
        self._apply_payment(record, notification, actor="invoicebox-notification", notification_key=key)
        return "success", None

    def _apply_payment(self, record: OrderRecord, remote: Order, *, actor: str, notification_key: str | None) -> OrderView:
        return OrderView.of(self._fire(record.id, "confirm_payment", actor=actor, record=record,
                                       data=self._paid_data(record, remote), notification_key=notification_key,
                                       detail={"paidAt": remote.paid_at.isoformat() if remote.paid_at else None}))

    def _paid_data(self, record: OrderRecord, remote: Order) -> dict:
        data = dict(record.data)
        data["paidAmount"] = _dec(remote.amount)
        data["facts"] = list(data.get("facts", ())) + expected_facts(
            Variant(record.variant), "payment", data["lines"], "notification")
        return data

    def confirm_facts(self, order_id: str, issuer: Any) -> OrderView:
        """Match the receipts and documents the order expects with the ones InvoiceBox's side
        actually issued, and store their ids (``Fact.ref``).

        ``issuer`` answers ``receipts(invoicebox_id)`` and ``documents(invoicebox_id)`` — the
        sandbox's inspection client (:class:`~invoicebox_flow.sandbox.SandboxInspector`); the
        real API has no such endpoint. Issued items nobody expected are added with source
        ``"sandbox"``, so a duplicate receipt shows up instead of hiding.
        """
        for _ in range(self.conflict_retries):
            record = self.store.get(order_id)
            if not record.invoicebox_id:
                return OrderView.of(record)
            issued = [("receipt", r["type"], r["id"]) for r in issuer.receipts(record.invoicebox_id)]
            issued += [("document", d["kind"], d["id"]) for d in issuer.documents(record.invoicebox_id)]
            facts = [dict(f) for f in record.data.get("facts", ())]
            known = {f["ref"] for f in facts if f.get("ref")}
            for kind, type_, ref in issued:
                if ref in known:
                    continue
                waiting = next((f for f in facts if not f.get("ref") and (f["kind"], f["type"]) == (kind, type_)), None)
                if waiting is not None:
                    waiting["ref"] = ref
                else:
                    facts.append(attrs.asdict(Fact(kind, type_, "unexpected", "sandbox", ref)))
            if facts == record.data.get("facts"):
                return OrderView.of(record)
            try:
                updated = self.store.update(
                    record.id, record.version, state=record.state, data=dict(record.data, facts=facts),
                    journal=self._journal(record.id, "confirm_facts", record.state, record.state,
                                          detail={"issued": len(issued)}))
                return OrderView.of(updated)
            except ConcurrentUpdateError:
                continue
        raise ConcurrentUpdateError(order_id, record.version)

    # ---- outbox: the calls to InvoiceBox ----------------------------------------------------

    def resume(self, order_id: str | None = None, *, limit: int = 50, due_now: bool = False,
               report_claimed: bool = False) -> list:
        """Perform (or reconcile) InvoiceBox calls that are due: recorded with ``defer=True``,
        left by a crash (expired lease), or whose outcome was unknown and whose retry time has
        come (``due_now=True``: retry now, without waiting). Returns the updated orders (with
        ``report_claimed``, one entry per claimed item, None for an item that failed again)."""
        results: list = []
        for item in self.store.claim_outbox(self.worker_id, limit=limit, lease_seconds=self.lease_seconds,
                                            order_id=order_id, due_only=not due_now):
            if item.claimed_until is not None and item.claimed_until <= _now():
                # the batch outlived this item's lease: another worker may hold it now, and it
                # will look the object up first. Performing it here could create it twice.
                continue
            # one failing item must not stop the others; its failure is journaled and it stays pending
            try:
                results.append(self._run_claimed(item))
            except InvoiceboxFlowError as exc:
                log.warning("outbox item %s for %s: %s", item.id, item.order_id, exc)
                if report_claimed:
                    results.append(None)
        return results

    def _call(self, record: OrderRecord, trigger: str, action: str, payload: dict, defer: bool) -> OrderView:
        """Claim the order for one InvoiceBox call — ``*_requested`` state and outbox intent in one
        compare-and-set transaction — then make the call now, or leave it to a worker."""
        self._check(record, trigger)
        data = dict(record.data)
        data["resumeState"] = record.state
        draft = OutboxDraft(action=action, payload=payload, key=f"{action}:{record.id}:{uuid.uuid4().hex}")
        updated = self._fire(record.id, trigger, actor=self.actor, record=record, data=data, outbox=[draft],
                             claim_outbox_as=None if defer else self.worker_id)
        if defer:
            return OrderView.of(updated)
        item = next(i for i in self.store.outbox(order_id=updated.id, status="claimed") if i.key == draft.key)
        return self._run_claimed(item)

    def _run_claimed(self, item: OutboxItem) -> OrderView:
        """Make (or reconcile) the call of a claimed outbox item and apply its outcome."""
        record = self.store.get(item.order_id)
        try:
            result = self._lookup(record, item) if item.attempts > 1 else None
            if result is None:
                result = self._perform(item)
        except (InvalidRequestError, AuthenticationError, NotFoundError, ValidationError) as exc:
            # InvoiceBox (or our own validation) refused: definitive. Back to where we were.
            self._fail_call(record, item, exc)
            raise
        except (ResultUnknownError, TransportError, ApiError) as exc:
            # outcome unknown or temporarily impossible: keep the intent for resume()/a worker
            delay = min(self.retry_cap_seconds, 2 ** min(item.attempts, 10))
            self.store.release_outbox(item.id, worker=self.worker_id, error=_describe(exc),
                                      retry_at=_now() + timedelta(seconds=delay))
            self.store.record_attempt(self._journal(record.id, _TRIGGER_OF[item.action], record.state, record.state,
                                                    outcome="failed", request_id=getattr(exc, "request_id", None),
                                                    detail={"error": _describe(exc), "pending": True}))
            raise
        finish = {"create_order": self._finish_invoice, "create_shipment": self._finish_shipment,
                  "create_refund": self._finish_refund}[item.action]
        return finish(record, item, result)

    def _perform(self, item: OutboxItem) -> Any:
        if item.action == "create_order":
            return self.client.create_order(OrderRequest.from_json(item.payload["request"]))
        if item.action == "create_shipment":
            return self.client.create_shipment(
                ShipmentRequest.from_json({k: v for k, v in item.payload.items() if v is not None}))
        if item.action == "create_refund":
            return self.client.create_refund(RefundRequest.from_json(item.payload["request"]))
        raise ValueError(f"unknown outbox action {item.action!r}")

    def _lookup(self, record: OrderRecord, item: OutboxItem) -> Any:
        """A retried call first asks InvoiceBox whether the last attempt went through after all:
        there is no idempotency key, so this is what makes the effect happen once."""
        if item.action == "create_order":
            return self.client.find_order_by_merchant_order_id(record.merchant_order_id)
        if item.action == "create_refund":
            wanted = item.payload["request"]["merchantOrderId"]
            return next((r for r in self.client.list_refunds(parent_id=record.invoicebox_id)
                         if r.merchant_order_id == wanted), None)
        if item.action == "create_shipment":  # an order is shipped once
            return next(iter(self.client.list_shipments(order_id=record.invoicebox_id)), None)
        return None

    def _finish_invoice(self, record: OrderRecord, item: OutboxItem, order: Order) -> OrderView:
        data = dict(record.data)
        data.pop("resumeState", None)
        data["paymentUrl"] = order.payment_url
        data["orderContainerId"] = order.order_container_id
        return OrderView.of(self._fire(record.id, "issue_payment_link", actor="invoicebox", record=record, data=data,
                                       invoicebox_id=order.id, request_id=order.request_id,
                                       complete_outbox=item.id, outbox_result={"id": order.id}))

    def _finish_shipment(self, record: OrderRecord, item: OutboxItem, shipment: Any) -> OrderView:
        data = dict(record.data)
        data.pop("resumeState", None)
        data["shipped"] = True
        data.setdefault("shipments", []).append({"id": shipment.id, "at": _now().isoformat()})
        data["facts"] = list(data.get("facts", ())) + expected_facts(
            Variant(record.variant), "shipment", item.payload["basketItems"], "shipment")
        return OrderView.of(self._fire(record.id, "shipment_accepted", actor="invoicebox", record=record, data=data,
                                       request_id=shipment.request_id, complete_outbox=item.id,
                                       outbox_result={"id": shipment.id}))

    def _finish_refund(self, record: OrderRecord, item: OutboxItem, refund: Any) -> OrderView:
        data = dict(record.data)
        data.pop("resumeState", None)
        request = item.payload["request"]
        by_sku = {ln["sku"]: ln for ln in request["basketItems"]}
        lines = []
        for ln in data["lines"]:
            ln = dict(ln)
            part = by_sku.get(ln["sku"])
            if part:
                ln["refundedQuantity"] = Decimal(str(ln.get("refundedQuantity", 0))) + Decimal(str(part["quantity"]))
                ln["refundedAmount"] = _dec(ln.get("refundedAmount", 0)) + _dec(part["totalAmount"])
                ln["refundedVatAmount"] = _dec(ln.get("refundedVatAmount", 0)) + _dec(part["totalVatAmount"])
            lines.append(ln)
        data["lines"] = lines
        data["refundedAmount"] = _dec(data.get("refundedAmount", 0)) + _dec(request["amount"])
        data["refunds"] = list(data.get("refunds", ())) + [{
            "id": refund.id, "merchantOrderId": request["merchantOrderId"], "amount": _dec(request["amount"]),
            "vatAmount": _dec(request["vatAmount"]), "status": refund.status,
            "lines": [{"sku": ln["sku"], "quantity": ln["quantity"]} for ln in request["basketItems"]],
        }]
        data["facts"] = list(data.get("facts", ())) + expected_facts(
            Variant(record.variant), f"refund:{request['merchantOrderId']}", request["basketItems"], "refund")
        target = State.REFUNDED if data["refundedAmount"] >= _dec(data["paidAmount"]) else State.PARTIALLY_REFUNDED
        return OrderView.of(self._fire(record.id, "refund_accepted", actor="invoicebox", record=record, data=data,
                                       target=target.value, request_id=refund.request_id, complete_outbox=item.id,
                                       outbox_result={"id": refund.id}))

    def _fail_call(self, record: OrderRecord, item: OutboxItem, exc: Exception) -> None:
        trigger = {"create_order": "invoice_failed", "create_shipment": "shipment_failed",
                   "create_refund": "refund_failed"}[item.action]
        data = dict(record.data)
        resume = data.pop("resumeState", None)
        self._fire(record.id, trigger, actor="invoicebox", record=record, data=data, target=resume,
                   request_id=getattr(exc, "request_id", None), complete_outbox=item.id,
                   outbox_result={"error": _describe(exc)}, outcome="failed", detail={"error": _describe(exc)})

    # ---- the one place that changes an order ------------------------------------------------

    def _check(self, record: OrderRecord, trigger: str, target: str | None = None) -> str:
        return next_state(Variant(record.variant), record.state, trigger, target=target,
                          shipped=bool(record.data.get("shipped")), order_id=record.id)

    def _fire(self, order_id: str, trigger: str, *, actor: str, record: OrderRecord | None = None,
              data: dict | None = None, target: str | None = None, invoicebox_id: str | None = None,
              request_id: str | None = None, outbox: Sequence[OutboxDraft] = (), complete_outbox: int | None = None,
              outbox_result: dict | None = None, notification_key: str | None = None, outcome: str = "ok",
              detail: dict | None = None, claim_outbox_as: str | None = None) -> OrderRecord:
        """Fire ``trigger`` on the stored order with compare-and-set; journal it in the same transaction."""
        record = record or self.store.get(order_id)
        new_state = self._check(record, trigger, target)
        kwargs: dict[str, Any] = {}
        if invoicebox_id is not None:
            kwargs["invoicebox_id"] = invoicebox_id
        return self.store.update(
            record.id, record.version, state=new_state, data=data if data is not None else record.data,
            journal=self._journal(record.id, trigger, record.state, new_state, actor=actor, outcome=outcome,
                                  request_id=request_id, detail=detail),
            outbox=outbox, complete_outbox=complete_outbox, outbox_result=outbox_result,
            notification_key=notification_key, claim_outbox_as=claim_outbox_as, lease_seconds=self.lease_seconds,
            **kwargs,
        )

    def _record_failure(self, record: OrderRecord, trigger: str, exc: Exception) -> None:
        self.store.record_attempt(self._journal(record.id, trigger, record.state, record.state, outcome="failed",
                                                request_id=getattr(exc, "request_id", None),
                                                detail={"error": _describe(exc)}))

    def _journal(self, order_id: str, trigger: str, from_state: str, to_state: str, *, actor: str | None = None,
                 outcome: str = "ok", request_id: str | None = None, detail: dict | None = None) -> JournalEntry:
        return JournalEntry(order_id=order_id, trigger=trigger, from_state=from_state, to_state=to_state,
                            actor=actor or self.actor, outcome=outcome, request_id=request_id,
                            detail={k: v for k, v in (detail or {}).items() if v is not None})

    # ---- refund and shipment arithmetic -----------------------------------------------------

    def _shipment_lines(self, record: OrderRecord) -> list[dict]:
        """Ship what was ordered and not refunded, settled in full (54-FZ "полный расчёт")."""
        request_lines = {ln["sku"]: ln for ln in record.data["request"]["basketItems"]}
        lines = []
        for line in OrderView.of(record).lines:
            if line.refundable_quantity <= 0:
                continue
            lines.append(dict(request_lines[line.sku], quantity=line.refundable_quantity,
                              totalAmount=line.refundable_amount,
                              totalVatAmount=line.total_vat_amount - line.refunded_vat_amount,
                              paymentType="full_payment"))
        return lines

    def _refund_lines(self, record: OrderRecord, wanted: Mapping[str, Any] | None) -> list[dict]:
        view = OrderView.of(record)
        request_lines = {ln["sku"]: ln for ln in record.data["request"]["basketItems"]}
        lines_by_sku = {ln.sku: ln for ln in view.lines}
        if wanted is None:
            wanted = {ln.sku: ln.refundable_quantity for ln in view.lines if ln.refundable_quantity > 0}
        unknown = sorted(set(wanted) - set(lines_by_sku))
        if unknown:
            raise ValidationError(f"order {record.id} has no line {', '.join(unknown)}", code="validation",
                                  fields=[{"name": "basketItems", "code": "wrong_value", "message": s} for s in unknown])
        out = []
        for sku, qty in wanted.items():
            qty = Decimal(str(qty))
            line = lines_by_sku[sku]
            if qty <= 0:
                raise ValidationError(f"refund quantity of {sku} must be positive", code="validation")
            if qty > line.refundable_quantity:
                raise RefundLimitError(
                    f"order {record.id}: cannot refund {qty} × {sku}; {line.refundable_quantity} left of {line.quantity}")
            if qty == line.refundable_quantity:
                total, vat = line.refundable_amount, line.total_vat_amount - line.refunded_vat_amount
            else:
                total = money.to_money(line.unit_price * qty)
                vat = money.vat_of_total(total, line.vat_code)
            if total > line.refundable_amount:
                raise RefundLimitError(f"order {record.id}: {sku} has {line.refundable_amount} left to refund, not {total}")
            out.append(dict(request_lines[sku], quantity=qty, totalAmount=total, totalVatAmount=vat,
                            amount=line.unit_price))
        total = sum((_dec(ln["totalAmount"]) for ln in out), ZERO)
        if not out:
            raise RefundLimitError(f"order {record.id}: nothing left to refund")
        if total > view.refundable_amount:
            raise RefundLimitError(f"order {record.id}: refund {total} exceeds {view.refundable_amount} paid and not refunded")
        return out


_PAID_STATES = frozenset(s.value for s in (State.PAID, State.SHIPPING_UNAVAILABLE, State.SHIPMENT_REQUESTED,
                                            State.SHIPPED, State.REFUND_REQUESTED, State.PARTIALLY_REFUNDED,
                                            State.REFUNDED))
_TRIGGER_OF = {"create_order": "request_invoice", "create_shipment": "request_shipment", "create_refund": "request_refund"}


def _stored_lines(basket: Iterable[Mapping[str, Any]]) -> list[dict]:
    """What the order keeps of each basket line: enough to refund and ship it, with nothing refunded yet."""
    keep = ("sku", "name", "quantity", "amount", "totalAmount", "totalVatAmount", "vatCode", "type")
    return [{k: ln[k] for k in keep} | {"refundedQuantity": 0, "refundedAmount": ZERO, "refundedVatAmount": ZERO}
            for ln in basket]


def _refund_id(order_id: str, number: int) -> str:
    """A refund's own merchantOrderId: unique per refund, at most 100 characters (API limit)."""
    suffix = f"-R{number}"
    if len(order_id) + len(suffix) > 100:
        order_id = order_id[:60] + "-" + hashlib.sha1(order_id.encode("utf-8")).hexdigest()[:12]
    return order_id + suffix


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"
