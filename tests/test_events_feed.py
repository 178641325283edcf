"""The feed across orders with several writer processes: 4 processes drive orders through the
sandbox over HTTP while a consumer in this process polls the feed with a cursor. Every event is
seen exactly once, in increasing positions, and each order's events in its own history's order
— on a SQLite file and on PostgreSQL."""

from __future__ import annotations

import itertools
import multiprocessing as mp
import time
from collections import Counter, defaultdict

import pytest
from db_fixtures import postgres_schema, sqlite_url
from helpers import goods_lines, private_customer

from invoicebox_flow import OrderFlow, Store
from invoicebox_flow.sandbox import Sandbox

WRITERS = 4
ORDERS_PER_WRITER = 30
PAGE = 17  # a page size that splits the orders' steps at odd places


def write(db_url: str, ib_url: str, token: str, merchant_id: str, writer: int, done) -> None:
    """One writer: its orders step by step, round-robin, so that its commits interleave with the
    other writers' (place and cancel call InvoiceBox; the steps between are local)."""
    from invoicebox_flow.client import InvoiceboxClient

    store = Store(db_url)
    flow = OrderFlow(InvoiceboxClient(token, base_url=ib_url, rate_limit=None), store, merchant_id=merchant_id)
    ids = [f"F{writer}-{n:03d}" for n in range(ORDERS_PER_WRITER)]
    steps = (lambda o: flow.place(o, goods_lines(), private_customer(), description="Книги"),
             flow.redirect_buyer,
             lambda o: flow.buyer_returned(o, success=False),
             lambda o: flow.buyer_returned(o, success=True),
             flow.cancel)
    for step in steps:
        for order_id in ids:
            step(order_id)
    store.dispose()
    done.put(writer)


def run_feed(db_url: str) -> dict:
    Store(db_url).schema_version()  # the schema exists before the writers race to use it
    with Sandbox(rate_limit=1_000_000) as ib:
        store = Store(db_url)
        reader = OrderFlow(None, store)  # the consumer only reads
        ctx = mp.get_context("spawn")
        done = ctx.Queue()
        writers = [ctx.Process(target=write, args=(db_url, ib.url, ib.token, ib.merchant_id, w, done), daemon=True)
                   for w in range(WRITERS)]
        for p in writers:
            p.start()
        seen, cursor, pages_while_writing, finished = [], None, 0, 0
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            page = reader.events(cursor, limit=PAGE)
            seen += page
            if page:
                cursor = page[-1].position
                pages_while_writing += finished < WRITERS
                continue
            if finished == WRITERS:
                break  # nothing more after every writer finished: drained
            while not done.empty():
                done.get()
                finished += 1
            if any(p.exitcode not in (None, 0) for p in writers):
                raise AssertionError(f"a writer died: {[p.exitcode for p in writers]}")
            time.sleep(0.01)
        for p in writers:
            p.join(30)
        stored = {o.id: store.order_events(o.id) for o in store.list_orders(limit=10_000)}
        journals = {order_id: store.journal(order_id) for order_id in stored}
        store.dispose()
    return {"seen": seen, "stored": stored, "journals": journals, "pages_while_writing": pages_while_writing,
            "finished": finished}


def check_feed(run: dict) -> None:
    seen, stored = run["seen"], run["stored"]
    assert run["finished"] == WRITERS
    assert len(stored) == WRITERS * ORDERS_PER_WRITER
    every = {e.id for events in stored.values() for e in events}
    assert len(every) == sum(len(j) for j in run["journals"].values())  # one event per journaled change
    counts = Counter(e.id for e in seen)
    assert set(counts) == every, f"{len(every - set(counts))} events never seen"  # none skipped ...
    assert max(counts.values()) == 1  # ... none twice
    positions = [tuple(int(part) for part in e.position.split("-")) for e in seen]
    assert positions == sorted(positions) and len(set(positions)) == len(positions)
    by_order: dict[str, list] = defaultdict(list)
    for e in seen:
        by_order[e.order_id].append(e)
    for order_id, events in by_order.items():  # each order's events in its history's order
        assert [e.order.version for e in events] == list(range(1, len(events) + 1)), order_id
        assert [e.trigger for e in events] == [j.trigger for j in run["journals"][order_id]], order_id
    assert run["pages_while_writing"] >= 10, "the consumer did not read while the writers wrote"
    seqs = [e.position.split("-")[1] for e in seen]
    out_of_seq = sum(int(a) > int(b) for a, b in itertools.pairwise(seqs))
    print(f"{len(seen)} events in {run['pages_while_writing']} pages read while writing; "
          f"{out_of_seq} read before an event inserted earlier")


@pytest.mark.slow  # about 20 s on 2 cores
@pytest.mark.timeout(300)
def test_four_writers_and_a_polling_consumer_on_sqlite(tmp_path):
    check_feed(run_feed(sqlite_url(tmp_path)))


@pytest.mark.slow  # about 20 s on 2 cores
@pytest.mark.postgres
@pytest.mark.timeout(300)
def test_four_writers_and_a_polling_consumer_on_postgresql():
    with postgres_schema() as url:
        check_feed(run_feed(url))
