"""How worker processes overlap InvoiceBox's latency: orders per second through the outbox with
1, 2 and 4 worker processes on PostgreSQL, each create call held ``--latency`` seconds.

    python benchmarks/outbox_bench.py [--orders 240] [--latency 0.05] [--pg-url URL]

**What this does not measure: the database.** With each call held 50 ms, a worker spends
nearly all its time waiting for InvoiceBox, and the speed-up is that of overlapping the waits
(the claim with ``FOR UPDATE SKIP LOCKED`` is what lets them overlap without taking an item
twice). What the store itself costs per step is measured by ``engine_bench.py`` (a state
change), ``notifications_bench.py`` and ``lifecycle_bench.py``. With ``--latency 0`` the figure is
bounded by the sandbox's HTTP server and the Python of each process, not by the database either.

The shop records N orders with ``place(..., defer=True)`` (state ``invoice_requested`` and an
outbox intent, one transaction each; not timed). Then W worker processes
(``invoicebox_flow.worker.Worker``, each with its own connection and API client) are started,
connected and warmed up, and released together; the clock runs until every order has its
payment link (the create call made at InvoiceBox and its outcome committed). The baseline is
the same run with 1 worker; the figures are the 1→2 and 1→4 speed-ups (target ≥ 1.6× from 1
to 2).

The InvoiceBox is a local sandbox, which answers in about a millisecond — unlike the real one.
To make workers overlap real I/O as they would in production, every create call is held for
``--latency`` seconds by the sandbox's own ``slow`` fault (said so in the output). The sandbox's
rate limit is raised and the clients do not pace themselves, so the limit does not cap the
figures. Needs PostgreSQL: ``--pg-url`` or ``INVOICEBOX_FLOW_TEST_PG_URL``.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sys
import time
import uuid

from _pg import PG_URL_ENV, pg_schema

WORKER_COUNTS = (1, 2, 4)

def make_flow(db_url: str, ib_url: str, token: str, merchant_id: str, key: str, worker_id: str):
    from invoicebox_flow.client import InvoiceboxClient
    from invoicebox_flow.engine import OrderFlow
    from invoicebox_flow.store import Store

    client = InvoiceboxClient(token, base_url=ib_url, timeout=(2.0, 10.0), rate_limit=None)
    return OrderFlow(client, Store(db_url), merchant_id=merchant_id, notification_key=key, worker_id=worker_id)


def worker_process(db_url: str, ib_url: str, token: str, merchant_id: str, key: str, ready, go) -> None:
    from invoicebox_flow.worker import Worker

    flow = make_flow(db_url, ib_url, token, merchant_id, key, f"bench-{os.getpid()}")
    flow.store.outbox(status="done")  # connected before the clock starts
    flow.client.check_auth()
    ready.set()
    go.wait(120)
    Worker(flow).run(poll_interval=0.01, idle_exit_after=2.0)


def place_orders(flow, count: int, prefix: str) -> list[str]:
    from invoicebox_flow.models import PrivateCustomer, basket_line

    lines = [basket_line(sku="COURSE-1", name="Онлайн-курс", unit_price="1200.00", quantity=2,
                         vat_code="RUS_VAT20", type="service")]
    customer = PrivateCustomer(name="Анна Смирнова", email="anna@example.org")
    ids = [f"{prefix}-{n}" for n in range(count)]
    for order_id in ids:
        flow.place(order_id, lines, customer, description="Курс", defer=True)
    return ids


def run(db_url: str, ib, workers: int, orders: int, latency: float) -> float:
    """Seconds for ``workers`` processes to take ``orders`` deferred orders to their payment link."""
    flow = make_flow(db_url, ib.url, ib.token, ib.merchant_id, ib.notification_key, "bench-shop")
    place_orders(flow, orders, prefix=f"OB{workers}-{uuid.uuid4().hex[:6]}")
    ib.clear_faults()
    ib.inject_fault("create_order", "slow", times=orders * 2, delay=latency)
    ctx = mp.get_context("spawn")
    go = ctx.Event()
    readies = [ctx.Event() for _ in range(workers)]
    procs = [ctx.Process(target=worker_process, args=(db_url, ib.url, ib.token, ib.merchant_id,
                                                       ib.notification_key, ready, go)) for ready in readies]
    for p in procs:
        p.start()
    for ready in readies:
        if not ready.wait(120):
            raise SystemExit("a worker did not start")
    start = time.perf_counter()
    go.set()
    while flow.store.counts().get("payment_link_issued", 0) < orders:
        if not any(p.is_alive() for p in procs):
            raise SystemExit(f"the workers stopped with {flow.store.counts()}")
        time.sleep(0.02)
    elapsed = time.perf_counter() - start
    for p in procs:
        p.join(30)
    flow.store.dispose()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=240, help="orders per run")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds InvoiceBox takes per create call")
    parser.add_argument("--pg-url", default=os.environ.get(PG_URL_ENV), help=f"PostgreSQL URL (default ${PG_URL_ENV})")
    args = parser.parse_args()
    if not args.pg_url:
        sys.exit(f"needs PostgreSQL: give --pg-url or set {PG_URL_ENV}")

    from invoicebox_flow.sandbox import Sandbox

    print(f"{args.orders} deferred orders per run; each create call held {args.latency * 1000:.0f} ms at the sandbox "
          f"(its 'slow' fault) to stand for InvoiceBox's latency; no client-side pacing")
    rates: dict[int, float] = {}
    with Sandbox(rate_limit=1_000_000) as ib:
        for workers in WORKER_COUNTS:
            with pg_schema(args.pg_url) as url:
                elapsed = run(url, ib, workers, args.orders, args.latency)
            rates[workers] = args.orders / elapsed
            note = "(baseline)" if workers == 1 else f"speed-up {rates[workers] / rates[1]:.2f}x over 1 worker"
            print(f"{workers} worker{'s' if workers > 1 else ' '}  {rates[workers]:>7.1f} orders/s  ({elapsed:.2f} s)  {note}")
    speedup = rates[2] / rates[1]
    print(f"1 -> 2 workers: {speedup:.2f}x (target >= 1.6: {'met' if speedup >= 1.6 else 'NOT met'}); "
          f"1 -> 4 workers: {rates[4] / rates[1]:.2f}x — workers overlapping InvoiceBox's latency, "
          "not the database's speed (see the docstring)")


if __name__ == "__main__":
    main()
