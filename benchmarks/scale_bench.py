"""What one operation costs on a store of 10,000, 100,000 and 1,000,000 orders, the stores
interleaved batch by batch in one process.

    python benchmarks/scale_bench.py [--sizes 10000,100000,1000000] [--ops 300] [--batches 10]
                                     [--repeats 3] [--pg-url URL]

Each store (SQLite files; PostgreSQL schemas with ``--pg-url``) is bulk-loaded with raw inserts
(``_bulk.py``: the order ``place`` writes, its journal and its last event, awaiting payment).
Then, on orders picked at random — each changed once —, the operations of a shop, through the
public API, each store taking its turn in every batch:

* **payment notification**: ``OrderFlow.handle_notification`` of the signed body (applied);
* **state change**: ``OrderFlow.redirect_buyer``;
* **read**: ``OrderFlow.get``;
* **counts**: ``Store.counts()`` (the per-state counter rows, not the orders).

Printed: µs per operation at each size (min / median / max over repeats) and the largest
store's cost over the smallest's. Target: within 1.3× at 1M of the cost at 10k.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _bulk
from _bench import interleaved, spread
from _pg import PG_URL_ENV, pg_schema
from _stub import NOTIFICATION_KEY

from invoicebox_flow.engine import OrderFlow
from invoicebox_flow.store import Store

SUCCESS = b'{"status":"success"}'


def operations(flow: OrderFlow, store: Store, doc: dict[str, Any], picks: list[int]) -> dict[str, Callable[[int], Any]]:
    """The operations on one store; each call ``n`` works on order ``picks[n]``."""
    def notified(n: int) -> None:
        body, headers = _bulk.notification(doc, "S", picks[n])
        if flow.handle_notification(body, headers)[2] != SUCCESS:
            raise SystemExit("a notification was not applied")

    return {"payment notification": notified,
            "state change": lambda n: flow.redirect_buyer(_bulk.order_id("S", picks[n])),
            "read": lambda n: flow.get(_bulk.order_id("S", picks[n])),
            "counts": lambda n: store.counts()}


def bench(name: str, urls: dict[int, str], args: argparse.Namespace, doc: dict[str, Any]) -> None:
    for size, url in urls.items():
        with Store(url) as store:
            store.schema_version()
        _bulk.load(url, size, "S", doc)
    smallest = min(urls)
    warm = args.batches
    need = warm + args.ops * args.repeats
    figures: dict[str, dict[int, list[float]]] = {}
    with ExitStack() as stack:
        ops = {}
        for size, url in urls.items():
            store = stack.enter_context(Store(url))
            flow = OrderFlow(None, store, merchant_id=_bulk.MERCHANT_ID, notification_key=NOTIFICATION_KEY)
            # two disjoint sets of orders: one paid by notifications, one redirected
            picks = random.Random(size).sample(range(size), 2 * need)
            ops[size] = (operations(flow, store, doc, picks[:need]), operations(flow, store, doc, picks[need:]))
        for label in ("payment notification", "state change", "read", "counts"):
            mine = 0 if label != "state change" else 1
            figures[label] = {size: [] for size in urls}
            sides = lambda lo, label=label, mine=mine: [  # noqa: E731
                (str(size), lambda n, f=o[mine][label]: f(lo + n)) for size, o in ops.items()]
            interleaved(sides(0), warm, args.batches)
            for r in range(args.repeats):
                rates = interleaved(sides(warm + r * args.ops), args.ops, args.batches)
                for size in urls:
                    figures[label][size].append(1e6 / rates[str(size)])
    print(f"\n{name}: {args.ops} operations per store x {args.repeats} repeats, the stores interleaved in "
          f"{args.batches} batches; µs per operation (min / median / max)")
    header = "".join(f"{f'{size:,} orders':>26}" for size in urls)
    print(f"  {'':<22}{header}   largest / smallest (target <= 1.30)")
    for label, by_size in figures.items():
        ratios = [b / a for a, b in zip(by_size[smallest], by_size[max(urls)], strict=True)]
        cells = "".join(f"{spread(v):>26}" for v in by_size.values())
        verdict = "met" if statistics.median(ratios) <= 1.3 else "NOT met"
        print(f"  {label:<22}{cells}   {spread(ratios, '.2f')} ({verdict} at the median)")


@contextmanager
def sqlite_urls(sizes: list[int]) -> Iterator[dict[int, str]]:
    with tempfile.TemporaryDirectory() as folder:
        yield {size: f"sqlite:///{Path(folder) / f'store-{size}.db'}" for size in sizes}


@contextmanager
def pg_urls(base: str, sizes: list[int]) -> Iterator[dict[int, str]]:
    with ExitStack() as stack:
        yield {size: stack.enter_context(pg_schema(base)) for size in sizes}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000,1000000", help="orders per store, comma-separated")
    parser.add_argument("--ops", type=int, default=300, help="operations of each kind per store and repeat")
    parser.add_argument("--batches", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--pg-url", default=os.environ.get(PG_URL_ENV), help=f"PostgreSQL (default ${PG_URL_ENV})")
    args = parser.parse_args()
    if args.repeats < 3:
        parser.error("--repeats must be at least 3")
    args.ops -= args.ops % args.batches
    sizes = sorted(int(s) for s in args.sizes.split(","))
    with tempfile.TemporaryDirectory() as scratch:
        doc = _bulk.template(f"sqlite:///{Path(scratch) / 'template.db'}")
    print(f"cost per operation by store size {', '.join(f'{s:,}' for s in sizes)}; one thread; durable commits")
    with sqlite_urls(sizes) as urls:
        bench("SQLite", urls, args, doc)
    if args.pg_url:
        with pg_urls(args.pg_url, sizes) as urls:
            bench("PostgreSQL", urls, args, doc)
    else:
        print(f"\nPostgreSQL: skipped (give --pg-url or set {PG_URL_ENV})")


if __name__ == "__main__":
    main()
