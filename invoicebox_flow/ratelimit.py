"""Client-side pacing: what the client needs of a rate limiter, and one for a single process.

InvoiceBox allows an account 100 requests per 30 s by default and answers the excess with 429.
A busy shop should pace itself instead of collecting 429s, so the client takes a permit from
its limiter before every HTTP request (retries and look-ups included) and releases it when the
answer is in. Any object with that interface (:class:`Pacer`) will do:

* :class:`RateLimiter` — in memory, shared by the threads of one process;
* :class:`invoicebox_flow.store.StoreRateLimiter` — in the database, shared by every process on
  every host that uses the store: one account, one budget.

Why permits are "stamped" twice: the server counts a request when it *arrives*, which is a
little after the client took its permit. A window over permit times alone lets two requests
that the client saw ``period`` apart land closer than that at the server (network and thread
jitter), and an exact-limit server then answers 429. So a permit counts as occupied while its
request is in flight and is re-stamped with the time the answer came back (never earlier than
the server's arrival time). Every request the server can see inside any window of ``period``
was therefore still counted by the client when the last of them took its permit.
A permit that is never released simply keeps the time it was taken (a plain sliding window).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Protocol

__all__ = ["Pacer", "Permit", "RateLimiter", "Releasable"]

# How long to wait before looking again when every counted slot belongs to a request still in
# flight (its expiry is unknown until it is released).
_IN_FLIGHT_POLL = 0.005


class Releasable(Protocol):
    """A permit for one request: released when its answer has arrived (or it failed).
    ``release`` must not raise: it runs after the request, whose answer it must not hide."""

    def release(self) -> None: ...


class Pacer(Protocol):
    """What the client needs of a rate limiter: at most ``limit`` requests per ``period`` s."""

    @property
    def limit(self) -> int: ...

    @property
    def period(self) -> float: ...

    def acquire(self) -> Releasable:
        """Wait until a request may be sent, and take a permit for it."""
        ...


class Permit:
    """One request's place in the window; :meth:`release` when its answer has arrived."""

    __slots__ = ("_limiter", "in_flight", "stamp")

    def __init__(self, limiter: RateLimiter, stamp: float):
        self._limiter = limiter
        self.stamp = stamp
        self.in_flight = True

    def release(self) -> None:
        """Re-stamp the permit with the current time and stop counting it as in flight."""
        self._limiter._release(self)

    def __enter__(self) -> Permit:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.release()


class RateLimiter:
    """At most ``limit`` requests in any ``period`` seconds, shared by all threads using it.

    ``acquire()`` blocks (with ``sleep``) until a slot is free and returns a :class:`Permit`.
    ``clock`` and ``sleep`` are injectable so the pacing can be tested without waiting.
    """

    def __init__(
        self,
        limit: int,
        period: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        if int(limit) != limit or limit < 1:
            raise ValueError(f"limit must be a positive integer, not {limit!r}")
        if not period > 0:
            raise ValueError(f"period must be positive, not {period!r}")
        self.limit = int(limit)
        self.period = float(period)
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._permits: list[Permit] = []  # taken, in flight or stamped within the window

    def __repr__(self) -> str:
        return f"RateLimiter(limit={self.limit}, period={self.period})"

    def acquire(self) -> Permit:
        """Wait until a request may be sent, and take a permit for it."""
        while True:
            with self._lock:
                wait = self._try_take()
                if isinstance(wait, Permit):
                    return wait
            self._sleep(wait)

    def try_acquire(self) -> Permit | None:
        """Take a permit if one is free right now, else return ``None`` without waiting."""
        with self._lock:
            taken = self._try_take()
            return taken if isinstance(taken, Permit) else None

    def in_window(self) -> int:
        """How many permits currently count against the limit (for inspection and tests)."""
        with self._lock:
            self._prune(self._clock())
            return len(self._permits)

    # --- internals (called with the lock held) ----------------------------------------------

    def _prune(self, now: float) -> None:
        horizon = now - self.period
        self._permits = [p for p in self._permits if p.in_flight or p.stamp > horizon]

    def _try_take(self) -> Permit | float:
        """A new permit, or how long to sleep before trying again."""
        now = self._clock()
        self._prune(now)
        if len(self._permits) < self.limit:
            permit = Permit(self, now)
            self._permits.append(permit)
            return permit
        finished = [p.stamp for p in self._permits if not p.in_flight]
        if not finished:
            return _IN_FLIGHT_POLL
        # The oldest finished permit leaves the window exactly ``period`` after its stamp.
        return max(min(finished) + self.period - now, 0.0) or _IN_FLIGHT_POLL

    def _release(self, permit: Permit) -> None:
        with self._lock:
            if permit.in_flight:
                permit.in_flight = False
                permit.stamp = max(permit.stamp, self._clock())
