"""Payment notifications applied and replayed per second by the library, next to raw SQL doing the
same durable work, interleaved batch by batch in one process.

    python benchmarks/notifications_bench.py [--orders 300] [--batches 10] [--repeats 3] [--pg-url URL]

For each backend (a SQLite file; PostgreSQL with ``--pg-url`` or ``INVOICEBOX_FLOW_TEST_PG_URL``)
two databases get the library's schema — the same tables, indexes, foreign keys and counting
triggers, created by the library itself — and the same orders, placed through ``OrderFlow`` with
InvoiceBox replaced by an in-process stub (``_stub.py``): ``--orders`` per repeat, each awaiting
its payment. The notifications are the signed bodies InvoiceBox sends. Then, per repeat, the two
sides take turns in ``--batches`` batches:

* **library**: ``OrderFlow.handle_notification(body, headers)`` — verify, parse, find the order,
  check it, commit the payment (compare-and-set, journal row, lifecycle event, processed key) and
  answer; afterwards every order is checked to be paid;
* **raw SQL**: the bare driver (``sqlite3`` / ``psycopg``), on the same schema with the same
  durability (SQLite WAL, ``synchronous=FULL``): verify the HMAC, parse the JSON, one indexed
  read (the order by its InvoiceBox id and whether the key is processed), the same checks and
  the same new document, then the same rows written — SQLite: ``BEGIN IMMEDIATE``, the processed
  key, the compare-and-set, the journal row, the event row, ``COMMIT``; PostgreSQL: all of it
  as one statement in autocommit (a data-modifying ``WITH``), the fewest round trips there are.

**Replayed**: the same bodies again; the library answers from its one read of a notification
(the order's row and whether the key is processed: the read an applied notification uses too),
the raw side from the cheapest read there is (``EXISTS`` of the key for the order with that
InvoiceBox id, no row), both after verify and parse.
What the library sent per notification (statements, round trips, durable commits, pool
checkouts, pings) is counted and printed. Targets: applied ≥ 0.7× raw, replayed ≥ 0.5× raw.
"""

from __future__ import annotations

import argparse
import hmac
import json
import os
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from hashlib import sha1
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _bench import CPU, Traffic, cpu_line, interleaved, rate_line, ratio_line, raw_pg, raw_sqlite, store_pair
from _pg import PG_URL_ENV, pg_schema
from _stub import MERCHANT_ID, NOTIFICATION_KEY, StubInvoicebox

from invoicebox_flow import jsonutil
from invoicebox_flow.engine import OrderFlow
from invoicebox_flow.flows import State
from invoicebox_flow.models import PrivateCustomer, basket_line
from invoicebox_flow.signature import SIGNATURE_HEADER
from invoicebox_flow.store import Store

SUCCESS = b'{"status":"success"}'
LINES = [basket_line(sku="BOOK-1", name="Книга «Python»", unit_price="990.00", quantity=2, vat_code="RUS_VAT10",
                     type="commodity"),
         basket_line(sku="COURSE-1", name="Онлайн-курс «Python», доступ 90 дней", unit_price="1200.00", quantity=1,
                     vat_code="RUS_VAT20", type="service")]
CUSTOMER = PrivateCustomer(name="Анна Смирнова", email="anna@example.org")
Notification = tuple[bytes, dict[str, str]]


def flow_on(store: Store) -> tuple[OrderFlow, StubInvoicebox]:
    stub = StubInvoicebox()
    return OrderFlow(stub.client(), store, merchant_id=MERCHANT_ID, notification_key=NOTIFICATION_KEY), stub


def awaiting_payment(flow: OrderFlow, stub: StubInvoicebox, count: int, prefix: str) -> list[Notification]:
    """``count`` orders with their payment links; the notifications of their payments."""
    out = []
    for n in range(count):
        view = flow.place(f"{prefix}-{n}", LINES, CUSTOMER, description="Книга и курс")
        out.append(stub.paid(view.invoicebox_id or "", forget=True))
    return out


# --- the raw side ----------------------------------------------------------------------------------

_LOOKUP = ("SELECT o.id, o.state, o.version, o.data, EXISTS (SELECT 1 FROM processed_notifications p "
           "WHERE p.key = {p}) FROM orders o WHERE o.invoicebox_id = {p}")
_APPLIED = ("SELECT EXISTS (SELECT 1 FROM processed_notifications p WHERE p.key = {p} AND p.order_id = "
            "(SELECT o.id FROM orders o WHERE o.invoicebox_id = {p}))")
