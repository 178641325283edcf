"""Concurrency on one database: threads sharing a store, and separate processes.

What must hold whatever the interleaving:

* of two processes compare-and-setting the same order from the same version, exactly one wins;
* no update is lost: every win is one version bump and one journal row;
* a notification delivered to several workers at once is applied once;
* two workers never hold the same outbox item at once;
* the schema can be created by several processes starting together;
* a SQLite database locked for too long surfaces as a retryable ``StoreBusyError``, never as a
  raw "database is locked".

Processes are started with ``spawn`` (a clean interpreter each, as separate workers would be);
they run on a SQLite file, and on PostgreSQL when ``INVOICEBOX_FLOW_TEST_PG_URL`` is set.
"""

from __future__ import annotations

import multiprocessing
import random
import sqlite3
import threading
import traceback
from collections import Counter
from collections.abc import Callable
from multiprocessing.synchronize import Barrier as ProcessBarrier
from typing import Any

import pytest
import sqlalchemy as sa
from db_fixtures import add, sqlite_url, step

from invoicebox_flow.errors import ConcurrentUpdateError, FlowError
from invoicebox_flow.store import SCHEMA_VERSION, DuplicateNotificationError, Store, StoreBusyError

pytestmark = pytest.mark.every_backend  # SQLite, and PostgreSQL when configured

SPAWN = multiprocessing.get_context("spawn")
# Guards against a hung child, not speed limits: generous on purpose.
RESULT_TIMEOUT = 240
BARRIER_TIMEOUT = 120

ORDERS = 20


# --- running functions in child processes --------------------------------------------------


def _child(queue: Any, index: int, target: Callable[..., Any], args: tuple) -> None:
    try:
        queue.put((index, True, target(*args)))
    except BaseException:  # noqa: BLE001 — report everything, including what a test did not expect
        queue.put((index, False, traceback.format_exc()))
        for arg in args:  # release the others at once instead of after the barrier's timeout
            if isinstance(arg, ProcessBarrier):
                arg.abort()


def run_processes(target: Callable[..., Any], args_per_process: list[tuple]) -> list[Any]:
    """Run ``target(*args)`` in one spawned process per ``args``; their return values, in order.
    A child's exception fails the test with its traceback."""
    queue = SPAWN.Queue()
    processes = [SPAWN.Process(target=_child, args=(queue, i, target, args)) for i, args in enumerate(args_per_process)]
    for process in processes:
        process.start()
    results: dict[int, Any] = {}
    failures: list[str] = []
    try:
        for _ in processes:
            index, ok, value = queue.get(timeout=RESULT_TIMEOUT)
            if ok:
                results[index] = value
            else:
                failures.append(f"process {index}:\n{value}")
    finally:
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
    if failures:
        pytest.fail("\n".join(failures))
    return [results[i] for i in range(len(processes))]


def bump(store: Store, order_id: str, version: int, state: str, data: dict, worker: str) -> None:
    """One compare-and-set: count one more for ``worker`` if the order is still at ``version``."""
    store.update(order_id, version, state=state, data={**data, "counter": data["counter"] + 1, "last": worker},
                 journal=step(order_id, state, state, trigger="bump", actor=f"worker:{worker}"))


# --- compare-and-set between processes -----------------------------------------------------


def _cas_rounds(url: str, barrier: Any, worker: str, rounds: int) -> dict[str, Any]:
    store = Store(url)
    ids = [f"o-{n}" for n in range(ORDERS)]
    if worker == "b":
        ids.reverse()  # meet in the middle rather than follow each other
    wins: list[tuple[int, str]] = []
    busy = 0
    for round_ in range(rounds):
        seen = {order_id: store.get(order_id) for order_id in ids}
        barrier.wait(BARRIER_TIMEOUT)  # both have read the same versions
        for order_id in ids:
            record = seen[order_id]
            try:
                bump(store, order_id, record.version, record.state, record.data, worker)
                wins.append((round_, order_id))
            except ConcurrentUpdateError:
                pass
            except StoreBusyError:
                busy += 1
        barrier.wait(BARRIER_TIMEOUT)
    store.dispose()
    return {"wins": wins, "busy": busy}


