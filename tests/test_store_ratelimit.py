"""The shared rate limiter: one budget in the store for every process, on SQLite and PostgreSQL.

The properties checked are the limiter's promise, on the times it really admitted requests
(the database's clock): no ``limit + 1`` admissions within ``period`` — across processes, and
across a process that is killed and replaced — and, over real HTTP, no 429 from a sandbox that
enforces the same limit. No test asserts how fast anything was.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import re
import shutil
import signal
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from invoicebox_flow.client import InvoiceboxClient
from invoicebox_flow.errors import RateLimitError
from invoicebox_flow.sandbox import Sandbox
from invoicebox_flow.store import Store, StoreRateLimiter
from invoicebox_flow.store.schema import rate_limit_slots

pytestmark = pytest.mark.every_backend

LONG = 30.0  # a period no test outlives: a slot taken under it stays taken for the whole test
SHORT = 0.3  # a period a test waits out


def assert_window(admitted: list[float], limit: int, period: float) -> None:
    """No ``limit + 1`` admissions within less than ``period`` of each other."""
    admitted = sorted(admitted)
    for first, last in zip(admitted, admitted[limit:], strict=False):
        assert last - first >= period - 1e-6, (first, last)


# --- one process ----------------------------------------------------------------------------------


def test_the_first_limit_permits_are_free_and_then_none_until_one_leaves_the_window(store):
    limiter = StoreRateLimiter(store, key="acct", limit=3, period=LONG)
    permits = [limiter.try_acquire() for _ in range(3)]
    assert all(permits) and sorted(p.slot for p in permits) == [0, 1, 2]
    for permit in permits:
        permit.release()
    assert limiter.try_acquire() is None
    assert limiter.in_window() == 3


def test_a_slot_is_free_again_one_period_after_its_release(store):
    limiter = StoreRateLimiter(store, key="acct", limit=2, period=SHORT)
    first, second = limiter.acquire(), limiter.acquire()
    first.release()
    time.sleep(SHORT)
    second.release()  # re-stamped now: its slot counts for another period
    again = limiter.try_acquire()
    assert again is not None and again.slot == first.slot
    assert limiter.try_acquire() is None
    again.release()


def test_acquire_waits_for_the_window_instead_of_refusing(store):
    limiter = StoreRateLimiter(store, key="acct", limit=2, period=SHORT)
    admitted = []
    for _ in range(5):
        with limiter.acquire() as permit:
            admitted.append(permit.admitted_at)
    assert_window(admitted, 2, SHORT)
    assert admitted[-1] - admitted[0] >= 2 * SHORT  # five at two per period: two periods at least


def test_a_permit_in_flight_keeps_its_slot_and_a_dead_holders_slot_frees_after_its_hold(store):
    limiter = StoreRateLimiter(store, key="acct", limit=1, period=SHORT, hold=SHORT)
    held = limiter.acquire()  # never released: its process died with the request in flight
    time.sleep(SHORT)
    assert limiter.try_acquire() is None  # in flight: a released permit would be free by now
    time.sleep(SHORT)  # the hold and a period have passed since it was taken
    taken = limiter.try_acquire()
    assert taken is not None and taken.slot == held.slot
    held.release()  # too late: the slot is somebody else's now, and stays so
    assert limiter.try_acquire() is None
    taken.release()


def test_keys_are_separate_budgets_and_the_slots_are_in_the_store(store, db_url):
    a = StoreRateLimiter(store, key="shop-a", limit=1, period=LONG)
    b = StoreRateLimiter(store, key="shop-b", limit=1, period=LONG)
    a.acquire().release()
    assert a.try_acquire() is None
    assert b.try_acquire() is not None
    other = Store(db_url)  # another process's view: the same budget
    assert StoreRateLimiter(other, key="shop-a", limit=1, period=LONG).try_acquire() is None
    with other._read() as conn:
        keys = sorted(conn.scalars(select(rate_limit_slots.c.key)))
    assert keys == ["shop-a", "shop-b"]
    other.dispose()


def test_a_release_that_cannot_reach_the_database_is_logged_not_raised(tmp_path, caplog):
    """The release runs after the request: failing there must not hide the request's answer."""
    folder = tmp_path / "gone"
    folder.mkdir()
    store = Store(f"sqlite:///{folder / 'store.db'}")
    permit = StoreRateLimiter(store, key="acct", limit=1, period=LONG).acquire()
    store.dispose()
    shutil.rmtree(folder)  # the database is away
    permit.release()
    assert "slot 0 not released (OperationalError)" in caplog.text


@pytest.mark.parametrize("kwargs", [dict(key=""), dict(key="a", limit=0), dict(key="a", limit=1.5),
                                    dict(key="a", period=0), dict(key="a", hold=-1)])
def test_nonsense_configuration_is_refused(store, kwargs):
    with pytest.raises(ValueError):
        StoreRateLimiter(store, **kwargs)


def test_repr_names_the_budget_and_masks_the_database_password(db_url):
    store = Store(db_url)
    text = repr(StoreRateLimiter(store, key="acct", limit=100, period=30.0))
    assert text.startswith("StoreRateLimiter(key='acct', limit=100, period=30.0, store=Store(")
    password = make_url(db_url).password
    assert not password or str(password) not in text
    store.dispose()


# --- several processes ------------------------------------------------------------------------------


