"""Refunds at InvoiceBox: what can still be refunded, refund orders (reference §3.6–3.8)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..models import RefundableItem, RefundOrder, RefundRequest
from ..protocol import CREATE_REFUND, LIST_REFUNDS, REFUNDABLE_ITEMS
from ._outcome import reconciled
from ._requestor import Requestor
from ._wire import ResultList


class RefundsService:
    """``client.refunds``."""

    def __init__(self, requestor: Requestor):
        self._requestor = requestor

    def refundable_items(self, order_id: str) -> ResultList[RefundableItem]:
        """``GET /billing/api/order/order/{id}/refund-basket-item`` — what can still be refunded."""
        return self._requestor.read(REFUNDABLE_ITEMS, order_id=order_id).models(RefundableItem)

    def create(self, req: RefundRequest, *, validate: bool = True) -> RefundOrder:
        """Create a refund order (``POST /billing/api/order/refund-order``), also as ``draft``;
        after a lost answer it is looked up by the refund's own ``merchantOrderId`` (unique per
        refund).

        ``validate=False`` skips the local check (:meth:`RefundRequest.validate`).
        """
        if validate:
            req.validate()

        def by_merchant_order_id() -> RefundOrder | None:
            refunds = self.find(parent_id=req.parent_id, filters={"merchantOrderId": req.merchant_order_id})
            matches = [r for r in refunds if r.merchant_order_id == req.merchant_order_id]
            return matches[-1] if matches else None

        return reconciled(
            lambda: self._requestor.write(CREATE_REFUND, body=req.to_json()).model(RefundOrder),
            by_merchant_order_id, operation="create_refund", merchant_order_id=req.merchant_order_id,
        )

    def find(self, *, parent_id: str | None = None, filters: Mapping[str, Any] | None = None,
             page: int | None = None, page_size: int | None = None) -> ResultList[RefundOrder]:
        """``GET /filter/api/order/refund-order`` — refunds, e.g. of one paid order; one page of
        them with ``page``/``page_size``."""
        return self._requestor.read_list(LIST_REFUNDS, RefundOrder, filters,
                                         owner=("parentId", "parent_id", parent_id), page=page, page_size=page_size)
