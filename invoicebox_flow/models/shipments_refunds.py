"""Shipments and refunds: the requests a shop sends after payment and what InvoiceBox returns."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Final

import attrs

from .. import rulebook
from ..rulebook import Problem, Report, RuleWarning
from ._json import DATE, DATETIME, DECIMAL, JsonModel, day, decimal_value, json_meta, moment
from ._keywords import strict_init
from .basket import BASKET_ITEMS, BasketItem, basket_items
from .orders import fill_amounts

__all__ = ["REFUND_REQUEST_STATUSES", "RefundOrder", "RefundRequest", "Shipment", "ShipmentRequest"]

REFUND_REQUEST_STATUSES: Final = rulebook.REFUND_STATUSES


@strict_init
@attrs.frozen(kw_only=True, repr=False)
class ShipmentRequest(JsonModel):
    """The body of create shipment (``POST /v3/billing/api/order/shipment``): complete basket
    lines (every BasketItem field), as the shipment page lists them."""

    order_id: str = attrs.field(metadata=json_meta())
    basket_items: list[BasketItem] = attrs.field(converter=basket_items, metadata=json_meta(BASKET_ITEMS))
    document_number: str | None = attrs.field(default=None, metadata=json_meta())
    document_date: date | None = attrs.field(default=None, converter=day, metadata=json_meta(DATE))

    def report(self) -> Report:
        return rulebook.check_shipment(self.to_json())

    def problems(self) -> list[Problem]:
        return list(self.report().problems)

    def warnings(self) -> list[RuleWarning]:
        return list(self.report().warnings)

    def validate(self) -> None:
        """Refuse the shipment locally (order id, complete lines, unique SKUs); warnings are logged."""
        self.report().raise_if_refused(f"shipment of order {self.order_id!r}")


@strict_init
@attrs.frozen(kw_only=True, repr=False)
class Shipment(JsonModel):
    """A registered shipment. ``id`` is an integer in the docs; kept as sent."""

    id: int | str = attrs.field(metadata=json_meta())
    order_id: str = attrs.field(metadata=json_meta())
    merchant_id: str | None = attrs.field(default=None, metadata=json_meta())
    basket_items: list[BasketItem] | None = attrs.field(factory=list, converter=basket_items,
                                                        metadata=json_meta(BASKET_ITEMS))
    document_number: str | None = attrs.field(default=None, metadata=json_meta())
    document_date: date | None = attrs.field(default=None, converter=day, metadata=json_meta(DATE))
    status: str | None = attrs.field(default=None, metadata=json_meta())  # MCP-only: draft, pending, completed, canceled
    created_at: datetime | None = attrs.field(default=None, converter=moment, metadata=json_meta(DATETIME))
    request_id: str | None = attrs.field(default=None, eq=False)


@strict_init
@attrs.frozen(kw_only=True, repr=False)
class RefundRequest(JsonModel):
    """The body of create refund (``POST /v3/billing/api/order/refund-order``); ``status="draft"``
    starts the correction-order flow. ``amount``/``vat_amount`` left out are the basket's sums."""

    parent_id: str = attrs.field(metadata=json_meta())
    merchant_order_id: str = attrs.field(metadata=json_meta())
    description: str = attrs.field(metadata=json_meta())
    basket_items: list[BasketItem] = attrs.field(converter=basket_items, metadata=json_meta(BASKET_ITEMS))
    amount: Decimal | None = attrs.field(default=None, converter=decimal_value, metadata=json_meta(DECIMAL))
    vat_amount: Decimal | None = attrs.field(default=None, converter=decimal_value, metadata=json_meta(DECIMAL))
    status: str | None = attrs.field(default=None, metadata=json_meta())

    def __attrs_post_init__(self) -> None:
        fill_amounts(self)

    def report(self, round_policy: str = rulebook.ROUND_POLICY_DEFAULT) -> Report:
        """The rule book's findings; ``round_policy`` is the refunded order's."""
        return rulebook.check_refund(self.to_json(), round_policy=round_policy)

    def problems(self, round_policy: str = rulebook.ROUND_POLICY_DEFAULT) -> list[Problem]:
        return list(self.report(round_policy).problems)

    def warnings(self) -> list[RuleWarning]:
        return list(self.report().warnings)

    def validate(self, round_policy: str = rulebook.ROUND_POLICY_DEFAULT) -> None:
        """Refuse the refund locally: basket arithmetic, parent id, merchantOrderId (≤ 100),
        description, status, a positive amount, unique SKUs."""
        self.report(round_policy).raise_if_refused(f"refund {self.merchant_order_id!r}")


@strict_init
@attrs.frozen(kw_only=True, repr=False)
class RefundOrder(JsonModel):
    """A refund ("refund order") as InvoiceBox returns it."""

    id: str = attrs.field(metadata=json_meta())
    parent_id: str = attrs.field(metadata=json_meta())
    merchant_order_id: str = attrs.field(metadata=json_meta())
    amount: Decimal = attrs.field(converter=decimal_value, metadata=json_meta(DECIMAL))
    vat_amount: Decimal = attrs.field(converter=decimal_value, metadata=json_meta(DECIMAL))
    status: str = attrs.field(metadata=json_meta())  # draft, created, completed, canceled
    merchant_id: str | None = attrs.field(default=None, metadata=json_meta())
    description: str | None = attrs.field(default=None, metadata=json_meta())
    currency_id: str | None = attrs.field(default=None, metadata=json_meta())
    basket_items: list[BasketItem] | None = attrs.field(factory=list, converter=basket_items,
                                                        metadata=json_meta(BASKET_ITEMS))
    created_at: datetime | None = attrs.field(default=None, converter=moment, metadata=json_meta(DATETIME))
    request_id: str | None = attrs.field(default=None, eq=False)
