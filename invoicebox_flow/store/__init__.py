"""Persistence for the order lifecycle: SQLAlchemy Core on SQLite (default) or PostgreSQL.

::

    from invoicebox_flow.store import Store

    store = Store()                                            # sqlite:///invoicebox-flow.db
    store = Store("postgresql+psycopg://shop:secret@db/shop")  # PostgreSQL by URL

Tables besides ``schema_version``: ``orders`` (with a ``version`` for compare-and-set),
``journal`` (append-only history), ``processed_notifications`` (so a replayed notification is
applied once), ``outbox`` (InvoiceBox calls recorded in the same transaction as the state
change that needs them, claimed and performed later by workers), ``events`` (one lifecycle
event per committed change, in the same transaction; read as one feed across orders, see
:mod:`.events`), ``event_handlers`` and ``event_deliveries`` (each handler's place in the feed
and its deliveries, see :mod:`.deliveries`), ``fulfilment_decisions`` (the shop's
``can_fulfil`` answer per payment notification, see :mod:`.decisions`), ``rate_limit_slots``
(the account's request budget that :class:`StoreRateLimiter` shares between processes) and
``reconcile_sweeps`` and ``reconcile_findings`` (the reconciliation sweeps' cursors and
findings, :class:`SweepLog`) and ``order_state_counts`` (how many orders are in each state, kept
by triggers: see :mod:`.counts`).

A change is one durable commit, and on PostgreSQL one statement (:mod:`.changes`); the hot path's
statements run on the driver's own cursor (:mod:`.direct`).
"""

from .decisions import DecisionClaim
from .exceptions import (
    DeliveryLeaseLostError,
    DuplicateNotificationError,
    OutboxLeaseLostError,
    SchemaVersionError,
    StoreBusyError,
)
from .ratelimit import StorePermit, StoreRateLimiter
from .reads import NotificationOrder
from .records import (
    CLAIMED,
    DEAD,
    DONE,
    PENDING,
    UNCHANGED,
    Delivery,
    DeliveryClaim,
    EventDraft,
    JournalEntry,
    OrderRecord,
    OutboxDraft,
    OutboxItem,
    StoredEvent,
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
    "DecisionClaim",
    "Delivery",
    "DeliveryClaim",
    "DeliveryLeaseLostError",
    "DuplicateNotificationError",
    "EventDraft",
    "FindingRecord",
    "JournalEntry",
    "NotificationOrder",
    "OrderRecord",
    "OutboxDraft",
    "OutboxItem",
    "OutboxLeaseLostError",
    "SchemaVersionError",
    "Store",
    "StoreBusyError",
    "StorePermit",
    "StoreRateLimiter",
    "StoredEvent",
    "SweepLog",
    "SweepRecord",
    "utcnow",
]
