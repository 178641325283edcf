"""The JSON a notification carries, in one of two shapes (``Sandbox(notification_shape=…)``).

* ``sandbox`` (default) — the order exactly as the API returns it: every stored field, amounts
  as stored (``103.30``), ``paidAt``, the shop's URLs.
* ``production`` — shaped like the only captured production body, the InvoiceBox PHP SDK's
  ``examples/payment-notification.php``: its fields in its order (``id``, ``description``,
  ``currencyId``, ``amount``, …, ``processable``) and no others, so no ``paidAt`` and none of the
  shop's URLs; ``merchantOrderIdVisible`` always present (the SDK reads it unconditionally; it
  falls back to ``merchantOrderId`` as the page does); ``customer.countryId`` ``"RUS"`` unless
  given; numbers as PHP writes floats: ``103.3``, ``2790.67``, and whole values without a
  fraction (``"vatAmount":0``).

Either way the bytes are compact JSON with ``\\/``-escaped slashes, and the signature is the
HMAC of exactly those bytes.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Final

SANDBOX: Final = "sandbox"
PRODUCTION: Final = "production"
SHAPES: Final = (SANDBOX, PRODUCTION)

# The captured body's fields, in its order.
ORDER_FIELDS: Final = ("id", "description", "currencyId", "amount", "vatAmount", "basketItems", "orderContainerId",
                       "merchantId", "status", "subtype", "createdAt", "merchantOrderId", "merchantOrderIdVisible",
                       "expirationDate", "fileIds", "paymentUrl", "customer", "languageId", "processable")
ITEM_FIELDS: Final = ("sku", "name", "measure", "measureCode", "quantity", "amount", "amountWoVat", "totalAmount",
                      "totalVatAmount", "vatCode", "type", "paymentType")
CUSTOMER_FIELDS: Final = ("type", "name", "phone", "email", "vatNumber", "countryId", "registrationAddress")
DEFAULT_COUNTRY: Final = "RUS"


def shaped(order: Mapping[str, Any], shape: str) -> dict[str, Any]:
    """The notification payload for ``order`` (its API JSON) in ``shape``."""
    if shape == PRODUCTION:
        return production_body(order)
    return dict(order)


def production_body(order: Mapping[str, Any]) -> dict[str, Any]:
    source = dict(order)
    source.setdefault("merchantOrderIdVisible", source.get("merchantOrderId"))
    customer = dict(source.get("customer") or {})
    customer.setdefault("countryId", DEFAULT_COUNTRY)
    source["customer"] = _ordered(customer, CUSTOMER_FIELDS)
    source["basketItems"] = [_ordered(item, ITEM_FIELDS) for item in source.get("basketItems") or ()]
    body = {name: source[name] for name in ORDER_FIELDS if name in source}
    return {key: php_numbers(value) for key, value in body.items()}


def _ordered(fields: Mapping[str, Any], first: tuple[str, ...]) -> dict[str, Any]:
    """The known fields in the captured order, then any others as stored (nothing dropped)."""
    out = {name: fields[name] for name in first if name in fields}
    out.update((key, value) for key, value in fields.items() if key not in out)
    return out


def php_numbers(value: Any) -> Any:
    """Numbers as PHP's ``json_encode`` writes floats: shortest form, whole values as integers."""
    if isinstance(value, Decimal):
        if value == value.to_integral_value():
            return int(value)
        return Decimal(format(value.normalize(), "f"))
    if isinstance(value, Mapping):
        return {key: php_numbers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [php_numbers(item) for item in value]
    return value
