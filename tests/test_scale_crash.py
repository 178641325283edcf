"""Crash test: outbox workers killed with SIGKILL at random points, restarted, and still every
effect happens exactly once.

The shop (this process) places every order with deferred calls, pays it on the payment page,
ships and refunds it (deferred again), and receives the notifications on its own endpoint. All
calls to InvoiceBox are therefore made by worker processes — and those are killed with SIGKILL,
one after another, at random moments after they start working, and replaced by fresh ones.
Every write at the sandbox answers slowly *after* doing its work, so many kills land in the
worst place: InvoiceBox has done it, the worker has not recorded it. The lease of the dead
worker runs out, another worker claims the item, looks the object up first and records what it
finds instead of doing it again.

Afterwards every order must reach its planned state and the shared consistency check of the
concurrency test must find nothing (one InvoiceBox order per shop order, one shipment per
shipped order, refunds never above the payment, each receipt and document once, a complete
journal, an empty outbox). SQLite, and PostgreSQL when ``INVOICEBOX_FLOW_TEST_PG_URL`` is set.
"""

from __future__ import annotations

import multiprocessing as mp
import random
import threading
import time
from collections import Counter

import attrs
import pytest
from db_fixtures import postgres_schema, sqlite_url
from test_scale_concurrency import (
    Driver,
    Endpoint,
    OrderPlan,
    SandboxSnapshot,
    Settings,
    build_flow,
    consistency_problems,
    make_plans,
    quiet_logging,
)

from invoicebox_flow.flows import State
from invoicebox_flow.sandbox import Sandbox

# each starts several processes for minutes: one xdist worker runs these in turn, beside the light tests
pytestmark = pytest.mark.xdist_group("heavy")

ORDERS = 60
WORKERS = 3  # alive at any time
KILLS = 60  # at least this many SIGKILLs in one run (issue 6 asks for 50)
LEASE_SECONDS = 1.5  # a dead worker's items are taken over this long after its claim ...
WRITE_DELAY = 0.3  # ... which is well after the slow answer of a live worker would have come
RETRY_CAP = 0.3
KILL_AFTER = (0.05, 0.9)  # a worker dies this many seconds (uniformly) after it is ready
CONVERGE_DEADLINE = 150.0
# Every write does its work at InvoiceBox, then answers only after WRITE_DELAY: the window in
# which a kill leaves an effect that the store does not know about yet.
SLOW_WRITES = ("create_order", "create_shipment", "create_refund")
PLANS_IN_THIS_TEST = ("refund_in_two", "partial_refund", "ship", "refund_unshipped")


def run_worker(settings: Settings, worker_id: str, ready) -> None:
    """A worker process: claims one outbox item at a time until it is killed (or SIGTERM)."""
    from invoicebox_flow.store import Store
    from invoicebox_flow.worker import Worker

    quiet_logging()
    store = Store(settings.db_url)
    flow = build_flow(settings, store, worker_id, read_timeout=5.0, retry_cap=RETRY_CAP,
                      lease_seconds=LEASE_SECONDS)
    store.schema_version()  # connected: from here on a kill can hit real work
    ready.set()
    Worker(flow, batch=1).run(poll_interval=0.02)


@attrs.define
class WorkerProcess:
    process: mp.Process
    worker_id: str
    ready: object  # multiprocessing Event
    kill_at: float | None = None


class Killer:
    """Keeps WORKERS worker processes alive, killing each at a random moment after it is ready."""

    def __init__(self, ctx, settings: Settings, store, seed: int) -> None:
        self.ctx = ctx
        self.settings = settings
        self.store = store
        self.rng = random.Random(seed)
        self.generation = 0
        self.kills = 0
        self.kills_holding_a_lease = 0
        self.workers = [self.start() for _ in range(WORKERS)]

    def start(self) -> WorkerProcess:
        self.generation += 1
        worker_id = f"crash-worker-{self.generation}"
        ready = self.ctx.Event()
        process = self.ctx.Process(target=run_worker, args=(self.settings, worker_id, ready), daemon=True)
        process.start()
        return WorkerProcess(process, worker_id, ready)

    def kill_until(self, kills: int, deadline: float) -> None:
        while self.kills < kills and time.monotonic() < deadline:
            now = time.monotonic()
            for slot, worker in enumerate(self.workers):
                if worker.kill_at is None and worker.ready.is_set():
                    worker.kill_at = now + self.rng.uniform(*KILL_AFTER)
                if worker.kill_at is not None and now >= worker.kill_at:
                    holding = any(item.claimed_by == worker.worker_id for item in self.store.outbox(status="claimed"))
                    worker.process.kill()  # SIGKILL: no cleanup, no finally, no atexit
                    worker.process.join(10)
                    self.kills += 1
                    self.kills_holding_a_lease += holding
                    self.workers[slot] = self.start()
            time.sleep(0.01)

    def stop(self) -> None:
        for worker in self.workers:
            worker.process.terminate()  # SIGTERM: the worker finishes its item and exits
        for worker in self.workers:
            worker.process.join(15)
            if worker.process.is_alive():
                worker.process.kill()


