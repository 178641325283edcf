"""How much memory the process holds while orders pass through a worker and a webhook: its
resident set size (RSS, what the operating system counts), not a trace of Python objects.

    python benchmarks/memory_bench.py [--orders 20000] [--chunk 500] [--relaxed] [--pg-url URL]

The documented figure is ``--orders 1000000 --relaxed``: on 2 cores that took 63 minutes (263
orders/s, RSS +0.4 MB); the default, 20,000 orders, takes a minute or two. One process plays the
shop: in chunks of ``--chunk`` orders it places them with ``defer=True`` (each call waits in
the outbox), runs ``Worker.run_once`` until the outbox is empty (each order is created at
InvoiceBox and its payment link committed), then hands each order's signed payment
notification to ``OrderFlow.handle_notification`` (each is paid). InvoiceBox is ``_stub.py``'s
in-process transport adapter, which forgets each order once it is notified — so nothing but the
library can grow. The store is a SQLite file (or a PostgreSQL schema) that ends up holding every
order.

RSS is read from ``/proc/self/status`` (``ru_maxrss`` where there is no ``/proc``) after the first
chunk — connections open, statements compiled, caches warm — and then at every tenth of the run;
its growth since the first chunk is the figure. Target: < 50 MB over 1,000,000 orders.
``--relaxed`` stores with ``durable_commits=False``: fsync does not change what the process
holds, and it spares the run several fsyncs per order.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _bulk import CUSTOMER, LINES
from _pg import PG_URL_ENV, pg_schema
from _stub import MERCHANT_ID, NOTIFICATION_KEY, StubInvoicebox

from invoicebox_flow.engine import OrderFlow
from invoicebox_flow.store import Store
from invoicebox_flow.worker import Worker

SUCCESS = b'{"status":"success"}'


def rss_mb() -> float:
    """The process's resident set size now, in MB."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # the peak: an upper bound


def one_chunk(flow: OrderFlow, worker: Worker, stub: StubInvoicebox, first: int, count: int) -> None:
    for n in range(first, first + count):
        flow.place(f"M-{n:07d}", LINES, CUSTOMER, description="Книга и курс", defer=True)
    while worker.run_once():
        pass
    for invoicebox_id in list(stub.orders):
        body, headers = stub.paid(invoicebox_id, forget=True)
        if flow.handle_notification(body, headers)[2] != SUCCESS:
            raise SystemExit(f"order {invoicebox_id} was not paid")


def run(url: str, args: argparse.Namespace) -> None:
    with Store(url, durable_commits=not args.relaxed) as store:
        stub = StubInvoicebox()
        flow = OrderFlow(stub.client(), store, merchant_id=MERCHANT_ID, notification_key=NOTIFICATION_KEY)
        worker = Worker(flow, batch=50)
        started = time.monotonic()
        one_chunk(flow, worker, stub, 0, args.chunk)
        base, done, points = rss_mb(), args.chunk, []
        print(f"  after {done:>9,} orders  RSS {base:7.1f} MB  (the baseline: warm)")
        step = max(args.chunk, args.orders // 10)
        while done < args.orders:
            count = min(args.chunk, args.orders - done)
            one_chunk(flow, worker, stub, done, count)
            done += count
            if done % step < args.chunk or done == args.orders:
                rss = rss_mb()
                points.append(rss - base)
                print(f"  after {done:>9,} orders  RSS {rss:7.1f} MB  growth {rss - base:+6.1f} MB  "
                      f"({done / (time.monotonic() - started):,.0f} orders/s)", flush=True)
        counts = store.counts()
    if counts != {"paid": args.orders}:
        raise SystemExit(f"the store holds {counts}")
    growth = max(points or [0.0])
    print(f"  RSS growth over {args.orders:,} orders: at most {growth:+.1f} MB "
          f"(target < 50 MB over 1,000,000: {'met' if growth < 50 else 'NOT met'} for this run); "
          f"{counts['paid']:,} orders paid in {time.monotonic() - started:,.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=20_000, help="orders through the process (documented: 1000000)")
    parser.add_argument("--chunk", type=int, default=500, help="orders placed, worked and notified at a time")
    parser.add_argument("--relaxed", action="store_true", help="durable_commits=False (see above)")
    parser.add_argument("--pg-url", default=os.environ.get(PG_URL_ENV), help="PostgreSQL instead of a SQLite file")
    args = parser.parse_args()
    where = "PostgreSQL" if args.pg_url else "a SQLite file"
    print(f"{args.orders:,} orders through a worker and a webhook in one process, {args.chunk} at a time; store: "
          f"{where}, {'relaxed' if args.relaxed else 'durable'} commits; InvoiceBox: in-process stub")
    if args.pg_url:
        with pg_schema(args.pg_url) as url:
            run(url, args)
    else:
        with tempfile.TemporaryDirectory() as folder:
            run(f"sqlite:///{Path(folder) / 'memory.db'}", args)


if __name__ == "__main__":
    main()
