"""The :class:`Store`: orders, their journal, processed notifications and the outbox.

Every write is one database transaction, and every state change is a compare-and-set::

    UPDATE orders SET ..., version = version + 1 WHERE id = :id AND version = :expected

Zero rows updated means another worker changed the order after we read it: the whole
transaction is rolled back and :class:`~invoicebox_flow.errors.ConcurrentUpdateError` raised,
so of two workers firing on the same order exactly one wins. The journal entry, the outbox
intents and the processed-notification key of a change commit with it or not at all.
"""

from __future__ import annotations

import functools
import os
import threading
import weakref
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import attrs
from sqlalchemy import exc as sa_exc
from sqlalchemy import func, select
from sqlalchemy.engine import URL, Connection, make_url

from .. import jsonutil
from ..errors import ConcurrentUpdateError, OrderNotFoundError, ValidationError
from . import backend, direct, migrations
from .changes import ChangeRows, insert_pg, insert_sqlite, update_pg, update_sqlite
from .connections import HotConnections
from .counts import COUNTS
from .decisions import FulfilmentDecisions
from .deliveries import DeliveryQueue, claimed_rows
from .direct import Runner, Through
from .events import EventLog, event_row
from .exceptions import DuplicateNotificationError
from .outbox import OutboxQueue
from .reads import (
    FIND,
    GET_ORDER,
    IS_PROCESSED,
    JOURNAL,
    NOTIFICATION_ORDERS,
    ORDER_EXISTS,
    WHY_NOT,
    NotificationOrder,
)
from .records import (
    UNCHANGED,
    DeliveryClaim,
    EventDraft,
    JournalEntry,
    OrderRecord,
    OutboxDraft,
    _plain_str,
    _Unchanged,
    utcnow,
)
from .rows import check_journal, duplicate_error, insert_journal, journal_entry_of, journal_row, order_of, outbox_rows
from .schema import EncodedJSON, orders, schema_version

# Aliased: ``journal`` is also a method and a parameter name of the Store.

DEFAULT_URL = "sqlite:///invoicebox-flow.db"


