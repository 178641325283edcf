"""What the sandbox's InvoiceBox does on its own, without a request asking for it at that moment:
orders expire, refunds are paid out (or end ``canceled``) once their payout delay has passed,
status notifications go out, online services are shipped automatically after payment, and a
registered shipment gets its receipt or documents.

The API operations, the payment page and the drift controls call these; every method expects
the caller to hold ``state.lock``. Time is the sandbox clock: :meth:`BackOffice.catch_up` runs at
the start of every operation and after the clock is moved, so a test that advances the clock
sees at once what was due.
"""

from __future__ import annotations

import copy
from datetime import timedelta
from decimal import Decimal
from typing import Any

from ..fiscal import is_goods
from . import rules
from .core import SandboxCore
from .effects import FULL_SETTLEMENT, REFUND
from .rules import COMPLETED, CREATED, ORDER_MACHINE, REFUND_MACHINE, fire
from .state import OrderRecord, RefundRecord

AUTOMATIC_SHIPMENT = "automatic_shipment"  # event: InvoiceBox shipped an online service by itself
REFUND_CANCELED = "refund_canceled"  # event: a refund ended canceled, no money moved
BANK_TRANSFER_INVOICE = "bank_transfer_invoice"  # event: the payer chose to pay by bank transfer


class BackOffice:
    def __init__(self, core: SandboxCore) -> None:
        self.core = core
        self.state = core.state

    # --- time ----------------------------------------------------------------------------------

    def catch_up(self) -> None:
        """Expire every unpaid order past its ``expirationDate`` and settle every refund whose
        payout is due, by the sandbox clock."""
        now = self.core.clock.now()
        for record in list(self.state.orders.values()):
            if rules.is_due_to_expire(record, now):
                fire(ORDER_MACHINE, record, "expire", "expiry")
                self.notify_status(record)
        for refund in list(self.state.refunds.values()):
            if refund.state == CREATED and refund.payout_due is not None and refund.payout_due <= now:
                self._settle_refund(refund)

    # --- status notifications ------------------------------------------------------------------

    def notify_status(self, record: OrderRecord) -> None:
        """Send the order's new status when the sandbox is set to notify it (canceled, expired)."""
        url = self.core.notification_url(record)
        if record.state not in self.core.settings.status_notifications or not url:
            return
        notification = self.core.notifier.build(record.to_json(), url, order_id=record.id, kind="status")
        record.status_notifications.append(notification)
        self.core._in_background(lambda: self.core.notifier.dispatch(notification))

    # --- refunds -----------------------------------------------------------------------------------

    def accept_refund(self, refund: RefundRecord) -> None:
        """Schedule a ``created`` refund's payout ``refund_payout_delay`` seconds from now (a
        pending ``canceled`` refund fault makes it end canceled then instead)."""
        delay = float(self.core.settings.refund_payout_delay)
        refund.payout_due = self.core.clock.now() + timedelta(seconds=delay)
        refund.fails = self.core.faults.take_refund() is not None
        # Due by then in real time; catch_up settles it sooner when a test moves the clock.
        self.core._in_background(lambda: self._settle_refund(refund), delay)

    def _settle_refund(self, refund: RefundRecord) -> None:
        if refund.state != CREATED:
            return  # settled already (the clock moved) or canceled meanwhile
        order = self.core._order(refund.data["parentId"]).to_json()
        if refund.fails:
            self.cancel_refund(refund, reason="injected")
        else:
            self.pay_out(order, refund)

    def pay_out(self, order: dict[str, Any], refund: RefundRecord) -> None:
        """The money goes back; a private payer gets the «возврат» receipt, a legal one the
        refund documents."""
        fire(REFUND_MACHINE, refund, "return_money", "money return")
        self.core.effects.return_money(order["id"], refund.data["amount"], refundId=refund.id)
        lines = refund.data["basketItems"]
        if rules.payer_variant(order) == "private":
            self.core.effects.issue_receipt(order, REFUND, lines, refundId=refund.id)
        else:
            self.core.effects.issue_documents(order, lines, refund=True, refundId=refund.id)

    def cancel_refund(self, refund: RefundRecord, *, reason: str) -> None:
        """The refund ends ``canceled``: no money moves, no receipt, and its lines are refundable again."""
        fire(REFUND_MACHINE, refund, "cancel", "refund cancellation")
        self.state.add_event(refund.data["parentId"], REFUND_CANCELED, None,
                             {"refundId": refund.id, "amount": refund.data["amount"], "reason": reason})

    # --- shipments ---------------------------------------------------------------------------------

    def register_shipment(self, record: OrderRecord, request: dict[str, Any],
                          lines: list[dict[str, Any]]) -> dict[str, Any]:
        """Store a shipment of ``lines`` (already checked by :func:`.rules.shipment_lines`)."""
        fire(ORDER_MACHINE, record, "ship", "shipment")
        shipment_id = self.state.next_shipment_id()
        shipment = {
            "id": shipment_id, **copy.deepcopy(request), "merchantId": self.core.settings.merchant_id,
            "orderId": record.id, "basketItems": lines, "status": "completed",
            "amount": sum((rules.money(line["totalAmount"]) for line in lines), Decimal("0.00")),
            "vatAmount": sum((rules.money(line["totalVatAmount"]) for line in lines), Decimal("0.00")),
            "createdAt": self.core._now(),
        }
        self.state.shipments[shipment_id] = shipment
        record.shipment_ids.append(shipment_id)
        return copy.deepcopy(shipment)

    def issue_shipment_papers(self, order: dict[str, Any], lines: list[dict[str, Any]], shipment_id: int) -> None:
        """«полный расчёт» for a private payer, the reporting documents for a legal one."""
        if rules.payer_variant(order) == "private":
            self.core.effects.issue_receipt(order, FULL_SETTLEMENT, lines, shipmentId=shipment_id)
        else:
            self.core.effects.issue_documents(order, lines, refund=False, shipmentId=shipment_id)

    def ship_by_invoicebox(self, record: OrderRecord, lines: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """Register a shipment nobody requested through the API (all the order's lines unless
        given) and issue its receipt or documents now; raises like a shop's request would."""
        request = {"orderId": record.id, "basketItems": copy.deepcopy(lines or record.data["basketItems"])}
        checked = rules.shipment_lines(record, request, self.state.shipments_of(record), self.state.refunds_of(record))
        shipment = self.register_shipment(record, {}, checked)
        self.issue_shipment_papers(record.to_json(), copy.deepcopy(checked), shipment["id"])
        return shipment

    def ship_automatically(self, order_id: str) -> None:
        """After a payment: an order set to be shipped automatically whose lines are all services
        is shipped by InvoiceBox itself (DOCS schema.md: "Если услуга оказывается онлайн, отгрузка
        по заказу может быть установлена автоматически")."""
        record = self.state.order(order_id)
        if record is None or not record.auto_shipment or record.state != COMPLETED or record.shipment_ids:
            return
        if any(is_goods(line) for line in record.data["basketItems"]):
            return  # goods travel: only the shop knows when they were handed over
        shipment = self.ship_by_invoicebox(record)
        self.state.add_event(record.id, AUTOMATIC_SHIPMENT, None, {"shipmentId": shipment["id"]})

    # --- bank transfer -------------------------------------------------------------------------------

    def invoice_bank_transfer(self, record: OrderRecord, customer: dict[str, Any] | None = None) -> dict[str, Any]:
        """The payer (``customer``, as left on the page, if given) chose to pay by bank transfer:
        the invoice is mailed, no money has moved and the order stays ``created`` (and may
        expire) until the transfer is settled. Refused unless payable and the payer is legal."""
        if record.state != CREATED:
            raise rules.wrong_order_status("bank transfer", record.state)
        if rules.payer_variant({"customer": customer or record.data.get("customer")}) != "legal":
            raise rules.api_error(422, "wrong_order_status", "bank transfer is for organisations and sole proprietors")
        if customer is not None:
            record.data["customer"] = customer
        if not record.bank_transfer_requested:
            record.bank_transfer_requested = True
            order = record.to_json()
            mail = self.core.effects.send_invoice(order)
            self.state.add_event(record.id, BANK_TRANSFER_INVOICE, None, {"amount": order["amount"], "to": mail["to"],
                                                                           "mailId": mail["id"]})
        return record.to_json()
