"""The store's hot path on SQLite and PostgreSQL: what a notification sends to the database,
counts kept by triggers (also under concurrent writers and for rows written by raw SQL), the
migration of a populated version-2 database, and connections pinged only when they idled."""

from __future__ import annotations

import datetime as dt
import threading
import time
import uuid
from decimal import Decimal

import db_fixtures
import pytest
import sqlalchemy as sa
from db_fixtures import add, new_order, postgres_schema, step
from helpers import paid_notification
from hypothesis import assume, given
from hypothesis import strategies as st

from invoicebox_flow import jsonutil
from invoicebox_flow.store import SCHEMA_VERSION, EventDraft, Store, backend, utcnow
from invoicebox_flow.store import schema as tables
from invoicebox_flow.webhook import NotificationHandler

pytestmark = pytest.mark.every_backend
db_url, store = db_fixtures.db_url, db_fixtures.store  # the fixtures: SQLite, and PostgreSQL when configured


def grouped(url: str) -> dict[str, int]:
    """How many orders are in each state, counted the slow way: every order read."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        rows = conn.execute(sa.select(tables.orders.c.state, sa.func.count()).group_by(tables.orders.c.state))
        counted = {state: n for state, n in rows}
    engine.dispose()
    return counted


# --- a notification, statement by statement ---------------------------------------------------


def test_a_notification_is_one_write_when_applied_and_one_read_when_replayed(flow, store, buyer, receiver, db_url):
    body, headers = paid_notification(flow, buyer, receiver, "HP-1")
    statements: list[str] = []
    # a listener makes the store run the very same statements through SQLAlchemy (see store/direct.py)
    sa.event.listen(store._engine, "before_cursor_execute", lambda *a: statements.append(a[2].lstrip()[:6].upper()))
    handler = NotificationHandler(flow)

    assert handler.handle(body, headers)[2] == b'{"status":"success"}'
    if db_url.startswith("postgresql"):
        # the order with whether its key is processed, then the whole change as one statement
        assert statements == ["SELECT", "WITH C"]
    else:
        assert statements == ["SELECT", "BEGIN ", "INSERT", "UPDATE", "INSERT", "INSERT"]
    statements.clear()
    assert handler.handle(body, headers)[2] == b'{"status":"success"}'
    assert statements == ["SELECT"]  # a replay: one indexed read, nothing written
    assert flow.get("HP-1").state == "paid"
    assert [e.trigger for e in store.journal("HP-1")][-1] == "confirm_payment"


def stored_data(url: str, order_id: str) -> str:
    """The ``data`` column's text as the database holds it."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        text = conn.execute(sa.text("SELECT data FROM orders WHERE id = :id"), {"id": order_id}).scalar_one()
    engine.dispose()
    return str(text)


def test_an_order_read_keeps_its_data_text_and_a_change_that_keeps_the_data_leaves_it_alone(store, db_url):
    add(store, 1, data={"amount": Decimal("990.00"), "lines": [{"quantity": 2}]})
    record = store.get("o-1")
    assert record.data_json == stored_data(db_url, "o-1")
    assert jsonutil.loads(record.data_json) == record.data

    paid = EventDraft(id=uuid.uuid4().hex, type="LifecycleStep", trigger="pay", from_state="order_placed",
                      to_state="paid", actor="shop", payload={})
    kept = store.update("o-1", 1, state="paid", data=record.data, data_as_stored=record.data_json,
                        journal=step("o-1", "order_placed", "paid"), events=[paid])
    assert stored_data(db_url, "o-1") == record.data_json  # left as it was
    assert kept.data_json == record.data_json and kept.data == record.data and kept.state == "paid"
    assert store.order_events("o-1")[-1].order_data == record.data  # the event carries it

    changed = store.update("o-1", 2, state="paid", data={"amount": Decimal("1.00")},
                           journal=step("o-1", "paid", "paid"))
    assert stored_data(db_url, "o-1") == changed.data_json == '{"amount":1.00}'
    assert changed == store.get("o-1")  # the text is not part of a record's equality


# --- counts --------------------------------------------------------------------------------------