class Store(OutboxQueue, EventLog, DeliveryQueue, FulfilmentDecisions):
    """Persistent storage for the order lifecycle, on SQLAlchemy Core.

    ``url`` is any SQLAlchemy URL: ``sqlite:///path/to/file.db`` (the default, in the current
    directory) or ``postgresql+psycopg://user:password@host/db``. Tables are created on first
    use. ``busy_timeout`` (seconds) is how long a SQLite writer waits for another one before
    giving up with :class:`StoreBusyError`.

    Every commit is durable: on disk before it returns. ``durable_commits=False`` trades that for
    speed (SQLite ``synchronous=NORMAL``, PostgreSQL ``synchronous_commit=off``): a power loss or
    an OS crash (SQLite), a crash of the database server (PostgreSQL) may undo the last commits —
    a payment already answered ``success`` to InvoiceBox is then missing until a reconciliation
    sweep finds it (see :mod:`.backend`). Only for data you can afford to lose or rebuild.

    One ``Store`` may be shared by the threads of a process; each process opens its own (a
    forked child drops the connections it inherited and opens new ones).
    """

    def __init__(self, url: str | URL = DEFAULT_URL, *, echo: bool = False, busy_timeout: float = 30.0,
                 durable_commits: bool = True):
        parsed = make_url(url)
        self._url = backend.masked(parsed)
        self._busy_timeout = busy_timeout
        self._engine = backend.build_engine(parsed, echo=echo, busy_timeout=busy_timeout,
                                            durable_commits=durable_commits)
        self._write_engine = self._engine.execution_options(**{backend.WRITE_OPTION: True})
        # PostgreSQL: autocommit reads (SQLite's begin listener already skips BEGIN for reads)
        self._read_engine = (self._engine.execution_options(isolation_level="AUTOCOMMIT")
                             if parsed.get_backend_name() == "postgresql" else self._engine)
        self._is_postgres = parsed.get_backend_name() == "postgresql"
        self._transaction_lock = backend.process_lock(parsed)
        self._statements = direct.Statements(self._engine)
        self._hot_connections = HotConnections(self._engine, ping_idle=self._is_postgres)
        self._schema_lock = threading.Lock()
        self._schema_ready = threading.Event()
        os.register_at_fork(after_in_child=functools.partial(_forget_connections, weakref.ref(self)))

    def __repr__(self) -> str:
        return f"Store({self._url!r})"

    @property
    def url(self) -> str:
        """The database URL, password masked."""
        return self._url

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.dispose()

    def dispose(self) -> None:
        """Close every pooled connection. The store reconnects if used again."""
        self._hot_connections.dispose()
        self._engine.dispose()

    # --- transactions --------------------------------------------------------------------

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        """A connection for ONE read statement, which runs in its own implicit transaction:
        every read here is a single statement, so BEGIN/COMMIT round trips would buy nothing."""
        self._ensure_schema()
        with backend.translate_busy(self._busy_timeout), self._transaction_lock, \
                self._read_engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        self._ensure_schema()
        with backend.translate_busy(self._busy_timeout), self._transaction_lock, \
                self._write_engine.connect() as conn, conn.begin():
            yield conn

    def _hot(self, *, write: bool = False) -> AbstractContextManager[Runner]:
        """The hot path's unit of work: statements on the driver's own cursor and on the hot
        path's own connections (:mod:`.direct`, :mod:`.connections`), or through SQLAlchemy
        while the engine is watched. A write is a ``BEGIN IMMEDIATE`` transaction on SQLite; on
        PostgreSQL every statement here is its own transaction."""
        self._ensure_schema()
        if direct.watched(self._engine):
            return self._through(write=write and not self._is_postgres)
        return direct.Unit(self._statements, self._hot_connections, self._transaction_lock,
                           autocommit=self._is_postgres, begin="BEGIN IMMEDIATE" if write and not self._is_postgres
                           else None, translate=self._busy)

    @contextmanager
    def _through(self, *, write: bool) -> Iterator[Runner]:
        with self._write() if write else self._read() as conn:
            yield Through(conn)

    def _busy(self, error: sa_exc.DBAPIError) -> Exception | None:
        return backend.busy_error(error, self._busy_timeout)

    def _ensure_schema(self) -> None:
        if self._schema_ready.is_set():
            return
        with self._schema_lock:
            if self._schema_ready.is_set():
                return
            with backend.translate_busy(self._busy_timeout), self._transaction_lock, \
                    self._write_engine.connect() as conn, conn.begin():
                migrations.prepare(conn, is_postgres=self._is_postgres)
            self._schema_ready.set()

    def schema_version(self) -> int:
        """The schema version recorded in the database (creating the schema if needed)."""
        with self._read() as conn:
            return int(conn.scalar(select(func.max(schema_version.c.version))))

    # --- orders --------------------------------------------------------------------------

    def add_order(
        self,
        record: OrderRecord,
        journal: JournalEntry,
        outbox: Sequence[OutboxDraft] = (),
        *,
        claim_outbox_as: str | None = None,
        lease_seconds: float = 30.0,
        events: Sequence[EventDraft] = (),
        deliveries: DeliveryClaim | None = None,
    ) -> OrderRecord:
        """Store a new order with its first journal entry, outbox intents and lifecycle events,
        in one transaction.

        ``claim_outbox_as`` queues the intents already claimed by that worker for
        ``lease_seconds`` (for a caller that performs the call itself right after the commit,
        so that no other worker picks it up meanwhile). ``deliveries`` queues the events'
        deliveries to those handlers, claimed the same way (see :mod:`.deliveries`).

        Raises :class:`ValidationError` with code ``merchant_order_id_duplicate`` when the id or
        the ``merchant_order_id`` is taken (``invoicebox_id_duplicate``, ``outbox_key_duplicate``
        for those); nothing is written then.
        """
        if record.version != 1:
            raise ValueError(f"a new order starts at version 1, not {record.version}")
        check_journal(journal, record.id, record.state)
        data = EncodedJSON(jsonutil.dumps(record.data))
        row = {"id": record.id, "merchant_order_id": record.merchant_order_id, "invoicebox_id": record.invoicebox_id,
               "variant": record.variant, "state": record.state, "version": 1, "data": data,
               "created_at": record.created_at, "updated_at": record.updated_at}
        rows = ChangeRows(journal=journal_row(journal),
                          events=tuple(event_row(record.id, 1, record.updated_at, data, d) for d in events),
                          outbox=outbox_rows(record.id, outbox, utcnow(), claim_outbox_as, lease_seconds),
                          deliveries=claimed_rows(record.id, events, deliveries, record.updated_at))
        try:
            with self._hot(write=True) as run:  # PostgreSQL: one statement, its own transaction
                (insert_pg if self._is_postgres else insert_sqlite)(run, row, rows)
        except sa_exc.IntegrityError as error:
            raise duplicate_error(error, record) from None
        return attrs.evolve(record)

    def get(self, order_id: str) -> OrderRecord:
        """The order with this local id; :class:`OrderNotFoundError` if there is none."""
        with self._hot() as run:
            rows, convert = run.execute(GET_ORDER, {"p_id": order_id}).deferred()
        if not rows:
            raise OrderNotFoundError(f"no order {order_id!r} in the store")
        return order_of(convert(rows[0]), rows[0])

    def find(self, *, merchant_order_id: str | None = None, invoicebox_id: str | None = None) -> OrderRecord | None:
        """The order with this ``merchant_order_id`` and/or InvoiceBox id, or ``None``."""
        if merchant_order_id is None and invoicebox_id is None:
            raise ValueError("find() needs merchant_order_id or invoicebox_id")
        query = FIND[merchant_order_id is not None, invoicebox_id is not None]
        with self._read() as conn:
            row = conn.execute(query, {"moid": merchant_order_id, "ib": invoicebox_id}).first()
        return None if row is None else order_of(row)

    def notification_orders(self, invoicebox_id: str | None, merchant_order_id: str | None,
                            key: str) -> NotificationOrder:
        """In one read: the order with ``invoicebox_id``, the order with ``merchant_order_id``,
        and whether the notification ``key`` is processed (``.replay``: applied already)."""
        with self._hot() as run:
            rows, convert = run.execute(NOTIFICATION_ORDERS, {"ib": invoicebox_id, "moid": merchant_order_id,
                                                              "key": key}).deferred()
        return NotificationOrder(rows, convert, invoicebox_id, merchant_order_id)

    def list_orders(self, *, state: str | None = None, limit: int = 100, offset: int = 0) -> list[OrderRecord]:
        """Orders, newest first, optionally only those in ``state``."""
        query = select(orders).order_by(orders.c.created_at.desc(), orders.c.id.desc()).limit(limit).offset(offset)
        if state is not None:
            query = query.where(orders.c.state == _plain_str(state))
        with self._read() as conn:
            return [order_of(row) for row in conn.execute(query)]

    def counts(self) -> dict[str, int]:
        """How many orders are in each state (states with no order are absent)."""
        with self._hot() as run:  # the counter rows the triggers keep, not the orders (see .counts)
            return {state: int(count) for state, count in run.execute(COUNTS, {}).all()}

    def update(
        self,
        order_id: str,
        expected_version: int,
        *,
        state: str,
        data: dict[str, Any],
        journal: JournalEntry,
        invoicebox_id: str | _Unchanged | None = UNCHANGED,
        outbox: Sequence[OutboxDraft] = (),
        complete_outbox: int | None = None,
        outbox_result: dict[str, Any] | None = None,
        notification_key: str | None = None,
        data_as_stored: str | None = None,
        claim_outbox_as: str | None = None,
        lease_seconds: float = 30.0,
        events: Sequence[EventDraft] = (),
        deliveries: DeliveryClaim | None = None,
    ) -> OrderRecord:
        """Change an order if it is still at ``expected_version``; all or nothing.

        In one transaction: record ``notification_key`` as processed (already there →
        :class:`DuplicateNotificationError`), compare-and-set the order (stale version →
        :class:`ConcurrentUpdateError`), append ``journal`` and ``events``, queue ``outbox`` and
        mark the outbox item ``complete_outbox`` done with ``outbox_result`` (not pending or
        claimed any more → :class:`ConcurrentUpdateError`). On any error nothing at all is
        written. ``claim_outbox_as`` queues ``outbox`` and ``deliveries`` the events' deliveries,
        already claimed (see :meth:`add_order`). ``data_as_stored``: for a change that keeps ``data``,
        its JSON text as the store holds it at ``expected_version`` (the read record's
        ``data_json``): the row's data is left as it is, and the events carry that text.
        Returns the order as stored, at ``expected_version + 1``.
        """
        state = _plain_str(state)
        check_journal(journal, order_id, state)
        if outbox_result is not None and complete_outbox is None:
            raise ValueError("outbox_result needs complete_outbox")
        now = utcnow()
        version = expected_version + 1
        # once, for the order's row and its events; kept data is not written again (nor encoded)
        encoded = EncodedJSON(jsonutil.dumps(data) if data_as_stored is None else data_as_stored)
        order: dict[str, Any] = {"p_id": order_id, "p_version": expected_version, "p_state": state,
                                 "p_updated_at": now}
        if data_as_stored is None:
            order["p_data"] = encoded
        if invoicebox_id is not UNCHANGED:
            order["p_invoicebox_id"] = invoicebox_id
        rows = ChangeRows(
            journal=journal_row(journal),
            events=tuple(event_row(order_id, version, now, encoded, d) for d in events),
            outbox=outbox_rows(order_id, outbox, now, claim_outbox_as, lease_seconds),
            deliveries=claimed_rows(order_id, events, deliveries, now),
            processed=None if notification_key is None else {"key": notification_key, "order_id": order_id, "at": now},
            complete=None if complete_outbox is None else {"id": complete_outbox, "order_id": order_id,
                                                           "result": outbox_result})
        try:
            with self._hot(write=True) as run:  # PostgreSQL: one statement, its own transaction (.changes)
                row = (update_pg if self._is_postgres else update_sqlite)(run, order, rows)
                if row is None and not self._is_postgres:
                    if run.execute(ORDER_EXISTS, {"p_id": order_id}).first() is None:
                        raise OrderNotFoundError(f"no order {order_id!r} in the store")
                    raise ConcurrentUpdateError(order_id, expected_version)
            if row is None:
                self._raise_missed(order_id, expected_version, notification_key)
        except sa_exc.IntegrityError as error:
            violated = backend.unique_violation(error)
            if notification_key is not None and "processed_notifications.key" in violated:
                raise DuplicateNotificationError(notification_key, order_id) from None
            if "orders.invoicebox_id" in violated:
                raise ValidationError(
                    f"InvoiceBox order {invoicebox_id} belongs to another order already",
                    code="invoicebox_id_duplicate",
                ) from None
            if "outbox.key" in violated:
                raise ValidationError(f"order {order_id}: an outbox intent with this key exists already", code="outbox_key_duplicate") from None
            if backend.is_foreign_key_violation(error):
                raise OrderNotFoundError(f"no order {order_id!r} in the store") from None
            raise
        assert row is not None
        merchant_order_id, stored_invoicebox_id, variant, created_at = row  # changes.RETURNED
        return OrderRecord(id=order_id, merchant_order_id=merchant_order_id, variant=variant, state=state,
                           version=version, invoicebox_id=stored_invoicebox_id, data=data, created_at=created_at,
                           updated_at=now, data_json=str(encoded))

    def _raise_missed(self, order_id: str, expected_version: int, notification_key: str | None) -> None:
        """Why a change that wrote nothing missed (PostgreSQL: one more read, on this path only)."""
        with self._read() as conn:
            why = conn.execute(WHY_NOT, {"p_id": order_id, "key": notification_key}).one()
        if notification_key is not None and why.processed:
            raise DuplicateNotificationError(notification_key, order_id)
        if not why.known:
            raise OrderNotFoundError(f"no order {order_id!r} in the store")
        raise ConcurrentUpdateError(order_id, expected_version)

    # --- journal and notifications -------------------------------------------------------

    def record_attempt(self, journal: JournalEntry) -> None:
        """Append a journal entry that changes no state: a failed call or a refused action."""
        try:
            # one statement: on PostgreSQL its own transaction, no BEGIN/COMMIT round trips
            with self._read() if self._is_postgres else self._write() as conn:
                insert_journal(conn, journal)
        except sa_exc.IntegrityError as error:
            if backend.is_foreign_key_violation(error):
                raise OrderNotFoundError(f"no order {journal.order_id!r} in the store") from None
            raise

    def journal(self, order_id: str) -> list[JournalEntry]:
        """The order's journal, oldest first (empty for an unknown order)."""
        with self._read() as conn:
            return [journal_entry_of(row) for row in conn.execute(JOURNAL, {"p_id": order_id})]

    def is_notification_processed(self, key: str) -> bool:
        with self._read() as conn:
            return bool(conn.scalar(IS_PROCESSED, {"key": key}))

def _forget_connections(store_ref: weakref.ref[Store]) -> None:
    store = store_ref()
    if store is not None:
        # The parent's connections must not be used (or closed) by the child.
        store._engine.dispose(close=False)  # (the hot path's connections forget theirs when next used)


