"""Orders at InvoiceBox: create, find, get, update, cancel (reference §3.1–3.4)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from .. import money
from ..errors import NotFoundError, ValidationError
from ..models import Order, OrderRequest, Page
from ..protocol import CANCEL_ORDER, CREATE_ORDER, FIND_ORDERS, UPDATE_ORDER, OrderStatus
from ._outcome import holds, reconciled
from ._requestor import Requestor
from ._wire import build_query, to_wire, with_request_id

# update keyword -> camelCase body key (reference §3.3)
UPDATE_FIELDS = {
    "description": "description",
    "basket_items": "basketItems",
    "amount": "amount",
    "vat_amount": "vatAmount",
    "expiration_date": "expirationDate",
    "customer": "customer",
    "meta_data": "metaData",
    "shop_id": "shopId",
}


class OrdersService:
    """``client.orders``. Every write is safe against a lost answer: after a timeout, a dropped
    connection or a 5xx it returns what InvoiceBox has when that shows the write's effect, else
    raises :class:`~invoicebox_flow.errors.ResultUnknownError`."""

    def __init__(self, requestor: Requestor):
        self._requestor = requestor

    def create(self, req: OrderRequest, *, validate: bool = True) -> Order:
        """``POST /billing/api/order/order``; after a lost answer the order is looked up by its
        ``merchantOrderId`` (unique per order).

        The request is validated locally first (:meth:`OrderRequest.validate`), so a bad basket
        is refused before anything is sent. ``validate=False`` skips that — an escape hatch for
        testing the server's own checks, or when the local rules lag behind the API.
        """
        if validate:
            req.validate()
        return reconciled(
            lambda: self._requestor.write(CREATE_ORDER, body=req.to_json()).model(Order),
            lambda: self.find_by_merchant_order_id(req.merchant_order_id),
            operation="create_order", merchant_order_id=req.merchant_order_id,
        )

    def find(
        self,
        *,
        filters: Mapping[str, Any] | None = None,
        order_by: Mapping[str, str] | None = None,
        page: int | None = None,
        page_size: int | None = None,
    ) -> Page[Order]:
        """``GET /filter/api/order/order`` with filters, sorting and paging (see :func:`build_query`)."""
        answer = self._requestor.read(FIND_ORDERS, params=build_query(filters, order_by, page, page_size))
        answer.items()  # a typed error when the answer is no list
        page_of: Page[Order] = Page.from_json(answer.envelope, Order)
        return with_request_id(page_of, answer.request_id)

    def find_by_merchant_order_id(self, merchant_order_id: str) -> Order | None:
        """The newest order with this ``merchantOrderId``, or ``None``."""
        page = self.find(filters={"merchantOrderId": merchant_order_id}, order_by={"createdAt": "desc"})
        # Compare ourselves too: a lenient filter must not hand back somebody else's order.
        matches = [o for o in page.items if o.merchant_order_id == merchant_order_id]
        return with_request_id(matches[0], page.request_id) if matches else None

    def get(self, order_id: str) -> Order:
        """One order by its InvoiceBox id, or :class:`NotFoundError`.

        Uses the documented way, the list filter ``GET /filter/api/order/order?id=…``. The
        official MCP server also calls ``GET /billing/api/order/order/{id}``, which no
        documentation mentions (unverified), so it is not used here.
        """
        page = self.find(filters={"id": order_id})
        matches = [o for o in page.items if o.id == order_id]
        if not matches:
            raise NotFoundError(f"no order with id {order_id}", status=404, code="not_found",
                                request_id=page.request_id, method="GET", path=self._requestor.path(FIND_ORDERS))
        return with_request_id(matches[0], page.request_id)

    def update(self, order_id: str, *, validate: bool = True, **changes: Any) -> Order:
        """``PUT /billing/api/order/order/{id}`` — only an unpaid order can be changed.

        Accepts ``description``, ``basket_items``, ``amount``, ``vat_amount``,
        ``expiration_date``, ``customer``, ``meta_data``, ``shop_id``; only what is given is sent
        (a new basket without ``amount``/``vat_amount`` is sent with its own sums). Locally
        refused unless ``validate=False``: a past ``expiration_date`` and a basket that breaks
        the API's arithmetic (same rules and codes as :func:`invoicebox_flow.money.validate_basket`).
        After a lost answer the order is read back: it is returned when it holds every value
        sent.
        """
        unknown = sorted(set(changes) - set(UPDATE_FIELDS))
        if unknown:
            raise TypeError(f"update_order() got unexpected field(s): {', '.join(unknown)}")
        if not changes:
            raise TypeError("update_order() needs at least one field to change")
        changes = _complete_update(changes, validate)
        body = {UPDATE_FIELDS[name]: to_wire(value) for name, value in changes.items()}

        def updated() -> Order | None:
            order = self.get(order_id)
            return order if holds(order.to_json(), body) else None

        return reconciled(
            lambda: self._requestor.write(UPDATE_ORDER, body=body, order_id=order_id).model(Order),
            updated, operation="update_order", object_id=order_id,
        )

    def cancel(self, order_id: str) -> Order:
        """``DELETE /billing/api/order/order/{id}`` — cancel an order that is not paid. After a
        lost answer the order's status is read: ``canceled`` ⇒ it is returned."""

        def canceled() -> Order | None:
            order = self.get(order_id)
            return order if order.status == OrderStatus.CANCELED.value else None

        return reconciled(
            lambda: self._requestor.write(CANCEL_ORDER, order_id=order_id).model(Order),
            canceled, operation="cancel_order", object_id=order_id,
        )


def _complete_update(changes: dict[str, Any], validate: bool) -> dict[str, Any]:
    """Local checks for an update, with the API's codes (the server checks again).

    A new basket without ``amount``/``vat_amount`` gets them from its own sums (the API requires
    the order totals to equal the basket's, so there is only one right value to send).
    """
    changes = dict(changes)
    if validate:
        expiration = changes.get("expiration_date")
        if isinstance(expiration, datetime):
            aware = expiration if expiration.tzinfo else expiration.replace(tzinfo=UTC)
            if aware <= datetime.now(UTC):
                raise ValidationError(
                    "expirationDate must be in the future",
                    code="wrong_expiration_date",
                    fields=[{"name": "expirationDate", "code": "wrong_expiration_date", "message": "in the past"}],
                )
    if changes.get("basket_items") is None:
        return changes
    items = list(changes["basket_items"])
    changes["basket_items"] = items
    if "amount" not in changes or "vat_amount" not in changes:
        total, vat = money.order_totals(items)
        changes.setdefault("amount", total)
        changes.setdefault("vat_amount", vat)
    if validate:
        money.validate_basket(changes["amount"], changes["vat_amount"], [to_wire(i) for i in items])
    return changes
