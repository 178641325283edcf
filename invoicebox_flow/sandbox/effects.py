"""What InvoiceBox produces around the API: cash-register receipts for private payers,
reporting documents for legal ones, the messages "delivered" to the buyer, returned money.

Each producer stores what it made and records the matching event (an
:class:`~invoicebox_flow.flows.Effect` value), so a test can see both the artefact and the
documented step it stands for. Callers hold ``state.lock``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from ..fiscal import DOCUMENT_TITLES, RECEIPT_PAYMENT_TYPES, Receipt, document_kinds, document_lines
from ..flows import Effect
from .clock import SandboxClock, format_atom, format_date
from .rules import contact_of, money
from .state import SandboxState

PREPAYMENT_FULL = Receipt.PREPAYMENT_FULL.value  # «предоплата 100%», on payment
FULL_SETTLEMENT = Receipt.FULL_SETTLEMENT.value  # «полный расчёт», on shipment
REFUND = Receipt.REFUND.value  # «возврат», on refund


def _line(item: Mapping[str, Any], payment_type: str | None) -> dict[str, Any]:
    return {
        "sku": item.get("sku"), "name": item.get("name"), "quantity": item.get("quantity"),
        "measure": item.get("measure"), "price": item.get("amount"), "amount": money(item["totalAmount"]),
        "vatCode": item.get("vatCode"), "vatAmount": money(item["totalVatAmount"]), "type": item.get("type"),
        "paymentType": payment_type or item.get("paymentType"),
    }


def _totals(lines: list[dict[str, Any]]) -> tuple[Decimal, Decimal]:
    return (sum((line["amount"] for line in lines), Decimal("0.00")),
            sum((line["vatAmount"] for line in lines), Decimal("0.00")))


def _number(order: Mapping[str, Any]) -> str:
    return str(order.get("merchantOrderIdVisible") or order.get("merchantOrderId") or order.get("id"))


class Effects:
    def __init__(self, state: SandboxState, clock: SandboxClock) -> None:
        self.state = state
        self.clock = clock

    # --- the online cash register (private payers) -------------------------------------------------

    def register_receipt(self, order: Mapping[str, Any], receipt_type: str, items: Sequence[Mapping[str, Any]],
                         **refs: Any) -> dict[str, Any]:
        kind = Receipt(receipt_type)
        lines = [_line(item, RECEIPT_PAYMENT_TYPES.get(kind)) for item in items]
        amount, vat = _totals(lines)
        receipt = {
            "id": str(uuid.uuid4()), "orderId": order["id"], "type": receipt_type,
            "title": kind.label, "items": lines, "amount": amount, "vatAmount": vat,
            "currencyId": order.get("currencyId"), "contact": contact_of(order.get("customer")),
            "registeredAt": format_atom(self.clock.now()), **refs,
        }
        self.state.receipts.append(receipt)
        self.state.add_event(order["id"], Effect.RECEIPT_REGISTERED.value, receipt_type, {"receiptId": receipt["id"]})
        return receipt

    def deliver_receipt(self, receipt: Mapping[str, Any]) -> dict[str, Any] | None:
        """Mail the receipt to the buyer's contact; a receipt without one is not delivered."""
        if not receipt["contact"]:
            return None
        mail = self._mail(receipt["contact"], f"Кассовый чек «{receipt['title']}»", "receipt", [receipt["id"]],
                          receipt["orderId"])
        self.state.add_event(receipt["orderId"], Effect.RECEIPT_DELIVERED.value, receipt["type"],
                             {"receiptId": receipt["id"], "to": mail["to"], "mailId": mail["id"]})
        return mail

    def issue_receipt(self, order: Mapping[str, Any], receipt_type: str, items: Sequence[Mapping[str, Any]],
                      **refs: Any) -> dict[str, Any]:
        """Register a receipt and deliver it: the two documented steps, in their order."""
        receipt = self.register_receipt(order, receipt_type, items, **refs)
        self.deliver_receipt(receipt)
        return receipt

    # --- reporting documents (legal payers) ----------------------------------------------------------

    def issue_documents(self, order: Mapping[str, Any], items: Sequence[Mapping[str, Any]], *, refund: bool,
                        **refs: Any) -> list[dict[str, Any]]:
        """The funds-transfer report plus an act and/or TORG-12, mailed to the buyer in one message."""
        customer = order.get("customer") or {}
        buyer = {k: customer.get(k) for k in ("name", "vatNumber", "taxRegistrationReasonCode", "registrationAddress")}
        documents = []
        for kind in document_kinds(list(items), refund=refund):
            lines = [_line(item, None) for item in document_lines(kind, items)]
            amount, vat = _totals(lines)
            document = {
                "id": str(uuid.uuid4()), "orderId": order["id"], "kind": kind, "title": DOCUMENT_TITLES[kind],
                "number": f"{_number(order)}-{len(self.state.documents) + 1}", "date": format_date(self.clock.now()),
                "items": lines, "amount": amount, "vatAmount": vat, "currencyId": order.get("currencyId"),
                "buyer": buyer, "createdAt": format_atom(self.clock.now()), **refs,
            }
            self.state.documents.append(document)
            documents.append(document)
        subject = (f"Документы по возврату по заказу {_number(order)}" if refund
                   else f"Отчётные документы по заказу {_number(order)}")
        mail = self._mail(contact_of(customer), subject, "documents", [d["id"] for d in documents], order["id"])
        self.state.add_event(order["id"], Effect.DOCUMENTS_DELIVERED.value, None,
                             {"documentIds": mail["refs"], "kinds": [d["kind"] for d in documents],
                              "to": mail["to"], "mailId": mail["id"], **refs})
        return documents

    # --- invoices for bank transfer ------------------------------------------------------------------

    def send_invoice(self, order: Mapping[str, Any]) -> dict[str, Any]:
        """Mail the invoice (счёт на оплату) an organisation pays by bank transfer."""
        return self._mail(contact_of(order.get("customer")), f"Счёт на оплату по заказу {_number(order)}", "invoice",
                          [], order["id"])

    # --- money -------------------------------------------------------------------------------------------

    def return_money(self, order_id: str, amount: Any, **detail: Any) -> dict[str, Any]:
        return self.state.add_event(order_id, Effect.MONEY_RETURNED.value, None, {"amount": amount, **detail})

    # --- the buyer's mailbox -------------------------------------------------------------------------------

    def _mail(self, to: str | None, subject: str, kind: str, refs: list[str], order_id: str) -> dict[str, Any]:
        mail = {"id": str(uuid.uuid4()), "to": to, "subject": subject, "kind": kind, "refs": list(refs),
                "orderId": order_id, "sentAt": format_atom(self.clock.now())}
        self.state.mailbox.append(mail)
        return mail
