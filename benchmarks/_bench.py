"""What the database benchmarks share: interleaved timing, min/median/max, counting what the
library sends to its database, and the raw drivers with the store's own settings.

**Interleaving.** Library and baseline take turns batch by batch in one process (and which one
goes first alternates), so that both see the same machine load, the same disk, the same
server; a repeat is one such run, and each figure is given as min / median / max over repeats.
A ratio is computed per repeat (library ÷ baseline of that repeat), then summarised.
"""

from __future__ import annotations

import re
import sqlite3
import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url

from invoicebox_flow.store import Store, backend

Work = Callable[[int], object]  # one operation, given its number within the run


CPU: dict[str, list[float]] = {}  # CPU µs per operation of every side measured, by name


def interleaved(sides: Sequence[tuple[str, Work]], operations: int, batches: int) -> dict[str, float]:
    """Operations per second of each side, run ``operations`` times each in ``batches`` turns.
    The CPU time each side's process spent per operation is kept in :data:`CPU` (on a shared
    machine, the part of the wall time that other processes' load stretches)."""
    size = max(1, operations // batches)
    spent = dict.fromkeys((name for name, _ in sides), 0.0)
    cpu = dict.fromkeys(spent, 0.0)
    for b in range(batches):
        order = list(sides) if b % 2 == 0 else list(reversed(sides))
        for name, work in order:
            start, start_cpu = time.perf_counter(), time.process_time()
            for n in range(b * size, (b + 1) * size):
                work(n)
            spent[name] += time.perf_counter() - start
            cpu[name] += time.process_time() - start_cpu
    for name in spent:
        CPU.setdefault(name, []).append(cpu[name] / (size * batches) * 1e6)
    return {name: size * batches / seconds for name, seconds in spent.items()}


def cpu_line(label: str, name: str) -> str:
    """The CPU µs per operation of side ``name`` over the repeats measured so far (and forget them)."""
    return f"  {label:<44} {spread(CPU.pop(name, [0.0]))} µs CPU per operation"


def spread(values: Sequence[float], fmt: str = ",.0f") -> str:
    """``min / median / max`` of ``values``."""
    return " / ".join(format(v, fmt) for v in (min(values), statistics.median(values), max(values)))


def ratio_line(label: str, library: Sequence[float], baseline: Sequence[float], target: float) -> str:
    ratios = [a / b for a, b in zip(library, baseline, strict=True)]
    verdict = "met" if statistics.median(ratios) >= target else "NOT met"
    return (f"  {label:<44} {spread(ratios, '.2f')}  (target >= {target:.2f}: {verdict} at the median; "
            f"{'met' if min(ratios) >= target else 'not met'} at the min)")


def rate_line(label: str, rates: Sequence[float], unit: str = "/s") -> str:
    return f"  {label:<44} {spread(rates)} {unit}"


# --- what the library sends to its database -----------------------------------------------------

_WRITE = re.compile(r"\b(INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM)\b", re.IGNORECASE)


class Traffic:
    """Statements, round trips, durable commits and pool checkouts of one store, counted on the
    driver's connections (so that counting does not change the path the store takes: SQLAlchemy
    listeners on statements would make it run them through SQLAlchemy, see ``store/direct.py``).

    * SQLite: every statement the driver runs (its trace callback; the statements of triggers
      are the database's, not sent), ``BEGIN``/``COMMIT`` aside; a
      durable commit is a ``COMMIT`` after a write, or a write outside a transaction;
    * PostgreSQL: every statement psycopg sends (its cursors' ``execute``, wrapped), the ``BEGIN`` it sends
      before the first statement of a transaction, each ``COMMIT`` of an open transaction and
      each ping are round trips; a durable commit is the ``COMMIT`` of a transaction that wrote,
      or a writing statement in autocommit (its own transaction).

    Only :meth:`count` counts: the driver's hooks are on for its work alone, because they cost
    the library's side time (a trace callback that expands every statement's text, a wrapped
    ``execute``) that the baseline would not pay in the timed runs.
    """

    def __init__(self, store: Store) -> None:
        self.engine: Engine = store._engine
        self.postgres = self.engine.dialect.name == "postgresql"
        self.statements = self.round_trips = self.commits = self.checkouts = self.pings = 0
        self.on = False
        self._wrote: set[int] = set()
        self._last: dict[int, str] = {}
        self._connections: list[Any] = []
        store.dispose()  # every connection from now on is a known one
        event.listen(self.engine, "connect", self._connected)
        event.listen(self.engine, "checkout", self._checkout)
        event.listen(self.engine, "commit", self._sqlalchemy_commit)
        ping = self.engine.dialect.do_ping

        def counted_ping(dbapi_connection: Any) -> bool:
            if self.on:
                self.pings += 1
                self.round_trips += 1
            return bool(ping(dbapi_connection))

        self.engine.dialect.do_ping = counted_ping  # type: ignore[method-assign]

    def count(self, work: Callable[[], object], times: int = 1) -> dict[str, float]:
        """What ``work`` sent, per one of its ``times`` operations."""
        before = self.snapshot()
        self._switch(True)
        try:
            work()
        finally:
            self._switch(False)
        return per(self.snapshot(), before, times)

    def snapshot(self) -> dict[str, int]:
        return {"statements": self.statements, "round trips": self.round_trips, "durable commits": self.commits,
                "pool checkouts": self.checkouts, "pings": self.pings}

    def _switch(self, on: bool) -> None:
        self.on = on
        if self.postgres:
            self._wrap_pg_execute(on)
        for dbapi in self._connections:
            self._hook(dbapi)

    def _connected(self, dbapi: Any, _record: Any) -> None:
        self._connections.append(dbapi)
        self._hook(dbapi)

    def _hook(self, dbapi: Any) -> None:
        if not self.postgres:
            dbapi.set_trace_callback((lambda sql: self._sqlite(dbapi, sql)) if self.on else None)

    def _wrap_pg_execute(self, on: bool) -> None:
        """psycopg's ``Cursor.execute`` counting this store's statements, or as it was: on the
        class, because the store keeps cursors made before counting began."""
        import psycopg

        if not on:
            psycopg.Cursor.execute = self._pg_execute  # type: ignore[method-assign]
            return
        self._pg_execute = plain = psycopg.Cursor.execute

        def execute(cursor: Any, query: Any, params: Any = None, **kwargs: Any) -> Any:
            if any(cursor.connection is dbapi for dbapi in self._connections):  # this store's, not the baseline's
                self._pg_statement(cursor.connection, str(query))
            return plain(cursor, query, params, **kwargs)

        psycopg.Cursor.execute = execute  # type: ignore[method-assign]

    def _sqlite(self, dbapi: Any, sql: str) -> None:
        # SQLite traces a statement again as each trigger it fires starts: count it once
        if self._last.get(id(dbapi)) == sql:
            return
        self._last[id(dbapi)] = sql
        word = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else ""
        if word.startswith("--") or word in ("BEGIN", "ROLLBACK", "PRAGMA"):
            return
        if word == "COMMIT":
            if id(dbapi) in self._wrote:
                self.commits += 1
                self._wrote.discard(id(dbapi))
            return
        self.statements += 1
        if _WRITE.search(sql):
            if dbapi.in_transaction:
                self._wrote.add(id(dbapi))
            else:
                self.commits += 1

    def _pg_statement(self, dbapi: Any, sql: str) -> None:
        from psycopg.pq import TransactionStatus

        self.statements += 1
        self.round_trips += 1
        writes = bool(_WRITE.search(sql))
        if dbapi.autocommit:
            self.commits += writes
            return
        if dbapi.info.transaction_status == TransactionStatus.IDLE:
            self.round_trips += 1  # psycopg's BEGIN
        if writes:
            self._wrote.add(id(dbapi))

    def _sqlalchemy_commit(self, conn: Any) -> None:
        if not self.postgres or not self.on:
            return  # the driver's COMMIT is traced
        from psycopg.pq import TransactionStatus

        dbapi = conn.connection.dbapi_connection
        if dbapi.autocommit or dbapi.info.transaction_status == TransactionStatus.IDLE:
            return
        self.round_trips += 1
        if id(dbapi) in self._wrote:
            self.commits += 1
            self._wrote.discard(id(dbapi))

    def _checkout(self, *_: Any) -> None:
        self.checkouts += self.on


def per(counts: dict[str, int], before: dict[str, int], times: int) -> dict[str, float]:
    return {k: (counts[k] - before[k]) / times for k in counts}


# --- the raw drivers, set up as the store sets itself up ------------------------------------------


def raw_sqlite(url: str) -> sqlite3.Connection:
    """``sqlite3`` on the store's file with the store's settings: WAL, ``synchronous=FULL``
    (every commit fsynced), foreign keys on, its page cache, a busy timeout; transactions begun
    by hand."""
    conn = sqlite3.connect(str(make_url(url).database), isolation_level=None, timeout=30)
    for pragma in ("journal_mode = WAL", "synchronous = FULL", "foreign_keys = ON", "busy_timeout = 30000",
                   f"cache_size = {-backend.SQLITE_CACHE_MIB * 1024}"):
        conn.execute(f"PRAGMA {pragma}")
    return conn


def raw_pg(url: str) -> Any:
    """``psycopg`` on the store's schema, in autocommit (a statement is its own transaction)."""
    import psycopg

    return psycopg.connect(make_url(url).set(drivername="postgresql").render_as_string(hide_password=False),
                           autocommit=True)


@contextmanager
def store_pair(make_url_pair: Callable[[], Any]) -> Iterator[tuple[str, str]]:
    """Two empty databases with the library's schema: one for the library, one for the baseline
    (the same tables, indexes, foreign keys and triggers, created by the library itself)."""
    with make_url_pair() as urls:
        for url in urls:
            with Store(url) as store:
                store.schema_version()
        yield urls