def test_two_processes_racing_on_the_same_orders_exactly_one_wins_each_round(db_url):
    rounds = 12
    setup = Store(db_url)
    for n in range(ORDERS):
        add(setup, n)
    barrier = SPAWN.Barrier(2)

    a, b = run_processes(_cas_rounds, [(db_url, barrier, "a", rounds), (db_url, barrier, "b", rounds)])

    assert a["busy"] == b["busy"] == 0
    winners = Counter(a["wins"]) + Counter(b["wins"])
    assert set(winners) == {(r, f"o-{n}") for r in range(rounds) for n in range(ORDERS)}  # one each time
    assert set(winners.values()) == {1}  # never two
    assert len(a["wins"]) + len(b["wins"]) == rounds * ORDERS
    for n in range(ORDERS):
        order = setup.get(f"o-{n}")
        assert order.version == 1 + rounds and order.data["counter"] == rounds  # nothing lost
        bumps = [e for e in setup.journal(order.id) if e.trigger == "bump"]
        expected_actors = ["worker:a" if (r, order.id) in set(a["wins"]) else "worker:b" for r in range(rounds)]
        assert [e.actor for e in bumps] == expected_actors  # the journal tells who won, in order
    setup.dispose()


def _cas_free_running(url: str, barrier: Any, worker: str, iterations: int) -> dict[str, Any]:
    store = Store(url)
    rng = random.Random(worker)
    barrier.wait(BARRIER_TIMEOUT)  # start together, or one may finish before the other begins
    wins: Counter[str] = Counter()
    conflicts = busy = 0
    for _ in range(iterations):
        order_id = f"o-{rng.randrange(ORDERS // 2)}"  # a hot half, for many conflicts
        record = store.get(order_id)
        try:
            bump(store, order_id, record.version, record.state, record.data, worker)
            wins[order_id] += 1
        except ConcurrentUpdateError:
            conflicts += 1
        except StoreBusyError:
            busy += 1
    store.dispose()
    return {"wins": dict(wins), "conflicts": conflicts, "busy": busy}


def test_two_processes_reading_then_writing_freely_lose_no_update(db_url):
    iterations = 250
    setup = Store(db_url)
    for n in range(ORDERS):
        add(setup, n)

    barrier = SPAWN.Barrier(2)
    a, b = run_processes(_cas_free_running, [(db_url, barrier, "a", iterations), (db_url, barrier, "b", iterations)])

    wins = Counter(a["wins"]) + Counter(b["wins"])
    assert sum(wins.values()) + a["conflicts"] + b["conflicts"] + a["busy"] + b["busy"] == 2 * iterations
    for n in range(ORDERS):
        order = setup.get(f"o-{n}")
        assert order.version - 1 == wins[order.id]  # every win is one version bump, and only wins are
        assert order.data["counter"] == wins[order.id]  # each win started from the latest value
        assert len(setup.journal(order.id)) == 1 + wins[order.id]  # and left exactly one journal row
    setup.dispose()


# --- outbox claims -------------------------------------------------------------------------


def _claim_until_empty(url: str, worker: str, barrier: Any) -> list[int]:
    store = Store(url)
    barrier.wait(BARRIER_TIMEOUT)
    claimed: list[int] = []
    while batch := store.claim_outbox(worker, limit=3, lease_seconds=600):
        claimed.extend(item.id for item in batch)
    store.dispose()
    return claimed


def _queue_items(url: str, orders: int, per_order: int) -> set[int]:
    store = Store(url)
    for n in range(orders):
        add(store, n, outbox=per_order)
    ids = {item.id for item in store.outbox()}
    store.dispose()
    return ids


def _assert_each_claimed_once(url: str, claims: list[list[int]], all_ids: set[int]) -> None:
    flat = [item_id for claimed in claims for item_id in claimed]
    assert len(flat) == len(set(flat)), "an item was claimed twice"
    assert set(flat) == all_ids
    store = Store(url)
    items = store.outbox()
    assert {(i.status, i.attempts) for i in items} == {("claimed", 1)}
    owner = {item_id: f"w{n}" for n, claimed in enumerate(claims) for item_id in claimed}
    assert all(i.claimed_by == owner[i.id] for i in items)
    store.dispose()


def test_two_processes_claiming_the_outbox_never_get_the_same_item(db_url):
    all_ids = _queue_items(db_url, orders=40, per_order=3)
    barrier = SPAWN.Barrier(2)
    claims = run_processes(_claim_until_empty, [(db_url, "w0", barrier), (db_url, "w1", barrier)])
    _assert_each_claimed_once(db_url, claims, all_ids)


def test_threads_claiming_the_outbox_never_get_the_same_item(db_url):
    all_ids = _queue_items(db_url, orders=30, per_order=4)
    workers = 4
    barrier = threading.Barrier(workers)
    claims: list[list[int]] = [[] for _ in range(workers)]
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            claims[n] = _claim_until_empty(db_url, f"w{n}", barrier)
        except BaseException as error:  # noqa: BLE001 — the test re-raises it
            errors.append(error)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(RESULT_TIMEOUT)
    assert not errors
    _assert_each_claimed_once(db_url, claims, all_ids)


