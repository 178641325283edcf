"""The sandbox clock: real time plus an offset that tests move forward.

InvoiceBox decides expiry by its own clock; the sandbox does the same with this one, so a test
can let an order expire with ``advance_clock(seconds)`` instead of waiting. Timestamps written
into API objects use the ATOM form the API uses (``2024-07-01T09:00:00+00:00``).
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta


class SandboxClock:
    """Thread-safe ``now()`` that can be advanced, never moved back."""

    def __init__(self) -> None:
        self._offset = timedelta(0)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            offset = self._offset
        return datetime.now(UTC) + offset

    def advance(self, seconds: float) -> datetime:
        """Move the clock forward by ``seconds`` (≥ 0) and return the new ``now()``."""
        if seconds < 0:
            raise ValueError("the sandbox clock only moves forward")
        with self._lock:
            self._offset += timedelta(seconds=seconds)
        return self.now()

    def reset(self) -> None:
        with self._lock:
            self._offset = timedelta(0)

    @property
    def offset_seconds(self) -> float:
        with self._lock:
            return self._offset.total_seconds()


def format_atom(moment: datetime) -> str:
    """``2024-07-01T09:00:00+00:00``: UTC, whole seconds, explicit offset (PHP ``DATE_ATOM``)."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()


def format_date(moment: datetime) -> str:
    """``2024-07-01``: the pure-date form of documents (``documentDate``)."""
    return moment.astimezone(UTC).date().isoformat()


def parse_datetime(value: object) -> datetime | None:
    """An API date-time as an aware ``datetime``, or None when it is not one.

    Accepts the ATOM form with an offset, a trailing ``Z``, and (like the documented filter
    examples) a value without an offset, which is read as UTC.
    """
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment
