"""The payment phase from the shop's side: placing, invoicing, redirecting, the buyer's return,
updating and cancelling an unpaid order."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import attrs

from .. import money
from ..errors import ApiError, InvalidRequestError, ResultUnknownError, TransportError, ValidationError
from ..flows import Trigger, Variant
from ..models import BasketItem, LegalCustomer, OrderRequest, PrivateCustomer
from ..models._keywords import refuse_unknown_keywords
from ..protocol import CREATE_ORDER, OrderStatus
from ..rulebook import check_update
from ..store import OrderRecord
from .arguments import field_error, storable_text
from .core import Change, Core, now
from .document import ZERO, OrderDocument, OrderWarning, lines_of
from .outbox import Calls
from .views import OrderView, Snapshot

# update's keywords -> the API's fields, for the rule book's check
_WIRE = {"description": "description", "expiration_date": "expirationDate", "basket_items": "basketItems",
         "amount": "amount", "vat_amount": "vatAmount"}
_UPDATABLE = frozenset({"description", "expires_at", "items"})  # update's own keywords


@attrs.define
class Payments:
    core: Core
    calls: Calls

    def place(self, order_id: str, request: OrderRequest, variant: Variant, *, auto_ship: bool | None,
              request_invoice: bool, defer: bool) -> OrderView:
        report = request.report()
        report.raise_if_refused(f"order {order_id}")  # warnings are logged, refusals raised: nothing stored
        if not storable_text(order_id):
            raise field_error("merchantOrderId",
                              f"order id {order_id!r} holds a NUL character or a lone surrogate: no store can keep it")
        payload = request.to_json()
        warnings = tuple(OrderWarning(w.code, w.field, w.message, w.rule) for w in report.warnings)
        doc = OrderDocument(request=payload, currency=request.currency_id or "RUB", amount=payload["amount"],
                            vat_amount=payload["vatAmount"], lines=lines_of(payload["basketItems"]), paid_amount=ZERO,
                            warnings=warnings)
        doc = attrs.evolve(doc, auto_ship=self._auto_ship(order_id, doc, auto_ship))
        lifecycle = self.core.definition.lifecycle(variant)
        new = Snapshot(OrderRecord(id=order_id, merchant_order_id=order_id, variant=variant.value,
                                   state=lifecycle.initial, version=0, data={}), doc)
        state = self.core.check(new, Trigger.PLACE)
        stamp = now()
        record = OrderRecord(id=order_id, merchant_order_id=order_id, variant=variant.value, state=state, version=1,
                             invoicebox_id=None, data=doc.to_json(), created_at=stamp, updated_at=stamp)
        placed = self.core.add_order(record, self.core.entry(new, Trigger.PLACE, state, actor="buyer"))
        if request_invoice:
            return self.request_invoice(placed, defer=defer)
        return self.core.view(placed)

    def _auto_ship(self, order_id: str, doc: OrderDocument, asked: bool | None) -> bool:
        """Whether the order ships itself once paid: asked per order, else the definition's rule."""
        if asked is None:
            return self.core.definition.auto_ship_services and doc.services_only
        if asked and not doc.services_only:
            goods = ", ".join(ln.sku for ln in doc.lines if ln.is_goods)
            raise ValidationError(f"order {order_id} cannot ship itself on payment: {goods} are goods, and only "
                                  "online services are shipped automatically", code="auto_ship_goods")
        return asked

    def request_invoice(self, snap: Snapshot, *, defer: bool) -> OrderView:
        """Documented steps 2–3: create the order at InvoiceBox, keep its id and payment link."""
        return self.calls.start(snap, CREATE_ORDER.name, {"request": snap.doc.request}, defer=defer)

    def redirect_buyer(self, order_id: str) -> str:
        """Documented step 4: the payment URL to send the buyer to."""
        snap = self.core.commit(self.core.load(order_id), Change(Trigger.REDIRECT_BUYER, self.core.actor))
        assert snap.payment_url is not None
        return snap.payment_url

    def buyer_returned(self, order_id: str, *, success: bool) -> OrderView:
        """The buyer came back from the payment page; whichever of the return and the payment
        notification comes second adapts: a buyer coming back to a paid order changes nothing,
        and neither does a reload of the page."""
        def attempt(snap: Snapshot) -> OrderView:
            lifecycle = self.core.lifecycle(snap)
            trigger = Trigger.BUYER_RETURNED if success else Trigger.DECLINE_PAYMENT
            if snap.state in lifecycle.paid_states or snap.state in lifecycle.final_states:
                return self.core.view(snap)  # the notification came first (or the order is over)
            if lifecycle.transition(trigger, snap.state) is None and snap.state in lifecycle.awaiting_payment_states:
                return self.core.view(snap)  # the same page reloaded: the order already says so
            return self.core.view(self.core.commit(snap, Change(trigger, "buyer")))
        return self.core.retrying(order_id, attempt)

    def update(self, order_id: str, changes: Mapping[str, Any]) -> OrderView:
        """Update an unpaid order at InvoiceBox (``description``, ``expires_at``, ``items`` …)."""
        snap = self.core.load(order_id)
        self.core.check(snap, Trigger.UPDATE)
        refuse_unknown_keywords("update", _UPDATABLE, changes)
        if not changes:
            raise ValidationError(f"order {order_id}: nothing to update; pass {', '.join(sorted(_UPDATABLE))}",
                                  code="validation")
        body: dict[str, Any] = {}
        if "description" in changes:
            body["description"] = changes["description"]
        if "expires_at" in changes:
            body["expiration_date"] = changes["expires_at"]
        items: list[BasketItem] | None = None
        if "items" in changes:
            items = _basket(order_id, changes["items"])
            body["basket_items"] = items
            body["amount"], body["vat_amount"] = money.order_totals(items)
        # the same rules as a new order, before anything is sent
        wire = {_WIRE[key]: value for key, value in body.items()}
        if items is not None:
            wire["basketItems"] = [i.to_json() for i in items]
        check_update(wire).raise_if_refused(f"the update of order {order_id}")
        try:
            updated = self.core.client.update_order(snap.invoicebox_id, **body)
        except (ApiError, TransportError, ResultUnknownError) as exc:
            self.core.record_attempt(snap, Trigger.UPDATE, exc)
            raise
        doc = snap.doc
        if items is not None:
            doc = attrs.evolve(doc, amount=money.to_money(updated.amount), vat_amount=money.to_money(updated.vat_amount),
                               lines=lines_of(i.to_json() for i in items))
        return self.core.view(self.core.commit(snap, Change(Trigger.UPDATE, self.core.actor, doc=doc,
                                                            request_id=updated.request_id,
                                                            detail={"changed": sorted(body)})))

    def cancel(self, order_id: str) -> OrderView:
        """Cancel an unpaid order (DELETE at InvoiceBox once it knows the order)."""
        snap = self.core.load(order_id)
        self.core.check(snap, Trigger.CANCEL)
        request_id = None
        if snap.invoicebox_id:
            try:
                canceled = self.core.client.cancel_order(snap.invoicebox_id)
            except (ApiError, TransportError, ResultUnknownError) as exc:
                self.core.record_attempt(snap, Trigger.CANCEL, exc)
                if isinstance(exc, InvalidRequestError) and exc.code == "wrong_order_status" and (
                        self.core.client.get_order(snap.invoicebox_id).status == OrderStatus.CANCELED.value):
                    # an earlier DELETE went through with its answer lost
                    return self.core.view(self.core.commit(snap, Change(Trigger.CANCEL, "reconcile")))
                raise
            request_id = canceled.request_id
        return self.core.view(self.core.commit(snap, Change(Trigger.CANCEL, self.core.actor, request_id=request_id)))


