"""The basket: each line's fields and arithmetic, the sums, and unique SKUs, on camelCase JSON.

Problems carry the JSON path of the field (``basketItems[1].totalVatAmount``) and come in a
stable order: the order's amount and vatAmount, then each line in turn (its fields, its numbers,
its arithmetic), then duplicate SKUs, then the order's sums.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, Final

import attrs

from ..errors import BasketError
from . import catalogue as r
from .findings import Collector
from .values import KOPECK, MAX_DECIMALS, ZERO, decimals_of, number_or_reason, quantity_or_reason
from .vat import (
    LEGACY_VAT_CODES,
    ROUND_POLICIES,
    ROUND_POLICY_DEFAULT,
    VAT_CODES,
    exact,
    line_total,
    round_kopecks,
    vat_of_total,
    vat_per_unit,
)

__all__ = [
    "CATEGORY_TYPES",
    "ITEM_LENGTHS",
    "ITEM_REQUIRED",
    "ITEM_TYPES",
    "PAYMENT_TYPES",
    "TAG_1212",
    "check_basket",
    "check_line",
    "check_string",
    "is_blank",
    "is_unicode",
]

ITEM_REQUIRED: Final = ("sku", "name", "measure", "measureCode", "quantity", "amount", "amountWoVat",
                        "totalAmount", "totalVatAmount", "vatCode", "type", "paymentType")
ITEM_LENGTHS: Final = {"sku": 500, "name": 500, "groupName": 500, "measure": 10, "measureCode": 4,
                       "originCountry": 20, "originCountryCode": 4, "paymentType": 20, "categoryType": 20,
                       "category": 20}
ITEM_TYPES: Final = ("service", "commodity")
TAG_1212: Final = frozenset((*range(1, 28), 30, 31, 32, 33))
PAYMENT_TYPES: Final = ("full_prepayment", "prepayment", "advance", "full_payment")
CATEGORY_TYPES: Final = ("merchantHonestSignMap", "honestSign")
_DATE: Final = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def is_blank(value: Any) -> bool:
    """Absent for the API: ``None``, or text that is empty or only spaces."""
    return value is None or (isinstance(value, str) and not value.strip())


def check_string(out: Collector, container: Mapping[str, Any], key: str, path: str, limit: int,
                 *, required: bool = False) -> None:
    """``container[key]`` is a string of at most ``limit`` characters (or absent, unless required)."""
    value = container.get(key)
    if is_blank(value):
        if required:
            out.refuse(r.REQUIRED, path, f"{path} is required")
        return
    if not isinstance(value, str):
        out.refuse(r.STRING, path, f"{path} must be a string, got {type(value).__name__}")
    elif len(value) > limit:
        out.refuse(r.STRING, path, f"{path} is {len(value)} characters long; at most {limit} are allowed")
    elif not is_unicode(value):
        out.refuse(r.STRING, path, f"{path} is not Unicode text (a lone surrogate cannot be sent as UTF-8)")


def is_unicode(text: str) -> bool:
    """True unless ``text`` holds a lone surrogate (what a mis-decoded byte string leaves), which
    no UTF-8 request body, and no store, can carry."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _at(at: str, key: str) -> str:
    return f"{at}.{key}" if at else key


@attrs.frozen
class _Line:
    """The numbers of one line that could be read (None: unusable, already reported)."""

    quantity: Decimal | None
    price: Decimal | None
    wo_vat: Decimal | None
    total: Decimal | None
    vat: Decimal | None
    code: str | None


def _amount(out: Collector, container: Mapping[str, Any], key: str, path: str, *, kopecks: bool) -> Decimal | None:
    value = container.get(key)
    if value is None:
        out.refuse(r.REQUIRED, path, f"{path} is required")
        return None
    number = number_or_reason(value, max_decimals=MAX_DECIMALS)
    if isinstance(number, str):
        out.refuse(r.NUMBER, path, f"{path}: {number}")
        return None
    if number < 0:
        out.refuse(r.NOT_NEGATIVE, path, f"{path} must not be negative, got {number}")
        return None
    if kopecks and decimals_of(number.normalize()) > 2:
        out.refuse(r.KOPECKS, path, f"{path} has more than two decimals: {number}")
        return None
    return number


