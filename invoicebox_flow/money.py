"""Money as InvoiceBox counts it: ``Decimal`` roubles rounded to kopecks, VAT and basket arithmetic.

One set of rules serves both sides of the API: the client refuses a bad order before sending it
and the sandbox answers 422 with the same error codes. That is why the basket checks work on
plain camelCase JSON dicts (``basketItems`` as sent on the wire), not only on models.

Rules (API reference: amounts, VAT codes, error codes, business rules):

* amounts are roubles with two decimals; ``float`` is refused everywhere (binary fractions
  cannot hold kopecks exactly);
* VAT codes are tax-included (``RUS_VAT20``: VAT = total × 20/120); the newer ``*_ADDED``
  codes put the tax on top of the price (VAT = total × rate) — accepted, but undocumented;
* a line's ``totalAmount`` is ``amount × quantity`` rounded to kopecks (round policy ``strict``),
  its ``totalVatAmount`` the VAT of that total, the order's ``amount``/``vatAmount`` the sums.
"""

from __future__ import annotations

import decimal
from collections.abc import Mapping, Sequence
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_DOWN, ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from .errors import BasketError, ValidationError

if TYPE_CHECKING:
    from .models import BasketItem

__all__ = [
    "KOPECK",
    "DOCUMENTED_VAT_CODES",
    "VAT_CODES",
    "ROUND_POLICIES",
    "to_money",
    "to_decimal",
    "is_vat_added",
    "vat_rate",
    "vat_of_total",
    "amount_wo_vat",
    "basket_line",
    "basket_problems",
    "validate_basket",
    "order_totals",
]

KOPECK = Decimal("0.01")
ZERO = Decimal("0.00")

# The four codes the official docs list today; the default choice for new code.
DOCUMENTED_VAT_CODES = ("VATNONE", "RUS_VAT0", "RUS_VAT10", "RUS_VAT20")

# Every code the reference knows, with its rate. RUS_VAT110/120 were documented briefly in 2021
# and are still sent by the official CMS module; the 22 %, 7 %, 5 % and *_ADDED codes come from
# the official MCP server only. The legacy spelling "NONE" (before 2021-12) is deliberately absent.
VAT_CODES: dict[str, Decimal] = {
    "VATNONE": Decimal("0"),
    "RUS_VAT0": Decimal("0"),
    "RUS_VAT10": Decimal("0.10"),
    "RUS_VAT20": Decimal("0.20"),
    "RUS_VAT110": Decimal("0.10"),
    "RUS_VAT120": Decimal("0.20"),
    "RUS_VAT22": Decimal("0.22"),
    "RUS_VAT7": Decimal("0.07"),
    "RUS_VAT5": Decimal("0.05"),
    "RUS_VAT22_ADDED": Decimal("0.22"),
    "RUS_VAT20_ADDED": Decimal("0.20"),
    "RUS_VAT10_ADDED": Decimal("0.10"),
    "RUS_VAT7_ADDED": Decimal("0.07"),
    "RUS_VAT5_ADDED": Decimal("0.05"),
}

# orderSetting.roundPolicy -> how a line's amount × quantity becomes its totalAmount.
# "strict" is the documented default; "none" accepts any total up to amount × quantity (a line
# discount). The docs say floor/ceil/halfUp/halfDown "apply to the order total" without saying
# how; we read them as the rounding mode of each line total, the only place rounding happens.
ROUND_POLICIES: dict[str, str | None] = {
    "strict": ROUND_HALF_UP,
    "none": None,
    "floor": ROUND_FLOOR,
    "ceil": ROUND_CEILING,
    "halfUp": ROUND_HALF_UP,
    "halfDown": ROUND_HALF_DOWN,
}