def _basket(order_id: str, given: object) -> list[BasketItem]:
    """An update's new basket: basket items (or their camelCase JSON), each read by the model."""
    if isinstance(given, (str, bytes, Mapping)) or not isinstance(given, Sequence):
        raise field_error("items", f"order {order_id}: items is a list of basket items, not {type(given).__name__}")
    basket = []
    for n, item in enumerate(given):
        if not isinstance(item, (BasketItem, Mapping)):
            raise field_error(f"items[{n}]", f"order {order_id}: items[{n}] is a basket item, not {type(item).__name__}")
        basket.append(item if isinstance(item, BasketItem) else BasketItem.from_json(item))
    return basket


def order_request(merchant_id: str, order_id: str, items: Sequence[BasketItem],
                  customer: PrivateCustomer | LegalCustomer, *, description: str, expires_at: datetime | None,
                  lifetime: timedelta, currency: str, urls: Mapping[str, str | None],
                  order_fields: Mapping[str, Any]) -> OrderRequest:
    """The create-order body of a new order; ``urls`` are the flow's defaults, overridable per order."""
    fields = dict(order_fields)
    chosen = {name: fields.pop(name, default) for name, default in urls.items()}
    return OrderRequest(
        merchant_id=merchant_id, merchant_order_id=order_id, description=description, basket_items=items,
        customer=customer,
        # whole seconds: the API's date-times are ATOM (no fractions)
        expiration_date=expires_at or (now() + lifetime).replace(microsecond=0),
        currency_id=currency, **chosen, **fields,
    )
