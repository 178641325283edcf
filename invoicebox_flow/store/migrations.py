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

from .exceptions import SchemaVersionError
from .records import utcnow
from .schema import EVENT_TABLES, SCHEMA_VERSION, metadata, schema_version

# Serialises schema changes between processes on PostgreSQL (an arbitrary constant).
_SCHEMA_LOCK_KEY = 0x1B0C_F10E


def _add_event_tables(conn: Connection) -> None:
    for table in EVENT_TABLES:
        table.create(conn, checkfirst=True)


#: version -> what it adds and how. Version 1 is the first schema (created, never migrated to).
MIGRATIONS: dict[int, tuple[str, Callable[[Connection], None]]] = {
    2: ("lifecycle events, handler deliveries and fulfilment decisions", _add_event_tables),
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
        conn.execute(insert(schema_version).values(version=SCHEMA_VERSION, applied_at=utcnow()))
        return
    if version > SCHEMA_VERSION:
        raise SchemaVersionError(
            f"the database has schema version {version}; this invoicebox-flow "
            f"understands up to {SCHEMA_VERSION}: upgrade invoicebox-flow"
        )
    for target in range(version + 1, SCHEMA_VERSION + 1):
        MIGRATIONS[target][1](conn)
        conn.execute(insert(schema_version).values(version=target, applied_at=utcnow()))
    # a table that only adds to the schema may come without a version of its own: create it too
    metadata.create_all(conn, checkfirst=True)
