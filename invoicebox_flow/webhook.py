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

A repeated notification is answered ``success`` and changes nothing — also when copies race in
at once; the monitoring test notification (id ``ffffffff-…``, empty ``merchantOrderId``) is
verified and answered without touching any order. Every rejection is logged at WARNING (logger
``invoicebox_flow.webhook``) with its code, the notification id when it could be read and the
request's ``X-Request-Id`` — never the key, the token or the body. :func:`make_wsgi_app` mounts
the handler in any WSGI server.

The handler applies notifications through anything that has the shop's ``merchant_id``,
``notification_key``, ``look_up_notification`` and ``apply_notification`` (:class:`NotificationSink`):
:class:`~invoicebox_flow.engine.OrderFlow` is one. Each notification costs one read: the order
and whether the notification was processed, looked up before the body is parsed into an order.
A replay — a notification applied already, which InvoiceBox sends again when an answer was lost —
is answered ``success`` from that read alone; any other is applied with what it found.

The sink gets a :class:`VerifiedNotification`: the fields a payment is decided on (ids, status,
amount, currency, ``paidAt``), read at once, and the whole order, ``.order``, parsed only when
asked for. A payment needs nothing of the basket or the customer, so a signed notification whose
amount matches pays the order even if some other part of it cannot be read (lenient reading, as
for every body InvoiceBox sends: refusing it would only make InvoiceBox deliver it again).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

import attrs

from . import jsonutil
from .errors import ConcurrentUpdateError, InvoiceboxFlowError
from .models import Order
from .protocol import TEST_NOTIFICATION_ID, NotificationAnswer
from .signature import is_valid, signature_from_headers
from .store import DuplicateNotificationError, NotificationOrder

log = logging.getLogger("invoicebox_flow.webhook")

MAX_BODY_BYTES = 1 << 20  # real notifications are a few KiB; refuse to hash megabytes of noise
JSON_HEADERS = [("Content-Type", "application/json")]
REQUEST_ID_HEADER = "x-request-id"

HttpAnswer = tuple[int, list[tuple[str, str]], bytes]
Answer = tuple[str, str | None]  # ("success", None) or ("error", code)
Headers = Mapping[str, str] | Iterable[tuple[str, str]]


class NotificationSink(Protocol):
    """What the handler applies verified notifications to."""

    merchant_id: str | None
    notification_key: str | None

    def look_up_notification(self, notification_key: str, invoicebox_id: str | None,
                             merchant_order_id: str | None) -> NotificationOrder: ...

    def apply_notification(self, notification: VerifiedNotification, notification_key: str,
                           found: NotificationOrder | None = None) -> Answer: ...


#: The attributes of :class:`~invoicebox_flow.models.Order` a notification is decided on.
_DECIDING = ("id", "status", "merchant_id", "merchant_order_id", "amount", "currency_id", "paid_at")


@attrs.frozen
class VerifiedNotification:
    """A notification whose signature was verified, as the sink receives it: the fields a
    payment is decided on, read from the body as :meth:`Order.from_json
    <invoicebox_flow.models.Order.from_json>` reads them, and :attr:`order`, the whole order
    the body carries, parsed on first use."""

    data: Mapping[str, Any] = attrs.field(repr=False)
    id: str
    status: str
    merchant_id: Any  # compared with the shop's own; whatever the body says
    merchant_order_id: str | None
    amount: Decimal | None
    currency_id: Any
    paid_at: datetime | None

    @classmethod
    def read(cls, data: Mapping[str, Any]) -> VerifiedNotification:
        """The notification of a JSON object; ``ValueError`` (a ``ValidationError`` naming the
        key) when a deciding field cannot be read."""
        fields = Order.read_fields(data, _DECIDING)
        if not isinstance(fields["id"], str) or not isinstance(fields["status"], str):
            raise ValueError("a notification names its order's id and status")
        if fields["merchant_order_id"] is not None and not isinstance(fields["merchant_order_id"], str):
            raise ValueError("merchantOrderId is not a string")
        return cls(data=data, **fields)

    @functools.cached_property
    def order(self) -> Order:
        """The whole order the notification carries (``ValidationError`` if it is not one)."""
        return Order.from_json(self.data)


_SUCCESS = jsonutil.dumps({"status": "success"}).encode("utf-8")  # the answer to most notifications


def answer(code: str | None = None, message: str | None = None) -> HttpAnswer:
    """HTTP 200 with the documented JSON body (success when ``code`` is None)."""
    if code is None:
        return 200, list(JSON_HEADERS), _SUCCESS
    body: dict[str, Any] = {"status": "error", "code": code}
    if message:
        body["message"] = message[:500]
    return 200, list(JSON_HEADERS), jsonutil.dumps(body).encode("utf-8")


def _header(headers: Headers, name: str) -> str | None:
    items = headers.items() if isinstance(headers, Mapping) else headers
    return next((str(v) for k, v in items if str(k).lower() == name), None)


