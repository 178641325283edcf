"""Payment notifications from InvoiceBox: verify, apply once, answer as documented.

InvoiceBox POSTs the order JSON with ``X-Signature`` (HMAC-SHA1 of the raw body). The answer
is always HTTP 200 with ``{"status":"success"}`` or ``{"status":"error","code":...}``:

=====================  ==============================================================
``signature_error``    header missing or wrong, or a body too large to verify
``order_not_found``    not our merchant, unknown order, or a body that is not an order
``order_wrong_amount`` amount or currency differ from the stored order
``order_already_paid`` paid already, through another InvoiceBox order
``shipping_unavailable`` the shop's ``can_fulfil`` refused the paid order
``out_of_service``     our own failure, or the order is not ready yet: InvoiceBox retries
=====================  ==============================================================

A repeated notification is answered ``success`` and changes nothing; the monitoring test
notification (id ``ffffffff-…``, empty ``merchantOrderId``) is verified and answered without
touching any order. :func:`make_wsgi_app` mounts the handler in any WSGI server.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from . import jsonutil
from .errors import ConcurrentUpdateError, InvoiceboxFlowError
from .models import Order
from .protocol import TEST_NOTIFICATION_ID
from .signature import is_valid, signature_from_headers

if TYPE_CHECKING:
    from .engine import OrderFlow

log = logging.getLogger("invoicebox_flow.webhook")

MAX_BODY_BYTES = 1 << 20  # real notifications are a few KiB; refuse to hash megabytes of noise
JSON_HEADERS = [("Content-Type", "application/json")]

Answer = tuple[int, list[tuple[str, str]], bytes]


def answer(code: str | None = None, message: str | None = None) -> Answer:
    """HTTP 200 with the documented JSON body (success when ``code`` is None)."""
    if code is None:
        body: dict[str, Any] = {"status": "success"}
    else:
        body = {"status": "error", "code": code}
        if message:
            body["message"] = message[:500]
    return 200, list(JSON_HEADERS), jsonutil.dumps(body).encode("utf-8")


class NotificationHandler:
    """Framework-free: ``handle(raw_body, headers) -> (status, headers, body)``."""

    def __init__(self, flow: OrderFlow, *, max_attempts: int = 3):
        self.flow = flow
        self.max_attempts = max_attempts

    def handle(self, raw_body: bytes, headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> Answer:
        try:
            return self._handle(raw_body, headers)
        except Exception:  # noqa: BLE001 — InvoiceBox must get an answer it retries on, never a 500
            log.exception("notification could not be processed; answering out_of_service")
            return answer("out_of_service")

    def _handle(self, raw_body: bytes, headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> Answer:
        if not isinstance(raw_body, (bytes, bytearray)) or len(raw_body) > MAX_BODY_BYTES:
            return answer("signature_error", "body missing or too large")
        signature = signature_from_headers(headers if isinstance(headers, Mapping) else list(headers))
        # the signature is checked over the exact bytes received, before anything is parsed
        if not is_valid(bytes(raw_body), signature, self.flow.notification_key):
            return answer("signature_error")
        try:
            data = jsonutil.loads(bytes(raw_body))
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
            notification = Order.from_json(data)
        except (ValueError, TypeError, KeyError, RecursionError, InvoiceboxFlowError):
            # signed, but not an order (or nested deeper than any order is)
            return answer("order_not_found", "the body is not an order")
        if notification.merchant_id != self.flow.merchant_id:
            return answer("order_not_found", "another merchant's order")
        if notification.id == TEST_NOTIFICATION_ID and not notification.merchant_order_id:
            log.info("monitoring test notification verified")
            return answer()
        key = f"{notification.id}:{notification.status}"
        for _ in range(self.max_attempts):
            try:
                status, code = self.flow.apply_notification(notification, key)
                return answer(code) if status == "error" else answer()
            except ConcurrentUpdateError:
                continue  # another worker changed the order meanwhile: decide again on fresh data
        return answer("out_of_service", "the order is busy; retry later")


def make_wsgi_app(flow: OrderFlow, path: str = "/invoicebox/notification"):
    """A minimal WSGI app serving the notification endpoint at ``path`` (POST only)."""
    handler = NotificationHandler(flow)

    def app(environ, start_response):
        if environ.get("PATH_INFO", "") != path:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found"]
        if environ.get("REQUEST_METHOD") != "POST":
            start_response("405 Method Not Allowed", [("Allow", "POST"), ("Content-Type", "text/plain")])
            return [b"POST only"]
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        body = environ["wsgi.input"].read(min(length, MAX_BODY_BYTES + 1)) if length > 0 else b""
        headers = [(k[5:].replace("_", "-"), v) for k, v in environ.items() if k.startswith("HTTP_")]
        status, response_headers, response_body = handler.handle(body, headers)
        start_response(f"{status} OK", response_headers + [("Content-Length", str(len(response_body)))])
        return [response_body]

    return app