_SQLITE_WRITES = (
    "INSERT INTO processed_notifications (key, order_id, at) VALUES (?, ?, ?)",
    "UPDATE orders SET state = ?, data = ?, updated_at = ?, version = version + 1 WHERE id = ? AND version = ? "
    "RETURNING version",
    "INSERT INTO journal (order_id, at, trigger, from_state, to_state, actor, outcome, request_id, detail) "
    "VALUES (?, ?, 'confirm_payment', ?, 'paid', 'invoicebox-notification', 'ok', NULL, ?)",
    "INSERT INTO events (id, txid, order_id, order_version, type, trigger, from_state, to_state, actor, at, payload, "
    "order_data) VALUES (?, 0, ?, ?, 'OrderPaid', 'confirm_payment', ?, 'paid', 'invoicebox-notification', ?, ?, ?)",
)
_PG_WRITE = """
WITH cas AS (UPDATE orders SET state = 'paid', data = %(data)s, updated_at = %(at)s, version = version + 1
             WHERE id = %(id)s AND version = %(version)s RETURNING id, version),
     processed AS (INSERT INTO processed_notifications (key, order_id, at) SELECT %(key)s, id, %(at)s FROM cas),
     journal_row AS (INSERT INTO journal (order_id, at, trigger, from_state, to_state, actor, outcome, detail)
                     SELECT id, %(at)s, 'confirm_payment', %(state)s, 'paid', 'invoicebox-notification', 'ok',
                            %(detail)s FROM cas),
     new_event AS (INSERT INTO events (id, txid, order_id, order_version, type, trigger, from_state, to_state,
                                      actor, at, payload, order_data)
                   SELECT %(event)s, pg_current_xact_id()::text::bigint, id, version, 'OrderPaid', 'confirm_payment',
                          %(state)s, 'paid', 'invoicebox-notification', %(at)s, %(payload)s, %(data)s FROM cas)
SELECT version FROM cas
"""


class RawNotifications:
    """What a shop's hand-written handler does for a payment notification, on the bare driver."""

    def __init__(self, url: str, postgres: bool) -> None:
        self.postgres = postgres
        self.conn = raw_pg(url) if postgres else raw_sqlite(url)
        p = "%s" if postgres else "?"
        self.lookup, self.applied = _LOOKUP.format(p=p), _APPLIED.format(p=p)
        self.secret = NOTIFICATION_KEY.encode()

    def _verified(self, body: bytes, headers: dict[str, str]) -> dict[str, Any]:
        if not hmac.compare_digest(hmac.new(self.secret, body, sha1).hexdigest(), headers[SIGNATURE_HEADER]):
            raise SystemExit("bad signature on the raw side")
        data: dict[str, Any] = json.loads(body, parse_float=Decimal)
        if data["merchantId"] != MERCHANT_ID:
            raise SystemExit("another merchant")
        return data

    def apply(self, body: bytes, headers: dict[str, str]) -> bytes:
        data = self._verified(body, headers)
        key = f"{data['id']}:{data['status']}"
        order_id, state, version, stored, processed = self.conn.execute(self.lookup, (key, data["id"])).fetchone()
        if processed:
            return SUCCESS
        doc = json.loads(stored, parse_float=Decimal)
        if doc["currency"] != data["currencyId"] or Decimal(doc["amount"]) != data["amount"]:
            raise SystemExit("amount check failed on the raw side")
        doc["paidAmount"] = data["amount"]
        doc["facts"].append({"kind": "receipt", "type": "prepayment_full", "event": "payment", "source": "notification",
                             "ref": None})
        now = datetime.now(UTC)
        new_data, detail = jsonutil.dumps(doc), json.dumps({"paidAt": data.get("paidAt")})
        payload = json.dumps({"order": {"merchantOrderId": order_id, "variant": "private",
                                        "invoiceboxId": data["id"], "createdAt": now.isoformat()}})
        event_id = uuid.uuid4().hex
        if self.postgres:
            row = self.conn.execute(_PG_WRITE, {"data": new_data, "at": now, "id": order_id, "version": version,
                                                "key": key, "state": state, "detail": detail, "event": event_id,
                                                "payload": payload}).fetchone()
        else:
            at = now.strftime("%Y-%m-%d %H:%M:%S.%f")  # the store's text form of a UTC time
            c = self.conn
            c.execute("BEGIN IMMEDIATE")
            c.execute(_SQLITE_WRITES[0], (key, order_id, at))
            row = c.execute(_SQLITE_WRITES[1], ("paid", new_data, at, order_id, version)).fetchone()
            c.execute(_SQLITE_WRITES[2], (order_id, at, state, detail))
            c.execute(_SQLITE_WRITES[3], (event_id, order_id, version + 1, state, at, payload, new_data))
            c.execute("COMMIT")
        if row is None:
            raise SystemExit("raw compare-and-set failed")
        return SUCCESS

    def replay(self, body: bytes, headers: dict[str, str]) -> bytes:
        data = self._verified(body, headers)
        if not self.conn.execute(self.applied, (f"{data['id']}:{data['status']}", data["id"])).fetchone()[0]:
            raise SystemExit("a replay that was not applied, on the raw side")
        return SUCCESS