# Enough digits that amount × quantity and total × r/(1+r) are exact or far from a rounding tie.
_WIDE = decimal.Context(prec=60, rounding=ROUND_HALF_UP)
# Numbers from 10**18 up are refused: no real amount or quantity comes near, and below it every
# product and quotient above stays exact within _WIDE (a hostile "1e999" cannot crash a check).
_LIMIT = Decimal(10) ** 18


def to_decimal(value: Decimal | int | str, *, name: str = "value") -> Decimal:
    """``value`` as a finite ``Decimal``, unrounded (quantities, or amounts exactly as received).

    ``float`` raises ``TypeError``: a float cannot hold kopecks exactly, so it is a programming
    error (parse JSON with ``jsonutil.loads``). Anything else that is not a finite number below
    10**18 in magnitude raises :class:`ValidationError` with code ``wrong_value``.
    """
    if isinstance(value, float):
        raise TypeError("money is never float")
    if isinstance(value, bool) or not isinstance(value, (Decimal, int, str)):
        raise ValidationError(f"{name}: expected a number, got {type(value).__name__}", code="wrong_value",
                              fields=[{"name": name, "code": "wrong_value", "message": "expected a number"}])
    try:
        number = value if isinstance(value, Decimal) else Decimal(value.strip() if isinstance(value, str) else value)
    except (decimal.InvalidOperation, ValueError):
        number = None
    if number is None or not number.is_finite():
        raise ValidationError(f"{name}: {value!r} is not a finite number", code="wrong_value",
                              fields=[{"name": name, "code": "wrong_value", "message": "not a finite number"}])
    if abs(number) >= _LIMIT:
        raise ValidationError(f"{name}: {value!r} is too large", code="wrong_value",
                              fields=[{"name": name, "code": "wrong_value", "message": "too large"}])
    return number


def to_money(value: Decimal | int | str) -> Decimal:
    """``value`` rounded half-up to kopecks: ``to_money("1.005") == Decimal("1.01")``.

    ``float`` raises ``TypeError("money is never float")``; NaN, infinities and text that is not a
    number raise :class:`ValidationError` with code ``wrong_value``.
    """
    return to_decimal(value, name="amount").quantize(KOPECK, rounding=ROUND_HALF_UP, context=_WIDE)


def _round(value: Decimal, rounding: str = ROUND_HALF_UP) -> Decimal:
    return value.quantize(KOPECK, rounding=rounding, context=_WIDE)


def is_vat_added(code: str) -> bool:
    """True for the ``*_ADDED`` codes, whose tax is charged on top of the price (MCP-only)."""
    return code in VAT_CODES and code.endswith("_ADDED")


def vat_rate(code: str) -> Decimal:
    """The rate of ``code`` (``Decimal("0.20")`` for ``RUS_VAT20``); unknown codes raise
    :class:`BasketError` with code ``wrong_vat_code``."""
    try:
        return VAT_CODES[code]
    except (KeyError, TypeError):
        message = f"unknown VAT code {code!r}; known: {', '.join(VAT_CODES)}"
        raise BasketError(message, code="wrong_vat_code",
                          fields=[{"name": "vatCode", "code": "wrong_vat_code", "message": message}]) from None


def vat_of_total(total: Decimal, code: str) -> Decimal:
    """VAT contained in (or, for ``*_ADDED`` codes, charged on) a line total, in kopecks.

    ``vat_of_total(Decimal("371.88"), "RUS_VAT20") == Decimal("61.98")`` (371.88 × 20/120).
    """
    rate = vat_rate(code)
    total = to_decimal(total, name="totalAmount")
    if not rate:
        return ZERO
    if is_vat_added(code):
        return _round(_WIDE.multiply(total, rate))
    return _round(_WIDE.divide(_WIDE.multiply(total, rate), 1 + rate))


def amount_wo_vat(unit_price: Decimal, code: str) -> Decimal:
    """Unit price without VAT: ``round(price / (1 + r), 2)``; ``123.96`` at 20 % → ``103.30``.

    For ``*_ADDED`` codes the price already excludes the tax, so it is returned as is.
    """
    rate = vat_rate(code)
    price = to_decimal(unit_price, name="amount")
    if not rate or is_vat_added(code):
        return _round(price)
    return _round(_WIDE.divide(price, 1 + rate))


