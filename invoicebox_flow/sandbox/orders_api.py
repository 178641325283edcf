"""The sandbox's answers to the order methods of the API: check auth, create, find, get, update
and cancel (DELETE), as plain method calls.

Each operation takes the state lock, lets time catch up, asks :mod:`.rules` whether it is
allowed, stores the result and leaves what InvoiceBox does afterwards to :mod:`.backoffice` and
the background worker. The HTTP layer (:mod:`.app`) only translates.
"""

from __future__ import annotations

import copy
import uuid
from typing import Any

from . import rules
from .backoffice import BackOffice
from .core import AUTH_OK, SandboxCore
from .effects import REFUND
from .listing import Listed, ListQuery, apply_query
from .rules import ORDER_MACHINE, api_error, fire
from .state import OrderRecord


class OrdersApi:
    def __init__(self, core: SandboxCore, backoffice: BackOffice) -> None:
        self.core = core
        self.backoffice = backoffice
        self.state = core.state

    def check_auth(self, auth: str) -> dict[str, Any]:
        # With no token at all InvoiceBox answers 200 for an anonymous user (userId null).
        return {"userId": self.core.settings.user_id if auth == AUTH_OK else None, "profile": None,
                "accessToken": None}

    def create_order(self, payload: Any) -> dict[str, Any]:
        settings = self.core.settings
        with self.state.lock:
            self.backoffice.catch_up()
            rules.check_new_order(payload, merchant_id=settings.merchant_id, now=self.core.clock.now())
            if settings.unique_merchant_order_id and self.state.order_by_merchant_order_id(payload["merchantOrderId"]):
                raise api_error(422, "merchant_order_id_duplicate",
                                f"merchantOrderId {payload['merchantOrderId']!r} is already used",
                                [rules.field_problem("merchantOrderId", "already used", "merchant_order_id_duplicate")])
            order_id = str(uuid.uuid4())
            container_id = payload.get("orderContainerId") or str(uuid.uuid4())
            data = {"id": order_id, **copy.deepcopy(dict(payload))}
            data.update({
                "orderContainerId": container_id, "languageId": payload.get("languageId", "ru"),
                "subtype": "order", "processingStatus": "", "processable": payload.get("processable", True),
                "fileIds": [], "createdAt": self.core._now(),
                "paymentUrl": f"{self.core.base_url}/pay/order/{container_id}",
            })
            data.pop("status", None)
            data.pop("paidAt", None)
            record = OrderRecord(data, payment_instrument=settings.payment_instrument,
                                 auto_shipment=settings.auto_shipment)
            self.state.orders[order_id] = record
            return record.to_json()

    def find_orders(self, query: ListQuery) -> Listed:
        with self.state.lock:
            self.backoffice.catch_up()
            items, meta = apply_query(query, [r.to_json() for r in self.state.orders.values()])
            return Listed(items, meta)

    def get_order(self, order_id: str) -> dict[str, Any]:
        with self.state.lock:
            self.backoffice.catch_up()
            return self.core._order(order_id).to_json()

    def update_order(self, order_id: str, payload: Any) -> dict[str, Any]:
        with self.state.lock:
            self.backoffice.catch_up()
            record = self.core._order(order_id)
            merged = rules.merged_update(record, payload, merchant_id=self.core.settings.merchant_id,
                                         now=self.core.clock.now())
            fire(ORDER_MACHINE, record, "update", "update")
            record.data = merged
            return record.to_json()

    def cancel_order(self, order_id: str) -> dict[str, Any]:
        """DELETE: an unpaid order is canceled; a paid one only when its payment can be reversed
        (:mod:`.instruments`), else ``wrong_order_status``."""
        with self.state.lock:
            self.backoffice.catch_up()
            record = self.core._order(order_id)
            trigger = rules.cancel_trigger(record)
            fire(ORDER_MACHINE, record, trigger, "cancel")
            if trigger == "reverse":
                order = record.to_json()
                self.core._in_background(lambda: self._reverse_payment(order))
            self.backoffice.notify_status(record)
            return record.to_json()

    def _reverse_payment(self, order: dict[str, Any]) -> None:
        """A paid order canceled by the shop: all money back; a private payer, who got a
        «предоплата 100%» receipt, gets the matching «возврат» receipt."""
        self.core.effects.return_money(order["id"], order["amount"], reason="reversal")
        if rules.payer_variant(order) == "private":
            self.core.effects.issue_receipt(order, REFUND, order["basketItems"])
