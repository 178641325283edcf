"""Writing one change of an order in one transaction: the order row, its journal entry, its
events, its outbox work, the notification it applies and the deliveries claimed with it.

* **SQLite** (in the process: a statement costs no round trip): ``BEGIN IMMEDIATE``, one
  prebuilt statement per kind of row, ``COMMIT`` — one durable commit.
* **PostgreSQL**: ONE statement in autocommit — one round trip, one commit. It is a
  data-modifying ``WITH``: the compare-and-set ``UPDATE orders … WHERE id = … AND version = …
  RETURNING …`` named ``cas``, and every other row inserted ``FROM cas``, so that when the
  compare-and-set matches no row nothing at all is written. A change that completes an outbox
  item first locks that item (``FOR UPDATE``) where it is still pending or claimed, and the
  compare-and-set matches only if it did; the item is then marked done from ``cas`` too. A
  constraint broken anywhere (a notification recorded already, an InvoiceBox id taken) fails
  the whole statement. The statement of each shape of change (how many events, intents,
  deliveries; a notification or not…) is built once and kept.

:meth:`Store.update <.store.Store.update>` tells what a change that wrote nothing ran into with
one more read, on that rare path only.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
from sqlalchemy import Select, Table, bindparam, cast, exists, insert, literal, or_, select, union_all, update
from sqlalchemy.sql.expression import ColumnElement

from ..errors import ConcurrentUpdateError
from .deliveries import CLAIMED_COLUMNS
from .direct import Runner
from .events import EVENT_COLUMNS, PG_TXID
from .records import CLAIMED, DONE, PENDING
from .rows import OUTBOX_COLUMNS
from .schema import event_deliveries, events, journal, orders, outbox, processed_notifications

JOURNAL_COLUMNS = tuple(c.name for c in journal.c if c.name != "seq")
PROCESSED_COLUMNS = ("key", "order_id", "at")
ORDER_COLUMNS = tuple(c.name for c in orders.c)
# what the caller does not know of the order it changed (the rest it wrote itself)
RETURNED = (orders.c.merchant_order_id, orders.c.invoicebox_id, orders.c.variant, orders.c.created_at)
_CAS_COLUMNS = ("state", "data", "updated_at", "invoicebox_id")  # (data and invoicebox_id where they change)
# an outbox item that a change may complete (bound constants: an IN list would be re-rendered per call)
_COMPLETABLE = or_(outbox.c.status == bindparam("c_pending", PENDING), outbox.c.status == bindparam("c_claimed", CLAIMED))


@attrs.frozen
class ChangeRows:
    """The rows one change writes besides the order's: column values by name."""

    journal: Mapping[str, Any]
    events: Sequence[Mapping[str, Any]] = ()
    outbox: Sequence[Mapping[str, Any]] = ()
    deliveries: Sequence[Mapping[str, Any]] = ()
    processed: Mapping[str, Any] | None = None  # the notification applied (key, order_id, at)
    complete: Mapping[str, Any] | None = None  # the outbox item marked done: id, order_id, result


# --- SQLite: one prebuilt statement per kind of row ----------------------------------------------


def _insert(table: Table, columns: Sequence[str]) -> Any:
    """An INSERT of exactly these columns, by parameters of the columns' names."""
    return insert(table).values({c: bindparam(c, type_=table.c[c].type) for c in columns})


def _set_columns(order: Mapping[str, Any]) -> frozenset[str]:
    """What the compare-and-set sets: the columns ``order`` has parameters for (a change that
    keeps the document has none for ``data``, one that keeps the InvoiceBox id none for it)."""
    return frozenset(c for c in _CAS_COLUMNS if f"p_{c}" in order)


@functools.cache
def _cas(columns: frozenset[str]) -> Any:
    """The SQLite compare-and-set that sets ``columns`` (one statement per shape, built once)."""
    return update(orders).where(orders.c.id == bindparam("p_id"), orders.c.version == bindparam("p_version")).values(
        version=orders.c.version + 1, **{c: bindparam(f"p_{c}") for c in columns}).returning(*RETURNED)


