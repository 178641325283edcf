"""Plain HTTP calls to a sandbox's API, for the sandbox's own tests: orders, payment, shipments
and refunds made with ``requests`` (not the project's client), so that the sandbox is checked
on its own. Import what you need: ``from sandbox_calls import Api, course_line``."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from typing import Any

import requests

from invoicebox_flow import jsonutil
from invoicebox_flow.sandbox import Buyer, Sandbox

ORDERS = "/billing/api/order/order"
FIND_ORDERS = "/filter/api/order/order"
SHIPMENT = "/billing/api/order/shipment"
SHIPMENT_LIST = "/filter/api/order/shipment"
REFUND = "/billing/api/order/refund-order"
REFUND_LIST = "/filter/api/order/refund-order"
AUTH = "/security/api/auth/auth"

PRIVATE = {"type": "private", "name": "Анна Смирнова", "email": "anna@example.org"}
LEGAL = {"type": "legal", "name": "ООО «Вектор»", "vatNumber": "7812345675", "taxRegistrationReasonCode": "781201001",
         "registrationAddress": "191186, Санкт-Петербург, Невский пр., 1", "email": "buh@vector.example"}


def at(hours: float) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).replace(microsecond=0).isoformat()


def course_line(quantity: int = 2) -> dict[str, Any]:
    """A service (an online course) at 1 200.00 a unit, VAT 20 % included."""
    return {"sku": "COURSE-PY-90", "name": "Онлайн-курс «Python для аналитиков»", "measure": "шт.",
            "measureCode": "796", "quantity": quantity, "amount": D("1200.00"), "amountWoVat": D("1000.00"),
            "totalAmount": D("1200.00") * quantity, "totalVatAmount": D("200.00") * quantity,
            "vatCode": "RUS_VAT20", "type": "service", "paymentType": "full_prepayment"}


def book_line(quantity: int = 1) -> dict[str, Any]:
    """Goods (a book) at 990.00 a unit, VAT 10 % included."""
    return {"sku": "BOOK-1", "name": "Книга «Python»", "measure": "шт.", "measureCode": "796", "quantity": quantity,
            "amount": D("990.00"), "amountWoVat": D("900.00"), "totalAmount": D("990.00") * quantity,
            "totalVatAmount": D("90.00") * quantity, "vatCode": "RUS_VAT10", "type": "commodity",
            "paymentType": "full_prepayment"}


def order_payload(ib: Sandbox, **overrides: Any) -> dict[str, Any]:
    """A valid create-order body; ``basketItems`` given alone sets the amounts to match."""
    lines = overrides.pop("basketItems", None) or [course_line()]
    payload = {
        "merchantId": ib.merchant_id, "merchantOrderId": f"SHOP-{uuid.uuid4().hex[:10]}",
        "description": "Онлайн-курс, доступ 90 дней", "amount": sum(line["totalAmount"] for line in lines),
        "vatAmount": sum(line["totalVatAmount"] for line in lines), "currencyId": "RUB", "languageId": "ru",
        "expirationDate": at(24), "basketItems": lines, "customer": dict(PRIVATE),
        "successUrl": "http://shop.example/ok", "failUrl": "http://shop.example/fail",
    }
    payload.update(overrides)
    return payload


def body(response: requests.Response) -> Any:
    return jsonutil.loads(response.content)


def error_of(response: requests.Response) -> dict[str, Any]:
    return body(response)["error"]  # type: ignore[no-any-return]


class Api:
    """Plain HTTP calls to the sandbox's API."""

    def __init__(self, ib: Sandbox, prefix: str = "v3") -> None:
        self.ib = ib
        self.prefix = prefix
        self.session = requests.Session()
        self.session.trust_env = False

    def call(self, method: str, path: str, payload: Any = None, *, params: Any = None, token: str | None = "sandbox",
             raw: bytes | None = None, timeout: float = 10.0) -> requests.Response:
        headers = {"Accept": "application/json", "Content-Type": "application/json"}
        if token == "sandbox":
            token = self.ib.token
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        data = raw if raw is not None else (jsonutil.dumps(payload).encode() if payload is not None else None)
        return self.session.request(method, f"{self.ib.url}/{self.prefix}{path}", data=data, params=params,
                                    headers=headers, timeout=timeout)

    def data(self, method: str, path: str, payload: Any = None, **kwargs: Any) -> Any:
        """The ``data`` of a call that must succeed."""
        response = self.call(method, path, payload, **kwargs)
        assert response.status_code == 200, response.text
        return body(response)["data"]

    def create(self, **overrides: Any) -> dict[str, Any]:
        return self.data("POST", ORDERS, order_payload(self.ib, **overrides))  # type: ignore[no-any-return]

    def paid(self, **overrides: Any) -> dict[str, Any]:
        order = self.create(**overrides)
        Buyer().pay(order["paymentUrl"])
        return order

    def get(self, order_id: str) -> dict[str, Any]:
        return self.data("GET", f"{ORDERS}/{order_id}")  # type: ignore[no-any-return]

    def ship(self, order: dict[str, Any], lines: list[dict[str, Any]] | None = None) -> requests.Response:
        return self.call("POST", SHIPMENT, {"orderId": order["id"], "basketItems": lines or order["basketItems"]})

    def shipments(self, order_id: str) -> list[dict[str, Any]]:
        return self.data("GET", SHIPMENT_LIST, params={"orderId": order_id})  # type: ignore[no-any-return]

    def refund(self, order: dict[str, Any], lines: list[dict[str, Any]] | None = None,
               **overrides: Any) -> requests.Response:
        lines = lines or order["basketItems"]
        payload = {"parentId": order["id"], "merchantOrderId": f"{order['merchantOrderId']}-R{uuid.uuid4().hex[:6]}",
                   "description": "Возврат", "amount": sum(line["totalAmount"] for line in lines),
                   "vatAmount": sum(line["totalVatAmount"] for line in lines), "basketItems": lines}
        payload.update(overrides)
        return self.call("POST", REFUND, payload)

    def refunds(self, order_id: str) -> list[dict[str, Any]]:
        return self.data("GET", REFUND_LIST, params={"parentId": order_id})  # type: ignore[no-any-return]

    def refundable(self, order_id: str) -> list[dict[str, Any]]:
        return self.data("GET", f"{ORDERS}/{order_id}/refund-basket-item")  # type: ignore[no-any-return]