# --- one backend --------------------------------------------------------------------------------------


def library_side(flow: OrderFlow, notifications: list[Notification]) -> Any:
    def handle(n: int) -> None:
        body, headers = notifications[n]
        status, _, answer = flow.handle_notification(body, headers)
        if status != 200 or answer != SUCCESS:
            raise SystemExit(f"the library answered {answer!r}")
    return handle


def raw_side(method: Any, notifications: list[Notification]) -> Any:
    return lambda n: method(*notifications[n])


def bench(name: str, urls: tuple[str, str], args: argparse.Namespace) -> None:
    postgres = name == "PostgreSQL"
    with Store(urls[0]) as store, Store(urls[1]) as raw_store:
        flow, stub = flow_on(store)
        raw_flow, raw_stub = flow_on(raw_store)
        traffic = Traffic(store)
        raw = RawNotifications(urls[1], postgres)
        applied: dict[str, list[float]] = {"library": [], "raw": []}
        replayed: dict[str, list[float]] = {"library": [], "raw": []}
        warm = args.batches * 2
        total = warm + 1 + args.orders * args.repeats
        mine, theirs = awaiting_payment(flow, stub, total, "L"), awaiting_payment(raw_flow, raw_stub, total, "R")
        interleaved([("library", library_side(flow, mine)), ("raw", raw_side(raw.apply, theirs))], warm, args.batches)
        CPU.clear()
        applied_traffic = traffic.count(lambda: library_side(flow, mine[warm:])(0))  # one notification
        replayed_traffic = traffic.count(lambda: library_side(flow, mine)(0))  # a replay
        for r in range(args.repeats):
            lo, size = warm + 1 + r * args.orders, args.orders
            mine_r, theirs_r = mine[lo:lo + size], theirs[lo:lo + size]
            rates = interleaved([("library", library_side(flow, mine_r)), ("raw", raw_side(raw.apply, theirs_r))],
                                size, args.batches)
            for side in rates:
                applied[side].append(rates[side])
            rates = interleaved([("library replay", library_side(flow, mine_r)),
                                 ("raw replay", raw_side(raw.replay, theirs_r))], size, args.batches)
            rates = {"library": rates["library replay"], "raw": rates["raw replay"]}
            for side in rates:
                replayed[side].append(rates[side])
        unpaid = [n for n, (body, _) in enumerate(mine[:total]) if
                  flow.get(jsonutil.loads(body)["merchantOrderId"]).state is not State.PAID]
        if unpaid:
            raise SystemExit(f"{len(unpaid)} orders not paid after their notification")
        raw.conn.close()
    print(f"\n{name}: {args.orders} notifications x {args.repeats} repeats, interleaved in {args.batches} batches "
          f"(min / median / max)")
    print(rate_line("applied, library", applied["library"]))
    print(rate_line("applied, raw SQL", applied["raw"]))
    print(ratio_line("applied: library / raw", applied["library"], applied["raw"], 0.7))
    print(cpu_line("applied, library", "library"))
    print(cpu_line("applied, raw SQL", "raw"))
    print(rate_line("replayed, library", replayed["library"]))
    print(rate_line("replayed, raw SQL", replayed["raw"]))
    print(ratio_line("replayed: library / raw", replayed["library"], replayed["raw"], 0.5))
    print(cpu_line("replayed, library", "library replay"))
    print(cpu_line("replayed, raw SQL", "raw replay"))
    raw_counts = ("1 read + 1 statement (autocommit): 2 round trips, 1 durable commit" if postgres else
                  "1 read + BEGIN IMMEDIATE, 4 statements, COMMIT: 1 durable commit")
    for label, counted in (("applied", applied_traffic), ("replayed", replayed_traffic)):
        shown = ", ".join(f"{v:g} {k}" for k, v in counted.items() if postgres or k not in ("round trips", "pings"))
        print(f"  per {label} notification, library: {shown}")
    print(f"  per applied notification, raw: {raw_counts}; per replay: 1 read")


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
    parser.add_argument("--orders", type=int, default=300, help="notifications per repeat and side")
    parser.add_argument("--batches", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--pg-url", default=os.environ.get(PG_URL_ENV), help=f"PostgreSQL (default ${PG_URL_ENV})")
    args = parser.parse_args()
    if args.repeats < 3:
        parser.error("--repeats must be at least 3")
    args.orders -= args.orders % args.batches  # whole batches
    print("payment notifications, one thread; InvoiceBox is an in-process stub; durable commits on both sides")
    with store_pair(sqlite_pair) as urls:
        bench("SQLite", urls, args)
    if args.pg_url:
        with store_pair(pg_pair(args.pg_url)) as urls:
            bench("PostgreSQL", urls, args)
    else:
        print(f"\nPostgreSQL: skipped (give --pg-url or set {PG_URL_ENV})")


if __name__ == "__main__":
    main()
