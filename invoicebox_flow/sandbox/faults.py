"""Faults a test can inject: per API endpoint (errors, slowness, 429, dropped connections), for
notifications (duplicates, reordering, delays, loss) and for refunds (ending ``canceled``).

Endpoint names are the client's method names. Faults queue up per endpoint and are used in
the order they were injected, each for ``times`` requests.
"""

from __future__ import annotations

import threading
from typing import Any

import attrs

from ..protocol import ENDPOINT_NAMES

ENDPOINTS = ENDPOINT_NAMES  # faults are injected per API method, by name

SERVER_ERROR = "server_error"  # 500 before doing anything
SERVER_ERROR_AFTER_COMMIT = "server_error_after_commit"  # do the work, then answer 500
SLOW = "slow"  # wait ``delay`` seconds, then handle the request
SLOW_AFTER_COMMIT = "slow_after_commit"  # do the work, then wait ``delay`` seconds before answering
RATE_LIMIT = "rate_limit"  # 429 with Retry-After
RATE_LIMIT_NO_RETRY_AFTER = "rate_limit_no_retry_after"  # 429 without it, as the docs promise nothing more
DROP = "drop"  # close the connection without an HTTP answer, before doing anything
DROP_AFTER_COMMIT = "drop_after_commit"  # do the work, then close the connection without an answer

ENDPOINT_FAULTS = (SERVER_ERROR, SERVER_ERROR_AFTER_COMMIT, SLOW, SLOW_AFTER_COMMIT, RATE_LIMIT,
                   RATE_LIMIT_NO_RETRY_AFTER, DROP, DROP_AFTER_COMMIT)
AFTER_COMMIT = frozenset({SERVER_ERROR_AFTER_COMMIT, SLOW_AFTER_COMMIT, DROP_AFTER_COMMIT})

DUPLICATE = "duplicate"  # deliver the same notification (same bytes) twice
REORDER = "reorder"  # hold this notification back and deliver it after the next one
DELAY = "delay"  # deliver this notification ``delay`` seconds late
LOSE = "drop"  # never deliver it: every attempt, retries included, fails without reaching the shop
NOTIFICATION_FAULTS = (DUPLICATE, REORDER, DELAY, LOSE)

REFUND_CANCELED = "canceled"  # the next refund is not paid out: it ends canceled, no money moves
REFUND_FAULTS = (REFUND_CANCELED,)

DEFAULT_SLOW_SECONDS = 3.0  # well beyond a typical test client's read timeout
DEFAULT_NOTIFICATION_DELAY = 0.5
DEFAULT_RETRY_AFTER = 1  # seconds, for an injected 429


@attrs.define
class Fault:
    kind: str
    times: int
    delay: float | None = None

    @property
    def after_commit(self) -> bool:
        return self.kind in AFTER_COMMIT

    def seconds(self, default: float) -> float:
        return default if self.delay is None else self.delay

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "times": self.times, "delay": self.delay}


class FaultBoard:
    """Pending faults; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._endpoint: dict[str, list[Fault]] = {}
        self._notification: list[Fault] = []
        self._refund: list[Fault] = []

    def inject(self, endpoint: Any, kind: Any, times: Any = 1, delay: Any = None) -> Fault:
        """Queue a fault for ``endpoint``; raises ``ValueError`` for an unknown endpoint or kind."""
        if endpoint not in ENDPOINTS:
            raise ValueError(f"unknown endpoint {endpoint!r}; known: {', '.join(ENDPOINTS)}")
        fault = self._fault(kind, ENDPOINT_FAULTS, times, delay)
        with self._lock:
            self._endpoint.setdefault(endpoint, []).append(fault)
        return fault

    def inject_notification(self, kind: Any, times: Any = 1, delay: Any = None) -> Fault:
        fault = self._fault(kind, NOTIFICATION_FAULTS, times, delay)
        with self._lock:
            self._notification.append(fault)
        return fault

    def inject_refund(self, kind: Any, times: Any = 1) -> Fault:
        fault = self._fault(kind, REFUND_FAULTS, times, None)
        with self._lock:
            self._refund.append(fault)
        return fault

    def take(self, endpoint: str) -> Fault | None:
        """The fault for one request to ``endpoint``, if any is pending (uses it up once)."""
        with self._lock:
            return self._take(self._endpoint.get(endpoint, []))

    def take_notification(self) -> Fault | None:
        with self._lock:
            return self._take(self._notification)

    def take_refund(self) -> Fault | None:
        with self._lock:
            return self._take(self._refund)

    def clear(self) -> None:
        with self._lock:
            self._endpoint.clear()
            self._notification.clear()
            self._refund.clear()

    def pending(self) -> dict[str, Any]:
        with self._lock:
            return {"endpoints": {k: [f.to_json() for f in v] for k, v in self._endpoint.items() if v},
                    "notifications": [f.to_json() for f in self._notification],
                    "refunds": [f.to_json() for f in self._refund]}

    @staticmethod
    def _fault(kind: Any, kinds: tuple[str, ...], times: Any, delay: Any) -> Fault:
        if kind not in kinds:
            raise ValueError(f"unknown fault kind {kind!r}; known: {', '.join(kinds)}")
        if not isinstance(times, int) or isinstance(times, bool) or times < 1:
            raise ValueError("times must be a positive integer")
        if delay is not None and (isinstance(delay, bool) or not isinstance(delay, (int, float)) or delay < 0):
            raise ValueError("delay must be a non-negative number of seconds")
        return Fault(kind, times, None if delay is None else float(delay))

    @staticmethod
    def _take(queue: list[Fault]) -> Fault | None:
        if not queue:
            return None
        fault = queue[0]
        fault.times -= 1
        if fault.times <= 0:
            queue.pop(0)
        return Fault(fault.kind, 1, fault.delay)
