"""The :class:`Store`: orders, their journal, processed notifications and the outbox.

Every write is one database transaction, and every state change is a compare-and-set::

    UPDATE orders SET ..., version = version + 1 WHERE id = :id AND version = :expected

Zero rows updated means another worker changed the order after we read it: the whole
transaction is rolled back and :class:`~invoicebox_flow.errors.ConcurrentUpdateError` raised,
so of two workers firing on the same order exactly one wins. The journal entry, the outbox
intents and the processed-notification key of a change commit with it or not at all.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import threading
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, Connection, make_url

from .. import jsonutil
from ..errors import ConcurrentUpdateError, OrderNotFoundError, ValidationError
from . import backend, migrations
from .decisions import FulfilmentDecisions
from .deliveries import DeliveryQueue, insert_claimed
from .events import EventLog, insert_journal_and_events
from .exceptions import DuplicateNotificationError
from .outbox import OutboxQueue
from .records import (
    CLAIMED,
    DONE,
    PENDING,
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
from .rows import check_journal, duplicate_error, insert_journal, insert_outbox, journal_entry_of, order_of
from .schema import EncodedJSON, orders, processed_notifications, schema_version

# Aliased: ``journal`` and ``outbox`` are also method and parameter names of the Store.
from .schema import journal as journal_table
from .schema import outbox as outbox_table

DEFAULT_URL = "sqlite:///invoicebox-flow.db"


# The statements of every transition, built once with bind parameters: building a Core
# expression per call (``.values(...)`` with literals) costs more than executing it on SQLite.
_GET_ORDER = select(orders).where(orders.c.id == bindparam("p_id"))
_INSERT_JOURNAL = insert(journal_table)
_INSERT_PROCESSED = insert(processed_notifications)
_CAS_COLUMNS = ("state", "data", "updated_at")
_CAS_UPDATE = (
    update(orders)
    .where(orders.c.id == bindparam("p_id"), orders.c.version == bindparam("p_version"))
    .values(version=orders.c.version + 1, **{c: bindparam(f"p_{c}") for c in _CAS_COLUMNS})
    .returning(*orders.c)
)
_CAS_UPDATE_WITH_IB_ID = _CAS_UPDATE.values(invoicebox_id=bindparam("p_invoicebox_id"))


class Store(OutboxQueue, EventLog, DeliveryQueue, FulfilmentDecisions):
    """Persistent storage for the order lifecycle, on SQLAlchemy Core.

    ``url`` is any SQLAlchemy URL: ``sqlite:///path/to/file.db`` (the default, in the current
    directory) or ``postgresql+psycopg://user:password@host/db``. Tables are created on first
    use. ``busy_timeout`` (seconds) is how long a SQLite writer waits for another one before
    giving up with :class:`StoreBusyError`.

    One ``Store`` may be shared by the threads of a process; each process opens its own (a
    forked child drops the connections it inherited and opens new ones).
    """

    def __init__(self, url: str | URL = DEFAULT_URL, *, echo: bool = False, busy_timeout: float = 30.0):
        parsed = make_url(url)
        self._url = backend.masked(parsed)
        self._busy_timeout = busy_timeout
        self._engine = backend.build_engine(parsed, echo=echo, busy_timeout=busy_timeout)
        self._write_engine = self._engine.execution_options(**{backend.WRITE_OPTION: True})
        # PostgreSQL: autocommit reads (SQLite's begin listener already skips BEGIN for reads)
        self._read_engine = (self._engine.execution_options(isolation_level="AUTOCOMMIT")
                             if parsed.get_backend_name() == "postgresql" else self._engine)
        self._is_postgres = parsed.get_backend_name() == "postgresql"
        self._transaction_lock = backend.process_lock(parsed)
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
        try:
            with self._write() as conn:
                row = conn.execute(
                    insert(orders)
                    .values(
                        id=record.id,
                        merchant_order_id=record.merchant_order_id,
                        invoicebox_id=record.invoicebox_id,
                        variant=record.variant,
                        state=record.state,
                        version=1,
                        data=data,
                        created_at=record.created_at,
                        updated_at=record.updated_at,
                    )
                    .returning(*orders.c)
                ).one()
                self._journal_and_events(conn, journal, record.id, 1, record.updated_at, data, events, deliveries)
                insert_outbox(conn, record.id, outbox, utcnow(), claim_outbox_as, lease_seconds)
        except sa_exc.IntegrityError as error:
            raise duplicate_error(error, record) from None
        return order_of(row)

    def get(self, order_id: str) -> OrderRecord:
        """The order with this local id; :class:`OrderNotFoundError` if there is none."""
        with self._read() as conn:
            row = conn.execute(_GET_ORDER, {"p_id": order_id}).first()
        if row is None:
            raise OrderNotFoundError(f"no order {order_id!r} in the store")
        return order_of(row)

    def find(self, *, merchant_order_id: str | None = None, invoicebox_id: str | None = None) -> OrderRecord | None:
        """The order with this ``merchant_order_id`` and/or InvoiceBox id, or ``None``."""
        conditions = []
        if merchant_order_id is not None:
            conditions.append(orders.c.merchant_order_id == merchant_order_id)
        if invoicebox_id is not None:
            conditions.append(orders.c.invoicebox_id == invoicebox_id)
        if not conditions:
            raise ValueError("find() needs merchant_order_id or invoicebox_id")
        with self._read() as conn:
            row = conn.execute(select(orders).where(*conditions)).first()
        return None if row is None else order_of(row)

    def list_orders(self, *, state: str | None = None, limit: int = 100, offset: int = 0) -> list[OrderRecord]:
        """Orders, newest first, optionally only those in ``state``."""
        query = select(orders).order_by(orders.c.created_at.desc(), orders.c.id.desc()).limit(limit).offset(offset)
        if state is not None:
            query = query.where(orders.c.state == _plain_str(state))
        with self._read() as conn:
            return [order_of(row) for row in conn.execute(query)]

    def counts(self) -> dict[str, int]:
        """How many orders are in each state (states with no order are absent)."""
        with self._read() as conn:
            rows = conn.execute(select(orders.c.state, func.count()).group_by(orders.c.state))
            return {state: int(count) for state, count in rows}

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
        already claimed (see :meth:`add_order`).
        Returns the order as stored, at ``expected_version + 1``.
        """
        state = _plain_str(state)
        check_journal(journal, order_id, state)
        if outbox_result is not None and complete_outbox is None:
            raise ValueError("outbox_result needs complete_outbox")
        now = utcnow()
        encoded = EncodedJSON(jsonutil.dumps(data))  # once, for the order's row and its events
        params: dict[str, Any] = {"p_id": order_id, "p_version": expected_version, "p_state": state,
                                  "p_data": encoded, "p_updated_at": now}
        statement = _CAS_UPDATE
        if invoicebox_id is not UNCHANGED:
            params["p_invoicebox_id"] = invoicebox_id
            statement = _CAS_UPDATE_WITH_IB_ID
        try:
            with self._write() as conn:
                if notification_key is not None:
                    # First, so that a replayed notification is reported as such even when
                    # the order has moved on since (its version is stale too).
                    conn.execute(_INSERT_PROCESSED, {"key": notification_key, "order_id": order_id, "at": now})
                row = conn.execute(statement, params).first()
                if row is None:
                    if conn.scalar(select(orders.c.id).where(orders.c.id == order_id)) is None:
                        raise OrderNotFoundError(f"no order {order_id!r} in the store")
                    raise ConcurrentUpdateError(order_id, expected_version)
                self._journal_and_events(conn, journal, order_id, expected_version + 1, now, encoded, events,
                                         deliveries)
                insert_outbox(conn, order_id, outbox, now, claim_outbox_as, lease_seconds)
                if complete_outbox is not None:
                    done = conn.execute(
                        update(outbox_table)
                        .where(
                            outbox_table.c.id == complete_outbox,
                            outbox_table.c.order_id == order_id,
                            outbox_table.c.status.in_((PENDING, CLAIMED)),
                        )
                        .values(status=DONE, result=outbox_result, claimed_until=None)
                    )
                    if done.rowcount != 1:
                        raise ConcurrentUpdateError(order_id, expected_version)
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
        return order_of(row)

    def _journal_and_events(self, conn: Connection, journal: JournalEntry, order_id: str, version: int,
                            at: dt.datetime, data: EncodedJSON, events: Sequence[EventDraft],
                            deliveries: DeliveryClaim | None) -> None:
        insert_journal_and_events(conn, is_postgres=self._is_postgres, journal=journal, order_id=order_id,
                                  order_version=version, at=at, data=data, drafts=events)
        if deliveries is not None:
            insert_claimed(conn, order_id, events, deliveries, at)

    # --- journal and notifications -------------------------------------------------------

    def record_attempt(self, journal: JournalEntry) -> None:
        """Append a journal entry that changes no state: a failed call or a refused action."""
        try:
            with self._write() as conn:
                insert_journal(conn, journal)
        except sa_exc.IntegrityError as error:
            if backend.is_foreign_key_violation(error):
                raise OrderNotFoundError(f"no order {journal.order_id!r} in the store") from None
            raise

    def journal(self, order_id: str) -> list[JournalEntry]:
        """The order's journal, oldest first (empty for an unknown order)."""
        with self._read() as conn:
            rows = conn.execute(select(journal_table).where(journal_table.c.order_id == order_id).order_by(journal_table.c.seq))
            return [journal_entry_of(row) for row in rows]

    def is_notification_processed(self, key: str) -> bool:
        with self._read() as conn:
            return conn.scalar(select(processed_notifications.c.key).where(processed_notifications.c.key == key)) is not None

def _forget_connections(store_ref: weakref.ref[Store]) -> None:
    store = store_ref()
    if store is not None:
        # The parent's connections must not be used (or closed) by the child.
        store._engine.dispose(close=False)


