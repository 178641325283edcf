"""Whole request bodies, as camelCase JSON: create order, update order, shipment, refund.

The client calls these on ``model.to_json()`` before sending; the sandbox on the body it
received. Both get the same :class:`~.findings.Report`, so they refuse the same requests with
the same codes. Order of the findings: required parts, then the basket, then the order's own
values, then the customer.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final, TypeGuard

from ..errors import ValidationError
from . import catalogue as r
from .basket import check_basket, check_string, is_blank
from .customer import check_customer
from .findings import Collector, Report
from .values import number_or_reason, parse_datetime
from .vat import ROUND_POLICY_DEFAULT

__all__ = [
    "CURRENCIES",
    "LANGUAGES",
    "MCP_PAGE_PARAMETERS",
    "ORDER_LENGTHS",
    "ORDER_REQUIRED",
    "PAGE_PARAMETERS",
    "PAGE_SIZE_DEFAULT",
    "REFUND_LENGTHS",
    "REFUND_REQUIRED",
    "REFUND_STATUSES",
    "SHIPMENT_LENGTHS",
    "SHIPMENT_REQUIRED",
    "check_order",
    "check_refund",
    "check_shipment",
    "check_update",
    "round_policy_of",
]

CURRENCIES: Final = ("RUB", "USD", "EUR", "GBP", "CNY", "UZS")
LANGUAGES: Final = ("ru", "en")
ORDER_REQUIRED: Final = ("merchantId", "merchantOrderId", "description", "amount", "vatAmount", "currencyId",
                         "expirationDate", "basketItems", "customer")
ORDER_LENGTHS: Final = {"merchantId": 36, "merchantOrderId": 256, "merchantOrderIdVisible": 256,
                        "description": 1000, "notificationUrl": 1000, "successUrl": 1000, "failUrl": 1000,
                        "returnUrl": 1000, "parentId": 36, "orderContainerId": 36, "userAccountId": 36}
# Reported missing by the basket check itself (check_basket), not twice.
_BASKET_PARTS: Final = ("amount", "vatAmount", "basketItems")
SHIPMENT_REQUIRED: Final = ("orderId", "basketItems")
SHIPMENT_LENGTHS: Final = {"orderId": 36, "documentNumber": 36}
REFUND_REQUIRED: Final = ("parentId", "merchantOrderId", "description", "amount", "vatAmount", "basketItems")
REFUND_LENGTHS: Final = {"parentId": 36, "merchantOrderId": 100, "description": 1000}
REFUND_STATUSES: Final = ("created", "draft")


def _require(out: Collector, body: Mapping[str, Any], names: tuple[str, ...],
             lengths: Mapping[str, int] | None = None) -> None:
    """The required fields are there; the text fields within their lengths."""
    for name in names:
        if name not in _BASKET_PARTS and is_blank(body.get(name)):
            out.refuse(r.REQUIRED, name, f"{name} is required")
    for name, limit in (lengths or {}).items():
        check_string(out, body, name, name, limit)


def _is_object(body: Any, out: Collector) -> TypeGuard[Mapping[str, Any]]:
    """True for a JSON object; anything else is refused as the whole body."""
    if not isinstance(body, Mapping):
        out.refuse(r.SHAPE, "", "the request body must be a JSON object")
        return False
    return True


def round_policy_of(order: Mapping[str, Any]) -> Any:
    """``orderSetting.roundPolicy``, or ``strict`` when not given (possibly not a valid policy)."""
    setting = order.get("orderSetting")
    if isinstance(setting, Mapping) and setting.get("roundPolicy") is not None:
        return setting["roundPolicy"]
    return ROUND_POLICY_DEFAULT


def _expiration(out: Collector, value: Any, now: datetime | None) -> None:
    if is_blank(value):
        return  # reported as required
    try:
        moment = parse_datetime(value)
    except ValidationError as error:
        out.refuse(r.EXPIRATION, "expirationDate", error.message)
        return
    if now is not None and moment <= now:
        out.refuse(r.EXPIRATION, "expirationDate",
                   f"expirationDate {moment.isoformat(timespec='seconds')} is not in the future "
                   f"(now {now.astimezone(UTC).isoformat(timespec='seconds')})")


def _order_values(out: Collector, order: Mapping[str, Any], *, now: datetime | None, check_expiration: bool) -> None:
    if "amount" in order and number_or_reason(order["amount"]) == 0:
        out.refuse(r.POSITIVE_TOTAL, "amount", "amount must be more than 0.00: there is nothing to pay")
    if check_expiration:
        _expiration(out, order.get("expirationDate"), now)
    currency = order.get("currencyId")
    if not is_blank(currency) and currency not in CURRENCIES:
        out.refuse(r.CURRENCY, "currencyId", f"unsupported currency {currency!r}; supported: {', '.join(CURRENCIES)}")
    language = order.get("languageId")
    if language is not None and language not in LANGUAGES:
        out.refuse(r.LANGUAGE, "languageId", f"unknown language {language!r}; known: {', '.join(LANGUAGES)}")
    for name, limit in ORDER_LENGTHS.items():
        check_string(out, order, name, name, limit)
    shop = order.get("shopId")  # string(36) in the docs, an int in the SDK: both are accepted
    if shop is not None and not (isinstance(shop, int) and not isinstance(shop, bool)):
        check_string(out, order, "shopId", "shopId", 36)
    for name in ("invoiceSetting", "orderSetting", "metaData"):
        if order.get(name) is not None and not isinstance(order[name], Mapping):
            out.refuse(r.TYPE, name, f"{name} must be an object")
    if order.get("processable") is not None and not isinstance(order["processable"], bool):
        out.refuse(r.TYPE, "processable", "processable must be true or false")


def check_order(order: Any, *, now: datetime | None = None, check_expiration: bool = True) -> Report:
    """A create-order body (``POST /v3/billing/api/order/order``), or an order after an update.

    ``now`` is the clock ``expirationDate`` must be ahead of (the current UTC time by default;
    the sandbox passes its own); ``check_expiration=False`` skips that rule (an update that does
    not change the date).
    """
    out = Collector()
    if not _is_object(order, out):
        return out.report()
    _require(out, order, ORDER_REQUIRED)
    check_basket(out, order.get("amount"), order.get("vatAmount"), order.get("basketItems"), round_policy_of(order))
    _order_values(out, order, now=now or datetime.now(UTC), check_expiration=check_expiration)
    if order.get("customer") is not None:
        check_customer(out, order["customer"])
    return out.report()


def check_update(changes: Any, *, now: datetime | None = None) -> Report:
    """An update body (``PUT /v3/billing/api/order/order/{id}``) on its own: every field given is
    checked as for a new order; a new basket with its ``amount`` and ``vatAmount``."""
    out = Collector()
    if not _is_object(changes, out):
        return out.report()
    if any(key in changes for key in ("basketItems", "amount", "vatAmount")):
        check_basket(out, changes.get("amount"), changes.get("vatAmount"), changes.get("basketItems"),
                     round_policy_of(changes))
    if "description" in changes:
        check_string(out, changes, "description", "description", ORDER_LENGTHS["description"], required=True)
    if "expirationDate" in changes:
        if is_blank(changes["expirationDate"]):
            out.refuse(r.REQUIRED, "expirationDate", "expirationDate is required")
        _expiration(out, changes["expirationDate"], now or datetime.now(UTC))
    if "customer" in changes:
        check_customer(out, changes["customer"])
    return out.report()


def check_shipment(body: Any) -> Report:
    """A shipment body (``POST /v3/billing/api/order/shipment``): the order id and complete
    basket lines (every field the shipment page lists; shipments have no arithmetic error of
    their own, what may be shipped is judged against the order)."""
    out = Collector()
    if not _is_object(body, out):
        return out.report()
    _require(out, body, SHIPMENT_REQUIRED, SHIPMENT_LENGTHS)
    document_date = body.get("documentDate")
    if document_date is not None and not (isinstance(document_date, str) and len(document_date) == 10):
        out.refuse(r.TYPE, "documentDate", "documentDate must be a date like 2024-07-05")
    check_basket(out, None, None, body.get("basketItems"), sums=False, arithmetic=False)
    return out.report()


def check_refund(body: Any, *, round_policy: str | None = ROUND_POLICY_DEFAULT) -> Report:
    """A refund body (``POST /v3/billing/api/order/refund-order``). ``round_policy`` is the
    refunded order's; None checks everything but the per-line arithmetic (the sandbox, before
    it has looked the order up)."""
    out = Collector()
    if not _is_object(body, out):
        return out.report()
    _require(out, body, REFUND_REQUIRED, REFUND_LENGTHS)
    check_basket(out, body.get("amount"), body.get("vatAmount"), body.get("basketItems"),
                 round_policy or ROUND_POLICY_DEFAULT, arithmetic=round_policy is not None)
    amount = number_or_reason(body.get("amount"))
    if not isinstance(amount, str) and amount <= 0:
        out.refuse(r.POSITIVE_TOTAL, "amount", "a refund's amount must be more than 0.00")
    status = body.get("status")
    if status is not None and status not in REFUND_STATUSES:
        out.refuse(r.REFUND_STATUS, "status", f"refund status {status!r} is not one of created, draft")
    return out.report()


# Paging (audit row 12): the documented spelling is what a client sends; the sandbox also takes
# the MCP server's _page/_pageSize. Default page size 30.
PAGE_PARAMETERS: Final = ("page", "pageSize")
MCP_PAGE_PARAMETERS: Final = ("_page", "_pageSize")
PAGE_SIZE_DEFAULT: Final = 30
