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

from sqlalchemy import and_, bindparam, func, insert, or_, select, update
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, Connection, Row, make_url

from ..errors import ConcurrentUpdateError, OrderNotFoundError, ValidationError
from . import backend
from .exceptions import DuplicateNotificationError, OutboxLeaseLostError, SchemaVersionError
from .records import (
    CLAIMED,
    DEAD,
    DONE,
    OUTBOX_STATUSES,
    PENDING,
    UNCHANGED,
    JournalEntry,
    OrderRecord,
    OutboxDraft,
    OutboxItem,
    _plain_str,
    _Unchanged,
    as_utc,
    utcnow,
)
from .schema import SCHEMA_VERSION, metadata, orders, processed_notifications, schema_version
# Aliased: ``journal`` and ``outbox`` are also method and parameter names of the Store.
from .schema import journal as journal_table
from .schema import outbox as outbox_table

DEFAULT_URL = "sqlite:///invoicebox-flow.db"

# Serialises schema creation between processes on PostgreSQL (an arbitrary constant).
_SCHEMA_LOCK_KEY = 0x1B0C_F10E


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


class Store:
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
        self._schema_ready = False
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
        with backend.translate_busy(self._busy_timeout), self._transaction_lock:
            with self._read_engine.connect() as conn, conn.begin():
                yield conn

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        self._ensure_schema()
        with backend.translate_busy(self._busy_timeout), self._transaction_lock:
            with self._write_engine.connect() as conn, conn.begin():
                yield conn

    def _ensure_schema(self) -> None:
        if self._schema_ready:
            return
        with self._schema_lock:
            if self._schema_ready:
                return
            with backend.translate_busy(self._busy_timeout), self._transaction_lock:
                with self._write_engine.connect() as conn, conn.begin():
                    if self._is_postgres:
                        # DDL is transactional in PostgreSQL, but two sessions creating the
                        # same table at once still collide; take turns. (SQLite: BEGIN IMMEDIATE
                        # already serialises this transaction.)
                        conn.execute(select(func.pg_advisory_xact_lock(_SCHEMA_LOCK_KEY)))
                    metadata.create_all(conn, checkfirst=True)
                    version = conn.scalar(select(func.max(schema_version.c.version)))
                    if version is None:
                        conn.execute(insert(schema_version).values(version=SCHEMA_VERSION, applied_at=utcnow()))
                    elif version > SCHEMA_VERSION:
                        raise SchemaVersionError(
                            f"the database has schema version {version}; this invoicebox-flow "
                            f"understands up to {SCHEMA_VERSION}: upgrade invoicebox-flow"
                        )
            self._schema_ready = True

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
    ) -> OrderRecord:
        """Store a new order with its first journal entry and outbox intents, in one transaction.

        ``claim_outbox_as`` queues the intents already claimed by that worker for
        ``lease_seconds`` (for a caller that performs the call itself right after the commit,
        so that no other worker picks it up meanwhile).

        Raises :class:`ValidationError` with code ``merchant_order_id_duplicate`` when the id or
        the ``merchant_order_id`` is taken (``invoicebox_id_duplicate``, ``outbox_key_duplicate``
        for those); nothing is written then.
        """
        if record.version != 1:
            raise ValueError(f"a new order starts at version 1, not {record.version}")
        _check_journal(journal, record.id, record.state)
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
                        data=record.data,
                        created_at=record.created_at,
                        updated_at=record.updated_at,
                    )
                    .returning(*orders.c)
                ).one()
                _insert_journal(conn, journal)
                _insert_outbox(conn, record.id, outbox, utcnow(), claim_outbox_as, lease_seconds)
        except sa_exc.IntegrityError as error:
            raise _duplicate_error(error, record) from None
        return _order(row)

    def get(self, order_id: str) -> OrderRecord:
        """The order with this local id; :class:`OrderNotFoundError` if there is none."""
        with self._read() as conn:
            row = conn.execute(_GET_ORDER, {"p_id": order_id}).first()
        if row is None:
            raise OrderNotFoundError(f"no order {order_id!r} in the store")
        return _order(row)

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
        return None if row is None else _order(row)

    def list_orders(self, *, state: str | None = None, limit: int = 100, offset: int = 0) -> list[OrderRecord]:
        """Orders, newest first, optionally only those in ``state``."""
        query = select(orders).order_by(orders.c.created_at.desc(), orders.c.id.desc()).limit(limit).offset(offset)
        if state is not None:
            query = query.where(orders.c.state == _plain_str(state))
        with self._read() as conn:
            return [_order(row) for row in conn.execute(query)]

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
        invoicebox_id: str | None | _Unchanged = UNCHANGED,
        outbox: Sequence[OutboxDraft] = (),
        complete_outbox: int | None = None,
        outbox_result: dict[str, Any] | None = None,
        notification_key: str | None = None,
        claim_outbox_as: str | None = None,
        lease_seconds: float = 30.0,
    ) -> OrderRecord:
        """Change an order if it is still at ``expected_version``; all or nothing.

        In one transaction: record ``notification_key`` as processed (already there →
        :class:`DuplicateNotificationError`), compare-and-set the order (stale version →
        :class:`ConcurrentUpdateError`), append ``journal``, queue ``outbox`` and mark the
        outbox item ``complete_outbox`` done with ``outbox_result`` (not pending or claimed any
        more → :class:`ConcurrentUpdateError`). On any error nothing at all is written.
        ``claim_outbox_as`` queues ``outbox`` already claimed (see :meth:`add_order`).
        Returns the order as stored, at ``expected_version + 1``.
        """
        state = _plain_str(state)
        _check_journal(journal, order_id, state)
        if outbox_result is not None and complete_outbox is None:
            raise ValueError("outbox_result needs complete_outbox")
        now = utcnow()
        params: dict[str, Any] = {"p_id": order_id, "p_version": expected_version, "p_state": state, "p_data": data,
                                  "p_updated_at": now}
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
                _insert_journal(conn, journal)
                _insert_outbox(conn, order_id, outbox, now, claim_outbox_as, lease_seconds)
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
        return _order(row)

    # --- journal and notifications -------------------------------------------------------

    def record_attempt(self, journal: JournalEntry) -> None:
        """Append a journal entry that changes no state: a failed call or a refused action."""
        try:
            with self._write() as conn:
                _insert_journal(conn, journal)
        except sa_exc.IntegrityError as error:
            if backend.is_foreign_key_violation(error):
                raise OrderNotFoundError(f"no order {journal.order_id!r} in the store") from None
            raise

    def journal(self, order_id: str) -> list[JournalEntry]:
        """The order's journal, oldest first (empty for an unknown order)."""
        with self._read() as conn:
            rows = conn.execute(select(journal_table).where(journal_table.c.order_id == order_id).order_by(journal_table.c.seq))
            return [_journal_entry(row) for row in rows]

    def is_notification_processed(self, key: str) -> bool:
        with self._read() as conn:
            return conn.scalar(select(processed_notifications.c.key).where(processed_notifications.c.key == key)) is not None

    # --- outbox --------------------------------------------------------------------------

    def claim_outbox(
        self,
        worker: str,
        *,
        limit: int = 10,
        lease_seconds: float = 30.0,
        now: dt.datetime | None = None,
        order_id: str | None = None,
        due_only: bool = True,
    ) -> list[OutboxItem]:
        """Claim up to ``limit`` items for ``worker``, oldest first, for ``lease_seconds``.

        Claimable: pending items whose ``available_at`` has come (any pending item when
        ``due_only`` is false: "retry now"), and claimed items whose lease has run out (their
        worker died); only the items of ``order_id`` when given. Each claim adds one to
        ``attempts``. While a lease holds, no other worker gets the item: PostgreSQL skips rows another claimer has
        locked (``FOR UPDATE SKIP LOCKED``); SQLite runs claimers one at a time (``BEGIN
        IMMEDIATE``).
        """
        if not worker:
            raise ValueError("worker must be a non-empty string")
        if limit < 1 or lease_seconds <= 0:
            raise ValueError("limit must be ≥ 1 and lease_seconds > 0")
        now = utcnow() if now is None else as_utc(now)
        pending = outbox_table.c.status == PENDING
        claimable = or_(
            and_(pending, outbox_table.c.available_at <= now) if due_only else pending,
            and_(outbox_table.c.status == CLAIMED, outbox_table.c.claimed_until <= now),
        )
        if order_id is not None:
            claimable = and_(claimable, outbox_table.c.order_id == order_id)
        order = (outbox_table.c.available_at, outbox_table.c.id)
        query = select(outbox_table.c.id).where(claimable).order_by(*order).limit(limit)
        if self._is_postgres:
            query = query.with_for_update(skip_locked=True)
        with self._write() as conn:
            ids = list(conn.scalars(query))
            if not ids:
                return []
            rows = conn.execute(
                update(outbox_table)
                .where(outbox_table.c.id.in_(ids))
                .values(
                    status=CLAIMED,
                    claimed_by=worker,
                    claimed_until=now + dt.timedelta(seconds=lease_seconds),
                    attempts=outbox_table.c.attempts + 1,
                )
                .returning(*outbox_table.c)
            ).all()
        return sorted((_outbox_item(row) for row in rows), key=lambda item: (item.available_at, item.id))

    def release_outbox(self, item_id: int, *, worker: str, error: str, retry_at: dt.datetime, dead: bool = False) -> None:
        """Give back an item whose attempt failed: pending again from ``retry_at``, or ``dead``.

        Only the worker holding the claim may release it; otherwise
        :class:`OutboxLeaseLostError` and nothing changes.
        """
        retry_at = as_utc(retry_at)
        with self._write() as conn:
            released = conn.execute(
                update(outbox_table)
                .where(outbox_table.c.id == item_id, outbox_table.c.status == CLAIMED, outbox_table.c.claimed_by == worker)
                .values(
                    status=DEAD if dead else PENDING,
                    available_at=retry_at,
                    last_error=error,
                    claimed_by=None,
                    claimed_until=None,
                )
            )
            if released.rowcount != 1:
                raise OutboxLeaseLostError(item_id, worker)

    def outbox(self, *, order_id: str | None = None, status: str | None = None) -> list[OutboxItem]:
        """Outbox items in the order they were queued, optionally filtered."""
        if status is not None and status not in OUTBOX_STATUSES:
            raise ValueError(f"unknown outbox status {status!r}; one of {', '.join(OUTBOX_STATUSES)}")
        query = select(outbox_table).order_by(outbox_table.c.id)
        if order_id is not None:
            query = query.where(outbox_table.c.order_id == order_id)
        if status is not None:
            query = query.where(outbox_table.c.status == status)
        with self._read() as conn:
            return [_outbox_item(row) for row in conn.execute(query)]


