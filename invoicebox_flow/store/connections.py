"""The hot path's own driver connections, reused without a pool checkout per unit of work.

Taking a connection from SQLAlchemy's pool and giving it back (its proxy object, weak
references, queue, events and the rollback on every return) cost more per unit of work than
SQLite needs to run a read: on a replayed notification it was the largest part of the time. The
hot path (:mod:`.direct`) keeps a small stack of driver connections of its own instead, and does
for them what the pool would:

* each is made by the engine's pool and then detached from it, so the engine's ``connect``
  listeners set it up (SQLite's pragmas, the durability setting of either backend);
* one idle for ``IDLE_PING_SECONDS`` is pinged before it is used (PostgreSQL), one older than
  ``RECYCLE_SECONDS`` is replaced, one the driver reported as disconnected is dropped;
* at most as many are in use at once as the pool allows (its size plus its overflow; waiting as
  long as the pool would, then :class:`sqlalchemy.exc.TimeoutError`), and at most the pool's
  size are kept idle — so the database sees at most twice the pool's connections, never an
  unbounded number;
* :meth:`HotConnections.dispose` closes the idle ones (and those in use when they come back); a
  forked child forgets its parent's without closing them (the parent still uses them).

An in-memory SQLite database is one connection shared by everything (a ``StaticPool``): that one
is borrowed from the pool each time, as before.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from typing import Any

import attrs
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine
from sqlalchemy.pool import QueuePool, StaticPool

from . import backend


@attrs.define(eq=False)
class Held:
    """One driver connection while the hot path uses it."""

    dbapi: Any
    created: float
    generation: int
    borrowed: Any = None  # the pool's proxy, for a connection borrowed from a StaticPool
    returned: float = 0.0  # when it was last given back (monotonic)
    pid: int = attrs.field(factory=os.getpid)  # the process that made it: the only one that may use it
    broken: bool = False  # the driver reported a disconnect: never reuse it
    _cursor: Any = None

    def kept_cursor(self) -> Any:
        """The connection's one driver cursor, made on first use."""
        if self._cursor is None:
            self._cursor = self.dbapi.cursor()
        return self._cursor


class HotConnections:
    """A LIFO stack of detached driver connections for one engine (see the module docstring)."""

    def __init__(self, engine: Engine, *, ping_idle: bool) -> None:
        self._engine = engine
        self._ping_idle = ping_idle
        pool = engine.pool
        self._shared = isinstance(pool, StaticPool)
        self._keep = (pool.size() if isinstance(pool, QueuePool) else 0) or 5
        overflow = getattr(pool, "_max_overflow", 0)
        unlimited = isinstance(pool, QueuePool) and (overflow < 0 or pool.size() == 0)  # as QueuePool reads them
        self._limit = 1 << 30 if unlimited else self._keep + max(overflow, 0)
        self._timeout = float(getattr(pool, "_timeout", 30.0))
        self._forget()

    def _forget(self) -> None:
        self._lock = threading.Lock()
        self._freed = threading.Condition(self._lock)  # signalled when one is given back at the limit
        self._idle: list[Held] = []
        self._in_use = 0
        self._waiting = 0
        self._generation = 0
        self._pid = os.getpid()

    def take(self) -> Held:
        if os.getpid() != self._pid:
            self._forget()  # a forked child: the parent's connections are not ours to use or close
        with self._lock:  # one lock round per take: counting and popping together
            if self._in_use >= self._limit:
                self._wait_for_one()
            self._in_use += 1
            held = self._idle.pop() if self._idle else None
        try:
            return self._reused(held) or self._new()
        except BaseException:
            self._returned(None)
            raise

    def give(self, held: Held) -> None:
        if held.borrowed is not None:
            held.borrowed.close()
            self._returned(None)
        elif held.pid != os.getpid():
            pass  # taken before a fork, given back in the child: the parent's, neither kept nor closed here
        elif held.broken or held.generation != self._generation:
            self._returned(None)
            self._close(held)
        else:
            held.returned = time.monotonic()
            if not self._returned(held):
                self._close(held)

    def dispose(self) -> None:
        """Close the idle connections; those in use are closed when they are given back."""
        with self._lock:
            idle, self._idle = self._idle, []
            self._generation += 1
        for held in idle:
            self._close(held)

    def _wait_for_one(self) -> None:
        """(Holding the lock.) Wait until fewer than the limit are in use, as long as the pool would."""
        self._waiting += 1
        try:
            if not self._freed.wait_for(lambda: self._in_use < self._limit, timeout=self._timeout):
                raise sa_exc.TimeoutError(f"no database connection free within {self._timeout:g} s "
                                          f"({self._limit} in use); the pool's limit applies to the hot path too")
        finally:
            self._waiting -= 1

    def _returned(self, held: Held | None) -> bool:
        """Count one back; keep ``held`` idle if there is room (whether it was kept)."""
        with self._lock:
            self._in_use -= 1
            kept = False
            if held is not None and len(self._idle) < self._keep:
                self._idle.append(held)
                kept = True
            if self._waiting:
                self._freed.notify()
        return kept

    def _reused(self, held: Held | None) -> Held | None:
        """``held`` (popped while counting) or the next idle connection that is still usable, or None."""
        while held is not None:
            if self._usable(held):
                return held
            with self._lock:
                held = self._idle.pop() if self._idle else None
        return None

    def _usable(self, held: Held) -> bool:
        """Whether ``held`` is young enough and, after idling, answers a ping; closed if not."""
        now = time.monotonic()
        if now - held.created > backend.RECYCLE_SECONDS:
            self._close(held)
            return False
        if self._ping_idle and now - held.returned >= backend.IDLE_PING_SECONDS:
            try:
                self._engine.dialect.do_ping(held.dbapi)
            except self._engine.dialect.loaded_dbapi.Error:
                self._close(held)  # dead while idle: make another
                return False
        return True

    def _new(self) -> Held:
        proxy = self._engine.raw_connection()
        if self._shared:
            return Held(proxy.dbapi_connection, time.monotonic(), self._generation, borrowed=proxy)
        dbapi = proxy.dbapi_connection
        proxy.detach()  # ours from now on: the pool makes another when it needs one
        return Held(dbapi, time.monotonic(), self._generation)

    @staticmethod
    def _close(held: Held) -> None:
        with contextlib.suppress(Exception):  # closing a dead connection may fail; it is gone either way
            held.dbapi.close()
