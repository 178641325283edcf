"""The sandbox's InvoiceBox as one object: :class:`SandboxEngine` puts the API operations
(:mod:`.orders_api`, :mod:`.shipments_api`, :mod:`.refunds_api`), InvoiceBox's own processes
(:mod:`.backoffice`), the drift controls (:mod:`.drift`) and the inspection controls
(:mod:`.controls`) together, and itself plays what the buyer does on the payment page: view the
invoice, pay, decline, or choose to pay by bank transfer, which an organisation settles later.

Each operation takes the state lock, lets time catch up (orders past ``expirationDate``
expire, due refunds are paid out), asks :mod:`.rules` whether it is allowed, stores the result
and queues what InvoiceBox does afterwards (receipts, documents, notifications) on the
background worker. The HTTP layers (:mod:`.app`, :mod:`.payment_page`, :mod:`.inspection_api`)
only translate.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..flows import Effect
from . import rules
from .backoffice import BackOffice
from .controls import Controls
from .core import SandboxCore, SandboxSettings
from .drift import Drift
from .effects import PREPAYMENT_FULL
from .instruments import BANK_TRANSFER
from .invoice_view import InvoiceView
from .orders_api import OrdersApi
from .refunds_api import RefundsApi
from .rules import ORDER_MACHINE, fire, not_found
from .shipments_api import ShipmentsApi
from .state import OrderRecord


class SandboxEngine(SandboxCore):
    def __init__(self, settings: SandboxSettings) -> None:
        super().__init__(settings)
        self.backoffice = BackOffice(self)
        self.orders = OrdersApi(self, self.backoffice)
        self.shipments = ShipmentsApi(self, self.backoffice)
        self.refunds = RefundsApi(self, self.backoffice)
        self.drift = Drift(self, self.backoffice, self.refunds)
        self.controls = Controls(self, self.backoffice)

    def _catch_up(self) -> None:
        self.backoffice.catch_up()

    # --- the payment page ------------------------------------------------------------------------

    def _invoice_record(self, container_id: str) -> OrderRecord:
        record = self.state.order_by_container(container_id)
        if record is None:
            raise not_found("invoice", container_id)
        return record

    def show_invoice(self, container_id: str, *, record_view: bool = True) -> InvoiceView:
        """The invoice behind a payment page; viewing a payable one is a page interaction
        (``record_view=False``: the page only shows where the payer stands)."""
        with self.state.lock:
            self._catch_up()
            record = self._invoice_record(container_id)
            if record_view and record.state == rules.CREATED:
                self.state.add_event(record.id, Effect.PAGE_INTERACTION.value, None, {"action": "view"})
            return self._view(record)

    def _view(self, record: OrderRecord) -> InvoiceView:
        return InvoiceView.of(record, shop_name=self.settings.shop_name, shipping_control=self.settings.shipping_control,
                              attempts=self.state.notifications)

    def pay(self, container_id: str, payer_fields: Mapping[str, str]) -> str:
        """The buyer pays: the order is completed now; receipt and notification follow in the
        background. Returns where the buyer is redirected.

        Under «Контроль отгрузки на платёжной странице» (``shipping_control``) the buyer waits
        while the notification is delivered, and is sent to the page's result, which tells the
        shop's answer and then sends the buyer on to the shop (:attr:`InvoiceView.shop_url`).
        """
        with self.state.lock:
            self._catch_up()
            record = self._invoice_record(container_id)
            customer = rules.customer_after_payment(record.data, payer_fields)
            fire(ORDER_MACHINE, record, "pay", "payment")
            record.data["customer"] = customer
            record.data["paidAt"] = self._now()
            self.state.add_event(record.id, Effect.PAYMENT.value, None, {"amount": record.data["amount"]})
            order = record.to_json()
            url = record.data.get("notificationUrl") or self.settings.notification_url
            notification = self.notifier.build(order, url, order_id=record.id) if url else None
            record.payment_notification = notification
            if notification is None or not self.settings.shipping_control:
                location = record.data.get("successUrl") or f"{self.base_url}/pay/done/{container_id}"
                self.state.add_event(record.id, Effect.REDIRECT_TO_SHOP.value, None, {"location": location})
                self._in_background(lambda: self._after_payment(order, notification))
                return location
        # Outside the lock: the shop may well call the API before it answers.
        self.notifier.deliver_now(notification)
        with self.state.lock:
            result = f"{self.base_url}/pay/order/{container_id}/result"
            shop_url = self._view(record).shop_url
            self.state.add_event(record.id, Effect.REDIRECT_TO_SHOP.value, None, {"location": shop_url or result})
            self._in_background(lambda: self._after_payment(order, None))
            return result

    def _after_payment(self, order: dict[str, Any], notification: Any) -> None:
        if rules.payer_variant(order) == "private":
            self.effects.issue_receipt(order, PREPAYMENT_FULL, order["basketItems"])
        if notification is not None:
            self.notifier.dispatch(notification)
        self.backoffice.ship_automatically(order["id"])

    def decline(self, container_id: str) -> str:
        """The buyer declines: the order stays payable; returns where the buyer is redirected."""
        with self.state.lock:
            self._catch_up()
            record = self._invoice_record(container_id)
            if record.state != rules.CREATED:
                raise rules.wrong_order_status("decline", record.state)
            self.state.add_event(record.id, Effect.PAGE_INTERACTION.value, None, {"action": "decline"})
            return record.data.get("failUrl") or f"{self.base_url}/pay/declined/{container_id}"

    # --- bank transfer (an organisation pays the invoice days later) ------------------------------

    def choose_bank_transfer(self, container_id: str, payer_fields: Mapping[str, str] | None = None) -> dict[str, Any]:
        """The payer on the page chooses to pay by bank transfer: the invoice is mailed to them and
        the order stays ``created`` until :meth:`settle_bank_transfer`. ``payer_fields`` are the
        page's payer details (as for :meth:`pay`). Returns the order; refused (422) unless the
        order is payable and the payer is an organisation or sole proprietor."""
        with self.state.lock:
            self._catch_up()
            record = self.state.order_by_container(container_id)
            if record is None:
                raise not_found("invoice", container_id)
            chosen = self._invoice_bank_transfer(record, payer_fields)
            self.state.add_event(record.id, Effect.PAGE_INTERACTION.value, None, {"action": "bank_transfer"})
            return chosen

    def invoice_bank_transfer(self, order_id: str) -> dict[str, Any]:
        """:meth:`choose_bank_transfer` for one order, without the page (an inspection control)."""
        with self.state.lock:
            self._catch_up()
            return self._invoice_bank_transfer(self._order(order_id), None)

    def _invoice_bank_transfer(self, record: OrderRecord, payer_fields: Mapping[str, str] | None) -> dict[str, Any]:
        customer = rules.customer_after_payment(record.data, payer_fields) if payer_fields else None
        return self.backoffice.invoice_bank_transfer(record, customer)

    def settle_bank_transfer(self, order_id: str) -> dict[str, Any]:
        """The organisation's transfer arrives: the order is paid now and gets what a payment on
        the page brings (the payment notification, an automatic shipment), only later. Refused (422
        ``wrong_order_status``) when no invoice was sent for a transfer or the order is no longer
        payable, e.g. expired meanwhile."""
        with self.state.lock:
            self._catch_up()
            record = self._order(order_id)
            if not record.bank_transfer_requested:
                raise rules.api_error(422, "wrong_order_status", "no invoice was sent for a bank transfer")
            fire(ORDER_MACHINE, record, "pay", "bank transfer settlement")
            record.payment_instrument = BANK_TRANSFER
            record.data["paidAt"] = self._now()
            self.state.add_event(record.id, Effect.PAYMENT.value, None,
                                 {"amount": record.data["amount"], "instrument": BANK_TRANSFER})
            order = record.to_json()
            url = self.notification_url(record)
            notification = self.notifier.build(order, url, order_id=record.id) if url else None
            record.payment_notification = notification
            self._in_background(lambda: self._after_payment(order, notification))
            return order