def _take_permits(url: str, key: str, limit: int, period: float, count: int, start: Any, queue: Any) -> None:
    """A worker: ``count`` permits, each held for a moment as a request would be."""
    store = Store(url)
    limiter = StoreRateLimiter(store, key=key, limit=limit, period=period)
    start.wait(60)
    admitted = []
    for _ in range(count):
        with limiter.acquire() as permit:
            admitted.append(permit.admitted_at)
            time.sleep(0.002)
    store.dispose()
    queue.put(admitted)


def _run(ctx: Any, target: Any, args_of: list[tuple[Any, ...]], timeout: float = 120) -> list[Any]:
    start, queue = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=target, args=(*args, start, queue)) for args in args_of]
    for p in procs:
        p.start()
    start.set()
    results = [queue.get(timeout=timeout) for _ in procs]
    for p in procs:
        p.join(30)
        assert p.exitcode == 0
    return results


@pytest.mark.slow
def test_processes_sharing_one_limiter_never_exceed_the_limit_in_any_window(store, db_url):
    limit, period = 6, 0.5
    store.schema_version()  # the tables exist before the workers race for them
    results = _run(mp.get_context("spawn"), _take_permits, [(db_url, "acct", limit, period, 15)] * 4)
    admitted = [t for result in results for t in result]
    assert len(admitted) == 60
    assert_window(admitted, limit, period)
    # the budget was shared, not split: 60 permits at 6 per period need at least 9 periods
    assert max(admitted) - min(admitted) >= 9 * period


def _burst_then_die(url: str, key: str, limit: int, period: float, start: Any, queue: Any) -> None:
    """A worker that takes the whole window at once, reports, and is killed holding one more."""
    store = Store(url)
    limiter = StoreRateLimiter(store, key=key, limit=limit + 1, period=period, hold=period)
    start.wait(60)
    admitted = []
    for _ in range(limit):
        with limiter.acquire() as permit:
            admitted.append((permit.admitted_at, permit.slot))
    in_flight = limiter.acquire()  # a request in flight when the process dies
    queue.put([*admitted, (in_flight.admitted_at, in_flight.slot)])
    queue.close()
    queue.join_thread()  # the report is through the pipe before the process dies
    os.kill(os.getpid(), signal.SIGKILL)


def test_a_restarted_process_does_not_burst(store, db_url):
    """A worker sends a full window's worth and dies mid-request; its replacement starts at once.
    Its first request waits for the window, and the dead one's slot in flight stays taken."""
    limit, period = 4, 1.0
    ctx = mp.get_context("spawn")
    start, queue = ctx.Event(), ctx.Queue()
    first = ctx.Process(target=_burst_then_die, args=(db_url, "acct", limit, period, start, queue))
    first.start()
    start.set()
    before = queue.get(timeout=60)
    first.join(30)
    assert first.exitcode == -signal.SIGKILL
    replacement = StoreRateLimiter(store, key="acct", limit=limit + 1, period=period, hold=period)
    after = []
    for _ in range(2 * (limit + 1)):
        with replacement.acquire() as permit:
            after.append((permit.admitted_at, permit.slot))
    assert_window([t for t, _ in before + after], limit + 1, period)
    assert min(after)[0] >= before[0][0] + period  # nothing before the dead worker's window was over
    # the dead worker's request in flight kept its slot for the hold and a period after that
    died_at, dead_slot = before[-1]
    assert [t for t, slot in after if slot == dead_slot] and all(
        t >= died_at + 2 * period for t, slot in after if slot == dead_slot)


# --- over HTTP: a sandbox with the same limit answers no 429 --------------------------------------


def _check_auth_paced(url: str, token: str, db: str, limit: int, period: float, count: int, start: Any,
                      queue: Any) -> None:
    store = Store(db)
    limiter = StoreRateLimiter(store, key="acct", limit=limit, period=period)
    refused = 0
    start.wait(60)
    with InvoiceboxClient(token, base_url=url, rate_limit=limiter, max_read_retries=0) as client:
        for _ in range(count):
            try:
                client.check_auth()
            except RateLimitError:
                refused += 1
    store.dispose()
    queue.put(refused)


@pytest.mark.slow
def test_clients_in_several_processes_sharing_the_limiter_draw_no_429(store, db_url):
    limit, period = 8, 1.0
    store.schema_version()
    with Sandbox(rate_limit=limit, rate_window=period) as ib:
        refused = _run(mp.get_context("spawn"), _check_auth_paced,
                       [(ib.url, ib.token, db_url, limit, period, 8)] * 3)
        logged = [r["status"] for r in ib.requests()]
    assert refused == [0, 0, 0]
    assert logged == [200] * 24


def test_the_readme_recipe_makes_a_client_paced_by_the_shared_budget(store):
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    [recipe] = re.findall(r"`(InvoiceboxClient\([^`]*rate_limit=StoreRateLimiter\([^`]*)`", readme)
    client = eval(recipe, {"InvoiceboxClient": InvoiceboxClient, "StoreRateLimiter": StoreRateLimiter,
                           "store": store, "token": "t" * 32, "merchant_id": "m-1"})
    assert isinstance(client.rate_limit, StoreRateLimiter)
    assert (client.rate_limit.key, client.rate_limit.limit, client.rate_limit.period) == ("m-1", 100, 30.0)
