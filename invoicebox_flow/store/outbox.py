"""The outbox: InvoiceBox calls recorded with the state change that needs them, claimed by
workers with a lease, released on failure. A part of :class:`~.store.Store`."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, or_, select, update

from .exceptions import OutboxLeaseLostError
from .parts import StorePart
from .records import CLAIMED, DEAD, OUTBOX_STATUSES, PENDING, OutboxItem, as_utc, utcnow
from .rows import outbox_item_of
from .schema import outbox as outbox_table


class OutboxQueue(StorePart):
    """The outbox methods of the store; the store provides its transactions."""

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
        return sorted((outbox_item_of(row) for row in rows), key=lambda item: (item.available_at, item.id))

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
            return [outbox_item_of(row) for row in conn.execute(query)]