def _line_values(out: Collector, item: Mapping[str, Any], at: str, *, kopeck_prices: bool) -> _Line:
    quantity: Decimal | None = None
    if item.get("quantity") is None:
        out.refuse(r.REQUIRED, _at(at, "quantity"), f"{_at(at, 'quantity')} is required")
    else:
        parsed = quantity_or_reason(item["quantity"])
        if isinstance(parsed, str):
            out.refuse(r.QUANTITY, _at(at, "quantity"), f"{_at(at, 'quantity')}: {parsed}")
        else:
            quantity = parsed
    price = _amount(out, item, "amount", _at(at, "amount"), kopecks=kopeck_prices)
    wo_vat = _amount(out, item, "amountWoVat", _at(at, "amountWoVat"), kopecks=kopeck_prices)
    total = _amount(out, item, "totalAmount", _at(at, "totalAmount"), kopecks=True)
    vat = _amount(out, item, "totalVatAmount", _at(at, "totalVatAmount"), kopecks=True)
    code = item.get("vatCode")
    if is_blank(code):
        out.refuse(r.REQUIRED, _at(at, "vatCode"), f"{_at(at, 'vatCode')} is required")
        code = None
    elif not isinstance(code, str) or code not in VAT_CODES:
        out.refuse(r.VAT_CODE, _at(at, "vatCode"), f"{_at(at, 'vatCode')}: unknown VAT code {code!r}")
        code = None
    elif code in LEGACY_VAT_CODES:
        out.warn(r.LEGACY_VAT_CODE, _at(at, "vatCode"), f"{_at(at, 'vatCode')} {code} is a legacy code; the documented "
                                                      "ones are VATNONE, RUS_VAT0, RUS_VAT10, RUS_VAT20")
    return _Line(quantity, price, wo_vat, total, vat, code)


def _item_type_ok(kind: Any) -> bool:
    if isinstance(kind, bool):
        return False
    if isinstance(kind, int):
        return kind in TAG_1212
    if isinstance(kind, str) and kind.isascii() and kind.isdigit():
        return int(kind) in TAG_1212
    return kind in ITEM_TYPES


def _line_fields(out: Collector, item: Mapping[str, Any], at: str) -> None:
    """Everything of a line but its numbers: required text, lengths and enums."""
    for key in ("sku", "name", "measure", "measureCode"):
        check_string(out, item, key, _at(at, key), ITEM_LENGTHS[key], required=True)
    for key in ("groupName", "originCountry", "originCountryCode", "category"):
        check_string(out, item, key, _at(at, key), ITEM_LENGTHS[key])
    kind = item.get("type")
    if is_blank(kind):
        out.refuse(r.REQUIRED, _at(at, "type"), f"{_at(at, 'type')} is required")
    elif not _item_type_ok(kind):
        out.refuse(r.ITEM_TYPE, _at(at, "type"), f"{_at(at, 'type')} {kind!r} is not service, commodity or a tag-1212 value")
    payment = item.get("paymentType")
    if is_blank(payment):
        out.refuse(r.REQUIRED, _at(at, "paymentType"), f"{_at(at, 'paymentType')} is required")
    elif payment not in PAYMENT_TYPES:
        out.refuse(r.PAYMENT_TYPE, _at(at, "paymentType"),
                   f"{_at(at, 'paymentType')} {payment!r} is not one of {', '.join(PAYMENT_TYPES)}")
    category_type = item.get("categoryType")
    if not is_blank(category_type) and category_type not in CATEGORY_TYPES:
        out.refuse(r.CATEGORY_TYPE, _at(at, "categoryType"),
                   f"{_at(at, 'categoryType')} {category_type!r} is not one of {', '.join(CATEGORY_TYPES)}")
    elif is_blank(category_type) and not is_blank(item.get("category")):
        out.refuse(r.CATEGORY_TYPE, _at(at, "categoryType"), f"{_at(at, 'categoryType')} is required when category is given")
    service_date = item.get("serviceDate")
    if service_date is not None and not (isinstance(service_date, str) and _DATE.match(service_date)):
        out.refuse(r.TYPE, _at(at, "serviceDate"), f"{_at(at, 'serviceDate')} must be a date like 2024-07-05")
    for key in ("grossWeight", "netWeight", "excise"):
        if item.get(key) is not None:
            number = number_or_reason(item[key])
            if isinstance(number, str):
                out.refuse(r.NUMBER, _at(at, key), f"{_at(at, key)}: {number}")
            elif number < 0:
                out.refuse(r.NOT_NEGATIVE, _at(at, key), f"{_at(at, key)} must not be negative")
    if item.get("metaData") is not None and not isinstance(item["metaData"], Mapping):
        out.refuse(r.TYPE, _at(at, "metaData"), f"{_at(at, 'metaData')} must be an object")


