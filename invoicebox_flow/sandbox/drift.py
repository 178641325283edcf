"""Drift: changes made on InvoiceBox's side that the shop is not told about, for the shop's
reconciliation tests.

Each control does what InvoiceBox's staff or the merchant's personal account could do, with no
API call from the shop and no notification: cancel or expire an unpaid order, refund or ship a
paid one by hand (money returned, receipts or documents issued, visible in the API's lists), or
change an order's amount. Every drift is journaled as an event ``{"effect": "drift", "detail":
{"action": …}}``; losing a notification for good is a notification fault (``drop``), journaled
the same way by :mod:`.notifier`.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from ..errors import ValidationError
from ..money import to_decimal
from . import rules
from .backoffice import BackOffice
from .core import SandboxCore
from .notifier import DRIFT
from .refunds_api import RefundsApi
from .rules import ORDER_MACHINE, fire, validation_error
from .state import OrderRecord

HAND_REFUND_DESCRIPTION = "Возврат, оформленный в личном кабинете"


def _lines(value: Any) -> list[dict[str, Any]] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not value or not all(isinstance(item, Mapping) for item in value):
        raise validation_error([rules.field_problem("basketItems", "basketItems must be a non-empty list of objects")])
    return [dict(item) for item in value]


def _amount(value: Any, name: str) -> Decimal:
    try:
        amount = to_decimal(value, name=name)
    except ValidationError:
        amount = Decimal(-1)
    if amount < 0:
        raise validation_error([rules.field_problem(name, f"{name} must be a non-negative amount")])
    return rules.money(amount)


class Drift:
    def __init__(self, core: SandboxCore, backoffice: BackOffice, refunds: RefundsApi) -> None:
        self.core = core
        self.backoffice = backoffice
        self.refunds = refunds
        self.state = core.state

    def cancel_order(self, order_id: str) -> dict[str, Any]:
        """An unpaid order canceled at InvoiceBox, no status notification."""
        return self._close(order_id, "cancel", "cancel_order")

    def expire_order(self, order_id: str) -> dict[str, Any]:
        """An unpaid order expired at InvoiceBox before its ``expirationDate``, no status notification."""
        return self._close(order_id, "expire", "expire_order")

    def _close(self, order_id: str, trigger: str, action: str) -> dict[str, Any]:
        with self.state.lock:
            self.backoffice.catch_up()
            record = self.core._order(order_id)
            fire(ORDER_MACHINE, record, trigger, action.replace("_", " "))
            self._journal(record, action, status=record.state)
            return record.to_json()

    def change_amount(self, order_id: str, amount: Any, vat_amount: Any = None) -> dict[str, Any]:
        """The order's ``amount`` (and ``vatAmount`` if given) changed at InvoiceBox; the basket stays."""
        with self.state.lock:
            self.backoffice.catch_up()
            record = self.core._order(order_id)
            before = {"amount": record.data.get("amount"), "vatAmount": record.data.get("vatAmount")}
            record.data["amount"] = _amount(amount, "amount")
            if vat_amount is not None:
                record.data["vatAmount"] = _amount(vat_amount, "vatAmount")
            self._journal(record, "change_amount", before=before,
                          after={"amount": record.data["amount"], "vatAmount": record.data.get("vatAmount")})
            return record.to_json()

    def refund(self, order_id: str, basket_items: Any = None, *, description: str | None = None,
               merchant_order_id: str | None = None) -> dict[str, Any]:
        """A refund made in the personal account: of ``basket_items`` (default: everything still
        refundable), paid out at once with its «возврат» receipt or refund documents."""
        for name, text in (("description", description), ("merchantOrderId", merchant_order_id)):
            if text is not None and (not isinstance(text, str) or not text.strip()):
                raise validation_error([rules.field_problem(name, f"{name} must be a non-empty string")])
        with self.state.lock:
            self.backoffice.catch_up()
            record = self.core._order(order_id)
            lines = _lines(basket_items) or self._refundable(record)
            request = {
                "parentId": record.id, "merchantOrderId": merchant_order_id or f"manual-{uuid.uuid4().hex[:12]}",
                "description": description or HAND_REFUND_DESCRIPTION, "basketItems": lines,
                "amount": sum((rules.money(line["totalAmount"]) for line in lines), Decimal("0.00")),
                "vatAmount": sum((rules.money(line["totalVatAmount"]) for line in lines), Decimal("0.00")),
            }
            refund = self.refunds.store_refund(record, request)
            self.backoffice.pay_out(record.to_json(), refund)
            self._journal(record, "refund", refundId=refund.id, amount=request["amount"])
            return refund.to_json()

    def _refundable(self, record: OrderRecord) -> list[dict[str, Any]]:
        items = rules.refundable_items(record, self.state.refunds_of(record))
        if not items:
            raise rules.api_error(422, "wrong_refund_amount", "nothing is left to refund on this order")
        return [{k: v for k, v in item.items() if k not in ("availableAmount", "availableVatAmount")}
                for item in items]

    def ship(self, order_id: str, basket_items: Any = None) -> dict[str, Any]:
        """A shipment registered at InvoiceBox by hand: of ``basket_items`` (default: the whole
        order), with its «полный расчёт» receipt or reporting documents issued at once."""
        with self.state.lock:
            self.backoffice.catch_up()
            record = self.core._order(order_id)
            shipment = self.backoffice.ship_by_invoicebox(record, _lines(basket_items))
            self._journal(record, "shipment", shipmentId=shipment["id"], amount=shipment["amount"])
            return shipment

    def _journal(self, record: OrderRecord, action: str, **detail: Any) -> None:
        self.state.add_event(record.id, DRIFT, None, {"action": action, **detail})
