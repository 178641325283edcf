"""Deliveries of events to the shop's handlers: the outbox's discipline applied to events.

One row per (event, handler) — unique, so an event is queued for a handler once — claimed with
a lease, retried from ``available_at``, ``done`` when the handler returned, ``dead`` when it
kept failing. Rows are made two ways, both "insert if absent":

* :meth:`DeliveryQueue.fan_out`: a worker reads the feed from the handler's position
  (``event_handlers``) and queues every event the handler takes, moving the position on, in one
  transaction (on PostgreSQL the position row is locked ``FOR UPDATE SKIP LOCKED``, so two
  workers never scan the same stretch at once; SQLite runs writers one at a time);
* :func:`claimed_rows`, with the event itself, already claimed by the committing process, for
  the handlers it runs right after the commit (``OrderFlow(inline_handlers=True)``).

A part of :class:`~.store.Store`, which provides the transactions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Row

from .events import START, feed_query, head, position_text
from .exceptions import DeliveryLeaseLostError
from .parts import StorePart
from .records import CLAIMED, DEAD, DONE, OUTBOX_STATUSES, PENDING, Delivery, DeliveryClaim, EventDraft, as_utc, utcnow
from .schema import event_deliveries as deliveries_table
from .schema import event_handlers as handlers_table
from .schema import events as events_table

#: ``(event type, trigger) -> bool``: whether a handler takes an event.
Accepts = Callable[[str, str], bool]
_FAN_OUT_COLUMNS = (events_table.c.txid, events_table.c.seq, events_table.c.id, events_table.c.order_id,
                    events_table.c.type, events_table.c.trigger)


#: The columns of a delivery queued claimed with its event.
CLAIMED_COLUMNS = ("event_id", "handler", "order_id", "event_type", "status", "attempts", "available_at",
                   "claimed_by", "claimed_until", "created_at")


def claimed_rows(order_id: str, drafts: Sequence[EventDraft], claim: DeliveryClaim | None,
                 at: dt.datetime) -> tuple[dict[str, Any], ...]:
    """The deliveries of new events to ``claim.handlers``, claimed by ``claim.worker``."""
    if claim is None or not drafts or not claim.handlers:
        return ()
    if claim.lease_seconds <= 0:
        raise ValueError("lease_seconds must be > 0")
    until = at + dt.timedelta(seconds=claim.lease_seconds)
    return tuple({"event_id": d.id, "handler": handler, "order_id": order_id, "event_type": d.type, "status": CLAIMED,
                  "attempts": 1, "available_at": at, "claimed_by": claim.worker, "claimed_until": until,
                  "created_at": at}
                 for d in drafts for handler in claim.handlers)


def delivery_of(row: Row[Any]) -> Delivery:
    return Delivery(id=row.id, event_id=row.event_id, handler=row.handler, order_id=row.order_id,
                    event_type=row.event_type, status=row.status, attempts=row.attempts,
                    available_at=row.available_at, claimed_by=row.claimed_by, claimed_until=row.claimed_until,
                    last_error=row.last_error, created_at=row.created_at, done_at=row.done_at)


class DeliveryQueue(StorePart):
    """The delivery methods of the store."""

    def _insert_absent(self, table: Any, *keys: str) -> Any:
        insert = pg_insert if self._is_postgres else sqlite_insert
        return insert(table).on_conflict_do_nothing(index_elements=list(keys))

    def register_handlers(self, handlers: Mapping[str, bool]) -> None:
        """Give each handler not seen before its place in the feed: ``{name: replay}``, where
        ``replay`` starts it at the first event ever committed and otherwise at the newest one
        (it is then handed every event committed after this call). Known handlers keep theirs."""
        if not handlers:
            return
        now = utcnow()
        with self._write() as conn:
            newest = head(conn, self._is_postgres)
            conn.execute(self._insert_absent(handlers_table, "name"), [
                {"name": name, "txid": (START if replay else newest)[0], "seq": (START if replay else newest)[1],
                 "registered_at": now} for name, replay in handlers.items()])

    def fan_out(self, handler: str, accepts: Accepts, *, limit: int = 500) -> int:
        """Queue a delivery to ``handler`` for each event after its position that it ``accepts``,
        and move its position past the events read; returns how many events were read (0: it
        is up to date, unknown, or another worker is fanning it out right now)."""
        if not self._has_news(handler):
            return 0  # idle polls never take the write lock
        with self._write() as conn:
            query = select(handlers_table).where(handlers_table.c.name == handler)
            if self._is_postgres:
                query = query.with_for_update(skip_locked=True)
            position = conn.execute(query).first()
            if position is None:
                return 0
            rows = conn.execute(feed_query((position.txid, position.seq), limit, self._is_postgres,
                                           columns=_FAN_OUT_COLUMNS)).all()
            if not rows:
                return 0
            now = utcnow()
            wanted = [{"event_id": r.id, "handler": handler, "order_id": r.order_id, "event_type": r.type,
                       "status": PENDING, "attempts": 0, "available_at": now, "created_at": now}
                      for r in rows if accepts(r.type, r.trigger)]
            if wanted:
                conn.execute(self._insert_absent(deliveries_table, "event_id", "handler"), wanted)
            conn.execute(update(handlers_table).where(handlers_table.c.name == handler)
                         .values(txid=rows[-1].txid, seq=rows[-1].seq))
        return len(rows)

    def _has_news(self, handler: str) -> bool:
        with self._read() as conn:
            position = conn.execute(select(handlers_table.c.txid, handlers_table.c.seq)
                                    .where(handlers_table.c.name == handler)).first()
            return position is not None and conn.execute(feed_query(
                (position.txid, position.seq), 1, self._is_postgres, columns=(events_table.c.seq,))).first() is not None

    def claim_deliveries(self, worker: str, handler: str, *, limit: int = 10, lease_seconds: float = 60.0,
                         now: dt.datetime | None = None) -> list[Delivery]:
        """Claim up to ``limit`` due deliveries to ``handler`` for ``worker``: pending ones whose
        time has come and claimed ones whose lease ran out (their worker died). Each claim adds
        one to ``attempts``. Oldest first; PostgreSQL skips rows another claimer holds."""
        if not worker or limit < 1 or lease_seconds <= 0:
            raise ValueError("a claim needs a worker, limit >= 1 and lease_seconds > 0")
        now = utcnow() if now is None else as_utc(now)
        c = deliveries_table.c
        due = or_(and_(c.status == PENDING, c.available_at <= now), and_(c.status == CLAIMED, c.claimed_until <= now))
        query = select(c.id).where(c.handler == handler, due).order_by(c.available_at, c.id).limit(limit)
        if self._is_postgres:
            query = query.with_for_update(skip_locked=True)
        with self._write() as conn:
            ids = list(conn.scalars(query))
            if not ids:
                return []
            rows = conn.execute(update(deliveries_table).where(c.id.in_(ids)).values(
                status=CLAIMED, claimed_by=worker, claimed_until=now + dt.timedelta(seconds=lease_seconds),
                attempts=c.attempts + 1).returning(*deliveries_table.c)).all()
        return sorted((delivery_of(row) for row in rows), key=lambda d: (d.available_at, d.id))

    def complete_delivery(self, delivery_id: int, *, worker: str,
                          within: Callable[[Connection], object] | None = None) -> None:
        """Mark a delivery ``worker`` holds done. ``within(connection)`` runs first in the same
        transaction (a handler writing to this database): its writes commit with the record of
        its success, or not at all. Not held by ``worker`` any more → :class:`DeliveryLeaseLostError`,
        and nothing is written."""
        c = deliveries_table.c
        with self._write() as conn:
            # the row first: it is then locked (PostgreSQL) while ``within`` runs
            done = conn.execute(update(deliveries_table).where(
                c.id == delivery_id, c.status == CLAIMED, c.claimed_by == worker).values(
                status=DONE, done_at=utcnow(), claimed_until=None))
            if done.rowcount != 1:
                raise DeliveryLeaseLostError(delivery_id, worker)
            if within is not None:
                within(conn)

    def release_delivery(self, delivery_id: int, *, worker: str, error: str, retry_at: dt.datetime,
                         dead: bool = False) -> None:
        """Give back a delivery whose handler raised: pending again from ``retry_at``, or ``dead``."""
        c = deliveries_table.c
        with self._write() as conn:
            released = conn.execute(update(deliveries_table).where(
                c.id == delivery_id, c.status == CLAIMED, c.claimed_by == worker).values(
                status=DEAD if dead else PENDING, available_at=as_utc(retry_at), last_error=error, claimed_by=None,
                claimed_until=None))
            if released.rowcount != 1:
                raise DeliveryLeaseLostError(delivery_id, worker)

    def deliveries(self, *, status: str | None = None, handler: str | None = None, event_id: str | None = None,
                   limit: int | None = None) -> list[Delivery]:
        """Deliveries in the order they were queued, optionally filtered."""
        if status is not None and status not in OUTBOX_STATUSES:
            raise ValueError(f"unknown delivery status {status!r}; one of {', '.join(OUTBOX_STATUSES)}")
        c = deliveries_table.c
        query = select(deliveries_table).order_by(c.id)
        for column, value in ((c.status, status), (c.handler, handler), (c.event_id, event_id)):
            if value is not None:
                query = query.where(column == value)
        if limit is not None:
            query = query.limit(limit)
        with self._read() as conn:
            return [delivery_of(row) for row in conn.execute(query)]

    def handler_positions(self) -> dict[str, str]:
        """Each registered handler's place in the feed: every event up to it has been queued for
        the handler (or was not one it takes). Compare with ``feed_head()`` to see its lag."""
        with self._read() as conn:
            rows = conn.execute(select(handlers_table.c.name, handlers_table.c.txid, handlers_table.c.seq))
            return {row.name: position_text(row.txid, row.seq) for row in rows}

    def delivery_counts(self) -> dict[tuple[str, str], int]:
        """``{(handler, status): count}`` over every delivery."""
        c = deliveries_table.c
        with self._read() as conn:
            rows = conn.execute(select(c.handler, c.status, func.count()).group_by(c.handler, c.status))
            return {(handler, status): int(count) for handler, status, count in rows}

    def retry_deliveries(self, ids: Iterable[int] | None = None, *, handler: str | None = None) -> int:
        """Give dead deliveries (those of ``ids``, or every one; of ``handler`` only, when given)
        a fresh set of attempts, due now. Returns how many were revived."""
        c = deliveries_table.c
        query = update(deliveries_table).where(c.status == DEAD).values(
            status=PENDING, attempts=0, available_at=utcnow(), claimed_by=None, claimed_until=None)
        if ids is not None:
            query = query.where(c.id.in_(list(ids)))
        if handler is not None:
            query = query.where(c.handler == handler)
        with self._write() as conn:
            return int(conn.execute(query).rowcount)
