"""The sandbox's answers to the refund methods of the API: what is still refundable, create a
refund, list refunds.

A ``created`` refund is accepted at once and paid out later by :mod:`.backoffice` (after
``refund_payout_delay`` on the sandbox clock; at once by default), or ends ``canceled`` when a
refund fault says so. A ``draft`` stays a draft and moves no money.
"""

from __future__ import annotations

import copy
import uuid
from typing import Any

from . import rules
from .backoffice import BackOffice
from .core import SandboxCore
from .listing import Listed, ListQuery, apply_query
from .rules import ORDER_MACHINE, api_error, fire
from .state import OrderRecord, RefundRecord


class RefundsApi:
    def __init__(self, core: SandboxCore, backoffice: BackOffice) -> None:
        self.core = core
        self.backoffice = backoffice
        self.state = core.state

    def refundable_items(self, order_id: str) -> Listed:
        with self.state.lock:
            self.backoffice.catch_up()
            record = self.core._order(order_id)
            items = rules.refundable_items(record, self.state.refunds_of(record))
            return Listed(items, {"totalCount": len(items), "pageSize": max(len(items), 1), "page": 1})

    def create_refund(self, payload: Any) -> dict[str, Any]:
        with self.state.lock:
            self.backoffice.catch_up()
            request = rules.check_refund_request(payload)
            record = self.core._order(request["parentId"])
            refund = self.store_refund(record, request)
            if refund.state == rules.CREATED:
                self.backoffice.accept_refund(refund)
            return refund.to_json()

    def store_refund(self, record: OrderRecord, request: Any) -> RefundRecord:
        """Check a refund of ``record`` and store it in its requested status (``created`` or ``draft``)."""
        if self.state.refund_by_merchant_order_id(request["merchantOrderId"]):
            # Always enforced for refunds: it is what prevents a double refund (§7.1).
            raise api_error(422, "merchant_order_id_duplicate",
                            f"refund merchantOrderId {request['merchantOrderId']!r} is already used",
                            [rules.field_problem("merchantOrderId", "already used", "merchant_order_id_duplicate")])
        rules.check_refund(record, request, self.state.refunds_of(record))
        fire(ORDER_MACHINE, record, "refund", "refund")
        refund_id = str(uuid.uuid4())
        data = {"id": refund_id, **copy.deepcopy(dict(request)), "parentId": record.id,
                "merchantId": self.core.settings.merchant_id, "currencyId": record.data.get("currencyId"),
                "createdAt": self.core._now()}
        data.pop("status", None)
        refund = RefundRecord(data, state=request.get("status", rules.CREATED))
        self.state.refunds[refund_id] = refund
        record.refund_ids.append(refund_id)
        return refund

    def list_refunds(self, query: ListQuery) -> Listed:
        with self.state.lock:
            self.backoffice.catch_up()
            items, meta = apply_query(query, [r.to_json() for r in self.state.refunds.values()])
            return Listed(items, meta)