def line_total(unit_price: Decimal, quantity: Decimal, rounding: str = ROUND_HALF_UP) -> Decimal:
    """``unit_price × quantity`` rounded to kopecks (half-up unless told otherwise)."""
    return _round(_WIDE.multiply(to_decimal(unit_price, name="amount"), to_decimal(quantity, name="quantity")), rounding)


def basket_line(
    *,
    sku: str,
    name: str,
    unit_price: Decimal | int | str,
    quantity: Decimal | int | str,
    vat_code: str = "RUS_VAT20",
    type: str | int = "service",
    payment_type: str = "full_prepayment",
    measure: str = "шт.",
    measure_code: str = "796",
    **extra: Any,
) -> BasketItem:
    """A :class:`~invoicebox_flow.models.BasketItem` whose derived amounts are right by construction.

    ``amount`` is the unit price rounded to kopecks; ``amountWoVat``, ``totalAmount`` (=
    ``round(price × quantity, 2)``) and ``totalVatAmount`` are computed. Keyword arguments that
    name other ``BasketItem`` attributes (``group_name``, ``service_date``) are passed on; any
    other keyword becomes an extra JSON field, written as given (e.g. ``originCountryCode="643"``).
    """
    import attrs

    from .models import BasketItem  # models build on money; import late to keep money standalone

    price = to_money(unit_price)
    qty = to_decimal(quantity, name="quantity")
    if qty <= 0:
        raise BasketError(f"quantity must be greater than zero, got {qty}", code="wrong_value",
                          fields=[{"name": "quantity", "code": "wrong_value", "message": "must be greater than zero"}])
    if price < 0:
        raise BasketError(f"unit price must not be negative, got {price}", code="wrong_value",
                          fields=[{"name": "amount", "code": "wrong_value", "message": "must not be negative"}])
    total = line_total(price, qty)
    own = {f.name for f in attrs.fields(BasketItem)}
    kwargs = {key: extra.pop(key) for key in list(extra) if key in own and key != "extra"}
    json_extra = dict(extra.pop("extra", None) or {})
    json_extra.update(extra)
    return BasketItem(
        sku=sku,
        name=name,
        quantity=qty,
        amount=price,
        amount_wo_vat=amount_wo_vat(price, vat_code),
        total_amount=total,
        total_vat_amount=vat_of_total(total, vat_code),
        vat_code=vat_code,
        type=type,
        payment_type=payment_type,
        measure=measure,
        measure_code=measure_code,
        extra=json_extra,
        **kwargs,
    )


# --- basket validation ---------------------------------------------------------------------


def _problem(code: str, name: str, message: str) -> dict[str, str]:
    return {"code": code, "name": name, "message": message}


def _amount_field(container: Mapping[str, Any], key: str, path: str, problems: list[dict[str, str]],
                  *, money: bool = True) -> Decimal | None:
    """Read one number; record a ``wrong_value`` problem and return None when it is unusable."""
    if key not in container or container[key] is None:
        problems.append(_problem("wrong_value", path, f"{path} is required"))
        return None
    try:
        value = to_decimal(container[key], name=path)
    except ValidationError as error:
        reason = error.fields[0]["message"] if error.fields else "not a number"
        problems.append(_problem("wrong_value", path, f"{path}: {reason}, got {container[key]!r}"))
        return None
    if value < 0:
        problems.append(_problem("wrong_value", path, f"{path} must not be negative, got {value}"))
        return None
    if money and value != value.quantize(KOPECK, context=_WIDE):
        problems.append(_problem("wrong_value", path, f"{path} has more than two decimals: {value}"))
        return None
    return value