INSERT_ORDER = _insert(orders, ORDER_COLUMNS)
INSERT_JOURNAL = _insert(journal, JOURNAL_COLUMNS)
_INSERT_PROCESSED = _insert(processed_notifications, PROCESSED_COLUMNS)
_INSERT_EVENT = _insert(events, EVENT_COLUMNS).values(txid=0)  # SQLite: the feed follows seq (see .events)
_INSERT_OUTBOX = _insert(outbox, OUTBOX_COLUMNS)
_INSERT_DELIVERY = _insert(event_deliveries, CLAIMED_COLUMNS)
_COMPLETE_OUTBOX = update(outbox).where(
    outbox.c.id == bindparam("c_id"), outbox.c.order_id == bindparam("c_order_id"), _COMPLETABLE).values(
    status=DONE, result=bindparam("c_result", type_=outbox.c.result.type), claimed_until=None)


def _dependent_rows(run: Runner, rows: ChangeRows) -> None:
    run.execute(INSERT_JOURNAL, rows.journal)
    for statement, many in ((_INSERT_EVENT, rows.events), (_INSERT_OUTBOX, rows.outbox),
                            (_INSERT_DELIVERY, rows.deliveries)):
        for row in many:  # in the process: one statement per row costs no round trip
            run.execute(statement, row)


def update_sqlite(run: Runner, order: Mapping[str, Any], rows: ChangeRows) -> Any | None:
    """The change in the caller's write transaction; its ``RETURNED`` columns, or None when the
    compare-and-set missed. The processed notification goes first, so that a replay is told as
    one even when the order moved on since (its version is stale too)."""
    if rows.processed is not None:
        run.execute(_INSERT_PROCESSED, rows.processed)
    row = run.execute(_cas(_set_columns(order)), order).first()
    if row is None:
        return None
    _dependent_rows(run, rows)
    if rows.complete is not None:
        done = run.execute(_COMPLETE_OUTBOX, {f"c_{k}": v for k, v in rows.complete.items()})
        if done.rowcount != 1:
            raise ConcurrentUpdateError(order["p_id"], order["p_version"])
    return row


def insert_sqlite(run: Runner, order: Mapping[str, Any], rows: ChangeRows) -> None:
    """A new order (its columns by name) and its rows, in the caller's write transaction."""
    run.execute(INSERT_ORDER, order)
    _dependent_rows(run, rows)


# --- PostgreSQL: the whole change in one statement -------------------------------------------------


def _param(table: Table, column: str, prefix: str) -> ColumnElement[Any]:
    """A bind parameter of the column's type, cast to it: in a SELECT list PostgreSQL would
    otherwise not know what type a NULL or a string is."""
    kind = table.c[column].type
    return cast(bindparam(f"{prefix}{column}", type_=kind), kind)


def _insert_from_cas(table: Table, columns: Sequence[str], prefixes: Sequence[str], cas: Any, name: str,
                     **fixed: Any) -> Any:
    """``INSERT INTO table SELECT … FROM cas``: a row per parameter prefix, in that order, if
    the compare-and-set matched, none otherwise; ``order_id`` is the changed order's."""
    names = [*columns, *fixed]

    def row(prefix: str) -> list[Any]:
        values = [cas.c.id if c == "order_id" else _param(table, c, prefix) for c in columns]
        return [value.label(c) for c, value in zip(names, [*values, *fixed.values()], strict=True)]

    if len(prefixes) == 1:
        source: Select[Any] = select(*row(prefixes[0])).select_from(cas)
    else:
        rows = union_all(*(select(*row(p), literal(n).label("n")).select_from(cas) for n, p in enumerate(prefixes)))
        numbered = rows.subquery()
        source = select(*(numbered.c[c] for c in names)).order_by(numbered.c.n)
    return insert(table).from_select(names, source).cte(name)


