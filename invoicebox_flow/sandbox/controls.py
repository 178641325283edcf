"""The sandbox side of the inspection API (``/_sandbox/``): read what happened, move the clock,
redeliver or test notifications, set an order's InvoiceBox-side settings, cancel a pending
refund, reset. Not part of InvoiceBox's API; :mod:`.inspection_api` serves it over HTTP.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from typing import Any

from .backoffice import BackOffice
from .clock import format_atom
from .core import SandboxCore
from .instruments import check_page_instrument
from .rules import CREATED, api_error, not_found

READABLE = ("orders", "refunds", "shipments", "receipts", "documents", "mailbox", "notifications", "events",
            "requests")


class Controls:
    def __init__(self, core: SandboxCore, backoffice: BackOffice) -> None:
        self.core = core
        self.backoffice = backoffice
        self.state = core.state

    def snapshot(self, kind: str, order_id: str | None = None, address: str | None = None) -> list[dict[str, Any]]:
        """Copies of stored objects of one kind, optionally of one order (or one mail address)."""
        state = self.state
        with state.lock:
            self.backoffice.catch_up()
            readers: dict[str, Callable[[], Iterable[dict[str, Any]]]] = {
                "orders": lambda: [r.to_json() for r in state.orders.values()],
                "refunds": lambda: [r.to_json() for r in state.refunds.values()],
                "shipments": lambda: list(state.shipments.values()),
                "receipts": lambda: state.receipts,
                "documents": lambda: state.documents,
                "mailbox": lambda: state.mailbox,
                "notifications": lambda: state.notifications,
                "events": lambda: state.events,
                "requests": lambda: state.requests,
            }
            key = {"orders": "id", "refunds": "parentId"}.get(kind, "orderId")
            return copy.deepcopy([item for item in readers[kind]()
                                  if (order_id is None or item.get(key) == order_id)
                                  and (address is None or item.get("to") == address)])

    def log_request(self, entry: dict[str, Any]) -> None:
        with self.state.lock:
            self.state.requests.append(entry)

    def advance_clock(self, seconds: float) -> str:
        with self.state.lock:
            now = self.core.clock.advance(seconds)
            self.backoffice.catch_up()
            return format_atom(now)

    def redeliver(self, order_id: str) -> None:
        with self.state.lock:
            notification = self.core._order(order_id).payment_notification
            if notification is None:
                raise api_error(422, "wrong_order_status", "this order has no payment notification to deliver")
        self.core.notifier.redeliver(notification)

    def send_test_notification(self, url: str | None) -> dict[str, Any]:
        url = url or self.core.settings.notification_url
        if not url:
            raise api_error(422, "validation", "no notification URL: pass one or start the sandbox with one")
        return self.core.notifier.send_now(self.core.notifier.test_notification(url, self.core.settings.merchant_id))

    def order_settings(self, order_id: str, changes: dict[str, Any] | None = None) -> dict[str, Any]:
        """An order's InvoiceBox-side settings (``paymentInstrument``, ``autoShipment``), changed
        by ``changes`` first; set them before the buyer pays."""
        changes = changes or {}
        unknown = sorted(set(changes) - {"paymentInstrument", "autoShipment"})
        if unknown:
            raise api_error(422, "validation", f"unknown order settings {unknown}; known: paymentInstrument, autoShipment")
        with self.state.lock:
            record = self.core._order(order_id)
            if "paymentInstrument" in changes:
                try:
                    instrument = check_page_instrument(changes["paymentInstrument"])
                except ValueError as error:
                    raise api_error(422, "validation", str(error)) from None
                record.payment_instrument = instrument
            if "autoShipment" in changes:
                if not isinstance(changes["autoShipment"], bool):
                    raise api_error(422, "validation", "autoShipment must be true or false")
                record.auto_shipment = changes["autoShipment"]
            return record.settings()

    def cancel_refund(self, refund_id: str) -> dict[str, Any]:
        """A refund still waiting for its payout ends ``canceled`` now."""
        with self.state.lock:
            self.backoffice.catch_up()
            refund = self.state.refunds.get(refund_id)
            if refund is None:
                raise not_found("refund", refund_id)
            if refund.state != CREATED:
                raise api_error(422, "wrong_order_status", f"a refund in status {refund.state!r} cannot be canceled")
            self.backoffice.cancel_refund(refund, reason="control")
            return refund.to_json()

    def reset(self) -> None:
        """Forget every object, event, fault and queued task; the clock goes back to real time.
        Credentials and settings stay."""
        core = self.core
        with self.state.lock:
            core.worker.clear()
            self.state.clear()
            core.faults.clear()
            core.clock.reset()
            core.throttle.reset()
            core.notifier.forget_held()
