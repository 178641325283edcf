"""When the client sends a request again, and how long it waits first.

Two kinds of request are sent again, under one policy:

* **a read** (GET) that failed in a way worth another try: a timeout or connection error, or
  HTTP 408, 425, 429 or 5xx (:func:`is_retryable`);
* **a write refused with 429** (:func:`is_rate_limited`). InvoiceBox counts and refuses a request
  over the account's limit before doing anything with it, so a 429 means *nothing was done*
  and the same write may be sent again after the wait. Any other failure of a write is never
  retried: InvoiceBox has no idempotency key, so the client looks up what happened instead
  (see :mod:`invoicebox_flow.client`).

The wait is the server's ``Retry-After`` when it sent one (seconds or an HTTP date), capped so
that a confused server cannot park a call for hours; without it (InvoiceBox does not promise
the header) exponential backoff with *full jitter*: uniform in ``[0, min(max, base·2^(n-1))]``,
so that many clients refused together do not come back together. The loop itself is
``tenacity``; this module supplies its decisions.
"""

from __future__ import annotations

import email.utils
import logging
import random
import time
from collections.abc import Callable
from datetime import UTC
from typing import TypeVar

import tenacity

from .errors import ApiError, RateLimitError, TransportError

__all__ = ["RETRYABLE_STATUSES", "RetryPolicy", "is_rate_limited", "is_retryable", "parse_retry_after"]

logger = logging.getLogger("invoicebox_flow.client")

T = TypeVar("T")

# Request Timeout, Too Early, Too Many Requests; 5xx are added by ``is_retryable``.
RETRYABLE_STATUSES = frozenset({408, 425, 429})


def is_retryable(exc: BaseException) -> bool:
    """Whether a failed read may be tried again."""
    if isinstance(exc, TransportError):
        return True
    if isinstance(exc, ApiError):
        return exc.status in RETRYABLE_STATUSES or 500 <= exc.status <= 599
    return False


def is_rate_limited(exc: BaseException) -> bool:
    """Whether a failed write may be sent again: only a 429, which InvoiceBox answers before
    doing anything."""
    return isinstance(exc, ApiError) and exc.status == 429


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
    if when.tzinfo is None:  # RFC 9110 dates are GMT
        when = when.replace(tzinfo=UTC)
    return max(when.timestamp() - now(), 0.0)


class RetryPolicy:
    """Exponential backoff with full jitter, honouring ``Retry-After`` up to ``retry_after_max``.

    ``max_retries`` is the number of *extra* attempts after the first one. ``sleep`` and ``rng``
    are injectable so that tests can record the chosen waits instead of waiting.
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
            f"RetryPolicy(max_retries={self.max_retries}, backoff_base={self.backoff_base}, "
            f"backoff_max={self.backoff_max}, retry_after_max={self.retry_after_max})"
        )

    def delay(self, attempt: int, exc: BaseException | None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        retry_after = exc.retry_after if isinstance(exc, RateLimitError) else None
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
        logger.warning("attempt %d failed, retrying in %.2f s: %s", state.attempt_number, wait, exc)

    def call(self, fn: Callable[[], T], *, retry_if: Callable[[BaseException], bool] = is_retryable) -> T:
        """Run ``fn``, again while it fails with an error ``retry_if`` accepts, per this policy;
        the last error is re-raised as is."""
        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.max_retries + 1),
            wait=self._wait,
            retry=tenacity.retry_if_exception(retry_if),
            sleep=self._sleep,
            before_sleep=self._log_retry,
            reraise=True,
        )
        return retrying(fn)