def _fits_without_vat(wo_vat: Decimal, quantity: Decimal, total: Decimal, vat: Decimal) -> bool:
    """amountWoVat × quantity + VAT gives the total, within a kopeck per unit plus one."""
    return abs(line_total(wo_vat, quantity) + vat - total) <= KOPECK * quantity + KOPECK


def _line_arithmetic(out: Collector, at: str, line: _Line, rounding: str | None) -> None:
    quantity, price, total, vat, code = line.quantity, line.price, line.total, line.vat, line.code
    product = exact(price, quantity) if price is not None and quantity is not None else None
    if total is not None and product is not None:
        if rounding is None:
            if total < product:
                out.refuse(r.LINE_TOTAL, _at(at, "totalAmount"),
                           f"{_at(at, 'totalAmount')} {total} is below amount × quantity = {price} × {quantity} = "
                           f"{product} (roundPolicy none allows quantity × amount <= totalAmount)")
        elif total != round_kopecks(product, rounding):
            out.refuse(r.LINE_TOTAL, _at(at, "totalAmount"),
                       f"{_at(at, 'totalAmount')} {total} != amount × quantity = {price} × {quantity} = "
                       f"{round_kopecks(product, rounding)}")
    if total is not None and vat is not None and code is not None:
        readings = [vat_of_total(total, code)]
        if price is not None and quantity is not None and product is not None and abs(total - product) < KOPECK:
            readings.append(vat_per_unit(price, quantity, code))  # the total is the product: Bitrix's reading
        if vat > total or not min(readings) - KOPECK <= vat <= max(readings) + KOPECK:
            shown = " or ".join(str(v) for v in sorted(set(readings)))
            out.refuse(r.LINE_VAT, _at(at, "totalVatAmount"),
                       f"{_at(at, 'totalVatAmount')} {vat} != VAT of {total} at {code} = {shown} (±0.01)")
    if line.wo_vat is not None and quantity is not None and total is not None and vat is not None:
        fits = _fits_without_vat(line.wo_vat, quantity, total, vat)
        if not fits and rounding is None and product is not None and code is not None:
            # none: the unit prices may describe the product the total was rounded up from
            nominal = round_kopecks(product)
            fits = _fits_without_vat(line.wo_vat, quantity, nominal, vat_of_total(nominal, code))
        if not fits:
            out.refuse(r.LINE_WO_VAT, _at(at, "amountWoVat"),
                       f"{_at(at, 'amountWoVat')} {line.wo_vat} × {quantity} + totalVatAmount {vat} does not "
                       f"give totalAmount {total} (amountWoVat is the unit price without VAT)")