def test_counts_follow_inserts_moves_and_rows_written_without_the_store(store, db_url):
    for n in range(4):
        add(store, n)
    store.update("o-1", 1, state="paid", data={}, journal=step("o-1", "order_placed", "paid"))
    store.update("o-2", 1, state="order_placed", data={"x": 1}, journal=step("o-2", "order_placed", "order_placed"))
    engine = sa.create_engine(db_url, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:  # a bulk load or a repair script, in raw SQL
        order = new_order(9)
        conn.execute(sa.insert(tables.orders).values(id=order.id, merchant_order_id=order.merchant_order_id,
                                                     variant=order.variant, state="canceled", version=1, data={},
                                                     created_at=utcnow(), updated_at=utcnow()))
        conn.execute(sa.delete(tables.journal).where(tables.journal.c.order_id == "o-3"))
        conn.execute(sa.delete(tables.orders).where(tables.orders.c.id == "o-3"))
    engine.dispose()
    assert store.counts() == grouped(db_url) == {"order_placed": 2, "paid": 1, "canceled": 1}


def test_counts_stay_exact_under_concurrent_writers(db_url):
    store = Store(db_url)
    threads, per_thread = 4, 15
    for n in range(threads * per_thread):
        add(store, n)
    path = ["awaiting_payment", "paid", "shipped", "paid"]  # back and forth: rows taken both ways round
    errors: list[BaseException] = []

    def move(first: int) -> None:
        try:
            for n in range(first, first + per_thread):
                state, version = "order_placed", 1
                for target in path[: 1 + n % len(path)]:
                    store.update(f"o-{n}", version, state=target, data={}, journal=step(f"o-{n}", state, target))
                    state, version = target, version + 1
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    workers = [threading.Thread(target=move, args=(t * per_thread,)) for t in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert not errors
    assert store.counts() == grouped(db_url) == {"awaiting_payment": 15, "paid": 30, "shipped": 15}
    store.dispose()


# --- the migration from version 2 ----------------------------------------------------------------


def as_version_2(url: str) -> None:
    """Turn a current database into what version 2 left: no counts, its indexes, version 2."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        if url.startswith("postgresql"):
            conn.exec_driver_sql("DROP TRIGGER orders_count ON orders")
            conn.exec_driver_sql("DROP FUNCTION invoicebox_flow_count_orders()")
        else:
            for name in ("insert", "update", "delete"):
                conn.exec_driver_sql(f"DROP TRIGGER orders_count_{name}")
        tables.order_state_counts.drop(conn)
        for index in ("ix_orders_state_created_at_id", "ix_orders_created_at_id", "ix_processed_notifications_order_id",
                      "ix_fulfilment_decisions_order_id"):
            conn.exec_driver_sql(f"DROP INDEX {index}")
        conn.exec_driver_sql("CREATE INDEX ix_orders_state ON orders (state)")
        conn.exec_driver_sql("CREATE INDEX ix_orders_created_at ON orders (created_at)")
        conn.execute(sa.delete(tables.schema_version))
        conn.execute(sa.insert(tables.schema_version).values(version=2, applied_at=utcnow()))
    engine.dispose()


def test_a_populated_version_2_database_is_migrated_with_its_counts(db_url):
    with Store(db_url) as old:
        for n in range(6):
            add(old, n)
        for n in range(4):
            old.update(f"o-{n}", 1, state="paid", data={}, journal=step(f"o-{n}", "order_placed", "paid"),
                       notification_key=f"ib-{n}:completed")
    as_version_2(db_url)
    engine = sa.create_engine(db_url, poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        assert "order_state_counts" not in sa.inspect(conn).get_table_names()
    with Store(db_url) as store:
        assert store.schema_version() == SCHEMA_VERSION == 3
        assert store.counts() == {"paid": 4, "order_placed": 2}
        store.update("o-5", 1, state="paid", data={}, journal=step("o-5", "order_placed", "paid"))
        assert store.counts() == grouped(db_url) == {"paid": 5, "order_placed": 1}
        assert store.is_notification_processed("ib-3:completed")
    with engine.connect() as conn:
        inspector = sa.inspect(conn)
        indexes = {i["name"] for table in ("orders", "processed_notifications", "fulfilment_decisions")
                   for i in inspector.get_indexes(table)}
        assert {"ix_orders_state_created_at_id", "ix_orders_created_at_id", "ix_processed_notifications_order_id",
                "ix_fulfilment_decisions_order_id"} <= indexes
        assert not indexes & {"ix_orders_state", "ix_orders_created_at"}
        assert [v for (v,) in conn.execute(sa.text("SELECT version FROM schema_version ORDER BY version"))] == [2, 3]
    engine.dispose()


# --- connections ----------------------------------------------------------------------------------


@pytest.mark.postgres
def test_a_connection_is_pinged_only_after_idling_and_replaced_when_dead(monkeypatch):
    with postgres_schema() as url:
        store = Store(url)
        pings: list[float] = []
        ping = store._engine.dialect.do_ping
        monkeypatch.setattr(store._engine.dialect, "do_ping", lambda c: pings.append(time.monotonic()) or ping(c))
        add(store, 1)
        for _ in range(5):
            store.get("o-1")
        assert pings == []  # in steady use: no round trip before each statement
        [held] = store._hot_connections._idle  # the hot path's one connection, idle between reads
        pid = held.dbapi.info.backend_pid
        admin = sa.create_engine(url, poolclass=sa.pool.NullPool)
        with admin.connect() as conn:  # the server drops the pooled connection (a restart, a timeout)
            conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        admin.dispose()
        monkeypatch.setattr(backend, "IDLE_PING_SECONDS", 0.05)
        time.sleep(0.1)
        assert store.get("o-1").id == "o-1"  # pinged after idling, found dead, replaced
        assert len(pings) == 1
        store.dispose()



def test_the_hot_path_reuses_one_connection_of_its_own_and_reconnects_after_dispose(store):
    add(store, 1)
    checkouts: list[object] = []
    sa.event.listen(store._engine.pool, "checkout", lambda *a: checkouts.append(a))
    for _ in range(20):
        assert store.get("o-1").id == "o-1"
    store.update("o-1", 1, state="paid", data={}, journal=step("o-1", "order_placed", "paid"))
    assert checkouts == []  # no pool checkout per unit of work
    assert len(store._hot_connections._idle) == 1
    [held] = store._hot_connections._idle
    store.dispose()
    assert store._hot_connections._idle == []
    with pytest.raises(Exception):  # noqa: B017 - closed: the driver's own "closed" error
        held.dbapi.cursor().execute("SELECT 1")
    assert store.get("o-1").state == "paid"  # a new connection, made when needed


def test_the_hot_path_waits_for_a_connection_as_long_as_the_pool_would_then_times_out(db_url):
    from invoicebox_flow.store.connections import HotConnections

    engine = sa.create_engine(db_url, pool_size=1, max_overflow=0, pool_timeout=0.2)
    connections = HotConnections(engine, ping_idle=False)
    first = connections.take()
    started = time.monotonic()
    with pytest.raises(sa.exc.TimeoutError, match=r"no database connection free within 0\.2 s"):
        connections.take()
    assert time.monotonic() - started >= 0.2
    connections.give(first)
    again = connections.take()
    assert again is first  # given back, taken again: the same connection
    again.broken = True  # the driver said it is disconnected
    connections.give(again)
    assert connections._idle == []
    assert connections.take() is not first
    engine.dispose()


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs fork")
def test_a_forked_child_makes_its_own_connections_and_leaves_the_parents_alone(store):
    import os

    add(store, 1)
    store.get("o-1")
    [parents] = store._hot_connections._idle
    pid = os.fork()
    if pid == 0:  # the child: its own connection, the parent's neither used nor closed
        code = 1
        try:
            store.update("o-1", 1, state="paid", data={}, journal=step("o-1", "order_placed", "paid"))
            code = 0 if store._hot_connections._idle and store._hot_connections._idle[0] is not parents else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert store._hot_connections._idle == [parents]
    assert store.get("o-1").state == "paid"  # the parent's connection still works and sees the child's write


def test_threads_beyond_the_limit_wait_their_turn_and_never_hold_more_than_it(db_url):
    from invoicebox_flow.store.connections import HotConnections

    engine = sa.create_engine(db_url, pool_size=2, max_overflow=0, pool_timeout=10)
    connections = HotConnections(engine, ping_idle=False)
    holding, most, lock = [0], [0], threading.Lock()

    def work() -> None:
        for _ in range(30):
            held = connections.take()
            with lock:
                holding[0] += 1
                most[0] = max(most[0], holding[0])
            time.sleep(0.001)
            with lock:
                holding[0] -= 1
            connections.give(held)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert most[0] == 2  # the limit was reached and never passed
    assert connections._in_use == 0 and len(connections._idle) == 2
    connections.dispose()
    engine.dispose()


@given(st.datetimes(timezones=st.timezones()))
def test_a_moment_is_written_to_sqlite_as_sqlalchemys_datetime_writes_its_utc_time(moment):
    from sqlalchemy.dialects import sqlite

    dialect = sqlite.dialect()
    written = tables.UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    reference = sa.DateTime().dialect_impl(dialect).bind_processor(dialect)
    assume(moment.utcoffset() is not None)
    try:
        utc = moment.astimezone(dt.UTC)
    except OverflowError:
        assume(False)  # near the ends of the calendar: no UTC time to write
        raise
    assert written(moment) == reference(utc.replace(tzinfo=None))


def test_a_pool_without_an_overflow_limit_leaves_the_hot_path_unlimited_too(db_url):
    from invoicebox_flow.store.connections import HotConnections

    engine = sa.create_engine(db_url, pool_size=1, max_overflow=-1, pool_timeout=0.1)
    connections = HotConnections(engine, ping_idle=False)
    held = [connections.take() for _ in range(4)]  # beyond the size: no wait, no TimeoutError
    assert len({id(h.dbapi) for h in held}) == 4
    for h in held:
        connections.give(h)
    assert len(connections._idle) == 1  # the pool's size is what is kept
    connections.dispose()
    engine.dispose()


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs fork")
def test_a_connection_taken_before_a_fork_and_given_back_in_the_child_stays_the_parents(store):
    import os

    add(store, 1)
    connections = store._hot_connections
    held = connections.take()  # in use by the parent when it forks
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            connections.give(held)  # the child must neither keep it nor close it
            code = 0 if held not in connections._idle else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    cursor = held.dbapi.cursor()
    cursor.execute("SELECT 1")  # still open and usable in the parent
    assert cursor.fetchone()[0] == 1
    cursor.close()
    connections.give(held)
    assert store.get("o-1").id == "o-1"
