"""A persisted state change on a store of 100,000 orders, next to raw SQL doing the same durable
work, interleaved batch by batch in one process.

    python benchmarks/engine_bench.py [--stored 100000] [--changes 2000] [--batches 10] [--repeats 3]
                                      [--pg-url URL]

For each backend (a SQLite file; PostgreSQL with ``--pg-url`` or ``INVOICEBOX_FLOW_TEST_PG_URL``)
two databases get the library's schema (the same tables, indexes, foreign keys and counting
triggers, created by the library) and ``--stored`` orders each, bulk-loaded with raw inserts
(``_bulk.py``: the order ``place`` writes, with its journal and events, awaiting the buyer).
Each change is on an order of its own, picked at random — no single hot row:

* **library**: ``OrderFlow.redirect_buyer(order_id)`` (documented step 4): read the order, parse
  its document, check the transition, compare-and-set the row, append its journal row and its
  lifecycle event, commit — one durable commit;
* **raw SQL**: the bare driver on the same schema with the same durability (SQLite WAL,
  ``synchronous=FULL``): read the order by its id, check its state, then the same rows — SQLite
  ``BEGIN IMMEDIATE``, compare-and-set, journal row, event row (with the order's data, as read),
  ``COMMIT``; PostgreSQL one statement in autocommit (a data-modifying ``WITH``).

What the library sent per change is counted and printed. Target: ≥ 0.7× raw.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _bulk
from _bench import CPU, Traffic, cpu_line, interleaved, rate_line, ratio_line, raw_pg, raw_sqlite, store_pair
from _pg import PG_URL_ENV, pg_schema

from invoicebox_flow.engine import OrderFlow
from invoicebox_flow.store import Store

_SQLITE_WRITES = (
    "UPDATE orders SET state = 'buyer_redirected', updated_at = ?, version = version + 1 WHERE id = ? AND version = ? "
    "RETURNING version",
    "INSERT INTO journal (order_id, at, trigger, from_state, to_state, actor, outcome, request_id, detail) "
    "VALUES (?, ?, 'redirect_buyer', ?, 'buyer_redirected', 'shop', 'ok', NULL, '{}')",
    "INSERT INTO events (id, txid, order_id, order_version, type, trigger, from_state, to_state, actor, at, payload, "
    "order_data) VALUES (?, 0, ?, ?, 'LifecycleStep', 'redirect_buyer', ?, 'buyer_redirected', 'shop', ?, ?, ?)",
)
_PG_WRITE = """
WITH cas AS (UPDATE orders SET state = 'buyer_redirected', updated_at = %(at)s, version = version + 1
             WHERE id = %(id)s AND version = %(version)s RETURNING id, version),
     journal_row AS (INSERT INTO journal (order_id, at, trigger, from_state, to_state, actor, outcome, detail)
                     SELECT id, %(at)s, 'redirect_buyer', %(state)s, 'buyer_redirected', 'shop', 'ok', '{}' FROM cas),
     new_event AS (INSERT INTO events (id, txid, order_id, order_version, type, trigger, from_state, to_state,
                                      actor, at, payload, order_data)
                   SELECT %(event)s, pg_current_xact_id()::text::bigint, id, version, 'LifecycleStep',
                          'redirect_buyer', %(state)s, 'buyer_redirected', 'shop', %(at)s, %(payload)s, %(data)s FROM cas)
