"""Signed notifications, delivered like InvoiceBox delivers them (reference §8): the payment
notification, the status notifications of canceled and expired orders when the sandbox sends
them, and the monitoring test notification.

The body is the order JSON in the configured shape (:mod:`.notification_body`), compact, raw
UTF-8, with ``\\/``-escaped slashes (PHP ``json_encode``), signed with HMAC-SHA1 of exactly
those bytes in ``X-Signature``. It is built once, when the status changes, so every retry and
duplicate sends the same bytes.

Only HTTP 200 with the JSON body ``{"status": "success"}`` counts as delivered. An ``error``
answer with code ``out_of_service`` (the default when the code is missing), any other status,
a body that is not JSON, a timeout (20 s) or a connection error is retried, up to
``len(retry_delays)`` more times (10 by default), waiting ``retry_delays[i]`` before retry
*i + 1*. Other error codes (``order_wrong_amount``, ``signature_error``, ``shipping_unavailable``
…) are taken as final. The docs only say that ``out_of_service`` is retried 10 times within
24 hours; how the real service treats the other answers, and its spacing, are unverified.
"""

from __future__ import annotations

import functools
import json
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import attrs
import requests

from ..jsonutil import dumps_php
from ..protocol import TEST_NOTIFICATION_ID
from ..signature import SIGNATURE_HEADER, sign
from .clock import SandboxClock, format_atom
from .faults import DEFAULT_NOTIFICATION_DELAY, DELAY, DUPLICATE, LOSE, REORDER, FaultBoard
from .notification_body import SANDBOX, shaped
from .state import SandboxState
from .worker import BackgroundWorker

RESPONSE_DEADLINE = 20.0  # seconds InvoiceBox waits for the shop's answer (§8.3)
RETRIED_CODE = "out_of_service"
RESPONSE_TEXT_LIMIT = 2000
LOST = "never reached the shop (injected drop)"
DRIFT = "drift"  # the event recording a difference made between the shop and InvoiceBox


@attrs.define(eq=False)
class Notification:
    """One notification: its bytes never change; ``attempts`` numbers every POST of it."""

    notification_id: str
    order_id: str | None
    url: str
    body: bytes
    signature: str = attrs.field(repr=False)
    kind: str = "payment"  # payment, status or test
    attempts: int = 0


@attrs.frozen
class Answer:
    status: int | None
    text: str
    error: str | None = None

    def outcome(self) -> tuple[bool, str | None, bool]:
        """``(delivered, merchant's error code, final)``."""
        if self.status == 200:
            try:
                body = json.loads(self.text)
            except ValueError:
                body = None
            if isinstance(body, dict) and body.get("status") == "success":
                return True, None, True
            if isinstance(body, dict) and body.get("status") == "error":
                code = str(body.get("code") or RETRIED_CODE)
                return False, code, code != RETRIED_CODE
        return False, None, False


