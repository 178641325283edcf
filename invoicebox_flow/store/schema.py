"""The tables, in SQLAlchemy Core, with types that behave the same on SQLite and PostgreSQL.

* Timestamps (:class:`UTCDateTime`) are written and read as timezone-aware UTC. PostgreSQL
  stores ``timestamptz``; SQLite has no time zones, so the UTC wall time is stored as text in
  a fixed format that sorts chronologically (``available_at <= :now`` works on both).
* JSON (:class:`JSONText`) is stored as text written by :func:`invoicebox_flow.jsonutil.dumps`
  and read by :func:`~invoicebox_flow.jsonutil.loads`, so amounts come back as ``Decimal``
  exactly as written (a ``JSON``/``JSONB`` column would round-trip them through float).
* Constraints have fixed names (``naming_convention``) so that a unique violation can be told
  apart on PostgreSQL by its constraint name; see :data:`UNIQUE_COLUMNS`.

``SCHEMA_VERSION`` is recorded in ``schema_version`` when the tables are created; raise it
(and add a migration to :mod:`.migrations`) whenever a table changes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from .. import jsonutil
from .records import as_utc

# 2: events, event_handlers, event_deliveries, fulfilment_decisions;
# 3: order_state_counts (counts without a scan) and an index for every lookup
SCHEMA_VERSION = 3

# BIGINT on PostgreSQL; on SQLite only "INTEGER PRIMARY KEY" is an auto-assigned rowid.
_BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware UTC ``datetime`` on every backend; naive values are refused."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        value = as_utc(value)
        # SQLite's DATETIME storage has no offset: store the UTC wall time.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def bind_processor(self, dialect: Dialect) -> Callable[[dt.datetime | None], Any] | None:
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)

        def sqlite_text(value: dt.datetime | None) -> str | None:
            # The text SQLAlchemy's SQLite DATETIME stores, in one step instead of its formatting
            # (every change writes several moments): always the microseconds, so it sorts as the time.
            if value is not None and value.tzinfo is dt.UTC:  # the store's own moments: no conversion
                return value.isoformat(" ", "microseconds")[:26]  # (without the "+00:00")
            utc = self.process_bind_param(value, dialect)
            return None if utc is None else utc.isoformat(" ", "microseconds")

        return sqlite_text

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class EncodedJSON(str):
    """JSON text encoded already: written as it is (one value written to two columns is encoded once)."""


class JSONText(TypeDecorator[Any]):
    """JSON as text; ``Decimal`` numbers survive exactly (see :mod:`invoicebox_flow.jsonutil`)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if isinstance(value, EncodedJSON):
            return str(value)
        return None if value is None else jsonutil.dumps(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> Any:
        return None if value is None else jsonutil.loads(value)


metadata = MetaData(
    naming_convention={
        "pk": "pk_%(table_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s",
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
    }
)

orders = Table(
    "orders",
    metadata,
    Column("id", String, primary_key=True),
    Column("merchant_order_id", String, nullable=False, unique=True),
    # NULL until InvoiceBox has answered; several NULLs do not collide in a unique constraint.
    Column("invoicebox_id", String, nullable=True, unique=True),
    Column("variant", String(16), nullable=False),
    Column("state", String, nullable=False),
    Column("version", Integer, nullable=False),
    Column("data", JSONText, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # list_orders (newest first, by state or not) and the reconciliation sweep's cursor read
    # their page off an index instead of sorting every order
    Index("ix_orders_state_created_at_id", "state", "created_at", "id"),
    Index("ix_orders_created_at_id", "created_at", "id"),
)

#: The indexes of ``orders`` before schema version 3 (dropped by its migration).
OLD_ORDER_INDEXES = ("ix_orders_state", "ix_orders_created_at")

# How many orders are in each state, kept by triggers on ``orders`` in the writing transaction
# (:mod:`.counts`), so that counting reads a few rows instead of every order. PostgreSQL spreads
# each state over ``COUNT_SHARDS`` rows, so that concurrent writers rarely wait for one row's lock.
order_state_counts = Table(
    "order_state_counts",
    metadata,
    Column("state", String, primary_key=True),
    Column("shard", Integer, primary_key=True, autoincrement=False),
    Column("orders", BigInteger, nullable=False),
)

journal = Table(
    "journal",
    metadata,
    Column("seq", _BigId, primary_key=True, autoincrement=True),
    Column("order_id", String, ForeignKey("orders.id"), nullable=False, index=True),
    Column("at", UTCDateTime, nullable=False),
    Column("trigger", String, nullable=False),
    Column("from_state", String, nullable=False),
    Column("to_state", String, nullable=False),
    Column("actor", String, nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("request_id", String, nullable=True),
    Column("detail", JSONText, nullable=False),
    sqlite_autoincrement=True,  # never reuse a seq, even after the newest row is gone
)

processed_notifications = Table(
    "processed_notifications",
    metadata,
    Column("key", String, primary_key=True),
    Column("order_id", String, ForeignKey("orders.id"), nullable=False, index=True),
    Column("at", UTCDateTime, nullable=False),
)

def _leased() -> tuple[Column[Any], ...]:
    """The columns of work that workers claim with a lease (the outbox, event deliveries)."""
    return (
        Column("status", String(16), nullable=False),
        Column("attempts", Integer, nullable=False),
        Column("available_at", UTCDateTime, nullable=False),
        Column("claimed_by", String, nullable=True),
        Column("claimed_until", UTCDateTime, nullable=True),
        Column("last_error", Text, nullable=True),
    )


outbox = Table(
    "outbox",
    metadata,
    Column("id", _BigId, primary_key=True, autoincrement=True),
    Column("order_id", String, ForeignKey("orders.id"), nullable=False, index=True),
    Column("action", String, nullable=False),
    Column("payload", JSONText, nullable=False),
    Column("key", String, nullable=False, unique=True),
    *_leased(),
    Column("result", JSONText, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_outbox_status_available_at", "status", "available_at"),
    sqlite_autoincrement=True,
)

# The shared request budget of :class:`~invoicebox_flow.store.StoreRateLimiter`: ``limit`` rows
# (slots) per key. A slot is taken for one request and is free again ``period`` seconds after its
# stamp; while its request is in flight it names its holder and is free after ``held_until`` +
# ``period`` only (the holder died). Seconds since the epoch: the database server's clock on
# PostgreSQL, the host's on SQLite.
rate_limit_slots = Table(
    "rate_limit_slots",
    metadata,
    Column("key", String, primary_key=True),
    Column("slot", Integer, primary_key=True, autoincrement=False),
    Column("stamp", Double, nullable=False),
    Column("holder", String, nullable=True),
    Column("held_until", Double, nullable=True),
)

# Reconciliation sweeps (:mod:`invoicebox_flow.store.sweeps`): each sweep's window and cursor, so
# that a sweep over many orders resumes where it stopped, and what it found, once per order and kind.
reconcile_sweeps = Table(
    "reconcile_sweeps",
    metadata,
    Column("id", _BigId, primary_key=True, autoincrement=True),
    Column("scope", String, nullable=False, index=True),  # the window as asked for: a resumed sweep asks the same
    Column("status", String(16), nullable=False),
    Column("since", UTCDateTime, nullable=True),
    Column("until", UTCDateTime, nullable=False),
    Column("include_open", Boolean, nullable=False),
    Column("cursor_created_at", UTCDateTime, nullable=True),
    Column("cursor_order_id", String, nullable=True),
    Column("orders", Integer, nullable=False),
    Column("api_calls", Integer, nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    sqlite_autoincrement=True,
)

reconcile_findings = Table(
    "reconcile_findings",
    metadata,
    Column("sweep_id", _BigId, ForeignKey("reconcile_sweeps.id"), primary_key=True, autoincrement=False),
    Column("order_id", String, primary_key=True),
    Column("kind", String, primary_key=True),
    Column("outcome", String(16), nullable=False),
    Column("detail", JSONText, nullable=False),
    Column("at", UTCDateTime, nullable=False),
)

# --- lifecycle events (schema version 2) ---------------------------------------------------

events = Table(
    "events",
    metadata,
    Column("seq", _BigId, primary_key=True, autoincrement=True),
    Column("id", String(32), nullable=False, unique=True),
    # the writing transaction's id on PostgreSQL (the feed's order, see .events); 0 on SQLite
    Column("txid", BigInteger, nullable=False),
    Column("order_id", String, ForeignKey("orders.id"), nullable=False, index=True),
    Column("order_version", Integer, nullable=False),
    Column("type", String, nullable=False),
    Column("trigger", String, nullable=False),
    Column("from_state", String, nullable=False),
    Column("to_state", String, nullable=False),
    Column("actor", String, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("payload", JSONText, nullable=False),  # what the engine adds: the order's identity
    Column("order_data", JSONText, nullable=False),  # the order's data as the change left it
    # the feed's order on PostgreSQL; on SQLite the feed follows seq (the rowid) alone
    Index("ix_events_txid_seq", "txid", "seq").ddl_if(dialect="postgresql"),
    sqlite_autoincrement=True,
)

# Each handler's place in the feed: every event before it has its delivery row (or was not
# for that handler).
event_handlers = Table(
    "event_handlers",
    metadata,
    Column("name", String, primary_key=True),
    Column("txid", BigInteger, nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("registered_at", UTCDateTime, nullable=False),
)

event_deliveries = Table(
    "event_deliveries",
    metadata,
    Column("id", _BigId, primary_key=True, autoincrement=True),
    Column("event_id", String(32), ForeignKey("events.id"), nullable=False),
    Column("handler", String, nullable=False),
    Column("order_id", String, nullable=False),
    Column("event_type", String, nullable=False),
    *_leased(),
    Column("created_at", UTCDateTime, nullable=False),
    Column("done_at", UTCDateTime, nullable=True),
    UniqueConstraint("event_id", "handler"),
    Index("ix_event_deliveries_handler_status_available_at", "handler", "status", "available_at"),
    sqlite_autoincrement=True,
)

# The shop's can_fulfil answer for one payment notification, asked by the one process that
# claimed it (see invoicebox_flow.engine.decisions).
fulfilment_decisions = Table(
    "fulfilment_decisions",
    metadata,
    Column("key", String, primary_key=True),
    Column("order_id", String, ForeignKey("orders.id"), nullable=False, index=True),
    Column("claimed_by", String, nullable=False),
    Column("claimed_until", UTCDateTime, nullable=False),
    Column("fulfil", Boolean, nullable=True),
    Column("decided_at", UTCDateTime, nullable=True),
)

#: The tables schema version 2 added, created on an older database by its migration.
EVENT_TABLES = (events, event_handlers, event_deliveries, fulfilment_decisions)

schema_version = Table(
    "schema_version",
    metadata,
    # The primary key makes recording the same version twice impossible, even in a race.
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("applied_at", UTCDateTime, nullable=False),
)


def _unique_columns() -> dict[str, str]:
    """Constraint name → ``"table.column"`` for every primary key and unique constraint."""
    names: dict[str, str] = {}
    for table in metadata.tables.values():
        for constraint in table.constraints:
            columns = list(getattr(constraint, "columns", ()))
            if constraint.name and len(columns) == 1 and constraint.__visit_name__ in (
                "primary_key_constraint",
                "unique_constraint",
            ):
                names[str(constraint.name)] = f"{table.name}.{columns[0].name}"
    return names


#: PostgreSQL constraint name → the ``"table.column"`` SQLite names in its error message.
UNIQUE_COLUMNS: dict[str, str] = _unique_columns()
