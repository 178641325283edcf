"""Connecting to SQLite or PostgreSQL the way the store needs, and reading their errors.

SQLite (the default) is set up for several processes sharing one file:

* ``journal_mode=WAL`` so readers never wait for the writer, and the writer not for readers;
* a busy timeout, so a writer waits for the database lock instead of failing at once;
* ``foreign_keys=ON`` (off by default in SQLite);
* a page cache of ``SQLITE_CACHE_MIB`` per connection (SQLite's default is 2 MiB): a change
  touches pages of some ten indexes and tables, and 2 MiB held little more than their upper
  levels, so every change read the rest from the file again (a state change cost 1.37× as much
  on a million orders as on ten thousand; 1.20× with 8 MiB). It is filled as pages are read and
  bounded, so a process holds at most that much more per connection it keeps;
* ``synchronous=FULL``: every commit is on disk (the write-ahead log fsynced) before it returns,
  so a payment answered ``success`` survives a power loss. ``Store(durable_commits=False)``
  asks for ``NORMAL`` instead: about ten times faster commits, but a power loss or an OS crash
  may undo the last ones (never corrupting the file) — a payment InvoiceBox was told is
  recorded would then be missing until a reconciliation sweep finds it;
* write transactions start with ``BEGIN IMMEDIATE``. A plain ``BEGIN`` takes the write lock
  only at the first write; two transactions that both read first then fail to upgrade, and in
  WAL mode that failure (``SQLITE_BUSY_SNAPSHOT``) does not wait for the busy timeout. Taking
  the lock up front makes concurrent writers queue instead. ``sqlite3``'s own transaction
  handling is switched off so that the store decides what ``BEGIN`` says.

PostgreSQL runs at its default ``READ COMMITTED``; compare-and-set and ``SKIP LOCKED`` give
the guarantees the store promises there. Pooled connections are not pinged before every use (a
round trip each time): only one that sat idle in the pool for ``IDLE_PING_SECONDS`` is, so a
worker that idled while the server restarted gets a fresh connection; a connection is replaced
after ``RECYCLE_SECONDS`` whatever happens. ``durable_commits=False`` sets the session's
``synchronous_commit = off``: a commit returns before its WAL is flushed, and a crash of the
server (not of the client) may lose the last ones.
"""

from __future__ import annotations

import re
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.pool import StaticPool

from .exceptions import StoreBusyError
from .schema import UNIQUE_COLUMNS

# Execution option that marks a connection as one that will write.
WRITE_OPTION = "invoicebox_flow_write"
SQLITE_CACHE_MIB = 8  # each SQLite connection's page cache (filled as pages are read, not up front)
IDLE_PING_SECONDS = 10.0  # a PostgreSQL connection idle longer than this is pinged when taken
RECYCLE_SECONDS = 3600  # and one older than this is replaced
_RETURNED_AT = "invoicebox_flow_returned_at"

# PostgreSQL SQLSTATEs that mean "lost a race for a lock; nothing was written; try again":
# serialization_failure, deadlock_detected, lock_not_available.
_PG_RETRYABLE = frozenset({"40001", "40P01", "55P03"})
_SQLITE_UNIQUE = re.compile(r"UNIQUE constraint failed: (.+)$")


def is_memory_sqlite(url: URL) -> bool:
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


def build_engine(url: URL, *, echo: bool, busy_timeout: float, durable_commits: bool = True) -> Engine:
    """A SQLAlchemy engine for ``url`` configured as the module docstring explains."""
    backend = url.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(url, echo=echo, busy_timeout=busy_timeout, durable_commits=durable_commits)
    engine = create_engine(url, echo=echo, pool_recycle=RECYCLE_SECONDS)
    _ping_when_idle(engine)
    if not durable_commits:
        @event.listens_for(engine, "connect")
        def _relaxed(dbapi_connection: Any, _record: Any) -> None:
            with dbapi_connection.cursor() as cursor:
                cursor.execute("SET synchronous_commit = off")
            dbapi_connection.commit()
    return engine


