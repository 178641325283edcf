"""Helpers for the client's resilience tests: a client whose retry waits are recorded instead of
slept, order and refund requests, the sandbox's request log by endpoint, and a scripted HTTP
server for answers the sandbox does not give (a 429 without ``Retry-After``)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from invoicebox_flow.client import InvoiceboxClient
from invoicebox_flow.models import Order, OrderRequest, PrivateCustomer, RefundRequest, basket_line
from invoicebox_flow.retry import RetryPolicy
from invoicebox_flow.sandbox import Buyer, Sandbox
from invoicebox_flow.serving import LoopbackServer

READ_TIMEOUT = 0.5
SLOW = 1.0  # an injected slow answer: well beyond READ_TIMEOUT


class RecordedSleeps(list[float]):
    """Stands in for ``time.sleep`` in the retry policy: remembers each wait, waits not."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def make_client(url: str, token: str, sleeps: RecordedSleeps | None = None, max_read_retries: int = 3,
                retry_after_max: float = 60.0, **kwargs: Any) -> InvoiceboxClient:
    """An unpaced client with a short read timeout whose retry waits go to ``sleeps``."""
    options: dict[str, Any] = dict(base_url=url, timeout=(2.0, READ_TIMEOUT), rate_limit=None)
    options.update(kwargs)
    client = InvoiceboxClient(token, max_read_retries=max_read_retries, **options)
    client.retry_policy = RetryPolicy(max_retries=max_read_retries, backoff_base=0.5, backoff_max=8.0,
                                      retry_after_max=retry_after_max,
                                      sleep=sleeps if sleeps is not None else RecordedSleeps())
    return client


def course_line(quantity: int = 2) -> Any:
    return basket_line(sku="COURSE", name="Онлайн-курс, доступ 90 дней", unit_price="1200.00", quantity=quantity,
                       vat_code="RUS_VAT20")


def order_request(ib: Sandbox, merchant_order_id: str = "SHOP-1", quantity: int = 2) -> OrderRequest:
    return OrderRequest(
        merchant_id=ib.merchant_id,
        merchant_order_id=merchant_order_id,
        description="Онлайн-курс",
        basket_items=[course_line(quantity)],
        customer=PrivateCustomer(name="Анна Смирнова", email="anna@example.org"),
        expiration_date=datetime.now(UTC) + timedelta(days=1),
    )


def refund_request(order: Order, merchant_order_id: str = "SHOP-1-R1") -> RefundRequest:
    return RefundRequest(parent_id=order.id, merchant_order_id=merchant_order_id, description="Возврат",
                         basket_items=[course_line(1)])


def paid_order(client: InvoiceboxClient, ib: Sandbox, merchant_order_id: str = "SHOP-1", quantity: int = 2) -> Order:
    order = client.create_order(order_request(ib, merchant_order_id, quantity))
    Buyer().pay(order.payment_url)
    return client.get_order(order.id)


def calls(ib: Sandbox, endpoint: str) -> list[dict[str, Any]]:
    return [r for r in ib.requests() if r["endpoint"] == endpoint]


def statuses(ib: Sandbox, endpoint: str) -> list[int | None]:
    return [r["status"] for r in calls(ib, endpoint)]


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Poll until ``condition`` holds: a slow answer is logged by the sandbox only once sent."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.02)


class ScriptedServer:
    """A WSGI app on loopback that gives the scripted answers ``(status, headers, body)`` in
    turn (the last one again once the script is used up) and records each request's method."""

    def __init__(self, answers: Iterable[tuple[int, dict[str, str], Any]]):
        self._answers = list(answers)
        self._lock = threading.Lock()
        self.methods: list[str] = []
        self._server = LoopbackServer(self._app, name="scripted")
        self.url = self._server.url

    def _app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        with self._lock:
            self.methods.append(environ["REQUEST_METHOD"])
            status, headers, body = self._answers.pop(0) if len(self._answers) > 1 else self._answers[0]
        payload = json.dumps(body).encode("utf-8")
        start_response(f"{status} Scripted", [("Content-Type", "application/json"), *headers.items()])
        return [payload]

    def close(self) -> None:
        self._server.close()

    def __enter__(self) -> ScriptedServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