def _unique_skus(out: Collector, items: Sequence[Any]) -> None:
    first: dict[str, int] = {}
    for index, item in enumerate(items):
        sku = item.get("sku") if isinstance(item, Mapping) else None
        if not isinstance(sku, str) or is_blank(sku):
            continue
        if sku in first:
            out.refuse(r.UNIQUE_SKU, f"basketItems[{index}].sku",
                       f"basketItems[{index}].sku {sku!r} repeats basketItems[{first[sku]}]: shipments and "
                       "refunds address lines by sku, so give each line its own sku (or merge the lines)")
        else:
            first[sku] = index


def check_line(out: Collector, item: Any, at: str = "") -> None:
    """One line on its own, without arithmetic (what :func:`~invoicebox_flow.models.basket_line` checks)."""
    with out.within(BasketError):
        if not isinstance(item, Mapping):
            out.refuse(r.SHAPE, at or "basketItem", "a basket line must be an object")
            return
        _line_fields(out, item, at)
        _line_values(out, item, at, kopeck_prices=False)


def check_basket(out: Collector, amount: Any, vat_amount: Any, items: Any, round_policy: Any = ROUND_POLICY_DEFAULT,
                 *, fields: bool = True, sums: bool = True, arithmetic: bool = True) -> None:
    """Check a basket under ``round_policy``; every refusal raises a BasketError.
    ``arithmetic=False`` skips each line's arithmetic (a shipment, or a refund checked before its
    order is known), ``fields=False`` checks only the numbers and VAT codes, ``sums=False`` skips
    the order's amount and vatAmount (a shipment has none)."""
    with out.within(BasketError):
        _check_basket(out, amount, vat_amount, items, round_policy, fields=fields, sums=sums, arithmetic=arithmetic)


def _check_basket(out: Collector, amount: Any, vat_amount: Any, items: Any, round_policy: Any,
                  *, fields: bool, sums: bool, arithmetic: bool) -> None:
    order_amount = _amount(out, {"amount": amount}, "amount", "amount", kopecks=True) if sums else None
    order_vat = _amount(out, {"vatAmount": vat_amount}, "vatAmount", "vatAmount", kopecks=True) if sums else None
    rounding: str | None = None
    if arithmetic:
        if not isinstance(round_policy, str) or round_policy not in ROUND_POLICIES:
            out.refuse(r.ROUND_POLICY, "orderSetting.roundPolicy",
                       f"unknown round policy {round_policy!r}; known: {', '.join(ROUND_POLICIES)}")
            return
        rounding = ROUND_POLICIES[round_policy]
    if isinstance(items, (str, bytes, Mapping)) or not isinstance(items, Sequence) or not items:
        out.refuse(r.SHAPE, "basketItems", "basketItems must be a non-empty list")
        return
    sum_total: Decimal | None = ZERO
    sum_vat: Decimal | None = ZERO
    for index, item in enumerate(items):
        at = f"basketItems[{index}]"
        if not isinstance(item, Mapping):
            out.refuse(r.SHAPE, at, f"{at} must be an object")
            sum_total = sum_vat = None
            continue
        if fields:
            _line_fields(out, item, at)
        line = _line_values(out, item, at, kopeck_prices=arithmetic and round_policy == "strict")
        if arithmetic:
            _line_arithmetic(out, at, line, rounding)
        sum_total = None if line.total is None or sum_total is None else sum_total + line.total
        sum_vat = None if line.vat is None or sum_vat is None else sum_vat + line.vat
    if fields:
        _unique_skus(out, items)
    # Against the declared line totals (an independent rule), unless one of them was unusable.
    if order_amount is not None and sum_total is not None and order_amount != sum_total:
        out.refuse(r.ORDER_TOTAL, "amount", f"amount {order_amount} != sum of basketItems[].totalAmount {sum_total}")
    if order_vat is not None and sum_vat is not None and order_vat != sum_vat:
        out.refuse(r.ORDER_VAT, "vatAmount",
                   f"vatAmount {order_vat} != sum of basketItems[].totalVatAmount {sum_vat}")
