"""The sandbox's memory: every object InvoiceBox would keep, behind one re-entrant lock.

All reads and writes of API objects and of what happened around them (receipts, documents,
mail, notification attempts, events, the request log) go through :class:`SandboxState` while
holding ``state.lock``. One lock is enough for a test server and makes every operation atomic:
a rule is checked and its result stored without another request slipping in between.
Nothing here decides anything; the rules live in :mod:`.rules`.
"""

from __future__ import annotations

import copy
import itertools
import threading
import time
from datetime import datetime
from typing import Any

import attrs

from .instruments import DEFAULT_INSTRUMENT, reversible_by_delete


@attrs.define(eq=False)
class OrderRecord:
    """One order. ``data`` is its JSON as the API returns it; ``state`` is the machine's state
    (:data:`.rules.ORDER_MACHINE` fires transitions on this object and keeps ``data`` in sync)."""

    data: dict[str, Any]
    state: str = "created"
    shipment_ids: list[int] = attrs.Factory(list)
    refund_ids: list[str] = attrs.Factory(list)
    shipping_unavailable: bool = False
    # The payment notification, built once at payment time so every retry sends the same bytes.
    payment_notification: Any = None
    # Notifications of later status changes (canceled, expired), when the sandbox sends them.
    status_notifications: list[Any] = attrs.Factory(list)
    # InvoiceBox-side settings and facts the API does not show (see .instruments, .backoffice).
    payment_instrument: str = DEFAULT_INSTRUMENT
    auto_shipment: bool = False
    bank_transfer_requested: bool = False  # the payer chose to pay by bank transfer; not paid yet

    @property
    def id(self) -> str:
        return str(self.data["id"])

    # Conditions named by the order machine's transitions.
    def is_reversible(self) -> bool:
        return reversible_by_delete(self.payment_instrument, shipping_unavailable=self.shipping_unavailable,
                                    shipped=bool(self.shipment_ids))

    def settings(self) -> dict[str, Any]:
        """The InvoiceBox-side settings and marks of this order, for the inspection API."""
        return {"orderId": self.id, "paymentInstrument": self.payment_instrument, "autoShipment": self.auto_shipment,
                "bankTransferRequested": self.bank_transfer_requested, "shippingUnavailable": self.shipping_unavailable}

    def to_json(self) -> dict[str, Any]:
        out = copy.deepcopy(self.data)
        out["status"] = self.state
        return out


@attrs.define(eq=False)
class RefundRecord:
    """One refund order; ``state`` is driven by :data:`.rules.REFUND_MACHINE`. A ``created``
    refund is paid out when the sandbox clock reaches ``payout_due``, or ends ``canceled`` then
    when ``fails`` (an injected outcome)."""

    data: dict[str, Any]
    state: str = "created"
    payout_due: datetime | None = None
    fails: bool = False

    @property
    def id(self) -> str:
        return str(self.data["id"])

    def to_json(self) -> dict[str, Any]:
        out = copy.deepcopy(self.data)
        out["status"] = self.state
        return out


class SandboxState:
    """Every stored object, in creation order, guarded by ``lock``."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.clear()

    def clear(self) -> None:
        with self.lock:
            self.orders: dict[str, OrderRecord] = {}
            self.refunds: dict[str, RefundRecord] = {}
            self.shipments: dict[int, dict[str, Any]] = {}
            self.receipts: list[dict[str, Any]] = []
            self.documents: list[dict[str, Any]] = []
            self.mailbox: list[dict[str, Any]] = []
            self.notifications: list[dict[str, Any]] = []
            self.events: list[dict[str, Any]] = []
            self.requests: list[dict[str, Any]] = []
            self._event_seq = itertools.count(1)
            # Shipment ids are integers in the API (MCP and DOCS examples: 371723).
            self._shipment_ids = itertools.count(371001)

    # --- lookups -------------------------------------------------------------------------------

    def order(self, order_id: str) -> OrderRecord | None:
        return self.orders.get(order_id)

    def order_by_container(self, container_id: str) -> OrderRecord | None:
        """The order an invoice page shows: the latest one created in that container."""
        found = None
        for record in self.orders.values():
            if record.data.get("orderContainerId") == container_id:
                found = record
        return found

    def order_by_merchant_order_id(self, merchant_order_id: str) -> OrderRecord | None:
        for record in self.orders.values():
            if record.data.get("merchantOrderId") == merchant_order_id:
                return record
        return None

    def refund_by_merchant_order_id(self, merchant_order_id: str) -> RefundRecord | None:
        for record in self.refunds.values():
            if record.data.get("merchantOrderId") == merchant_order_id:
                return record
        return None

    def shipments_of(self, record: OrderRecord) -> list[dict[str, Any]]:
        return [self.shipments[i] for i in record.shipment_ids]

    def refunds_of(self, record: OrderRecord) -> list[RefundRecord]:
        return [self.refunds[i] for i in record.refund_ids]

    # --- writes ----------------------------------------------------------------------------------

    def next_shipment_id(self) -> int:
        return next(self._shipment_ids)

    def add_event(self, order_id: str | None, effect: str, receipt: str | None = None,
                  detail: dict[str, Any] | None = None) -> dict[str, Any]:
        """Record one InvoiceBox-side effect (an :class:`~invoicebox_flow.flows.Effect` value)."""
        with self.lock:
            event = {"seq": next(self._event_seq), "at": time.time(), "orderId": order_id,
                     "effect": effect, "receipt": receipt, "detail": dict(detail or {})}
            self.events.append(event)
            return event
