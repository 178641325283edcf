"""One request budget for every process of an InvoiceBox account: a rate limiter in the store.

InvoiceBox limits the *account* (100 requests per 30 s by default), however many workers send
on its behalf. An in-process :class:`~invoicebox_flow.ratelimit.RateLimiter` per worker either
oversubscribes the budget (each at the full limit: 429s) or fragments it (each at ``limit // N``:
an idle worker's share is lost), and forgets everything when its process restarts: a worker
restarted within the window sends a fresh burst on top of what its predecessor sent, and draws
a burst of 429s. :class:`StoreRateLimiter` keeps the budget in the database that the workers
already share (PostgreSQL for several hosts, SQLite for one), so that any number of processes
together stay under the limit and a restart cannot burst.

**How.** The key owns ``limit`` rows, *slots* (table ``rate_limit_slots``). A request takes a
free slot and stamps it; a slot is free again ``period`` seconds after its stamp. As no slot is
reused within ``period``, no ``period``-long stretch of time ever sees more than ``limit``
requests: the sliding window InvoiceBox counts with, including its burst of ``limit`` at once —
a rate-only scheme (GCRA, even spacing) either gives that up or, with a burst allowance, lets a
sliding window see up to ``2·limit − 1``. As in the in-process limiter, a slot is re-stamped when
the request's answer is in (:meth:`StorePermit.release`): the server counted the request on
arrival, somewhere between the two stamps, so the window holds as the *server* sees it,
whatever the network delays. A slot whose holder died in flight is free ``hold`` seconds later
than a released one would be.

**Atomic.** Each take is one write transaction of the store (:meth:`Store._write`): on SQLite
``BEGIN IMMEDIATE`` runs takers one at a time; on PostgreSQL the key's slots are locked
``FOR UPDATE`` (in slot order: no deadlock), and "now" is the database server's
``clock_timestamp()``, so hosts whose clocks disagree still agree on the window.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

from sqlalchemy import Float, Row, cast, func, select, update
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from .exceptions import StoreBusyError
from .schema import rate_limit_slots as slots

if TYPE_CHECKING:
    from .store import Store

__all__ = ["StorePermit", "StoreRateLimiter"]

logger = logging.getLogger("invoicebox_flow.store")

# How long to wait before looking again when the slot to free next belongs to a request still in
# flight (it is free once released, which is usually a few milliseconds away).
_IN_FLIGHT_POLL = 0.01
_BUSY_POLL = 0.05  # the database was locked by another writer: nothing was written, try again
_RELEASE_TRIES = 3


class StorePermit:
    """One request's slot; :meth:`release` when its answer has arrived. ``admitted_at`` is the
    time it was taken, on the limiter's clock (the database server's on PostgreSQL)."""

    __slots__ = ("_limiter", "admitted_at", "holder", "released", "slot")

    def __init__(self, limiter: StoreRateLimiter, slot: int, holder: str, admitted_at: float):
        self._limiter = limiter
        self.slot = slot
        self.holder = holder
        self.admitted_at = admitted_at
        self.released = False

    def __repr__(self) -> str:
        return f"StorePermit(slot={self.slot}, admitted_at={self.admitted_at:.3f}, released={self.released})"

    def release(self) -> None:
        """Re-stamp the slot with the current time: it is free again ``period`` from now."""
        if not self.released:
            self._limiter._release(self)
            self.released = True

    def __enter__(self) -> StorePermit:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()


class StoreRateLimiter:
    """At most ``limit`` requests in any ``period`` seconds for ``key``, shared by every process
    and thread that uses the same database — the same interface as
    :class:`~invoicebox_flow.ratelimit.RateLimiter`::

        InvoiceboxClient(token, rate_limit=StoreRateLimiter(store, key=merchant_id))

    ``key`` names the budget: one per InvoiceBox account (e.g. its merchant id); every process
    sharing it must use the same ``limit`` and ``period`` (InvoiceBox's default: 100 per 30 s).
    ``hold`` bounds how long a request can take to *reach* InvoiceBox (above the client's
    connect timeout): a slot whose holder died in flight stays taken that much longer.
    ``sleep`` is injectable for tests.
    """

    def __init__(self, store: Store, *, key: str, limit: int = 100, period: float = 30.0, hold: float = 10.0,
                 sleep: Callable[[float], None] = time.sleep):
        if not isinstance(key, str) or not key:
            raise ValueError("key must be a non-empty string naming the account's budget")
        if int(limit) != limit or limit < 1:
            raise ValueError(f"limit must be a positive integer, not {limit!r}")
        if not period > 0 or not hold > 0:
            raise ValueError(f"period and hold must be positive, not {period!r} and {hold!r}")
        self.store = store
        self.key = key
        self.limit = int(limit)
        self.period = float(period)
        self.hold = float(hold)
        self._sleep = sleep
        self._slots_ready = False

    def __repr__(self) -> str:
        return f"StoreRateLimiter(key={self.key!r}, limit={self.limit}, period={self.period}, store={self.store!r})"

    def acquire(self) -> StorePermit:
        """Wait until a request may be sent, and take a slot for it."""
        while True:
            taken = self._try_take()
            if isinstance(taken, StorePermit):
                return taken
            self._sleep(taken)

    def try_acquire(self) -> StorePermit | None:
        """Take a slot if one is free right now, else return ``None`` without waiting."""
        taken = self._try_take()
        return taken if isinstance(taken, StorePermit) else None

    def in_window(self) -> int:
        """How many slots count against the limit right now (for inspection and tests)."""
        with self.store._read() as conn:
            now = _now(conn)
            rows = conn.execute(_slots_of(self.key, self.limit)).all()
        return sum(1 for row in rows if self._free_at(row, now) > now)

    # --- internals ---------------------------------------------------------------------------

    def _try_take(self) -> StorePermit | float:
        """A permit, or how long to sleep before trying again."""
        try:
            with self.store._write() as conn:
                if not self._slots_ready:
                    _add_missing_slots(conn, self.key, self.limit)
                query = _slots_of(self.key, self.limit)
                rows = conn.execute(query.with_for_update() if conn.dialect.name == "postgresql" else query).all()
                now = _now(conn)  # after the lock: the moment this transaction may decide
                taken = self._take(conn, rows, now)
            self._slots_ready = True
            return taken
        except StoreBusyError:
            return _BUSY_POLL

    def _take(self, conn: Connection, rows: Sequence[Row[Any]], now: float) -> StorePermit | float:
        free = [row for row in rows if self._free_at(row, now) <= now]
        if not free:
            # the next slot to free: a finished one at stamp + period; one in flight soon after
            # its release, which is at least its stamp — look again shortly
            soonest = min(row.stamp for row in rows) + self.period - now
            return soonest if soonest > 0 else _IN_FLIGHT_POLL
        slot = min(free, key=lambda row: row.stamp).slot
        holder = uuid.uuid4().hex
        conn.execute(update(slots).where(slots.c.key == self.key, slots.c.slot == slot)
                     .values(stamp=now, holder=holder, held_until=now + self.hold))
        return StorePermit(self, slot, holder, now)

    def _free_at(self, row: Row[Any], now: float) -> float:
        """When the slot is free again: ``period`` after its stamp; a slot still held, only
        ``period`` after its hold ran out (its holder died in flight), else not yet."""
        if row.holder is None:
            return float(row.stamp) + self.period
        abandoned = float(row.held_until) + self.period
        return abandoned if abandoned <= now else float("inf")

    def _release(self, permit: StorePermit) -> None:
        """Re-stamp the permit's slot; never raises (it runs after the request, whose answer must
        not be lost to it): a slot that cannot be released frees ``hold`` seconds late."""
        failure: BaseException | None = None
        for _ in range(_RELEASE_TRIES):
            try:
                with self.store._write() as conn:
                    now = max(_now(conn), permit.admitted_at)
                    conn.execute(
                        update(slots)
                        .where(slots.c.key == self.key, slots.c.slot == permit.slot, slots.c.holder == permit.holder)
                        .values(stamp=now, holder=None, held_until=None)
                    )
                return
            except StoreBusyError as busy:
                failure = busy
                self._sleep(_BUSY_POLL)
            except sa_exc.SQLAlchemyError as error:  # the database is away: nothing more to try
                failure = error
                break
        logger.warning("rate limit %r: slot %d not released (%s); it frees %g s late",
                       self.key, permit.slot, type(failure).__name__, self.hold)


def _slots_of(key: str, limit: int) -> Any:
    return (select(slots.c.slot, slots.c.stamp, slots.c.holder, slots.c.held_until)
            .where(slots.c.key == key, slots.c.slot < limit).order_by(slots.c.slot))


def _add_missing_slots(conn: Connection, key: str, limit: int) -> None:
    """The key's slots, free, for those not there yet (a concurrent creator wins quietly)."""
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    conn.execute(insert(slots).values([{"key": key, "slot": n, "stamp": 0.0} for n in range(limit)])
                 .on_conflict_do_nothing(index_elements=[slots.c.key, slots.c.slot]))


def _now(conn: Connection) -> float:
    """Seconds since the epoch: the database server's clock on PostgreSQL, which every host
    shares; this host's on SQLite, which only processes of this host can open."""
    if conn.dialect.name == "postgresql":
        return float(conn.execute(select(cast(func.extract("epoch", func.clock_timestamp()), Float))).scalar_one())
    return time.time()