@attrs.frozen
class _Verdict:
    """How a notification is answered: ``code`` None is success; ``message`` goes into the
    answer, ``reason`` only into the log."""

    code: str | None = None
    message: str | None = None
    reason: str | None = None
    notification_id: str | None = None


class NotificationHandler:
    """Framework-free: ``handle(raw_body, headers) -> (status, headers, body)``."""

    def __init__(self, sink: NotificationSink, *, max_attempts: int = 3):
        if not sink.notification_key or not sink.merchant_id:
            raise ValueError("receiving notifications needs the shop's notification_key and merchant_id")
        self.sink = sink
        self.max_attempts = max_attempts

    def handle(self, raw_body: bytes, headers: Headers) -> HttpAnswer:
        headers = headers if isinstance(headers, (dict, list, Mapping)) else list(headers)
        request_id = _header(headers, REQUEST_ID_HEADER)
        try:
            verdict = self._handle(raw_body, headers)
        except Exception:
            log.exception("notification could not be processed (X-Request-Id %s); answering out_of_service", request_id)
            return answer(NotificationAnswer.OUT_OF_SERVICE.value)
        if verdict.code is not None:
            reason = verdict.reason or verdict.message
            log.warning("notification %s rejected: %s%s (X-Request-Id %s)", verdict.notification_id or "(unreadable)",
                        verdict.code, f" — {reason}" if reason else "", request_id)
        return answer(verdict.code, verdict.message)

    def _handle(self, raw_body: bytes, headers: Mapping[str, str] | list[tuple[str, str]]) -> _Verdict:
        if not isinstance(raw_body, (bytes, bytearray)) or len(raw_body) > MAX_BODY_BYTES:
            return _Verdict(NotificationAnswer.SIGNATURE_ERROR.value, "body missing or too large")
        signature = signature_from_headers(headers)  # (``handle`` made them a mapping or a list)
        body = bytes(raw_body)  # (a bytearray could change between the check and the parse)
        # the signature is checked over the exact bytes received, before anything is parsed
        assert self.sink.notification_key is not None
        if not is_valid(body, signature, self.sink.notification_key):
            return _Verdict(NotificationAnswer.SIGNATURE_ERROR.value,
                            reason="X-Signature missing" if signature is None else "X-Signature does not match")
        try:
            data = jsonutil.loads(body)
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
        except (ValueError, TypeError, RecursionError):
            # signed, but not JSON (or nested deeper than any order is)
            return _Verdict(NotificationAnswer.ORDER_NOT_FOUND.value, "the body is not an order")
        ident, status, moid = data.get("id"), data.get("status"), data.get("merchantOrderId")
        found: NotificationOrder | None = None
        if isinstance(ident, str) and isinstance(status, str) and data.get("merchantId") == self.sink.merchant_id:
            found = self.sink.look_up_notification(f"{ident}:{status}", ident or None,
                                                   moid if isinstance(moid, str) and moid else None)
            if found.replay:
                return _Verdict(notification_id=ident)  # nothing more to read or parse
        try:
            notification = VerifiedNotification.read(data)
        except (ValueError, TypeError, KeyError, RecursionError, InvoiceboxFlowError):
            return _Verdict(NotificationAnswer.ORDER_NOT_FOUND.value, "the body is not an order",
                            notification_id=ident if isinstance(ident, str) else None)
        if notification.merchant_id != self.sink.merchant_id:
            return _Verdict(NotificationAnswer.ORDER_NOT_FOUND.value, "another merchant's order", notification_id=ident)
        if notification.id == TEST_NOTIFICATION_ID and not notification.merchant_order_id:
            log.info("monitoring test notification verified")
            return _Verdict(notification_id=ident)
        # (the notification's fields are the very strings the look-up was made with)
        key = f"{notification.id}:{notification.status}"
        for _ in range(self.max_attempts):
            try:
                status, code = self.sink.apply_notification(notification, key, found)
            except DuplicateNotificationError:
                # a copy that raced in at the same moment was applied: the documented success
                return _Verdict(notification_id=ident)
            except ConcurrentUpdateError:
                found = None  # another worker changed the order meanwhile: decide again on fresh data
                continue
            return _Verdict(code if status == "error" else None, notification_id=ident)
        return _Verdict(NotificationAnswer.OUT_OF_SERVICE.value, "the order is busy; retry later", notification_id=ident)


WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def make_wsgi_app(sink: NotificationSink, path: str = "/invoicebox/notification") -> WsgiApp:
    """A minimal WSGI app serving the notification endpoint at ``path`` (POST only)."""
    if not path.startswith("/"):
        raise ValueError(f"the notification path must start with '/', not {path!r}")
    handler = NotificationHandler(sink)

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
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
        start_response(f"{status} OK", [*response_headers, ("Content-Length", str(len(response_body)))])
        return [response_body]

    return app