def _line_problems(index: int, item: Any, rounding: str | None) -> tuple[list[dict[str, str]], Decimal | None, Decimal | None]:
    """Problems of one basket line, plus its declared totalAmount and totalVatAmount when readable."""
    at = f"basketItems[{index}]"
    problems: list[dict[str, str]] = []
    if not isinstance(item, Mapping):
        problems.append(_problem("wrong_value", at, f"{at} must be an object"))
        return problems, None, None

    quantity = _amount_field(item, "quantity", f"{at}.quantity", problems, money=False)
    if quantity is not None and quantity <= 0:
        problems.append(_problem("wrong_value", f"{at}.quantity", f"{at}.quantity must be greater than zero, got {quantity}"))
        quantity = None
    price = _amount_field(item, "amount", f"{at}.amount", problems)
    price_wo_vat = _amount_field(item, "amountWoVat", f"{at}.amountWoVat", problems)
    total = _amount_field(item, "totalAmount", f"{at}.totalAmount", problems)
    total_vat = _amount_field(item, "totalVatAmount", f"{at}.totalVatAmount", problems)
    code = item.get("vatCode")
    if not isinstance(code, str) or code not in VAT_CODES:
        problems.append(_problem("wrong_vat_code", f"{at}.vatCode", f"{at}.vatCode: unknown VAT code {code!r}"))
        code = None

    nominal = line_total(price, quantity) if price is not None and quantity is not None else None
    if total is not None and price is not None and quantity is not None:
        exact = _WIDE.multiply(price, quantity)
        if rounding is None:
            if total > exact:
                problems.append(_problem(
                    "wrong_basket_item_total_amount", f"{at}.totalAmount",
                    f"{at}.totalAmount {total} exceeds amount × quantity = {price} × {quantity} = {exact}"))
        elif total != _round(exact, rounding):
            problems.append(_problem(
                "wrong_basket_item_total_amount", f"{at}.totalAmount",
                f"{at}.totalAmount {total} != amount × quantity = {price} × {quantity} = {_round(exact, rounding)}"))

    if total is not None and total_vat is not None and code is not None:
        expected_vat = vat_of_total(total, code)
        if abs(total_vat - expected_vat) > KOPECK:
            problems.append(_problem(
                "wrong_basket_item_total_vat_amount", f"{at}.totalVatAmount",
                f"{at}.totalVatAmount {total_vat} != VAT of {total} at {code} = {expected_vat}"))

    # Inferred rule (the docs give no formula; the official MCP server checks the same sum within
    # one kopeck): amountWoVat × quantity + totalVatAmount must give totalAmount. amountWoVat is a
    # unit price rounded to kopecks, so each unit may carry up to half a kopeck of rounding, and
    # the line's own roundings add up to one and a half kopecks more: we allow one kopeck per unit
    # plus one, which every correctly built line meets (fractional quantities included).
    # Under "none" a discount lives only in totalAmount, so the nominal line (amount × quantity)
    # is compared instead: amountWoVat is still the undiscounted unit price.
    if price_wo_vat is not None and quantity is not None and code is not None:
        base_total = nominal if rounding is None else total
        base_vat = vat_of_total(nominal, code) if rounding is None and nominal is not None else total_vat
        if base_total is not None and base_vat is not None:
            without_vat = line_total(price_wo_vat, quantity)
            # *_ADDED: the tax is on top of the total, so the total itself is without VAT
            got = without_vat if is_vat_added(code) else without_vat + base_vat
            if abs(got - base_total) > KOPECK * quantity + KOPECK:
                problems.append(_problem(
                    "wrong_basket_item_amount_wo_vat", f"{at}.amountWoVat",
                    f"{at}.amountWoVat {price_wo_vat} × {quantity} does not fit totalAmount {base_total} "
                    f"and its VAT {base_vat} (amountWoVat is the unit price without VAT)"))
    return problems, total, total_vat


