"""The retry policy for reads: which failures are worth another try, and how long to wait.

Only reads (GET) are retried. A write is never repeated blindly — InvoiceBox has no
idempotency key, so the client reconciles a failed create by looking it up instead (see
``client.py``). The loop itself is ``tenacity``; this module supplies its three decisions:

* retry on a timeout or connection error, and on HTTP 408, 425, 429 and 5xx;
* wait with exponential backoff and *full jitter* (uniform in ``[0, min(max, base·2^n)]``), so
  many clients that failed together do not come back together;
* but when the server said ``Retry-After`` (seconds or an HTTP date), wait that long instead,
  capped so a confused server cannot park a read for hours.
"""

from __future__ import annotations

import email.utils
import logging
import random
import time
from collections.abc import Callable
from datetime import timezone

import tenacity

from .errors import ApiError, RateLimitError, TransportError

__all__ = ["RETRYABLE_STATUSES", "ReadRetryPolicy", "is_retryable", "parse_retry_after"]

logger = logging.getLogger("invoicebox_flow.client")

# Request Timeout, Too Early, Too Many Requests; 5xx are added by ``is_retryable``.
RETRYABLE_STATUSES = frozenset({408, 425, 429})


def is_retryable(exc: BaseException) -> bool:
    """Whether a failed read may be tried again."""
    if isinstance(exc, TransportError):
        return True
    if isinstance(exc, ApiError):
        return exc.status in RETRYABLE_STATUSES or 500 <= exc.status <= 599
    return False


def parse_retry_after(value: str | None, *, now: Callable[[], float] = time.time) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date; ``None``
    when absent or unreadable. Never negative."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT
        when = when.replace(tzinfo=timezone.utc)
    return max(when.timestamp() - now(), 0.0)


def _retry_after_of(exc: BaseException | None) -> float | None:
    if isinstance(exc, RateLimitError):
        return exc.retry_after
    return getattr(exc, "retry_after", None)


class ReadRetryPolicy:
    """Exponential backoff with full jitter, honouring ``Retry-After``.

    ``max_retries`` is the number of *extra* attempts after the first one.
    """

    def __init__(
        self,
        *,
        max_retries: int = 3,
        backoff_base: float = 0.5,
        backoff_max: float = 8.0,
        retry_after_max: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ):
        if max_retries < 0:
            raise ValueError("max_retries must not be negative")
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.retry_after_max = retry_after_max
        self._sleep = sleep
        self._rng = rng or random.Random()

    def __repr__(self) -> str:
        return (
            f"ReadRetryPolicy(max_retries={self.max_retries}, backoff_base={self.backoff_base}, "
            f"backoff_max={self.backoff_max}, retry_after_max={self.retry_after_max})"
        )

    def delay(self, attempt: int, exc: BaseException | None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        retry_after = _retry_after_of(exc)
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.retry_after_max)
        ceiling = min(self.backoff_max, self.backoff_base * (2 ** (attempt - 1)))
        return self._rng.uniform(0.0, ceiling)

    def _wait(self, state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome is not None else None
        return self.delay(state.attempt_number, exc)

    @staticmethod
    def _log_retry(state: tenacity.RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome is not None else None
        wait = state.next_action.sleep if state.next_action is not None else 0.0
        logger.warning(
            "read failed (attempt %d), retrying in %.2f s: %s", state.attempt_number, wait, exc
        )

    def retrying(self) -> tenacity.Retrying:
        """A fresh ``tenacity`` loop for one read."""
        return tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.max_retries + 1),
            wait=self._wait,
            retry=tenacity.retry_if_exception(is_retryable),
            sleep=self._sleep,
            before_sleep=self._log_retry,
            reraise=True,
        )

    def call(self, fn: Callable[[], object]):
        """Run ``fn`` and retry it per this policy; the last error is re-raised as is."""
        return self.retrying()(fn)

