"""Creating the schema, and bringing a database written by an older version up to this one.

A new database gets every table and ``SCHEMA_VERSION`` at once. An existing one runs the
migrations after its recorded version, in order, in the same transaction as the rows that
record them — so a crash half-way leaves the database at the version it had — and then gets any
table still missing (a new table that changes no other one needs no version of its own). A database written
by a newer version is refused (:class:`SchemaVersionError`): this code cannot know its tables.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import func, insert, inspect, select
from sqlalchemy.engine import Connection

from . import counts
from .exceptions import SchemaVersionError
from .records import utcnow
from .schema import (
    EVENT_TABLES,
    OLD_ORDER_INDEXES,
    SCHEMA_VERSION,
    fulfilment_decisions,
    metadata,
    order_state_counts,
    orders,
    processed_notifications,
    schema_version,
)

# Serialises schema changes between processes on PostgreSQL (an arbitrary constant).
_SCHEMA_LOCK_KEY = 0x1B0C_F10E


def _add_event_tables(conn: Connection) -> None:
    for table in EVENT_TABLES:
        table.create(conn, checkfirst=True)


def _add_state_counts_and_lookup_indexes(conn: Connection, is_postgres: bool) -> None:
    # the triggers first: on PostgreSQL creating them holds off every other writer of orders
    # until this transaction commits, so the count below stays true
    order_state_counts.create(conn, checkfirst=True)
    counts.install(conn, is_postgres=is_postgres)
    counts.recount(conn)
    for name in OLD_ORDER_INDEXES:
        conn.exec_driver_sql(f"DROP INDEX IF EXISTS {name}")
    for table in (orders, processed_notifications, fulfilment_decisions):
        for index in table.indexes:
            index.create(conn, checkfirst=True)


Migration = Callable[[Connection, bool], None]  # (connection, is_postgres)

#: version -> what it adds and how. Version 1 is the first schema (created, never migrated to).
MIGRATIONS: dict[int, tuple[str, Migration]] = {
    2: ("lifecycle events, handler deliveries and fulfilment decisions", lambda conn, _: _add_event_tables(conn)),
    3: ("order counts per state kept by triggers; indexes for list_orders, the sweep and foreign keys",
        _add_state_counts_and_lookup_indexes),
}


def prepare(conn: Connection, *, is_postgres: bool) -> None:
    """Create or migrate the schema on ``conn``, inside the caller's (write) transaction."""
    if is_postgres:
        # DDL is transactional in PostgreSQL, but two sessions creating the same table at once
        # still collide; take turns. (SQLite: BEGIN IMMEDIATE already serialises this.)
        conn.execute(select(func.pg_advisory_xact_lock(_SCHEMA_LOCK_KEY)))
    version = conn.scalar(select(func.max(schema_version.c.version))) if inspect(conn).has_table(
        schema_version.name) else None
    if version is None:
        metadata.create_all(conn, checkfirst=True)
        counts.install(conn, is_postgres=is_postgres)
        conn.execute(insert(schema_version).values(version=SCHEMA_VERSION, applied_at=utcnow()))
        return
    if version > SCHEMA_VERSION:
        raise SchemaVersionError(
            f"the database has schema version {version}; this invoicebox-flow "
            f"understands up to {SCHEMA_VERSION}: upgrade invoicebox-flow"
        )
    for target in range(version + 1, SCHEMA_VERSION + 1):
        MIGRATIONS[target][1](conn, is_postgres)
        conn.execute(insert(schema_version).values(version=target, applied_at=utcnow()))
    # a table that only adds to the schema may come without a version of its own: create it too
    metadata.create_all(conn, checkfirst=True)
