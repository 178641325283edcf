"""InvoiceBox inside the benchmark's process: a ``requests`` transport adapter that answers the API
calls a lifecycle makes, so that a figure measures the library and its database — not a web
server, a network or the sandbox's own bookkeeping.

The answers have the API's envelope and fields (the real client parses them as it parses
InvoiceBox's); the payment notification is the order as created, ``completed``, written the way
InvoiceBox's PHP writes JSON and signed with the shop's key, exactly as the sandbox sends it.

The stub keeps the orders it created (for their refundable lines and their notification) until
the benchmark takes them back with :meth:`StubInvoicebox.paid` or :meth:`StubInvoicebox.forget`,
so its memory does not grow with the orders passing through.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
from requests.adapters import BaseAdapter

from invoicebox_flow import jsonutil
from invoicebox_flow.client import InvoiceboxClient
from invoicebox_flow.protocol import (
    CREATE_ORDER,
    CREATE_REFUND,
    CREATE_SHIPMENT,
    LIST_SHIPMENTS,
    REFUNDABLE_ITEMS,
    OrderStatus,
)
from invoicebox_flow.signature import SIGNATURE_HEADER, sign

BASE_URL = "https://invoicebox.stub"
TOKEN = "0123456789abcdef0123456789abcdef"
MERCHANT_ID = "7a1f0c9e-0000-4000-8000-00000000b3c1"
NOTIFICATION_KEY = "stub-notification-key"


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


class StubInvoicebox(BaseAdapter):
    """Answers create order, create shipment, refundable items and create refund."""

    def __init__(self) -> None:
        super().__init__()
        self.orders: dict[str, dict[str, Any]] = {}  # InvoiceBox id -> the order as created
        self.shipments: dict[str, list[dict[str, Any]]] = {}  # InvoiceBox id -> its shipments
        self.calls = 0
        self._ids = itertools.count(1)

    # --- the API ---------------------------------------------------------------------------------

    def _create_order(self, body: Mapping[str, Any]) -> dict[str, Any]:
        order_id = str(uuid.uuid4())
        container = str(uuid.uuid4())
        order = {"id": order_id, **body, "orderContainerId": container, "status": OrderStatus.CREATED.value,
                 "subtype": "order", "languageId": "ru", "processable": True, "fileIds": [], "createdAt": _now(),
                 "paymentUrl": f"{BASE_URL}/pay/order/{container}"}
        self.orders[order_id] = order
        return order

    def _create_shipment(self, body: Mapping[str, Any]) -> dict[str, Any]:
        shipment = {"id": next(self._ids), "orderId": body["orderId"], "merchantId": MERCHANT_ID,
                    "basketItems": body["basketItems"], "status": "completed", "createdAt": _now()}
        self.shipments.setdefault(body["orderId"], []).append(shipment)
        return shipment

    def _refundable(self, order_id: str) -> list[dict[str, Any]]:
        return [dict(item) for item in self.orders[order_id]["basketItems"]]

    def _create_refund(self, body: Mapping[str, Any]) -> dict[str, Any]:
        return {"id": str(uuid.uuid4()), **body, "merchantId": MERCHANT_ID, "currencyId": "RUB",
                "status": "created", "createdAt": _now()}

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        self.calls += 1
        url = urlsplit(request.url or "")
        path, query = url.path.removeprefix("/v3/"), parse_qs(url.query)
        body = jsonutil.loads(request.body) if request.body else None
        if request.method == "POST" and path == CREATE_ORDER.path:
            data: Any = self._create_order(body)
        elif request.method == "POST" and path == CREATE_SHIPMENT.path:
            data = self._create_shipment(body)
        elif request.method == "POST" and path == CREATE_REFUND.path:
            data = self._create_refund(body)
        elif request.method == "GET" and path.endswith(REFUNDABLE_ITEMS.path.rsplit("}", 1)[-1]):
            data = self._refundable(path.split("/")[-2])
        elif request.method == "GET" and path == LIST_SHIPMENTS.path:
            data = list(self.shipments.get(query.get("orderId", [""])[0], ()))
        else:
            raise AssertionError(f"the stub does not answer {request.method} {path}")
        response = requests.Response()
        response.status_code = 200
        response.headers["Content-Type"] = "application/json"
        response.headers["X-Request-Id"] = str(uuid.uuid4())
        envelope: dict[str, Any] = {"data": data, "extendedData": []}
        if isinstance(data, list):
            envelope["metaData"] = {"totalCount": len(data), "pageSize": max(len(data), 1), "page": 1}
        response._content = jsonutil.dumps(envelope).encode("utf-8")
        response.request, response.url = request, request.url
        return response

    def close(self) -> None:
        pass

    # --- what InvoiceBox sends the shop -----------------------------------------------------------

    def paid(self, invoicebox_id: str, *, forget: bool = False) -> tuple[bytes, dict[str, str]]:
        """The signed notification of the order's payment (``forget``: drop the order then)."""
        order = self.orders.pop(invoicebox_id) if forget else self.orders[invoicebox_id]
        return paid_notification(order)

    def forget(self, invoicebox_id: str) -> None:
        self.orders.pop(invoicebox_id, None)
        self.shipments.pop(invoicebox_id, None)

    def client(self) -> InvoiceboxClient:
        session = requests.Session()
        session.trust_env = False  # no proxy settings to look up in the environment on every call
        session.mount(BASE_URL, self)
        return InvoiceboxClient(TOKEN, base_url=BASE_URL, rate_limit=None, session=session)


def paid_notification(order: Mapping[str, Any], key: str = NOTIFICATION_KEY) -> tuple[bytes, dict[str, str]]:
    """The signed notification InvoiceBox sends once ``order`` (its API JSON) is paid."""
    paid = {**order, "status": OrderStatus.COMPLETED.value, "paidAt": _now()}
    body = jsonutil.dumps_php(paid).encode("utf-8")
    return body, {"Content-Type": "application/json", SIGNATURE_HEADER: sign(body, key)}