def _ping_when_idle(engine: Engine) -> None:
    """Ping a pooled connection when it is taken after ``IDLE_PING_SECONDS`` in the pool; a dead
    one is replaced (``DisconnectionError`` makes the pool connect again). One in steady use is
    never pinged: that would cost a round trip per transaction."""

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection: Any, record: Any) -> None:
        record.info[_RETURNED_AT] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _taken(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        returned = record.info.get(_RETURNED_AT)
        if returned is None or time.monotonic() - returned < IDLE_PING_SECONDS:
            return  # new, or in use a moment ago
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            raise sa_exc.DisconnectionError(f"a pooled connection idle for {IDLE_PING_SECONDS:g} s is dead") from error


def _sqlite_engine(url: URL, *, echo: bool, busy_timeout: float, durable_commits: bool) -> Engine:
    connect_args: dict[str, Any] = {"timeout": busy_timeout}
    kwargs: dict[str, Any] = {}
    memory = is_memory_sqlite(url)
    if memory:
        # One shared connection, or every pooled connection would be its own empty database.
        connect_args["check_same_thread"] = False
        kwargs["poolclass"] = StaticPool
    engine = create_engine(url, echo=echo, connect_args=connect_args, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # the "begin" listener below decides on BEGIN
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute(f"PRAGMA cache_size = {-SQLITE_CACHE_MIB * 1024}")  # (negative: in KiB)
            cursor.execute(f"PRAGMA synchronous = {'FULL' if durable_commits else 'NORMAL'}")
            if not memory:
                _enable_wal(cursor, busy_timeout)
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # Writes take the write lock up front. Reads are single statements, which SQLite runs
        # in their own implicit transaction: an explicit BEGIN/COMMIT would only add two
        # round trips to every read.
        if conn.get_execution_options().get(WRITE_OPTION):
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _enable_wal(cursor: Any, busy_timeout: float) -> None:
    """Switch the file to WAL (a persistent setting), retrying while another connection holds
    the lock: unlike other statements, the journal-mode change does not wait on the busy
    timeout, so processes opening a new database together would otherwise fail at once."""
    deadline = time.monotonic() + busy_timeout
    delay = 0.005
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as error:
            if not _is_locked_message(str(error)) or time.monotonic() >= deadline:
                raise
        time.sleep(delay)
        delay = min(delay * 2, 0.1)


def process_lock(url: URL) -> AbstractContextManager[Any]:
    """A lock around each transaction where the connection itself is shared (in-memory SQLite)."""
    return threading.RLock() if is_memory_sqlite(url) else nullcontext()


@contextmanager
def translate_busy(busy_timeout: float) -> Iterator[None]:
    """Turn "database is locked" (SQLite) and lost lock races (PostgreSQL) into
    :class:`StoreBusyError`, which says clearly that nothing was written and a retry is safe."""
    try:
        yield
    except sa_exc.DBAPIError as error:
        busy = busy_error(error, busy_timeout)
        if busy is not None:
            raise busy from error
        raise


def busy_error(error: sa_exc.DBAPIError, busy_timeout: float) -> StoreBusyError | None:
    """The :class:`StoreBusyError` that ``error`` means, or None (see :func:`translate_busy`)."""
    if isinstance(error, sa_exc.OperationalError) and _is_busy(error):
        return StoreBusyError(f"the database is locked by another writer (waited up to {busy_timeout:g} s); "
                              "nothing was written, retry")
    sqlstate = getattr(error.orig, "sqlstate", None)
    if sqlstate in _PG_RETRYABLE:
        return StoreBusyError(f"lost a lock race in the database ({sqlstate}); nothing was written, retry")
    return None


def _is_busy(error: sa_exc.DBAPIError) -> bool:
    if getattr(error.orig, "sqlstate", None) in _PG_RETRYABLE:
        return True
    return _is_locked_message(str(error.orig))


def _is_locked_message(text: str) -> bool:
    text = text.lower()
    return "database is locked" in text or "database table is locked" in text or "database is busy" in text


def unique_violation(error: sa_exc.IntegrityError) -> set[str]:
    """The ``"table.column"`` names whose unique constraint ``error`` broke (empty if none)."""
    constraint = getattr(getattr(error.orig, "diag", None), "constraint_name", None)
    if constraint:  # PostgreSQL names the constraint
        column = UNIQUE_COLUMNS.get(constraint)
        return {column} if column else set()
    match = _SQLITE_UNIQUE.search(str(error.orig))  # SQLite names the columns
    if match:
        return {name.strip() for name in match.group(1).split(",")}
    return set()


def is_foreign_key_violation(error: sa_exc.IntegrityError) -> bool:
    if getattr(error.orig, "sqlstate", None) == "23503":
        return True
    return "FOREIGN KEY constraint failed" in str(error.orig)


def masked(url: str | URL) -> str:
    """``url`` as text with any password replaced by ``***``."""
    return make_url(url).render_as_string(hide_password=True)
