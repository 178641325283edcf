"""Facts of the InvoiceBox API v3 that both sides of the conversation share.

The shop's side (client, engine, webhook) and the local sandbox speak the same protocol; each
fact below is written here once and imported by both, so they cannot drift apart:

* :data:`ENDPOINTS` — every API method: its name (the client's method name, and the name the
  sandbox's faults and request log use), HTTP method and path after the version prefix;
* order and refund statuses (reference §4);
* the answers a shop gives to a notification (reference §8.3);
* the id of InvoiceBox's monitoring test notification (reference §8.4).
"""

from __future__ import annotations

import enum
from typing import Final

import attrs

# The monitoring test notification carries this id and an empty merchantOrderId: verify its
# signature and merchant, answer it, and touch no order (reference §8.4).
TEST_NOTIFICATION_ID: Final = "ffffffff-ffff-ffff-ffff-ffffffffffff"


class OrderStatus(enum.StrEnum):
    """An order's status at InvoiceBox (reference §4.1)."""

    CREATED = "created"  # issued, not paid yet
    COMPLETED = "completed"  # paid
    EXPIRED = "expired"  # not paid before its expirationDate
    CANCELED = "canceled"  # canceled by the shop (DELETE)


class RefundStatus(enum.StrEnum):
    """A refund order's status at InvoiceBox (reference §4.4)."""

    DRAFT = "draft"  # a correction draft: no money moves
    CREATED = "created"  # accepted; the money is on its way back
    COMPLETED = "completed"  # the money has been returned
    CANCELED = "canceled"  # InvoiceBox could not return it


class NotificationAnswer(enum.StrEnum):
    """The codes a shop answers a notification with, besides ``{"status":"success"}``.

    Only ``out_of_service`` makes InvoiceBox deliver the notification again (up to 10 times in
    24 hours); every other code is final.
    """

    SIGNATURE_ERROR = "signature_error"
    ORDER_NOT_FOUND = "order_not_found"
    ORDER_WRONG_AMOUNT = "order_wrong_amount"
    ORDER_ALREADY_PAID = "order_already_paid"
    SHIPPING_UNAVAILABLE = "shipping_unavailable"
    OUT_OF_SERVICE = "out_of_service"


@attrs.frozen
class Endpoint:
    """One API method. ``path`` follows the version prefix (``v3``/``l3``); ``{name}`` marks a
    path parameter."""

    name: str
    method: str
    path: str
    documented: bool = True  # False: served by the official MCP server only

    def url_path(self, **params: str) -> str:
        """The path with its parameters filled in (``order_id="…"`` for ``{order_id}``)."""
        return self.path.format(**params)

    @property
    def is_write(self) -> bool:
        return self.method != "GET"


CHECK_AUTH: Final = Endpoint("check_auth", "GET", "security/api/auth/auth")
CREATE_ORDER: Final = Endpoint("create_order", "POST", "billing/api/order/order")
FIND_ORDERS: Final = Endpoint("find_orders", "GET", "filter/api/order/order")
GET_ORDER: Final = Endpoint("get_order", "GET", "billing/api/order/order/{order_id}", documented=False)
UPDATE_ORDER: Final = Endpoint("update_order", "PUT", "billing/api/order/order/{order_id}")
CANCEL_ORDER: Final = Endpoint("cancel_order", "DELETE", "billing/api/order/order/{order_id}")
CREATE_SHIPMENT: Final = Endpoint("create_shipment", "POST", "billing/api/order/shipment")
# The documentation lists shipments under /filter; the official MCP server reads /billing.
LIST_SHIPMENTS: Final = Endpoint("list_shipments", "GET", "filter/api/order/shipment")
LIST_SHIPMENTS_BILLING: Final = Endpoint("list_shipments", "GET", "billing/api/order/shipment", documented=False)
REFUNDABLE_ITEMS: Final = Endpoint("refundable_items", "GET", "billing/api/order/order/{order_id}/refund-basket-item")
CREATE_REFUND: Final = Endpoint("create_refund", "POST", "billing/api/order/refund-order")
LIST_REFUNDS: Final = Endpoint("list_refunds", "GET", "filter/api/order/refund-order")

ENDPOINTS: Final[tuple[Endpoint, ...]] = (
    CHECK_AUTH, CREATE_ORDER, FIND_ORDERS, GET_ORDER, UPDATE_ORDER, CANCEL_ORDER, CREATE_SHIPMENT,
    LIST_SHIPMENTS, LIST_SHIPMENTS_BILLING, REFUNDABLE_ITEMS, CREATE_REFUND, LIST_REFUNDS,
)
#: The endpoint names, in order, once each: what faults can be injected on.
ENDPOINT_NAMES: Final[tuple[str, ...]] = tuple(dict.fromkeys(e.name for e in ENDPOINTS))