def test_threads_sharing_one_store_compare_and_set_without_losing_updates(db_url):
    store = Store(db_url)
    add(store, 0)
    workers, iterations = 4, 40
    wins = Counter()
    errors: list[BaseException] = []

    def work(worker: str) -> None:
        for _ in range(iterations):
            record = store.get("o-0")
            try:
                bump(store, "o-0", record.version, record.state, record.data, worker)
                wins[worker] += 1
            except ConcurrentUpdateError:
                pass
            except BaseException as error:  # noqa: BLE001 — the test re-raises it
                errors.append(error)
                return

    threads = [threading.Thread(target=work, args=(f"t{n}",)) for n in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(RESULT_TIMEOUT)
    assert not errors
    order = store.get("o-0")
    assert order.version - 1 == order.data["counter"] == sum(wins.values())
    assert len(store.journal("o-0")) == 1 + sum(wins.values())
    store.dispose()


def test_a_notification_delivered_to_several_threads_at_once_is_applied_once(db_url):
    store = Store(db_url)
    orders = [add(store, n) for n in range(5)]
    workers = 4
    outcomes: list[str] = []
    errors: list[BaseException] = []

    def deliver(order_id: str, barrier: threading.Barrier) -> None:
        record = store.get(order_id)
        barrier.wait(BARRIER_TIMEOUT)
        try:
            store.update(order_id, record.version, state="paid", data=record.data, notification_key=f"{order_id}:completed",
                         journal=step(order_id, record.state, "paid", trigger="payment_notified",
                                      actor="invoicebox-notification"))
            outcomes.append("applied")
        except DuplicateNotificationError:
            outcomes.append("duplicate")
        except ConcurrentUpdateError:
            outcomes.append("conflict")
        except BaseException as error:  # noqa: BLE001 — the test re-raises it
            errors.append(error)

    for order in orders:
        barrier = threading.Barrier(workers)
        threads = [threading.Thread(target=deliver, args=(order.id, barrier)) for _ in range(workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(RESULT_TIMEOUT)
        assert store.is_notification_processed(f"{order.id}:completed")
        assert [e.trigger for e in store.journal(order.id)] == ["place", "payment_notified"]
        assert store.get(order.id).version == 2
    assert not errors
    assert Counter(outcomes)["applied"] == len(orders)  # once per order, the others refused
    store.dispose()


# --- schema creation -----------------------------------------------------------------------


def _open_schemas(urls: list[str], barrier: Any) -> list[int]:
    versions = []
    for url in urls:
        store = Store(url)
        barrier.wait(BARRIER_TIMEOUT)  # all processes open the same fresh database together
        versions.append(store.schema_version())
        store.dispose()
    return versions


def test_processes_creating_the_schema_at_once_all_succeed(db_url, tmp_path):
    # Several fresh SQLite files make the race likely; a PostgreSQL schema is one race.
    urls = [db_url] if db_url.startswith("postgresql") else [sqlite_url(tmp_path, f"fresh-{i}.db") for i in range(10)]
    processes = 3
    barrier = SPAWN.Barrier(processes)
    assert run_processes(_open_schemas, [(urls, barrier)] * processes) == [[SCHEMA_VERSION] * len(urls)] * processes
    for url in urls:
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT version FROM schema_version")).all() == [(SCHEMA_VERSION,)]
        engine.dispose()


# --- a locked SQLite database --------------------------------------------------------------


def test_a_sqlite_database_locked_too_long_raises_a_retryable_error_and_writes_nothing(tmp_path):
    store = Store(sqlite_url(tmp_path), busy_timeout=0.05)
    order = add(store, 1, outbox=1)
    other_writer = sqlite3.connect(tmp_path / "store.db", isolation_level=None)
    other_writer.execute("BEGIN IMMEDIATE")  # holds the write lock, like a stuck process would

    with pytest.raises(StoreBusyError) as busy:
        store.update(order.id, 1, state="paid", data=order.data, journal=step(order.id, "order_placed", "paid"))
    assert busy.value.retryable and isinstance(busy.value, FlowError)
    assert "retry" in str(busy.value) and "nothing was written" in str(busy.value)
    with pytest.raises(StoreBusyError):
        store.claim_outbox("w1")
    with pytest.raises(StoreBusyError):
        store.record_attempt(step(order.id, "order_placed", "order_placed", outcome="failed"))
    assert store.get(order.id).version == 1  # readers are not blocked by the writer (WAL)

    other_writer.execute("ROLLBACK")
    other_writer.close()
    retried = store.update(order.id, 1, state="paid", data=order.data, journal=step(order.id, "order_placed", "paid"))
    assert retried.version == 2 and len(store.journal(order.id)) == 2
    assert [i.status for i in store.outbox()] == ["pending"]
    store.dispose()