SELECT version FROM cas
"""


class RawChange:
    """A hand-written state change on the bare driver."""

    def __init__(self, url: str, postgres: bool) -> None:
        self.postgres = postgres
        self.conn = raw_pg(url) if postgres else raw_sqlite(url)
        self.read = f"SELECT id, state, version, data FROM orders WHERE id = {'%s' if postgres else '?'}"

    def change(self, order_id: str) -> None:
        oid, state, version, data = self.conn.execute(self.read, (order_id,)).fetchone()
        if state != _bulk.STATE:
            raise SystemExit(f"{order_id} is {state}")
        now = datetime.now(UTC)
        payload = json.dumps({"order": {"merchantOrderId": oid, "variant": "private", "invoiceboxId": None,
                                        "createdAt": now.isoformat()}})
        if self.postgres:
            row = self.conn.execute(_PG_WRITE, {"at": now, "id": oid, "version": version, "state": state,
                                                "event": uuid.uuid4().hex, "payload": payload, "data": data}).fetchone()
        else:
            at, c = now.strftime("%Y-%m-%d %H:%M:%S.%f"), self.conn
            c.execute("BEGIN IMMEDIATE")
            row = c.execute(_SQLITE_WRITES[0], (at, oid, version)).fetchone()
            c.execute(_SQLITE_WRITES[1], (oid, at, state))
            c.execute(_SQLITE_WRITES[2], (uuid.uuid4().hex, oid, version + 1, state, at, payload, data))
            c.execute("COMMIT")
        if row is None:
            raise SystemExit("raw compare-and-set failed")


def bench(name: str, urls: tuple[str, str], args: argparse.Namespace, doc: dict[str, Any]) -> None:
    postgres = name == "PostgreSQL"
    for url, prefix in zip(urls, "LR", strict=True):
        _bulk.load(url, args.stored, prefix, doc)
    warm = args.batches * 2
    picks = random.Random(7).sample(range(args.stored), warm + 1 + args.changes * args.repeats)
    mine = [_bulk.order_id("L", n) for n in picks]
    theirs = [_bulk.order_id("R", n) for n in picks]
    with Store(urls[0]) as store:
        flow = OrderFlow(None, store, merchant_id=_bulk.MERCHANT_ID)
        traffic = Traffic(store)
        raw = RawChange(urls[1], postgres)
        sides = lambda lo: [("library", lambda n: flow.redirect_buyer(mine[lo + n])),  # noqa: E731
                            ("raw", lambda n: raw.change(theirs[lo + n]))]
        interleaved(sides(0), warm, args.batches)
        CPU.clear()
        counted = traffic.count(lambda: flow.redirect_buyer(mine[warm]))
        rates: dict[str, list[float]] = {"library": [], "raw": []}
        for r in range(args.repeats):
            for side, rate in interleaved(sides(warm + 1 + r * args.changes), args.changes, args.batches).items():
                rates[side].append(rate)
        if store.counts().get("buyer_redirected") != len(picks):
            raise SystemExit(f"the library made {store.counts()}")
        raw.conn.close()
    print(f"\n{name}: {args.stored:,} stored orders; {args.changes} state changes x {args.repeats} repeats, "
          f"interleaved in {args.batches} batches, each on an order of its own (min / median / max)")
    print(rate_line("state change, library", rates["library"]))
    print(rate_line("state change, raw SQL", rates["raw"]))
    print(ratio_line("library / raw", rates["library"], rates["raw"], 0.7))
    print(cpu_line("state change, library", "library"))
    print(cpu_line("state change, raw SQL", "raw"))
    shown = ", ".join(f"{v:g} {k}" for k, v in counted.items() if postgres or k not in ("round trips", "pings"))
    print(f"  per state change, library: {shown}")
    print("  per state change, raw: 1 read + " + ("1 statement (autocommit): 2 round trips, 1 durable commit" if postgres
                                               else "BEGIN IMMEDIATE, 3 statements, COMMIT: 1 durable commit"))


@contextmanager
def sqlite_pair() -> Iterator[tuple[str, str]]:
    with tempfile.TemporaryDirectory() as folder:
        yield f"sqlite:///{Path(folder) / 'library.db'}", f"sqlite:///{Path(folder) / 'raw.db'}"


def pg_pair(base: str) -> Any:
    @contextmanager
    def pair() -> Iterator[tuple[str, str]]:
        with pg_schema(base) as a, pg_schema(base) as b:
            yield a, b
    return pair


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stored", type=int, default=100_000, help="orders in each store")
    parser.add_argument("--changes", type=int, default=2_000, help="state changes per repeat and side")
    parser.add_argument("--batches", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--pg-url", default=os.environ.get(PG_URL_ENV), help=f"PostgreSQL (default ${PG_URL_ENV})")
    args = parser.parse_args()
    if args.repeats < 3:
        parser.error("--repeats must be at least 3")
    args.changes -= args.changes % args.batches
    with tempfile.TemporaryDirectory() as scratch:
        doc = _bulk.template(f"sqlite:///{Path(scratch) / 'template.db'}")
    print("persisted state changes (redirect_buyer), one thread; durable commits on both sides")
    with store_pair(sqlite_pair) as urls:
        bench("SQLite", urls, args, doc)
    if args.pg_url:
        with store_pair(pg_pair(args.pg_url)) as urls:
            bench("PostgreSQL", urls, args, doc)
    else:
        print(f"\nPostgreSQL: skipped (give --pg-url or set {PG_URL_ENV})")


if __name__ == "__main__":
    main()