def _forget_connections(store_ref: weakref.ref[Store]) -> None:
    store = store_ref()
    if store is not None:
        # The parent's connections must not be used (or closed) by the child.
        store._engine.dispose(close=False)


def _check_journal(entry: JournalEntry, order_id: str, state: str) -> None:
    if entry.order_id != order_id:
        raise ValueError(f"journal entry is for order {entry.order_id!r}, not {order_id!r}")
    if entry.to_state != state:
        raise ValueError(f"journal entry goes to {entry.to_state!r} but the order is stored in {state!r}")


def _insert_journal(conn: Connection, entry: JournalEntry) -> None:
    conn.execute(
        _INSERT_JOURNAL,
        {
            "order_id": entry.order_id,
            "at": entry.at,
            "trigger": entry.trigger,
            "from_state": entry.from_state,
            "to_state": entry.to_state,
            "actor": entry.actor,
            "outcome": entry.outcome,
            "request_id": entry.request_id,
            "detail": entry.detail,
        },
    )


def _insert_outbox(
    conn: Connection,
    order_id: str,
    drafts: Sequence[OutboxDraft],
    now: dt.datetime,
    claim_as: str | None,
    lease_seconds: float,
) -> None:
    if not drafts:
        return
    if claim_as is None:
        claim: dict[str, Any] = {"status": PENDING, "attempts": 0}
    else:
        if lease_seconds <= 0:
            raise ValueError("lease_seconds must be > 0")
        until = now + dt.timedelta(seconds=lease_seconds)
        claim = {"status": CLAIMED, "attempts": 1, "claimed_by": claim_as, "claimed_until": until}
    conn.execute(
        insert(outbox_table),
        [
            {
                "order_id": order_id,
                "action": draft.action,
                "payload": draft.payload,
                "key": draft.key,
                "available_at": now,
                "created_at": now,
                **claim,
            }
            for draft in drafts
        ],
    )


