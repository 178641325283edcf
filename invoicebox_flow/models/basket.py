"""Basket lines: :class:`BasketItem`, :class:`RefundableItem` and :func:`basket_line`, the
builder whose derived amounts are right by construction."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

import attrs

from .. import rulebook
from ..fiscal import is_goods_type
from ._json import DATE, DECIMAL, JsonModel, day, decimal_value, json_meta, list_codec, model_codec, wrong
from ._keywords import strict_init, strict_keywords

__all__ = ["BASKET_ITEMS", "BasketItem", "RefundableItem", "basket_items", "basket_line"]


@strict_init
@attrs.frozen(kw_only=True, repr=False)
class BasketItem(JsonModel):
    """One basket line. ``amount`` is the unit price incl. VAT; build lines with
    :func:`basket_line` to get the derived amounts right."""

    sku: str = attrs.field(metadata=json_meta())
    name: str = attrs.field(metadata=json_meta())
    quantity: Decimal = attrs.field(converter=decimal_value, metadata=json_meta(DECIMAL))
    amount: Decimal = attrs.field(converter=decimal_value, metadata=json_meta(DECIMAL))
    amount_wo_vat: Decimal = attrs.field(converter=decimal_value, metadata=json_meta(DECIMAL))
    total_amount: Decimal = attrs.field(converter=decimal_value, metadata=json_meta(DECIMAL))
    total_vat_amount: Decimal = attrs.field(converter=decimal_value, metadata=json_meta(DECIMAL))
    vat_code: str = attrs.field(metadata=json_meta())
    type: str | int = attrs.field(metadata=json_meta())  # "service" / "commodity", or an FFD tag-1212 integer
    payment_type: str = attrs.field(metadata=json_meta())
    measure: str | None = attrs.field(default="шт.", metadata=json_meta())
    measure_code: str | None = attrs.field(default="796", metadata=json_meta())
    group_name: str | None = attrs.field(default=None, metadata=json_meta())
    service_date: date | None = attrs.field(default=None, converter=day, metadata=json_meta(DATE))

    @property
    def is_goods(self) -> bool:
        """Goods rather than a service (TORG-12 rather than an act for legal buyers)."""
        return is_goods_type(self.type)


@strict_init
@attrs.frozen(kw_only=True, repr=False)
class RefundableItem(BasketItem):
    """A basket line still available for refund; ``available_*`` are MCP-only extras (remaining
    refundable money of the line, not amount × quantity)."""

    available_amount: Decimal | None = attrs.field(default=None, converter=decimal_value, metadata=json_meta(DECIMAL))
    available_vat_amount: Decimal | None = attrs.field(default=None, converter=decimal_value,
                                                       metadata=json_meta(DECIMAL))

    def as_basket_item(self) -> BasketItem:
        """The same line as a plain :class:`BasketItem`, fit for a refund request."""
        values = {f.alias or f.name: getattr(self, f.name) for f in attrs.fields(BasketItem)}
        return BasketItem(**values)


def basket_items(value: Sequence[BasketItem | Mapping[str, Any]] | None) -> list[BasketItem] | None:
    """Converter: a list of :class:`BasketItem` from models or camelCase dicts."""
    if value is None:
        return None
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Sequence):
        raise wrong(f"expected a list of basket items, got {type(value).__name__}")
    return [x if isinstance(x, BasketItem) else BasketItem.from_json(x) for x in value]


BASKET_ITEM = model_codec(BasketItem.from_json)
BASKET_ITEMS = list_codec(BASKET_ITEM)


@strict_keywords
def basket_line(
    *,
    sku: str,
    name: str,
    unit_price: Decimal | int | str,
    quantity: Decimal | int | str,
    vat_code: str,
    type: str | int = "service",
    payment_type: str = "full_prepayment",
    measure: str = "шт.",
    measure_code: str = "796",
    group_name: str | None = None,
    service_date: date | None = None,
    extra: Mapping[str, Any] | None = None,
) -> BasketItem:
    """A :class:`BasketItem` whose derived amounts are right by construction, checked as a line.

    ``amount`` is the unit price rounded to kopecks; ``amountWoVat`` (``round(price/(1+r), 2)``),
    ``totalAmount`` (``round(price × quantity, 2)``) and ``totalVatAmount`` (the VAT of the total)
    are computed. The VAT code is always explicit (``"RUS_VAT22"`` is the standard rate since
    2026). ``extra`` holds further JSON fields, written as given (``{"originCountryCode": "643"}``).

    A quantity that is not a positive number with at most 6 decimals, a negative price, an
    unknown VAT code, an empty ``sku`` or ``name`` and any other field the rule book refuses
    raise a :class:`~invoicebox_flow.errors.ValidationError` subclass naming the field.
    """
    qty = rulebook.parse_quantity(quantity, field="quantity")
    price = rulebook.parse_money(unit_price, field="amount")
    rulebook.vat_rate(vat_code)
    total = rulebook.line_total(price, qty)
    item = BasketItem(
        sku=sku,
        name=name,
        quantity=qty,
        amount=price,
        amount_wo_vat=rulebook.amount_wo_vat(price, vat_code),
        total_amount=total,
        total_vat_amount=rulebook.vat_of_total(total, vat_code),
        vat_code=vat_code,
        type=type,
        payment_type=payment_type,
        measure=measure,
        measure_code=measure_code,
        group_name=group_name,
        service_date=service_date,
        extra=extra,
    )
    # the line's own rules (text, lengths, enums); the order's sums are the request's to check
    rulebook.line_report(item.to_json()).raise_if_refused(f"basket line {sku!r}")
    return item
