"""The per-account request limit InvoiceBox enforces (default 100 requests per 30 s, §1.6).

A sliding window per API token, in real time. A refused request is not counted. The answer
carries ``Retry-After`` (whole seconds, at least 1) although the docs do not promise one: it
tells a well-behaved client exactly how long to wait.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections import deque


class AccountThrottle:
    def __init__(self, limit: int, window: float) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("rate limit needs a positive limit and window")
        self.limit = limit
        self.window = window
        self._lock = threading.Lock()
        self._hits: dict[str, deque[float]] = {}

    def admit(self, token: str | None) -> int | None:
        """Count one request of ``token``; None when admitted, else the seconds to wait."""
        # Keyed by a digest so that no presented token, right or wrong, is kept in memory.
        key = hashlib.sha256((token or "").encode("utf-8")).hexdigest()
        now = time.monotonic()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return max(1, math.ceil(hits[0] + self.window - now))
            hits.append(now)
            return None

    def reset(self) -> None:
        with self._lock:
            self._hits.clear()
