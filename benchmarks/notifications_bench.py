"""Payment notifications verified and applied per second, next to baselines from the same run.

    python benchmarks/notifications_bench.py [--orders 400] [--pg-url URL]

For each backend (a SQLite file; PostgreSQL when ``--pg-url`` or ``INVOICEBOX_FLOW_TEST_PG_URL``
is given) real orders are created at a local sandbox and paid on its payment page; the sandbox
delivers their signed notifications to a recorder, so the bodies are exactly what InvoiceBox
sends. Then, timed, one thread:

* **applied**: ``OrderFlow.handle_notification`` on each body — verify the signature over the
  raw bytes, parse, find the order, check merchant, amount and currency, and commit the payment
  (compare-and-set, journal row, processed-notification key) — every answer checked to be
  ``success`` and every order checked to be paid afterwards;
* **replayed**: the same bodies again (each answered ``success`` and changing nothing);

next to two baselines measured in the same run:

* **bare HMAC + JSON**: ``hmac.compare_digest`` of the HMAC-SHA1 and ``json.loads`` of each
  body, nothing else — the floor of "verify and parse";
* **raw SQL**: the raw driver (``sqlite3`` / ``psycopg``) doing the same reads and writes per
  notification on a table of the same shape: find the order by its InvoiceBox id, then one
  transaction with the compare-and-set update, the journal insert and the processed-key insert.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import sqlite3
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from _pg import PG_URL_ENV, pg_schema
from sqlalchemy.engine import make_url

from invoicebox_flow import jsonutil
from invoicebox_flow.client import InvoiceboxClient
from invoicebox_flow.engine import OrderFlow
from invoicebox_flow.flows import State
from invoicebox_flow.models import PrivateCustomer, basket_line
from invoicebox_flow.sandbox import Buyer, Sandbox
from invoicebox_flow.sandbox.testing import NotificationReceiver
from invoicebox_flow.signature import SIGNATURE_HEADER
from invoicebox_flow.store import Store


def libpq_url(sqlalchemy_url: str) -> str:
    return make_url(sqlalchemy_url).set(drivername="postgresql").render_as_string(hide_password=False)


# --- real notifications ----------------------------------------------------------------------


def paid_notifications(ib: Sandbox, flow: OrderFlow, orders: int, receiver: NotificationReceiver,
                       prefix: str) -> list[tuple[bytes, dict[str, str]]]:
    """Create and pay ``orders`` orders; return the notifications InvoiceBox sent for them."""
    buyer = Buyer()
    lines = [basket_line(sku="COURSE-1", name="Онлайн-курс", unit_price="1200.00", quantity=2,
                         vat_code="RUS_VAT20", type="service")]
    customer = PrivateCustomer(name="Анна Смирнова", email="anna@example.org")
    first = len(receiver.received)
    for n in range(orders):
        order = flow.place(f"{prefix}-{n}", lines, customer, description="Курс", notification_url=receiver.url)
        buyer.pay(order.payment_url)
    received = receiver.wait_for(first + orders, timeout=60)[first:]
    ib.wait_idle()
    return [(r.body, r.headers) for r in received]


# --- the measurements ------------------------------------------------------------------------


def rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


def bench_engine(flow: OrderFlow, notifications: list[tuple[bytes, dict[str, str]]]) -> tuple[float, float]:
    start = time.perf_counter()
    for body, headers in notifications:
        status, _, answer = flow.handle_notification(body, headers)
        if status != 200 or json.loads(answer) != {"status": "success"}:
            raise SystemExit(f"a notification was not applied: {answer!r}")
    applied = rate(len(notifications), time.perf_counter() - start)
    for body, _ in notifications:
        order_id = jsonutil.loads(body)["merchantOrderId"]
        if flow.get(order_id).state is not State.PAID:
            raise SystemExit(f"{order_id} is not paid after its notification")
    start = time.perf_counter()
    for body, headers in notifications:
        status, _, answer = flow.handle_notification(body, headers)
        if json.loads(answer) != {"status": "success"}:
            raise SystemExit(f"a replayed notification was not answered success: {answer!r}")
    replayed = rate(len(notifications), time.perf_counter() - start)
    return applied, replayed


def bench_bare(notifications: list[tuple[bytes, dict[str, str]]], key: str) -> float:
    secret = key.encode("utf-8")
    start = time.perf_counter()
    for body, headers in notifications:
        expected = hmac.new(secret, body, hashlib.sha1).hexdigest()
        if not hmac.compare_digest(expected, headers[SIGNATURE_HEADER]):
            raise SystemExit("bad signature in the baseline")
        json.loads(body, parse_float=Decimal)
    return rate(len(notifications), time.perf_counter() - start)


RAW_SCHEMA = [
    "CREATE TABLE raw_orders (id VARCHAR(100) PRIMARY KEY, invoicebox_id VARCHAR(64) UNIQUE, state VARCHAR(32), "
    "version INTEGER, data TEXT)",
    "CREATE TABLE raw_journal (seq {serial}, order_id VARCHAR(100), at VARCHAR(40), trigger VARCHAR(40), "
    "from_state VARCHAR(32), to_state VARCHAR(32), actor VARCHAR(40), detail TEXT)",
    "CREATE TABLE raw_processed (key VARCHAR(200) PRIMARY KEY, order_id VARCHAR(100), at VARCHAR(40))",
]


def bench_raw(connect, placeholder: str, serial: str, notifications: list[tuple[bytes, dict[str, str]]]) -> float:
    """The same reads and writes per notification through the bare driver, one transaction each."""
    conn = connect()
    p = placeholder
    parsed = [jsonutil.loads(body) for body, _ in notifications]
    cur = conn.cursor()
    for statement in RAW_SCHEMA:
        cur.execute(statement.format(serial=serial))
    for data in parsed:
        cur.execute(f"INSERT INTO raw_orders VALUES ({p}, {p}, {p}, {p}, {p})",
                    (data["merchantOrderId"], data["id"], "payment_link_issued", 3, jsonutil.dumps(data)))
    conn.commit()
    start = time.perf_counter()
    for data in parsed:
        cur = conn.cursor()
        cur.execute(f"SELECT id, state, version, data FROM raw_orders WHERE invoicebox_id = {p}", (data["id"],))
        order_id, state, version, stored = cur.fetchone()
        if cur.execute(f"SELECT key FROM raw_processed WHERE key = {p}", (f"{data['id']}:completed",)).fetchone():
            continue
        record = jsonutil.loads(stored)
        record["paidAmount"] = data["amount"]
        now = datetime.now(UTC).isoformat()
        # one transaction: processed key, compare-and-set, journal
        cur.execute(f"INSERT INTO raw_processed VALUES ({p}, {p}, {p})", (f"{data['id']}:completed", order_id, now))
        cur.execute(f"UPDATE raw_orders SET state = {p}, data = {p}, version = version + 1 "
                    f"WHERE id = {p} AND version = {p}", ("paid", jsonutil.dumps(record), order_id, version))
        if cur.rowcount != 1:
            raise SystemExit("raw compare-and-set failed")
        cur.execute(f"INSERT INTO raw_journal (order_id, at, trigger, from_state, to_state, actor, detail) "
                    f"VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p})",
                    (order_id, now, "confirm_payment", state, "paid", "invoicebox-notification", "{}"))
        conn.commit()
    result = rate(len(parsed), time.perf_counter() - start)
    conn.close()
    return result


def sqlite_connect(path: Path):
    def connect():
        conn = sqlite3.connect(path)
        conn.execute("PRAGMA journal_mode=WAL")
        return conn
    return connect


def pg_connect(url: str):
    def connect():
        import psycopg

        return psycopg.connect(libpq_url(url))
    return connect


def run_backend(name: str, db_url: str, ib: Sandbox, receiver: NotificationReceiver, orders: int,
                raw_connect, placeholder: str, serial: str) -> None:
    store = Store(db_url)
    client = InvoiceboxClient(ib.token, base_url=ib.url, rate_limit=None)
    flow = OrderFlow(client, store, merchant_id=ib.merchant_id, notification_key=ib.notification_key)
    notifications = paid_notifications(ib, flow, orders, receiver, prefix=f"NB-{name}-{uuid.uuid4().hex[:6]}")
    applied, replayed = bench_engine(flow, notifications)
    bare = bench_bare(notifications, ib.notification_key)
    raw = bench_raw(raw_connect, placeholder, serial, notifications)
    print(f"{name:<10} applied {applied:>7,.0f}/s | replayed {replayed:>7,.0f}/s || baselines: raw SQL same reads+writes "
          f"{raw:>7,.0f}/s (applied = {applied / raw:.2f}x) | bare HMAC+JSON {bare:>9,.0f}/s "
          f"(applied = {applied / bare:.3f}x)")
    client.close()
    store.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=400, help="notifications per backend")
    parser.add_argument("--pg-url", default=os.environ.get(PG_URL_ENV), help=f"PostgreSQL URL (default ${PG_URL_ENV})")
    args = parser.parse_args()

    print(f"{args.orders} real payment notifications per backend, applied one after another by one thread")
    with Sandbox(rate_limit=1_000_000) as ib, NotificationReceiver() as receiver:
        with tempfile.TemporaryDirectory() as tmp:
            run_backend("sqlite", f"sqlite:///{Path(tmp) / 'flow.db'}", ib, receiver, args.orders,
                        sqlite_connect(Path(tmp) / "raw.db"), "?", "INTEGER PRIMARY KEY AUTOINCREMENT")
        if args.pg_url:
            with pg_schema(args.pg_url) as url:
                run_backend("postgresql", url, ib, receiver, args.orders, pg_connect(url), "%s", "BIGSERIAL PRIMARY KEY")
        else:
            print(f"postgresql skipped: give --pg-url or set {PG_URL_ENV}", file=sys.stderr)


if __name__ == "__main__":
    main()