def _duplicate_error(error: sa_exc.IntegrityError, record: OrderRecord) -> Exception:
    violated = backend.unique_violation(error)
    if violated & {"orders.id", "orders.merchant_order_id"}:
        which = f"id {record.id!r}" if "orders.id" in violated else f"merchantOrderId {record.merchant_order_id!r}"
        return ValidationError(
            f"an order with {which} exists already",
            code="merchant_order_id_duplicate",
            fields=[{"name": "merchantOrderId", "code": "merchant_order_id_duplicate", "message": "already used"}],
        )
    if "orders.invoicebox_id" in violated:
        return ValidationError(
            f"InvoiceBox order {record.invoicebox_id} belongs to another order already", code="invoicebox_id_duplicate"
        )
    if "outbox.key" in violated:
        return ValidationError(f"order {record.id}: an outbox intent with this key exists already", code="outbox_key_duplicate")
    return error


def _order(row: Row[Any]) -> OrderRecord:
    return OrderRecord(
        id=row.id,
        merchant_order_id=row.merchant_order_id,
        variant=row.variant,
        state=row.state,
        version=row.version,
        invoicebox_id=row.invoicebox_id,
        data=row.data,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _journal_entry(row: Row[Any]) -> JournalEntry:
    return JournalEntry(
        order_id=row.order_id,
        trigger=row.trigger,
        from_state=row.from_state,
        to_state=row.to_state,
        actor=row.actor,
        outcome=row.outcome,
        request_id=row.request_id,
        detail=row.detail,
        at=row.at,
        seq=row.seq,
    )


def _outbox_item(row: Row[Any]) -> OutboxItem:
    return OutboxItem(
        id=row.id,
        order_id=row.order_id,
        action=row.action,
        payload=row.payload,
        key=row.key,
        status=row.status,
        attempts=row.attempts,
        available_at=row.available_at,
        claimed_by=row.claimed_by,
        claimed_until=row.claimed_until,
        last_error=row.last_error,
        result=row.result,
        created_at=row.created_at,
    )
