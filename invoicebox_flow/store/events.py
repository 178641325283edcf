"""The event log: lifecycle events written with the change they describe, read as one feed.

Every change the engine commits appends its event in the same transaction (:mod:`.changes`, for
``Store.update`` and ``Store.add_order``), so there is no event without its state
change and no state change without its event. :meth:`EventLog.read_events` reads all orders'
events in commit order from a *position* a consumer keeps.

**Why the feed never skips an event.** Event rows get increasing ``seq`` numbers when they are
*inserted*, but transactions may *commit* in another order: a reader that only remembered the
highest ``seq`` it saw would step over a smaller one committed a moment later.

* SQLite: every write transaction holds the database's write lock from ``BEGIN IMMEDIATE`` to
  ``COMMIT`` (:mod:`.backend`), so inserts and commits happen in the same order and ``seq`` is
  commit order. The position is ``0-<seq>``.
* PostgreSQL: each row also records the id of the transaction that wrote it
  (``pg_current_xact_id()``), and the feed is ordered by ``(txid, seq)``. A read returns only
  rows whose ``txid`` is below ``pg_snapshot_xmin(pg_current_snapshot())``, the oldest transaction
  still running: every transaction below it has committed or rolled back, so no row can appear
  there later, and every transaction that writes later gets a higher id. The rows a read returns
  are therefore final, and anything that commits afterwards sorts after them. Per order the
  order is the order's history: a change's compare-and-set transaction starts only after the
  previous change committed, so it gets a higher transaction id. The cost is one function call
  per event and a snapshot per read — no lock, no counter row that every writer would queue on.
  A transaction left open (anywhere in the cluster) holds the feed back until it ends; it never
  makes the feed lose an event. The position is ``<txid>-<seq>``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Text, cast, func, literal, select, tuple_
from sqlalchemy.engine import Connection, Row

from ..errors import ValidationError
from .parts import StorePart
from .records import EventDraft, StoredEvent
from .schema import events as events_table

# the transaction's id as a plain number (xid8 has no cast to bigint of its own)
PG_TXID = cast(cast(func.pg_current_xact_id(), Text), BigInteger)
_PG_OLDEST_RUNNING = cast(cast(func.pg_snapshot_xmin(func.pg_current_snapshot()), Text), BigInteger)
START = (0, 0)  # before the first event
EVENT_COLUMNS = tuple(c.name for c in events_table.c if c.name not in ("seq", "txid"))


def position_text(txid: int, seq: int) -> str:
    return f"{txid}-{seq}"


def parse_position(position: str | None) -> tuple[int, int]:
    """``(txid, seq)`` of a position string; None is the start of the feed."""
    if position is None:
        return START
    txid, dash, seq = str(position).partition("-")
    if not dash or not txid.isdigit() or not seq.isdigit():
        raise ValidationError(f"{position!r} is not a feed position (an event's .position, e.g. '0-42')",
                              code="feed_position")
    return int(txid), int(seq)


def event_row(order_id: str, order_version: int, at: dt.datetime, data: Any, draft: EventDraft) -> dict[str, Any]:
    """The events table's columns of ``draft`` (``txid`` aside: the writing statement sets it)."""
    return {"id": draft.id, "order_id": order_id, "order_version": order_version, "type": draft.type,
            "trigger": draft.trigger, "from_state": draft.from_state, "to_state": draft.to_state, "actor": draft.actor,
            "at": at, "payload": draft.payload, "order_data": data}


def stored_event_of(row: Row[Any]) -> StoredEvent:
    return StoredEvent(seq=row.seq, id=row.id, position=position_text(row.txid, row.seq), order_id=row.order_id,
                       order_version=row.order_version, type=row.type, trigger=row.trigger,
                       from_state=row.from_state, to_state=row.to_state, actor=row.actor, at=row.at,
                       payload=row.payload, order_data=row.order_data)


def final_rows(is_postgres: bool) -> ColumnElement[bool] | None:
    """The condition that keeps a read to rows no later commit can precede (see the module)."""
    return events_table.c.txid < _PG_OLDEST_RUNNING if is_postgres else None


def _order(is_postgres: bool) -> tuple[Any, ...]:
    c = events_table.c
    return (c.txid, c.seq) if is_postgres else (c.seq,)  # SQLite: txid is 0, seq is the rowid


def feed_query(after: tuple[int, int], limit: int, is_postgres: bool, columns: Sequence[Any] = ()) -> Any:
    """The next ``limit`` rows (or just ``columns`` of them) after ``after``, in feed order."""
    order = _order(is_postgres)
    bound = tuple_(*(literal(value, BigInteger()) for value in after[-len(order):]))
    query = (select(*columns or (events_table,)).where(tuple_(*order) > bound)
             .order_by(*order).limit(limit))
    final = final_rows(is_postgres)
    return query if final is None else query.where(final)


def head(conn: Connection, is_postgres: bool) -> tuple[int, int]:
    """The position of the newest event no later commit can precede (START when there is none)."""
    query = select(events_table.c.txid, events_table.c.seq).order_by(
        *(column.desc() for column in _order(is_postgres))).limit(1)
    final = final_rows(is_postgres)
    row = conn.execute(query if final is None else query.where(final)).first()
    return START if row is None else (int(row.txid), int(row.seq))


class EventLog(StorePart):
    """The event methods of the store; the store provides its transactions."""

    def read_events(self, after: str | None = None, *, limit: int = 100) -> list[StoredEvent]:
        """Up to ``limit`` events of every order after position ``after`` (None: from the first),
        in commit order. Keep the last one's ``position`` and pass it next time: each event is
        read exactly once, also while other processes commit (see the module docstring)."""
        if limit < 1:
            raise ValidationError(f"limit must be at least 1, not {limit}", code="validation")
        query = feed_query(parse_position(after), limit, self._is_postgres)
        with self._read() as conn:
            return [stored_event_of(row) for row in conn.execute(query)]

    def event(self, event_id: str) -> StoredEvent | None:
        """The event with this id, or None."""
        with self._read() as conn:
            row = conn.execute(select(events_table).where(events_table.c.id == event_id)).first()
        return None if row is None else stored_event_of(row)

    def events_by_id(self, event_ids: Sequence[str]) -> dict[str, StoredEvent]:
        """The events with these ids (those that exist), in one read."""
        if not event_ids:
            return {}
        with self._read() as conn:
            rows = conn.execute(select(events_table).where(events_table.c.id.in_(list(event_ids))))
            return {row.id: stored_event_of(row) for row in rows}

    def order_events(self, order_id: str) -> list[StoredEvent]:
        """One order's events, oldest first (each order's events are in its own commit order)."""
        query = select(events_table).where(events_table.c.order_id == order_id).order_by(
            events_table.c.order_version, events_table.c.seq)
        with self._read() as conn:
            return [stored_event_of(row) for row in conn.execute(query)]

    def feed_head(self) -> str:
        """The position of the newest event that can be read now (a consumer that only wants
        what happens from now on starts there)."""
        with self._read() as conn:
            return position_text(*head(conn, self._is_postgres))
