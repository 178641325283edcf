"""What lifecycle events cost a persisted transition, next to the same transition without them.

    python benchmarks/events_bench.py [--transitions 2000] [--batches 10] [--repeats 5] [--pg-url URL]

The transition is ``OrderFlow.claim_refund`` on a paid order with a real order document (two
basket lines): read the order, check the transition, compare-and-set update, journal row and
commit — plus, since events, the event row with the order's snapshot, in the same transaction.

"Without events" is the same ``OrderFlow.claim_refund`` on a store that drops the event rows it
is handed (a ``Store`` subclass: the one difference is the ``INSERT`` of the event). Building the
event in memory (its id and snapshot reference) is therefore in both figures; it is measured on
its own and printed below them. Each backend (a SQLite file; PostgreSQL with ``--pg-url`` or
``INVOICEBOX_FLOW_TEST_PG_URL``) runs both on databases of their own, interleaved batch by
batch so that both see the same disk and server load, and the whole is repeated; min, median and
max over the repeats are printed, then the events' cost as a share of a transition (target:
at most 20 %).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from _pg import PG_URL_ENV, pg_schema

from invoicebox_flow.engine import OrderFlow
from invoicebox_flow.models import PrivateCustomer, basket_line
from invoicebox_flow.store import JournalEntry, OrderRecord, Store

ORDER_ID = "B-1"


class StoreWithoutEvents(Store):
    """The store, minus the event rows: the baseline."""

    def update(self, *args: Any, events: Any = (), deliveries: Any = None, **kwargs: Any) -> OrderRecord:
        return super().update(*args, **kwargs)


def paid_order(flow: OrderFlow) -> None:
    """A paid order with the document ``place`` writes (two lines, the create-order request)."""
    lines = [basket_line(sku="BOOK-1", name="Книга «Python»", unit_price="990.00", quantity=3, vat_code="RUS_VAT10",
                         type="commodity"),
             basket_line(sku="COURSE-1", name="Онлайн-курс «Python», доступ 90 дней", unit_price="1200.00", quantity=1,
                         vat_code="RUS_VAT20", type="service")]
    flow.place("TEMPLATE", lines, PrivateCustomer(name="Анна", email="anna@example.org"), description="Книги и курс",
               request_invoice=False)
    data = flow.store.get("TEMPLATE").data
    data["paidAmount"] = data["amount"]
    flow.store.add_order(OrderRecord(id=ORDER_ID, merchant_order_id=ORDER_ID, variant="private", state="paid",
                                     data=data),
                         JournalEntry(order_id=ORDER_ID, trigger="place", from_state="new", to_state="paid",
                                      actor="bench"))


def flow_on(store: Store) -> OrderFlow:
    flow = OrderFlow(None, store, merchant_id="m")
    paid_order(flow)
    return flow


def timed(work: Callable[[], object], count: int) -> float:
    start = time.perf_counter()
    for _ in range(count):
        work()
    return time.perf_counter() - start


def one_repeat(with_events: OrderFlow, without: OrderFlow, transitions: int, batches: int) -> tuple[float, float]:
    """Transitions per second of each, interleaved batch by batch."""
    batch = max(1, transitions // batches)
    spent = [0.0, 0.0]
    for n in range(batches):
        # alternate which goes first, so neither always follows the other's fsync
        pair = [(0, with_events), (1, without)] if n % 2 == 0 else [(1, without), (0, with_events)]
        for slot, flow in pair:
            spent[slot] += timed(lambda flow=flow: flow.claim_refund(ORDER_ID), batch)
    return batch * batches / spent[0], batch * batches / spent[1]


def building_cost(flow: OrderFlow, count: int = 20_000) -> float:
    """Microseconds to build one event draft in memory (what both figures include)."""
    core = flow._core  # the engine's own step, timed alone
    record = flow.store.get(ORDER_ID)
    start = time.perf_counter()
    for _ in range(count):
        core.event(record, "claim_refund", "paid", "buyer", invoicebox_id=None)
    return (time.perf_counter() - start) / count * 1e6


def bench(name: str, urls: tuple[str, str], args: argparse.Namespace) -> None:
    with Store(urls[0]) as events_store, StoreWithoutEvents(urls[1]) as plain_store:
        with_events, without = flow_on(events_store), flow_on(plain_store)
        one_repeat(with_events, without, args.batches * 10, args.batches)  # warm up caches and connections
        rates = [one_repeat(with_events, without, args.transitions, args.batches) for _ in range(args.repeats)]
        assert len(events_store.order_events(ORDER_ID)) > args.transitions and not plain_store.order_events(ORDER_ID)
        build = building_cost(with_events)
    on, off = [r[0] for r in rates], [r[1] for r in rates]
    costs = [b / a - 1 for a, b in rates]  # per repeat: (time with) / (time without) - 1
    print(f"{name}: OrderFlow.claim_refund, {args.transitions} transitions x {args.repeats} repeats, "
          f"interleaved in batches of {args.transitions // args.batches}")
    for label, figures in (("with its event", on), ("without events", off)):
        print(f"  {label:<16} min {min(figures):>8,.0f}  median {statistics.median(figures):>8,.0f}  "
              f"max {max(figures):>8,.0f} transitions/s")
    print(f"  events cost      min {min(costs):>+8.1%}  median {statistics.median(costs):>+8.1%}  "
          f"max {max(costs):>+8.1%} of a transition (target <= +20 %); "
          f"median with / median without {statistics.median(on) / statistics.median(off):.2f}")
    print(f"  building an event in memory: {build:.1f} µs (in both figures)")


@contextmanager
def sqlite_pair() -> Iterator[tuple[str, str]]:
    with tempfile.TemporaryDirectory() as folder:
        yield f"sqlite:///{Path(folder) / 'events.db'}", f"sqlite:///{Path(folder) / 'plain.db'}"


@contextmanager
def pg_pair(base: str) -> Iterator[tuple[str, str]]:
    with pg_schema(base) as events_url, pg_schema(base) as plain_url:
        yield events_url, plain_url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--transitions", type=int, default=2_000, help="per repeat and per variant")
    parser.add_argument("--batches", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--pg-url", default=os.environ.get(PG_URL_ENV))
    args = parser.parse_args()
    if args.repeats < 3:
        parser.error("--repeats must be at least 3")
    with sqlite_pair() as urls:
        bench("SQLite", urls, args)
    if args.pg_url:
        with pg_pair(args.pg_url) as urls:
            bench("PostgreSQL", urls, args)
    else:
        print(f"PostgreSQL: skipped (give --pg-url or set {PG_URL_ENV})")


if __name__ == "__main__":
    main()