class Notifier:
    def __init__(self, *, state: SandboxState, worker: BackgroundWorker, faults: FaultBoard,
                 clock: SandboxClock, notification_key: str, retry_delays: tuple[float, ...],
                 timeout: float = RESPONSE_DEADLINE, shape: str = SANDBOX,
                 on_final_code: Callable[[str | None, str], None] | None = None) -> None:
        self.state = state
        self.worker = worker
        self.faults = faults
        self.clock = clock
        self._key = notification_key
        self.retry_delays = tuple(retry_delays)
        self.timeout = timeout
        self.shape = shape
        self.on_final_code = on_final_code
        self._held: list[Notification] = []
        self._lock = threading.Lock()

    def __repr__(self) -> str:  # never show the key
        return f"Notifier(retries={len(self.retry_delays)}, timeout={self.timeout})"

    # --- building ------------------------------------------------------------------------------------

    def build(self, order: dict[str, Any], url: str, *, order_id: str | None, kind: str = "payment") -> Notification:
        """The notification of ``order`` (its API JSON) in the configured shape."""
        return self._signed(shaped(order, self.shape), url, order_id=order_id, kind=kind)

    def _signed(self, payload: dict[str, Any], url: str, *, order_id: str | None, kind: str) -> Notification:
        body = dumps_php(payload).encode("utf-8")
        return Notification(str(uuid.uuid4()), order_id, url, body, sign(body, self._key), kind)

    def test_notification(self, url: str, merchant_id: str) -> Notification:
        """The monitoring notification (§8.4): a fixed id, an empty merchantOrderId, no real order."""
        payload = {"id": TEST_NOTIFICATION_ID, "merchantId": merchant_id, "merchantOrderId": "",
                   "status": "completed", "amount": 0, "currencyId": "RUB",
                   "createdAt": format_atom(self.clock.now()), "customer": {"type": "private"}}
        return self._signed(payload, url, order_id=TEST_NOTIFICATION_ID, kind="test")

    # --- delivering ----------------------------------------------------------------------------------

    def dispatch(self, notification: Notification) -> None:
        """Queue the first delivery of a notification, applying a pending notification fault."""
        fault = self.faults.take_notification()
        if fault is not None and fault.kind == REORDER:
            with self._lock:
                self._held.append(notification)
            return
        if fault is not None and fault.kind == LOSE:
            self._lose(notification)
            return
        delay = fault.seconds(DEFAULT_NOTIFICATION_DELAY) if fault is not None and fault.kind == DELAY else 0.0
        self.worker.submit(lambda: self._deliver(notification, retry=0), delay)
        if fault is not None and fault.kind == DUPLICATE:
            self.worker.submit(lambda: self._deliver(notification, retry=0), delay)
        self.release_held(delay)

    def _lose(self, notification: Notification) -> None:
        """Record every attempt InvoiceBox would make, first try and all retries, as failed
        without reaching the shop: the notification is lost for good (a drift for the tests)."""
        tries = len(self.retry_delays) + 1
        with self.state.lock:
            for number in range(tries):
                notification.attempts += 1
                self.state.notifications.append(self._record(
                    notification, notification.attempts, Answer(None, "", LOST),
                    delivered=False, code=None, retry_next=number < tries - 1))
            self.state.add_event(notification.order_id, DRIFT, None, {
                "action": "lose_notification", "notificationId": notification.notification_id,
                "kind": notification.kind, "attempts": tries})

    def release_held(self, delay: float = 0.0) -> None:
        """Deliver the notifications a ``reorder`` fault held back (after whatever is queued)."""
        with self._lock:
            held, self._held = self._held, []
        for notification in held:
            self.worker.submit(functools.partial(self._deliver, notification, retry=0), delay)

    def forget_held(self) -> None:
        with self._lock:
            self._held.clear()

    def redeliver(self, notification: Notification) -> None:
        """One more delivery of the same bytes, like a retry (not retried itself)."""
        self.worker.submit(lambda: self._deliver(notification, retry=len(self.retry_delays)))

    def deliver_now(self, notification: Notification) -> dict[str, Any]:
        """The first delivery, synchronously (the payer waits on the page for the shop's answer);
        retried in the background like :meth:`dispatch` when the answer is not final."""
        return self._attempt(notification, retry=0)

    def send_now(self, notification: Notification) -> dict[str, Any]:
        """Deliver once, synchronously, without retries; return the attempt record."""
        record = self._attempt(notification, retry=len(self.retry_delays))
        self.release_held()
        return record

    def _deliver(self, notification: Notification, retry: int) -> None:
        self._attempt(notification, retry)

    def _attempt(self, notification: Notification, retry: int) -> dict[str, Any]:
        generation = self.worker.generation
        with self.state.lock:
            notification.attempts += 1
            attempt = notification.attempts
        answer = self._post(notification)
        delivered, code, final = answer.outcome()
        retry_next = not delivered and not final and retry < len(self.retry_delays)
        record = self._record(notification, attempt, answer, delivered=delivered, code=code, retry_next=retry_next)
        if generation != self.worker.generation:
            return record  # the sandbox was reset meanwhile: this attempt belongs to nobody
        with self.state.lock:
            self.state.notifications.append(record)
        if code is not None and final and self.on_final_code is not None:
            self.on_final_code(notification.order_id, code)
        if retry_next:
            self.worker.submit(lambda: self._deliver(notification, retry + 1), self.retry_delays[retry])
        return record

    @staticmethod
    def _record(notification: Notification, attempt: int, answer: Answer, *, delivered: bool, code: str | None,
                retry_next: bool) -> dict[str, Any]:
        return {
            "orderId": notification.order_id, "notificationId": notification.notification_id,
            "kind": notification.kind, "url": notification.url, "attempt": attempt, "status": answer.status,
            "response": answer.text[:RESPONSE_TEXT_LIMIT], "error": answer.error, "code": code,
            "delivered": delivered, "willRetry": retry_next, "body": notification.body.decode("utf-8"),
            "signature": notification.signature, "at": time.time(),
        }

    def _post(self, notification: Notification) -> Answer:
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: notification.signature,
                   "User-Agent": "InvoiceBox-Sandbox/1.0"}
        try:
            with requests.Session() as session:
                session.trust_env = False  # loopback receivers: never through an environment proxy
                response = session.post(notification.url, data=notification.body, headers=headers,
                                        timeout=self.timeout, allow_redirects=False)
        except requests.Timeout:
            return Answer(None, "", f"no answer within {self.timeout:g} s")
        except requests.RequestException as error:
            return Answer(None, "", f"{type(error).__name__}: {error}")
        return Answer(response.status_code, response.text)