def basket_problems(
    amount: Decimal | int | str | None,
    vat_amount: Decimal | int | str | None,
    items: Sequence[Mapping[str, Any]],
    round_policy: str = "strict",
) -> list[dict[str, str]]:
    """Every way the order totals and basket lines break the API's arithmetic rules.

    ``items`` are camelCase basket lines as sent on the wire (``Decimal``/``int`` numbers).
    Returns API-style problems ``{"code", "name", "message"}`` — ``name`` is the JSON path, e.g.
    ``basketItems[0].totalAmount`` — in a stable order: order-level values, each line in turn,
    then the order sums. An empty list means the basket is valid.
    """
    problems: list[dict[str, str]] = []
    top = {"amount": amount, "vatAmount": vat_amount}
    order_amount = _amount_field(top, "amount", "amount", problems)
    order_vat = _amount_field(top, "vatAmount", "vatAmount", problems)

    if not isinstance(round_policy, str) or round_policy not in ROUND_POLICIES:
        problems.append(_problem("wrong_value", "orderSetting.roundPolicy",
                                 f"unknown round policy {round_policy!r}; known: {', '.join(ROUND_POLICIES)}"))
        return problems
    if isinstance(items, (str, bytes, Mapping)) or not isinstance(items, Sequence) or not items:
        problems.append(_problem("validation", "basketItems", "basketItems must be a non-empty list"))
        return problems

    rounding = ROUND_POLICIES[round_policy]
    sum_total: Decimal | None = ZERO
    sum_vat: Decimal | None = ZERO
    for index, item in enumerate(items):
        line, total, total_vat = _line_problems(index, item, rounding)
        problems.extend(line)
        sum_total = None if total is None or sum_total is None else sum_total + total
        sum_vat = None if total_vat is None or sum_vat is None else sum_vat + total_vat

    # The order sums are checked against the declared line totals (an independent rule), unless
    # some line total is unreadable, which its own problem already reports.
    if order_amount is not None and sum_total is not None and order_amount != sum_total:
        problems.append(_problem("wrong_total_amount", "amount",
                                 f"amount {order_amount} != sum of basketItems[].totalAmount {sum_total}"))
    if order_vat is not None and sum_vat is not None and order_vat != sum_vat:
        problems.append(_problem("wrong_total_vat_amount", "vatAmount",
                                 f"vatAmount {order_vat} != sum of basketItems[].totalVatAmount {sum_vat}"))
    return problems


def validate_basket(
    amount: Decimal | int | str | None,
    vat_amount: Decimal | int | str | None,
    items: Sequence[Mapping[str, Any]],
    round_policy: str = "strict",
) -> None:
    """Raise :class:`BasketError` when :func:`basket_problems` finds anything.

    The error's ``code`` is the first problem's code, its ``fields`` every problem as
    ``{"name", "code", "message"}`` — the shape of the API's own error envelope.
    """
    problems = basket_problems(amount, vat_amount, items, round_policy)
    if problems:
        raise basket_error(problems)


def basket_error(problems: Sequence[Mapping[str, str]]) -> BasketError:
    """One :class:`BasketError` carrying ``problems`` (non-empty) as its field errors."""
    first = problems[0]
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return BasketError(
        first["message"] + more,
        code=first["code"],
        fields=[{"name": p["name"], "code": p["code"], "message": p["message"]} for p in problems],
    )


def order_totals(items: Sequence[BasketItem | Mapping[str, Any]]) -> tuple[Decimal, Decimal]:
    """``(Σ totalAmount, Σ totalVatAmount)`` of basket lines — models or camelCase dicts."""
    total = ZERO
    vat = ZERO
    for item in items:
        if isinstance(item, Mapping):
            total += to_money(item["totalAmount"])
            vat += to_money(item["totalVatAmount"])
        else:
            total += to_money(item.total_amount)
            vat += to_money(item.total_vat_amount)
    return total, vat
