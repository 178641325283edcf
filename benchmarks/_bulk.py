"""A store full of orders, loaded with raw inserts (the library would take hours for a million).

Every order is the one ``OrderFlow.place`` writes for the same basket, under its own ids, with
InvoiceBox's answer recorded (state ``payment_link_issued``, an InvoiceBox id, a payment link):
its row, the two journal rows of its history (``place`` and ``issue_payment_link``) and the
lifecycle event of the last one, with the order's document as the engine writes it. The
counting triggers count them as they are inserted; the tables and indexes are the library's own.
"""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _bench import raw_pg, raw_sqlite
from _stub import MERCHANT_ID, NOTIFICATION_KEY, StubInvoicebox, paid_notification

from invoicebox_flow import jsonutil
from invoicebox_flow.engine import OrderFlow
from invoicebox_flow.models import PrivateCustomer, basket_line
from invoicebox_flow.store import Store

LINES = [basket_line(sku="BOOK-1", name="Книга «Python»", unit_price="990.00", quantity=2, vat_code="RUS_VAT10",
                     type="commodity"),
         basket_line(sku="COURSE-1", name="Онлайн-курс «Python», доступ 90 дней", unit_price="1200.00", quantity=1,
                     vat_code="RUS_VAT20", type="service")]
CUSTOMER = PrivateCustomer(name="Анна Смирнова", email="anna@example.org")
STATE = "payment_link_issued"
CHUNK = 5_000


def order_id(prefix: str, n: int) -> str:
    return f"{prefix}-{n:07d}"


def invoicebox_id(prefix: str, n: int) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{prefix}/{n}"))


def notification(doc: dict[str, Any], prefix: str, n: int) -> tuple[bytes, dict[str, str]]:
    """The signed payment notification of bulk order ``n`` (as InvoiceBox would send it)."""
    ib = invoicebox_id(prefix, n)
    order = {"id": ib, **doc["request"], "merchantOrderId": order_id(prefix, n), "orderContainerId": ib,
             "paymentUrl": f"https://invoicebox.stub/pay/order/{ib}"}
    return paid_notification(order)


def template(url: str) -> dict[str, Any]:
    """The document of one order placed through the library (on a scratch store at ``url``)."""
    with Store(url) as store:
        stub = StubInvoicebox()
        flow = OrderFlow(stub.client(), store, merchant_id=MERCHANT_ID, notification_key=NOTIFICATION_KEY)
        view = flow.place("TEMPLATE", LINES, CUSTOMER, description="Книга и курс")
        data: dict[str, Any] = store.get(view.order_id).data
        return data


def _rows(doc: dict[str, Any], prefix: str, first: int, last: int, sqlite: bool) -> Iterator[tuple[list[Any], ...]]:
    now = datetime.now(UTC)
    at: Any = now.strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else now
    orders, journal, events = [], [], []
    for n in range(first, last):
        oid, ib = order_id(prefix, n), invoicebox_id(prefix, n)
        data = {**doc, "request": {**doc["request"], "merchantOrderId": oid},
                "paymentUrl": f"https://invoicebox.stub/pay/order/{ib}", "orderContainerId": ib}
        text = jsonutil.dumps(data)
        orders.append((oid, oid, ib, "private", STATE, 2, text, at, at))
        payload = json.dumps({"order": {"merchantOrderId": oid, "variant": "private", "invoiceboxId": ib,
                                        "createdAt": now.isoformat()}})
        journal += [(oid, at, "place", "new", "order_placed", "buyer", "ok", None, "{}"),
                    (oid, at, "issue_payment_link", "invoice_requested", STATE, "invoicebox", "ok", None, "{}")]
        events.append((uuid.uuid4().hex, oid, 2, "PaymentLinkIssued", "issue_payment_link", "invoice_requested",
                       STATE, "invoicebox", at, payload, text))
        if len(orders) == CHUNK:
            yield orders, journal, events
            orders, journal, events = [], [], []
    if orders:
        yield orders, journal, events


_INSERTS = (
    "INSERT INTO orders (id, merchant_order_id, invoicebox_id, variant, state, version, data, created_at, updated_at) "
    "VALUES ({})",
    "INSERT INTO journal (order_id, at, trigger, from_state, to_state, actor, outcome, request_id, detail) "
    "VALUES ({})",
    "INSERT INTO events (id, txid, order_id, order_version, type, trigger, from_state, to_state, actor, at, payload, "
    "order_data) VALUES ({})",
)


def load(url: str, count: int, prefix: str, doc: dict[str, Any]) -> None:
    """Insert ``count`` orders (numbered from 0) into the store at ``url`` (its schema exists)."""
    sqlite = url.startswith("sqlite")
    conn = raw_sqlite(url) if sqlite else raw_pg(url)
    p = "?" if sqlite else "%s"
    orders_sql, journal_sql, events_sql = (
        _INSERTS[0].format(", ".join([p] * 9)), _INSERTS[1].format(", ".join([p] * 9)),
        _INSERTS[2].format(", ".join([p, "0" if sqlite else "pg_current_xact_id()::text::bigint"] + [p] * 10)))
    if sqlite:
        conn.execute("PRAGMA synchronous = OFF")  # a bulk load: the file is thrown away if it fails
    for orders, journal, events in _rows(doc, prefix, 0, count, sqlite):
        if sqlite:
            conn.execute("BEGIN")
            conn.executemany(orders_sql, orders)
            conn.executemany(journal_sql, journal)
            conn.executemany(events_sql, events)
            conn.execute("COMMIT")
        else:
            with conn.transaction(), conn.cursor() as cursor:
                cursor.executemany(orders_sql, orders)
                cursor.executemany(journal_sql, journal)
                cursor.executemany(events_sql, events)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)" if sqlite else "ANALYZE")
    conn.close()
