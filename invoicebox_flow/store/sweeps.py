"""What reconciliation sweeps keep in the store: each sweep's window and cursor, and what it found.

A sweep walks the shop's orders in ``(created_at, id)`` order, one batch at a time, and moves
its cursor past a batch only once the batch is compared and healed, so a sweep stopped at any
moment (a SIGKILL, a deploy) resumes at the first batch it had not finished. What it found is kept
once per ``(sweep, order, kind)``: a batch compared again after a restart finds nothing twice.
Used by :mod:`invoicebox_flow.reconcile`; a part of the store's schema like the outbox.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import attrs
from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from .records import CLAIMED, PENDING, OrderRecord, OutboxItem, as_utc, utcnow
from .rows import order_of, outbox_item_of
from .schema import orders, outbox, reconcile_findings, reconcile_sweeps

if TYPE_CHECKING:
    from .store import Store

RUNNING = "running"
DONE = "done"


@attrs.frozen
class SweepRecord:
    """One sweep: the window it covers (``since`` ≤ created < ``until``, plus every order not in
    a final state when ``include_open``), how far it got and what it cost so far."""

    id: int
    scope: str
    status: str
    since: dt.datetime | None
    until: dt.datetime
    include_open: bool
    cursor: tuple[dt.datetime, str] | None
    orders: int
    api_calls: int
    started_at: dt.datetime
    updated_at: dt.datetime


@attrs.frozen
class FindingRecord:
    """A difference a sweep found in one order, and what became of it (``outcome``)."""

    sweep_id: int
    order_id: str
    kind: str
    outcome: str
    detail: Mapping[str, Any]
    at: dt.datetime


class SweepLog:
    """The sweeps of a :class:`~invoicebox_flow.store.Store`, their cursors and findings."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def open(self, scope: str, *, since: dt.datetime | None, until: dt.datetime,
             include_open: bool) -> tuple[SweepRecord, bool]:
        """The unfinished sweep of ``scope`` to resume (and True), or a new one (and False)."""
        with self.store._write() as conn:
            row = conn.execute(select(reconcile_sweeps).where(
                reconcile_sweeps.c.scope == scope, reconcile_sweeps.c.status == RUNNING)
                .order_by(reconcile_sweeps.c.id.desc()).limit(1)).first()
            if row is not None:
                return _sweep_of(row), True
            now = utcnow()
            row = conn.execute(insert(reconcile_sweeps).values(
                scope=scope, status=RUNNING, since=None if since is None else as_utc(since), until=as_utc(until),
                include_open=include_open, orders=0, api_calls=0, started_at=now, updated_at=now)
                .returning(*reconcile_sweeps.c)).one()
            return _sweep_of(row), False

    def get(self, sweep_id: int) -> SweepRecord:
        with self.store._read() as conn:
            return _sweep_of(conn.execute(select(reconcile_sweeps).where(reconcile_sweeps.c.id == sweep_id)).one())

    def latest(self) -> SweepRecord | None:
        with self.store._read() as conn:
            row = conn.execute(select(reconcile_sweeps).order_by(reconcile_sweeps.c.id.desc()).limit(1)).first()
        return None if row is None else _sweep_of(row)

    def next_orders(self, sweep: SweepRecord, *, final_states: Collection[str], limit: int) -> list[OrderRecord]:
        """The next ``limit`` orders of the sweep's window after its cursor, in cursor order."""
        created = orders.c.created_at
        in_window = created < sweep.until if sweep.since is None else and_(created >= sweep.since, created < sweep.until)
        if sweep.include_open:
            in_window = or_(in_window, and_(created < sweep.until, orders.c.state.notin_(sorted(final_states))))
        query = select(orders).where(in_window)
        if sweep.cursor is not None:
            at, order_id = sweep.cursor
            query = query.where(or_(created > at, and_(created == at, orders.c.id > order_id)))
        with self.store._read() as conn:
            rows = conn.execute(query.order_by(created, orders.c.id).limit(limit))
            return [order_of(row) for row in rows]

    def open_outbox(self, order_ids: Collection[str]) -> list[OutboxItem]:
        """The pending and claimed outbox items of these orders (one read for a whole batch)."""
        if not order_ids:
            return []
        query = (select(outbox).where(outbox.c.order_id.in_(sorted(order_ids)), outbox.c.status.in_((PENDING, CLAIMED)))
                 .order_by(outbox.c.id))
        with self.store._read() as conn:
            return [outbox_item_of(row) for row in conn.execute(query)]

    def add_findings(self, sweep_id: int, found: Iterable[tuple[str, str, str, Mapping[str, Any]]]) -> int:
        """Keep ``(order_id, kind, outcome, detail)`` findings; one found before is kept as it
        was. Returns how many were new."""
        now = utcnow()
        rows = [{"sweep_id": sweep_id, "order_id": order_id, "kind": kind, "outcome": outcome,
                 "detail": dict(detail), "at": now} for order_id, kind, outcome, detail in found]
        if not rows:
            return 0
        dialect = postgresql if self.store._is_postgres else sqlite
        # RETURNING says what was new on both backends (psycopg's rowcount does not here)
        statement = dialect.insert(reconcile_findings).on_conflict_do_nothing().returning(reconcile_findings.c.kind)
        with self.store._write() as conn:
            return sum(len(conn.execute(statement, row).all()) for row in rows)

    def set_outcome(self, sweep_id: int, order_id: str, kind: str, outcome: str,
                    detail: Mapping[str, Any] | None = None) -> None:
        values: dict[str, Any] = {"outcome": outcome, "at": utcnow()}
        if detail is not None:
            values["detail"] = dict(detail)
        with self.store._write() as conn:
            conn.execute(update(reconcile_findings).where(
                reconcile_findings.c.sweep_id == sweep_id, reconcile_findings.c.order_id == order_id,
                reconcile_findings.c.kind == kind).values(**values))

    def findings(self, sweep_id: int, *, order_ids: Collection[str] | None = None) -> list[FindingRecord]:
        query = select(reconcile_findings).where(reconcile_findings.c.sweep_id == sweep_id)
        if order_ids is not None:
            query = query.where(reconcile_findings.c.order_id.in_(sorted(order_ids)))
        with self.store._read() as conn:
            rows = conn.execute(query.order_by(reconcile_findings.c.order_id, reconcile_findings.c.kind))
            return [FindingRecord(int(r.sweep_id), r.order_id, r.kind, r.outcome, r.detail, r.at) for r in rows]

    def advance(self, sweep_id: int, cursor: tuple[dt.datetime, str], *, orders: int, api_calls: int) -> None:
        """Move the cursor past a finished batch of ``orders`` that cost ``api_calls``."""
        at, order_id = cursor
        with self.store._write() as conn:
            conn.execute(update(reconcile_sweeps).where(reconcile_sweeps.c.id == sweep_id).values(
                cursor_created_at=as_utc(at), cursor_order_id=order_id, orders=reconcile_sweeps.c.orders + orders,
                api_calls=reconcile_sweeps.c.api_calls + api_calls, updated_at=utcnow()))

    def finish(self, sweep_id: int, *, api_calls: int = 0) -> None:
        with self.store._write() as conn:
            conn.execute(update(reconcile_sweeps).where(reconcile_sweeps.c.id == sweep_id).values(
                status=DONE, api_calls=reconcile_sweeps.c.api_calls + api_calls, updated_at=utcnow()))


def _sweep_of(row: Any) -> SweepRecord:
    cursor = (row.cursor_created_at, row.cursor_order_id) if row.cursor_order_id is not None else None
    return SweepRecord(id=int(row.id), scope=row.scope, status=row.status, since=row.since, until=row.until,
                       include_open=bool(row.include_open), cursor=cursor, orders=int(row.orders),
                       api_calls=int(row.api_calls), started_at=row.started_at, updated_at=row.updated_at)


__all__ = ["DONE", "RUNNING", "FindingRecord", "SweepLog", "SweepRecord"]