def run_crashes(db_url: str, seed: int) -> dict:
    from invoicebox_flow.store import Store

    plans = [p for p in make_plans(ORDERS * 2, 1, seed, f"CR{seed}")[0] if p.plan in PLANS_IN_THIS_TEST][:ORDERS]
    plans = [attrs.evolve(p, defer=True, notify_via=0) for p in plans]  # every call through the outbox
    store = Store(db_url)
    store.schema_version()
    # forkserver: restarting a worker is a fork of a clean, preloaded server, not a fresh
    # interpreter (dozens of restarts), and never a fork of this multi-threaded test process
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(["invoicebox_flow.engine", "invoicebox_flow.worker", "invoicebox_flow.store",
                                "test_scale_crash"])
    with Sandbox(rate_limit=1_000_000, notification_retry_delays=(0.05,) * 10) as ib:
        settings = Settings(db_url=db_url, ib_url=ib.url, token=ib.token, notification_key=ib.notification_key,
                            merchant_id=ib.merchant_id, fault_share=0.0, notification_fault_share=0.0,
                            deadline=CONVERGE_DEADLINE)
        for endpoint in SLOW_WRITES:
            ib.inject_fault(endpoint, "slow_after_commit", times=100_000, delay=WRITE_DELAY)
        endpoint = Endpoint(build_flow(settings, store, "crash-shop-webhook"))
        driver = Driver(settings, build_flow(settings, store, "crash-shop"), ib, [endpoint.url], plans, seed=seed,
                        resume_after=None)
        report: dict = {}
        driving = threading.Thread(target=lambda: report.update(driver.run()), daemon=True)
        killer = Killer(ctx, settings, store, seed)
        try:
            driving.start()
            killer.kill_until(KILLS, deadline=time.monotonic() + CONVERGE_DEADLINE)
            driving.join(CONVERGE_DEADLINE)  # the last workers, left alive, finish the work
        finally:
            killer.stop()
            endpoint.close()
        ib.wait_idle(timeout=30)
        snapshot = SandboxSnapshot.take(ib)
    problems = consistency_problems(store, snapshot, {p.order_id: p.final for p in plans},
                                    variants={p.order_id: p.variant for p in plans})
    attempts = Counter(min(item.attempts, 3) for item in store.outbox())
    store.dispose()
    print(f"{killer.kills} kills, {killer.kills_holding_a_lease} while holding a lease; outbox attempts {dict(attempts)}; "
          f"driver {report.get('stats')}")
    return {"report": report, "problems": problems, "kills": killer.kills,
            "kills_holding_a_lease": killer.kills_holding_a_lease, "attempts": attempts, "plans": plans}


def check_crashes(run: dict) -> None:
    report = run["report"]
    assert report, "the shop's driver did not finish"
    assert not report["unexpected"], "\n".join(report["unexpected"][:5])
    assert not report["unfinished"], f"{len(report['unfinished'])} orders unfinished: {report['unfinished']}"
    assert not run["problems"], f"{len(run['problems'])} problems:\n" + "\n".join(run["problems"][:30])
    assert run["kills"] >= KILLS
    # the kills hit work in flight, and other workers took it over after the lease
    assert run["kills_holding_a_lease"] >= KILLS // 5, run
    assert run["attempts"][2] + run["attempts"][3] >= 5, run["attempts"]
    plans: list[OrderPlan] = run["plans"]
    assert len(plans) == ORDERS and {p.plan for p in plans} == set(PLANS_IN_THIS_TEST)
    assert sum(p.final is State.REFUNDED for p in plans) > ORDERS // 3


@pytest.mark.slow  # about 50 s on 2 cores
@pytest.mark.timeout(600)
def test_killed_workers_on_sqlite_leave_no_duplicate_effect(tmp_path):
    check_crashes(run_crashes(sqlite_url(tmp_path), seed=5))


@pytest.mark.slow  # about 75 s on 2 cores
@pytest.mark.postgres
@pytest.mark.timeout(600)
def test_killed_workers_on_postgresql_leave_no_duplicate_effect():
    with postgres_schema() as url:
        run = run_crashes(url, seed=6)
    check_crashes(run)
