"""Persistence for the order lifecycle: SQLAlchemy Core on SQLite (default) or PostgreSQL.

::

    from invoicebox_flow.store import Store

    store = Store()                                            # sqlite:///invoicebox-flow.db
    store = Store("postgresql+psycopg://shop:secret@db/shop")  # PostgreSQL by URL

Four tables besides ``schema_version``: ``orders`` (with a ``version`` for compare-and-set),
``journal`` (append-only history), ``processed_notifications`` (so a replayed notification is
applied once) and ``outbox`` (InvoiceBox calls recorded in the same transaction as the state
change that needs them, claimed and performed later by workers). ``rate_limit_slots`` holds the
account's request budget that :class:`StoreRateLimiter` shares between processes;
``reconcile_sweeps`` and ``reconcile_findings`` the reconciliation sweeps' cursors and findings
(:class:`SweepLog`).
"""

from .exceptions import DuplicateNotificationError, OutboxLeaseLostError, SchemaVersionError, StoreBusyError
from .ratelimit import StorePermit, StoreRateLimiter
from .records import (
    CLAIMED,
    DEAD,
    DONE,
    PENDING,
    UNCHANGED,
    JournalEntry,
    OrderRecord,
    OutboxDraft,
    OutboxItem,
    utcnow,
)
from .schema import SCHEMA_VERSION
from .store import DEFAULT_URL, Store
from .sweeps import FindingRecord, SweepLog, SweepRecord

__all__ = [
    "CLAIMED",
    "DEAD",
    "DEFAULT_URL",
    "DONE",
    "PENDING",
    "SCHEMA_VERSION",
    "UNCHANGED",
    "DuplicateNotificationError",
    "FindingRecord",
    "JournalEntry",
    "OrderRecord",
    "OutboxDraft",
    "OutboxItem",
    "OutboxLeaseLostError",
    "SchemaVersionError",
    "Store",
    "StoreBusyError",
    "StorePermit",
    "StoreRateLimiter",
    "SweepLog",
    "SweepRecord",
    "utcnow",
]
