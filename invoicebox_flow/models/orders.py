"""Orders: the create-order request and the order InvoiceBox returns (and notifies)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import attrs

from .. import rulebook
from ..money import order_totals
from ..protocol import TEST_NOTIFICATION_ID
from ..rulebook import Problem, Report, RuleWarning
from ._json import DATETIME, DECIMAL, EXPIRATION_DATE, JsonModel, decimal_value, expiration, json_meta, moment, reading
from ._keywords import strict_init
from .basket import BASKET_ITEMS, BasketItem, basket_items
from .customers import CUSTOMER, LegalCustomer, PrivateCustomer, customer

__all__ = ["Notification", "Order", "OrderRequest", "fill_amounts"]


def fill_amounts(request: Any) -> None:
    """Compute ``amount``/``vat_amount`` left as None from the basket (not when reading JSON)."""
    if reading() or request.basket_items is None:
        return
    total, vat = order_totals(request.basket_items)
    if request.amount is None:
        object.__setattr__(request, "amount", total)
    if request.vat_amount is None:
        object.__setattr__(request, "vat_amount", vat)


@strict_init
@attrs.frozen(kw_only=True, repr=False)
class OrderRequest(JsonModel):
    """The body of create order (``POST /v3/billing/api/order/order``).

    ``amount`` and ``vat_amount`` left out are the basket's sums. ``expiration_date`` must be
    timezone-aware (a naive one is refused: which zone was meant cannot be guessed) and is
    written in whole seconds. :meth:`validate` applies the rule book before anything is sent.
    """

    merchant_id: str = attrs.field(metadata=json_meta())
    merchant_order_id: str = attrs.field(metadata=json_meta())
    description: str = attrs.field(metadata=json_meta())
    basket_items: list[BasketItem] = attrs.field(converter=basket_items, metadata=json_meta(BASKET_ITEMS))
    customer: PrivateCustomer | LegalCustomer = attrs.field(converter=customer, metadata=json_meta(CUSTOMER))
    expiration_date: datetime = attrs.field(converter=expiration, metadata=json_meta(EXPIRATION_DATE))
    currency_id: str | None = attrs.field(default="RUB", metadata=json_meta())
    language_id: str | None = attrs.field(default="ru", metadata=json_meta())
    amount: Decimal | None = attrs.field(default=None, converter=decimal_value, metadata=json_meta(DECIMAL))
    vat_amount: Decimal | None = attrs.field(default=None, converter=decimal_value, metadata=json_meta(DECIMAL))
    notification_url: str | None = attrs.field(default=None, metadata=json_meta())
    success_url: str | None = attrs.field(default=None, metadata=json_meta())
    fail_url: str | None = attrs.field(default=None, metadata=json_meta())
    return_url: str | None = attrs.field(default=None, metadata=json_meta())
    merchant_order_id_visible: str | None = attrs.field(default=None, metadata=json_meta())
    invoice_setting: dict[str, Any] | None = attrs.field(default=None, metadata=json_meta())
    order_setting: dict[str, Any] | None = attrs.field(default=None, metadata=json_meta())
    meta_data: dict[str, Any] | None = attrs.field(default=None, metadata=json_meta())

    def __attrs_post_init__(self) -> None:
        fill_amounts(self)

    @property
    def round_policy(self) -> str:
        """``orderSetting.roundPolicy``; ``strict`` (the documented default) when not given."""
        return str(rulebook.round_policy_of(self.to_json()))

    def report(self, now: datetime | None = None) -> Report:
        """Everything the rule book finds in this request (``now``: the clock for expirationDate)."""
        return rulebook.check_order(self.to_json(), now=now)

    def problems(self, now: datetime | None = None) -> list[Problem]:
        """What is refused: empty when the request may be sent."""
        return list(self.report(now).problems)

    def warnings(self) -> list[RuleWarning]:
        """What InvoiceBox accepts but the shop should know (a company without KPP, a legacy VAT code …)."""
        return list(rulebook.check_order(self.to_json(), check_expiration=False).warnings)

    def validate(self, now: datetime | None = None) -> None:
        """Refuse the request locally with the API's own codes, before it is sent: raises the
        first problem's typed error listing every problem; warnings are logged (logger
        ``invoicebox_flow.rulebook``). ``now`` defaults to the current UTC time."""
        self.report(now).raise_if_refused(f"order request {self.merchant_order_id!r}")


@strict_init
@attrs.frozen(kw_only=True, repr=False)
class Order(JsonModel):
    """An order as InvoiceBox returns it (OrderResponse) and as a payment notification carries it.

    ``request_id`` is the response's ``X-Request-Id``, set by the client; it is not part of the JSON.
    """

    id: str = attrs.field(metadata=json_meta())
    merchant_id: str = attrs.field(metadata=json_meta())
    merchant_order_id: str = attrs.field(metadata=json_meta())
    status: str = attrs.field(metadata=json_meta())
    amount: Decimal = attrs.field(converter=decimal_value, metadata=json_meta(DECIMAL))
    vat_amount: Decimal = attrs.field(converter=decimal_value, metadata=json_meta(DECIMAL))
    currency_id: str = attrs.field(metadata=json_meta())
    basket_items: list[BasketItem] = attrs.field(converter=basket_items, metadata=json_meta(BASKET_ITEMS))
    customer: PrivateCustomer | LegalCustomer = attrs.field(converter=customer, metadata=json_meta(CUSTOMER))
    description: str | None = attrs.field(default=None, metadata=json_meta())
    order_container_id: str | None = attrs.field(default=None, metadata=json_meta())
    payment_url: str | None = attrs.field(default=None, metadata=json_meta())
    created_at: datetime | None = attrs.field(default=None, converter=moment, metadata=json_meta(DATETIME))
    expiration_date: datetime | None = attrs.field(default=None, converter=moment, metadata=json_meta(DATETIME))
    paid_at: datetime | None = attrs.field(default=None, converter=moment, metadata=json_meta(DATETIME))
    language_id: str | None = attrs.field(default=None, metadata=json_meta())
    success_url: str | None = attrs.field(default=None, metadata=json_meta())
    fail_url: str | None = attrs.field(default=None, metadata=json_meta())
    return_url: str | None = attrs.field(default=None, metadata=json_meta())
    notification_url: str | None = attrs.field(default=None, metadata=json_meta())
    request_id: str | None = attrs.field(default=None, eq=False)

    @property
    def is_paid(self) -> bool:
        return self.status == "completed"

    @property
    def is_test_notification(self) -> bool:
        """The monitoring test notification: verify and answer it, but touch no order."""
        return self.id == TEST_NOTIFICATION_ID and not self.merchant_order_id

    def warnings(self) -> list[RuleWarning]:
        """The rule book's warnings about this order's JSON (e.g. the customer lacks a KPP)."""
        return rulebook.warnings_of(self.to_json())


# A payment notification's body is the order itself; an alias, not a subclass, so that an order
# read from the API and one read from a notification compare equal.
Notification = Order