@functools.cache
def pg_update(*, sets: frozenset[str], processed: bool, events_count: int, outbox_count: int,
              completes: bool, deliveries_count: int) -> Select[Any]:
    """The one statement of a change of this shape (see the module)."""
    match = [orders.c.id == bindparam("p_id"), orders.c.version == bindparam("p_version")]
    if completes:
        item = (select(outbox.c.id).where(outbox.c.id == bindparam("c_id"), outbox.c.order_id == bindparam("p_id"),
                                          _COMPLETABLE)
                .with_for_update().cte("completed_item"))
        match.append(exists(select(item.c.id)))
    values: dict[str, Any] = {c: bindparam(f"p_{c}") for c in sets}
    cas = (update(orders).where(*match).values(version=orders.c.version + 1, **values)
           .returning(orders.c.id, *RETURNED).cte("cas"))
    ctes = [_insert_from_cas(journal, JOURNAL_COLUMNS, ["j_"], cas, "journal_row")]
    if processed:
        ctes.append(_insert_from_cas(processed_notifications, PROCESSED_COLUMNS, ["k_"], cas, "processed"))
    for table, columns, letter, count, name in ((events, EVENT_COLUMNS, "e", events_count, "new_events"),
                                                (outbox, OUTBOX_COLUMNS, "o", outbox_count, "intents"),
                                                (event_deliveries, CLAIMED_COLUMNS, "d", deliveries_count, "deliveries")):
        if count:
            fixed = {"txid": PG_TXID} if table is events else {}
            ctes.append(_insert_from_cas(table, columns, [f"{letter}{n}_" for n in range(count)], cas, name, **fixed))
    if completes:
        ctes.append(update(outbox).where(outbox.c.id == bindparam("c_id"), exists(select(cas.c.id)))
                    .values(status=DONE, result=bindparam("c_result", type_=outbox.c.result.type),
                            claimed_until=None).cte("item_done"))
    return select(*(cas.c[c.name] for c in RETURNED)).add_cte(*ctes)


@functools.cache
def pg_insert(*, events_count: int, outbox_count: int, deliveries_count: int) -> Select[Any]:
    """A new order and its rows in one statement (any broken constraint fails all of it)."""
    new = insert(orders).values(**{c: bindparam(f"p_{c}") for c in ORDER_COLUMNS}).returning(orders.c.id).cte("new_order")

    def rows(table: Table, columns: Sequence[str], prefixes: Sequence[str], name: str, **fixed: Any) -> Any:
        values = [{**{c: bindparam(f"{p}{c}", type_=table.c[c].type) for c in columns}, **fixed} for p in prefixes]
        return insert(table).values(values).cte(name)  # one multi-row VALUES: rows numbered in order

    ctes = [rows(journal, JOURNAL_COLUMNS, ["j_"], "journal_row")]
    for table, columns, letter, count, name in ((events, EVENT_COLUMNS, "e", events_count, "new_events"),
                                                (outbox, OUTBOX_COLUMNS, "o", outbox_count, "intents"),
                                                (event_deliveries, CLAIMED_COLUMNS, "d", deliveries_count, "deliveries")):
        if count:
            fixed = {"txid": PG_TXID} if table is events else {}
            ctes.append(rows(table, columns, [f"{letter}{n}_" for n in range(count)], name, **fixed))
    return select(new.c.id).add_cte(*ctes)


def pg_params(order: Mapping[str, Any], rows: ChangeRows) -> dict[str, Any]:
    """The parameters of :func:`pg_update` / :func:`pg_insert`: each row's columns under its prefix."""
    params = dict(order)
    params.update({f"j_{k}": v for k, v in rows.journal.items()})
    if rows.processed is not None:
        params.update({f"k_{k}": v for k, v in rows.processed.items()})
    if rows.complete is not None:
        params.update({"c_id": rows.complete["id"], "c_result": rows.complete["result"]})
    for prefix, many in (("e", rows.events), ("o", rows.outbox), ("d", rows.deliveries)):
        for n, row in enumerate(many):
            params.update({f"{prefix}{n}_{k}": v for k, v in row.items()})
    return params


def update_pg(run: Runner, order: Mapping[str, Any], rows: ChangeRows) -> Any | None:
    """The change as one autocommit statement; its ``RETURNED`` columns, or None when the
    compare-and-set missed (and nothing was written)."""
    statement = pg_update(sets=_set_columns(order), processed=rows.processed is not None,
                          events_count=len(rows.events), outbox_count=len(rows.outbox),
                          completes=rows.complete is not None, deliveries_count=len(rows.deliveries))
    return run.execute(statement, pg_params(order, rows)).first()


def insert_pg(run: Runner, order: Mapping[str, Any], rows: ChangeRows) -> None:
    """A new order (its columns by name) and its rows as one autocommit statement."""
    statement = pg_insert(events_count=len(rows.events), outbox_count=len(rows.outbox),
                          deliveries_count=len(rows.deliveries))
    run.execute(statement, pg_params({f"p_{k}": v for k, v in order.items()}, rows))
