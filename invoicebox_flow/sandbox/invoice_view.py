"""What the sandbox engine tells the payment page about one invoice: the order as the API has it,
plus the facts that only the page shows — the shop's name, whether the payer chose a bank
transfer, and, under «Контроль отгрузки на платёжной странице», how the shop answered the
payment notification (DOCS ``merchant/notification/shipping-unavailable.md``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from .state import OrderRecord

# The shop's answer to the payment notification, as the payer waiting on the page learns it.
CONFIRMED = "confirmed"  # {"status": "success"}: the order is reserved or booked
REFUSED = "refused"  # shipping_unavailable: the order cannot be provided, the money goes back
UNCONFIRMED = "unconfirmed"  # no answer yet, or not a final one: InvoiceBox keeps notifying


@attrs.frozen
class InvoiceView:
    order: dict[str, Any]
    shop_name: str
    shipping_control: bool = False
    awaiting_transfer: bool = False
    shop_answer: str | None = None  # set once a payment under shipping control was notified

    @classmethod
    def of(cls, record: OrderRecord, *, shop_name: str, shipping_control: bool,
           attempts: Iterable[Mapping[str, Any]]) -> InvoiceView:
        """The view of ``record``; ``attempts`` are the sandbox's notification attempts."""
        return cls(record.to_json(), shop_name=shop_name, shipping_control=shipping_control,
                   awaiting_transfer=record.bank_transfer_requested,
                   shop_answer=_shop_answer(record, attempts) if shipping_control else None)

    @property
    def shop_url(self) -> str | None:
        """The shop page the payer is sent on to after the shop's answer: ``failUrl`` when the
        shop refused the order, else ``successUrl`` (None when the order names none)."""
        return self.order.get("failUrl" if self.shop_answer == REFUSED else "successUrl") or None


def _shop_answer(record: OrderRecord, attempts: Iterable[Mapping[str, Any]]) -> str | None:
    """How the shop answered the payment notification, as the payer waiting on the page learns it."""
    notification = record.payment_notification
    if notification is None:
        return None
    if record.shipping_unavailable:
        return REFUSED
    delivered = any(a["notificationId"] == notification.notification_id and a["delivered"] for a in attempts)
    return CONFIRMED if delivered else UNCONFIRMED
