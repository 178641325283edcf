"""A whole private and a whole legal lifecycle through the public API, with InvoiceBox replaced by
an in-process stub: what each costs in the database, counted, and how long it takes.

    python benchmarks/lifecycle_bench.py [--lifecycles 100] [--batches 10] [--repeats 3] [--pg-url URL]

A **private** lifecycle (a person buys a book and a course): ``place`` (the order is created at
InvoiceBox at once), ``redirect_buyer``, ``buyer_returned``, the payment notification through
``handle_notification``, ``ship`` (made at once), ``claim_refund``, ``refundable_items``,
``refund`` (everything). A **legal** one (a company) is the same with ``send_documents`` after
the shipment. InvoiceBox is ``_stub.py``'s transport adapter inside the process, so the figures
are the library's and its database's.

Counted per lifecycle (on the driver's connections, ``_bench.Traffic``): statements, round
trips and pings (PostgreSQL), durable commits, pool checkouts — next to the number of state
changes the lifecycle committed (its lifecycle events: one per committed change). Target:
durable commits ≤ state changes. Timed: lifecycles per second of each variant, the two
interleaved batch by batch, min / median / max over repeats (no baseline: the counts are the
figure).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _bench import Traffic, interleaved, rate_line
from _pg import PG_URL_ENV, pg_schema
from _stub import MERCHANT_ID, NOTIFICATION_KEY, StubInvoicebox

from invoicebox_flow.engine import OrderFlow
from invoicebox_flow.flows import State
from invoicebox_flow.models import LegalCustomer, PrivateCustomer, basket_line
from invoicebox_flow.store import Store

LINES = [basket_line(sku="BOOK-1", name="Книга «Python»", unit_price="990.00", quantity=2, vat_code="RUS_VAT10",
                     type="commodity"),
         basket_line(sku="COURSE-1", name="Онлайн-курс «Python», доступ 90 дней", unit_price="1200.00", quantity=1,
                     vat_code="RUS_VAT20", type="service")]
BUYERS = {"private": PrivateCustomer(name="Анна Смирнова", email="anna@example.org"),
          "legal": LegalCustomer(name="ООО «Вектор»", vat_number="7812345675", tax_registration_reason_code="781201001",
                                 registration_address="191186, Санкт-Петербург, Невский пр., 1",
                                 email="buh@vector.example")}


def lifecycle(flow: OrderFlow, stub: StubInvoicebox, variant: str, order_id: str) -> None:
    view = flow.place(order_id, LINES, BUYERS[variant], description="Книга и курс")
    flow.redirect_buyer(order_id)
    flow.buyer_returned(order_id)
    body, headers = stub.paid(view.invoicebox_id or "")
    if b'"success"' not in flow.handle_notification(body, headers)[2]:
        raise SystemExit(f"{order_id}: the payment was not accepted")
    flow.ship(order_id)
    if variant == "legal":
        flow.send_documents(order_id)
    flow.claim_refund(order_id, "передумал")
    flow.refundable_items(order_id)
    if flow.refund(order_id).state is not State.REFUNDED:
        raise SystemExit(f"{order_id} is not refunded")
    stub.forget(view.invoicebox_id or "")


def bench(name: str, url: str, args: argparse.Namespace) -> None:
    postgres = name == "PostgreSQL"
    with Store(url) as store:
        stub = StubInvoicebox()
        flow = OrderFlow(stub.client(), store, merchant_id=MERCHANT_ID, notification_key=NOTIFICATION_KEY)
        traffic = Traffic(store)
        counted: dict[str, dict[str, float]] = {}
        for variant in BUYERS:
            lifecycle(flow, stub, variant, f"warm-{variant}")  # schema, statements, connections
            counted[variant] = traffic.count(lambda v=variant: lifecycle(flow, stub, v, f"counted-{v}"))
            counted[variant]["state changes"] = len(store.order_events(f"counted-{variant}"))
        rates: dict[str, list[float]] = {variant: [] for variant in BUYERS}
        for r in range(args.repeats):
            sides = [(variant, lambda n, v=variant, r=r: lifecycle(flow, stub, v, f"{v}-{r}-{n}")) for variant in BUYERS]
            for variant, rate in interleaved(sides, args.lifecycles, args.batches).items():
                rates[variant].append(rate)
    print(f"\n{name}: {args.lifecycles} lifecycles of each variant x {args.repeats} repeats, interleaved in "
          f"{args.batches} batches (min / median / max)")
    for variant in BUYERS:
        print(rate_line(f"{variant} lifecycles", rates[variant]))
    keys = ["state changes", "durable commits", "statements", "pool checkouts"] + (
        ["round trips", "pings"] if postgres else [])
    print(f"  {'per lifecycle':<20}" + "".join(f"{k:>17}" for k in keys))
    for variant in BUYERS:
        print(f"  {variant:<20}" + "".join(f"{counted[variant][k]:>17g}" for k in keys))
    for variant in BUYERS:
        commits, changes = counted[variant]["durable commits"], counted[variant]["state changes"]
        print(f"  {variant}: durable commits {commits:g} <= state changes {changes:g}: "
              f"{'met' if commits <= changes else 'NOT met'}")


@contextmanager
def sqlite_url() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as folder:
        yield f"sqlite:///{Path(folder) / 'lifecycles.db'}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lifecycles", type=int, default=100, help="per variant and repeat")
    parser.add_argument("--batches", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--pg-url", default=os.environ.get(PG_URL_ENV), help=f"PostgreSQL (default ${PG_URL_ENV})")
    args: Any = parser.parse_args()
    if args.repeats < 3:
        parser.error("--repeats must be at least 3")
    args.lifecycles -= args.lifecycles % args.batches
    print("whole lifecycles through OrderFlow, one thread; InvoiceBox is an in-process stub")
    with sqlite_url() as url:
        bench("SQLite", url, args)
    if args.pg_url:
        with pg_schema(args.pg_url) as url:
            bench("PostgreSQL", url, args)
    else:
        print(f"\nPostgreSQL: skipped (give --pg-url or set {PG_URL_ENV})")


if __name__ == "__main__":
    main()
