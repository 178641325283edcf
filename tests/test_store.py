"""The store on real databases: a SQLite file, and PostgreSQL when configured.

Covers records round-tripping (Decimal amounts, UTC timestamps), compare-and-set, the
append-only journal, processed notifications, the outbox life cycle and schema creation.
Concurrency between threads and processes is in ``test_store_concurrency.py``.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from decimal import Decimal

import pytest
import sqlalchemy as sa
from db_fixtures import add, draft, new_order, placed, sqlite_url, step

from invoicebox_flow.errors import ConcurrentUpdateError, FlowError, OrderNotFoundError, ValidationError
from invoicebox_flow.flows import State
from invoicebox_flow.flows.steps import Variant
from invoicebox_flow.store import (
    SCHEMA_VERSION,
    DuplicateNotificationError,
    JournalEntry,
    OrderRecord,
    OutboxDraft,
    OutboxLeaseLostError,
    SchemaVersionError,
    Store,
    utcnow,
)

pytestmark = pytest.mark.every_backend  # SQLite, and PostgreSQL when configured

UTC = dt.UTC


def at(minutes: float) -> dt.datetime:
    """A fixed point in time far in the future, so real "now" never reaches it during a test."""
    return dt.datetime(2100, 1, 1, tzinfo=UTC) + dt.timedelta(minutes=minutes)


def snapshot(store: Store, order_id: str):
    """Everything the store holds about one order, to compare before and after a refusal."""
    return store.get(order_id), store.journal(order_id), store.outbox(order_id=order_id)


# --- orders --------------------------------------------------------------------------------


def test_an_order_round_trips_with_decimal_amounts_and_utc_timestamps(store):
    moscow = dt.timezone(dt.timedelta(hours=3))
    created = dt.datetime(2024, 7, 6, 15, 0, 0, 123456, tzinfo=moscow)
    data = {
        "amount": Decimal("2400.10"),
        "lines": [{"name": "Онлайн-курс «Python»", "totalAmount": Decimal("1200.05"), "quantity": 2}],
        "paymentUrl": "https://pay.example/o/1?a=1&b=/x",
        "refunds": [],
        "shipped": False,
        "note": None,
    }
    order = OrderRecord(id="o-1", merchant_order_id="SHOP-1", variant=Variant.LEGAL, state=State.ORDER_PLACED,
                        data=data, created_at=created, updated_at=created)
    stored = store.add_order(order, placed(order))
    read = store.get("o-1")

    assert read == stored
    assert read.variant == "legal" and type(read.variant) is str
    assert read.state == "order_placed" and type(read.state) is str
    assert read.version == 1 and read.invoicebox_id is None
    assert read.data == data
    assert read.data["amount"] == Decimal("2400.10") and isinstance(read.data["amount"], Decimal)
    assert str(read.data["lines"][0]["totalAmount"]) == "1200.05"  # not 1200.0500000001
    assert read.created_at == created and read.created_at.tzinfo == UTC
    assert read.created_at.hour == 12  # 15:00 in Moscow is 12:00 UTC


def test_naive_timestamps_are_refused():
    with pytest.raises(ValueError, match="naive"):
        new_order(1, created_at=dt.datetime(2024, 1, 1))
    with pytest.raises(ValueError, match="naive"):
        JournalEntry("o-1", "place", "new", "order_placed", "shop", at=dt.datetime(2024, 1, 1))


def test_records_refuse_an_unknown_variant_or_outcome():
    with pytest.raises(ValueError):
        new_order(1, variant="corporate")
    with pytest.raises(ValueError):
        JournalEntry("o-1", "ship", "paid", "paid", "shop", outcome="maybe")


def test_get_of_an_unknown_order_raises_order_not_found(store):
    with pytest.raises(OrderNotFoundError):
        store.get("nope")


def test_find_by_merchant_order_id_or_invoicebox_id(store):
    add(store, 1)
    second = add(store, 2)
    store.update(second.id, 1, state="payment_link_issued", data=second.data, invoicebox_id="ib-2",
                 journal=step(second.id, "order_placed", "payment_link_issued"))

    assert store.find(merchant_order_id="SHOP-1").id == "o-1"
    assert store.find(invoicebox_id="ib-2").id == "o-2"
    assert store.find(merchant_order_id="SHOP-2", invoicebox_id="ib-2").id == "o-2"
    assert store.find(merchant_order_id="SHOP-1", invoicebox_id="ib-2") is None
    assert store.find(merchant_order_id="SHOP-3") is None
    assert store.find(invoicebox_id="ib-1") is None
    with pytest.raises(ValueError):
        store.find()


def test_list_orders_newest_first_with_state_filter_and_paging(store):
    for n in range(5):
        add(store, n, created_at=at(n), updated_at=at(n), state="paid" if n % 2 else "order_placed")

    assert [o.id for o in store.list_orders()] == ["o-4", "o-3", "o-2", "o-1", "o-0"]
    assert [o.id for o in store.list_orders(limit=2, offset=1)] == ["o-3", "o-2"]
    assert [o.id for o in store.list_orders(state="paid")] == ["o-3", "o-1"]
    assert [o.id for o in store.list_orders(state=State.ORDER_PLACED)] == ["o-4", "o-2", "o-0"]
    assert store.list_orders(state="refunded") == []
    assert store.counts() == {"order_placed": 3, "paid": 2}


def test_a_duplicate_order_is_refused_and_writes_nothing(store):
    first = add(store, 1, outbox=1)
    same_merchant_id = OrderRecord(id="o-other", merchant_order_id="SHOP-1", variant="private", state="order_placed")
    same_id = OrderRecord(id="o-1", merchant_order_id="SHOP-other", variant="private", state="order_placed")

    for duplicate in (same_merchant_id, same_id):
        with pytest.raises(ValidationError) as refused:
            store.add_order(duplicate, placed(duplicate), [draft(duplicate.id, n=7)])
        assert refused.value.code == "merchant_order_id_duplicate"

    assert store.get("o-1") == first
    assert len(store.journal("o-1")) == 1 and store.journal("o-other") == []
    assert [item.key for item in store.outbox()] == ["create_order:o-1:0"]
    assert store.counts() == {"order_placed": 1}


def test_an_invoicebox_id_belongs_to_one_order_only(store):
    one, two = add(store, 1), add(store, 2)
    store.update(one.id, 1, state="payment_link_issued", data=one.data, invoicebox_id="ib-x",
                 journal=step(one.id, "order_placed", "payment_link_issued"))
    before = snapshot(store, two.id)

    with pytest.raises(ValidationError) as refused:
        store.update(two.id, 1, state="payment_link_issued", data=two.data, invoicebox_id="ib-x",
                     journal=step(two.id, "order_placed", "payment_link_issued"), outbox=[draft(two.id, n=1)])
    assert refused.value.code == "invoicebox_id_duplicate"
    assert snapshot(store, two.id) == before


def test_a_new_order_starts_at_version_1_and_its_journal_must_match_it(store):
    order = new_order(1)
    with pytest.raises(ValueError):
        store.add_order(new_order(1, version=3), placed(order))
    with pytest.raises(ValueError):
        store.add_order(order, JournalEntry("o-2", "place", "new", "order_placed", "buyer"))
    with pytest.raises(ValueError):
        store.add_order(order, JournalEntry("o-1", "place", "new", "paid", "buyer"))
    assert store.counts() == {}


# --- compare-and-set updates ---------------------------------------------------------------


def test_update_bumps_the_version_and_keeps_or_sets_the_invoicebox_id(store):
    order = add(store, 1)
    v2 = store.update(order.id, 1, state="payment_link_issued", data={**order.data, "paymentUrl": "https://p/1"},
                      journal=step(order.id, "order_placed", "payment_link_issued"), invoicebox_id="ib-1")
    v3 = store.update(order.id, 2, state="awaiting_payment", data=v2.data,
                      journal=step(order.id, "payment_link_issued", "awaiting_payment"))

    assert (v2.version, v2.invoicebox_id, v2.state) == (2, "ib-1", "payment_link_issued")
    assert (v3.version, v3.invoicebox_id, v3.state) == (3, "ib-1", "awaiting_payment")  # unchanged by default
    assert v3.data["paymentUrl"] == "https://p/1"
    assert v3.created_at == order.created_at and v3.updated_at >= v2.updated_at >= order.created_at
    assert store.get(order.id) == v3

    v4 = store.update(order.id, 3, state="awaiting_payment", data=v3.data, invoicebox_id=None,
                      journal=step(order.id, "awaiting_payment", "awaiting_payment"))
    assert v4.invoicebox_id is None and store.find(invoicebox_id="ib-1") is None


def test_a_stale_version_raises_and_writes_nothing(store):
    order = add(store, 1, outbox=1)
    store.update(order.id, 1, state="invoice_requested", data=order.data,
                 journal=step(order.id, "order_placed", "invoice_requested"))
    [item] = store.claim_outbox("w1")
    before = snapshot(store, order.id)

    with pytest.raises(ConcurrentUpdateError) as lost:
        store.update(order.id, 1, state="canceled", data={"changed": True}, invoicebox_id="ib-9",
                     journal=step(order.id, "order_placed", "canceled"), outbox=[draft(order.id, n=5)],
                     complete_outbox=item.id, outbox_result={"ok": True}, notification_key="n-1")

    assert (lost.value.order_id, lost.value.expected_version) == ("o-1", 1)
    assert snapshot(store, order.id) == before  # no journal row, no outbox row, outbox item still claimed
    assert not store.is_notification_processed("n-1")
    assert store.find(invoicebox_id="ib-9") is None


def test_update_of_an_unknown_order_raises_order_not_found(store):
    with pytest.raises(OrderNotFoundError):
        store.update("nope", 1, state="paid", data={}, journal=step("nope", "awaiting_payment", "paid"))
    with pytest.raises(OrderNotFoundError):
        store.update("nope", 1, state="paid", data={}, journal=step("nope", "awaiting_payment", "paid"),
                     notification_key="n-1")
    assert not store.is_notification_processed("n-1")


def test_update_refuses_a_journal_entry_that_does_not_describe_it(store):
    order = add(store, 1)
    with pytest.raises(ValueError):
        store.update(order.id, 1, state="paid", data={}, journal=step("o-2", "order_placed", "paid"))
    with pytest.raises(ValueError):
        store.update(order.id, 1, state="paid", data={}, journal=step(order.id, "order_placed", "canceled"))
    assert store.get(order.id).version == 1


# --- processed notifications ---------------------------------------------------------------


def test_a_notification_key_is_recorded_with_its_update(store):
    order = add(store, 1)
    store.update(order.id, 1, state="paid", data=order.data, notification_key="ib-1:completed",
                 journal=step(order.id, "order_placed", "paid", actor="invoicebox-notification"))
    assert store.is_notification_processed("ib-1:completed")
    assert not store.is_notification_processed("ib-1:canceled")


def test_a_duplicate_notification_raises_and_writes_nothing(store):
    order = add(store, 1)
    paid = store.update(order.id, 1, state="paid", data=order.data, notification_key="ib-1:completed",
                        journal=step(order.id, "order_placed", "paid"))
    before = snapshot(store, order.id)

    # Current version: refused because of the key alone.
    with pytest.raises(DuplicateNotificationError) as replay:
        store.update(order.id, paid.version, state="shipped", data={"x": 1}, notification_key="ib-1:completed",
                     journal=step(order.id, "paid", "shipped"), outbox=[draft(order.id, n=3)])
    assert replay.value.key == "ib-1:completed" and isinstance(replay.value, FlowError)
    # Stale version too: still reported as the replay it is.
    with pytest.raises(DuplicateNotificationError):
        store.update(order.id, 1, state="paid", data=order.data, notification_key="ib-1:completed",
                     journal=step(order.id, "order_placed", "paid"))
    assert snapshot(store, order.id) == before


# --- journal -------------------------------------------------------------------------------


def test_the_journal_keeps_every_entry_in_order_with_its_fields(store):
    order = add(store, 1)
    store.record_attempt(step(order.id, "order_placed", "order_placed", trigger="request_invoice",
                              outcome="failed", request_id="req-1", detail={"error": "HTTP 503", "retryIn": Decimal("1.5")}))
    store.update(order.id, 1, state="invoice_requested", data=order.data,
                 journal=step(order.id, "order_placed", "invoice_requested", trigger="request_invoice", actor="worker:w1",
                              request_id="req-2"))
    store.record_attempt(step(order.id, "invoice_requested", "invoice_requested", trigger="cancel", outcome="refused",
                              detail={"reason": "not allowed"}))

    entries = store.journal(order.id)
    assert [(e.trigger, e.from_state, e.to_state, e.outcome) for e in entries] == [
        ("place", "new", "order_placed", "ok"),
        ("request_invoice", "order_placed", "order_placed", "failed"),
        ("request_invoice", "order_placed", "invoice_requested", "ok"),
        ("cancel", "invoice_requested", "invoice_requested", "refused"),
    ]
    seqs = [e.seq for e in entries]
    assert all(isinstance(s, int) for s in seqs) and seqs == sorted(set(seqs))
    assert entries[1].request_id == "req-1" and entries[1].detail == {"error": "HTTP 503", "retryIn": Decimal("1.5")}
    assert entries[2].actor == "worker:w1" and entries[2].request_id == "req-2"
    assert all(e.at.tzinfo == UTC for e in entries)
    assert store.get(order.id).version == 2  # attempts change no state


def test_journals_of_two_orders_stay_apart(store):
    one, two = add(store, 1), add(store, 2)
    store.record_attempt(step(two.id, "order_placed", "order_placed", outcome="failed"))
    assert [e.order_id for e in store.journal(one.id)] == ["o-1"]
    assert [e.order_id for e in store.journal(two.id)] == ["o-2", "o-2"]
    assert store.journal("nope") == []


def test_recording_an_attempt_for_an_unknown_order_raises(store):
    with pytest.raises(OrderNotFoundError):
        store.record_attempt(step("nope", "paid", "paid", outcome="failed"))


# --- outbox --------------------------------------------------------------------------------


def test_outbox_drafts_are_queued_pending_with_the_order(store):
    order = add(store, 1, outbox=2)
    items = store.outbox(order_id=order.id)
    assert [(i.key, i.status, i.attempts, i.claimed_by) for i in items] == [
        ("create_order:o-1:0", "pending", 0, None),
        ("create_order:o-1:1", "pending", 0, None),
    ]
    assert items[0].payload == {"orderId": "o-1", "amount": Decimal("2400.00")}
    assert items[0].id < items[1].id
    assert store.outbox(status="claimed") == [] and store.outbox(order_id="o-2") == []
    with pytest.raises(ValueError):
        store.outbox(status="lost")


def test_claim_takes_oldest_first_up_to_the_limit_and_holds_the_lease(store):
    for n in range(3):
        add(store, n, outbox=1)
    now = at(0)

    first = store.claim_outbox("w1", limit=2, lease_seconds=60, now=now)
    assert [i.order_id for i in first] == ["o-0", "o-1"]
    assert all((i.status, i.claimed_by, i.attempts) == ("claimed", "w1", 1) for i in first)
    assert first[0].claimed_until == now + dt.timedelta(seconds=60)

    second = store.claim_outbox("w2", limit=5, lease_seconds=60, now=now + dt.timedelta(seconds=59))
    assert [i.order_id for i in second] == ["o-2"]  # w1's lease still holds on the others
    assert store.claim_outbox("w3", now=now + dt.timedelta(seconds=59)) == []


def test_an_expired_lease_lets_another_worker_take_the_item(store):
    order = add(store, 1, outbox=1)
    [mine] = store.claim_outbox("w1", lease_seconds=30, now=at(0))

    assert store.claim_outbox("w2", now=at(0.49)) == []
    [taken] = store.claim_outbox("w2", lease_seconds=30, now=at(0.5))  # w1 crashed: lease ran out
    assert (taken.id, taken.claimed_by, taken.attempts) == (mine.id, "w2", 2)

    with pytest.raises(OutboxLeaseLostError):  # w1 comes back too late
        store.release_outbox(mine.id, worker="w1", error="timeout", retry_at=at(1))
    assert store.outbox(order_id=order.id)[0].claimed_by == "w2"


def test_release_puts_the_item_back_at_retry_at(store):
    add(store, 1, outbox=1)
    [item] = store.claim_outbox("w1", now=at(0))
    store.release_outbox(item.id, worker="w1", error="HTTP 503 POST /v3/billing/api/order/order", retry_at=at(10))

    [released] = store.outbox()
    assert (released.status, released.claimed_by, released.claimed_until) == ("pending", None, None)
    assert released.last_error == "HTTP 503 POST /v3/billing/api/order/order"
    assert released.available_at == at(10)
    assert store.claim_outbox("w2", now=at(9)) == []
    [again] = store.claim_outbox("w2", now=at(10))
    assert (again.id, again.attempts) == (item.id, 2)


def test_a_dead_item_is_never_claimed_again(store):
    add(store, 1, outbox=1)
    [item] = store.claim_outbox("w1", now=at(0))
    store.release_outbox(item.id, worker="w1", error="gave up after 10 attempts", retry_at=at(0), dead=True)
    assert [i.status for i in store.outbox()] == ["dead"]
    assert store.claim_outbox("w1", now=at(10_000)) == []
    with pytest.raises(OutboxLeaseLostError):
        store.release_outbox(item.id, worker="w1", error="again", retry_at=at(1))


def test_only_the_claiming_worker_may_release(store):
    add(store, 1, outbox=1)
    [item] = store.claim_outbox("w1", now=at(0))
    with pytest.raises(OutboxLeaseLostError):
        store.release_outbox(item.id, worker="w2", error="x", retry_at=at(1))
    assert store.outbox()[0].claimed_by == "w1"


def test_completing_an_item_commits_its_result_with_the_state_change(store):
    order = add(store, 1, outbox=1)
    [item] = store.claim_outbox("w1")
    result = {"id": "ib-1", "paymentUrl": "https://pay.example/ib-1", "amount": Decimal("2400.00")}
    updated = store.update(order.id, 1, state="payment_link_issued", data=order.data, invoicebox_id="ib-1",
                           journal=step(order.id, "order_placed", "payment_link_issued", actor="worker:w1"),
                           complete_outbox=item.id, outbox_result=result)

    [done] = store.outbox()
    assert (done.status, done.result, done.claimed_until) == ("done", result, None)
    assert updated.invoicebox_id == "ib-1"
    assert store.claim_outbox("w2", now=at(10_000)) == []  # done is final even after the lease


def test_completing_an_item_twice_raises_and_writes_nothing(store):
    order = add(store, 1, outbox=1)
    [item] = store.claim_outbox("w1")
    v2 = store.update(order.id, 1, state="payment_link_issued", data=order.data,
                      journal=step(order.id, "order_placed", "payment_link_issued"), complete_outbox=item.id,
                      outbox_result={"first": True})
    before = snapshot(store, order.id)

    with pytest.raises(ConcurrentUpdateError):
        store.update(order.id, v2.version, state="awaiting_payment", data={"second": True},
                     journal=step(order.id, "payment_link_issued", "awaiting_payment"), complete_outbox=item.id,
                     outbox_result={"second": True}, notification_key="n-2")
    assert snapshot(store, order.id) == before
    assert not store.is_notification_processed("n-2")


def test_completing_an_item_of_another_order_is_refused(store):
    one, two = add(store, 1, outbox=1), add(store, 2)
    [item] = store.claim_outbox("w1")
    with pytest.raises(ConcurrentUpdateError):
        store.update(two.id, 1, state="paid", data=two.data, journal=step(two.id, "order_placed", "paid"),
                     complete_outbox=item.id)
    assert store.get(two.id).version == 1 and store.outbox()[0].status == "claimed"
    assert one.version == 1


def test_a_duplicate_outbox_key_is_refused_and_writes_nothing(store):
    order = add(store, 1, outbox=1)
    before = snapshot(store, order.id)
    with pytest.raises(ValidationError) as refused:
        store.update(order.id, 1, state="invoice_requested", data=order.data,
                     journal=step(order.id, "order_placed", "invoice_requested"), outbox=[draft(order.id, n=0)])
    assert refused.value.code == "outbox_key_duplicate"
    assert snapshot(store, order.id) == before


def test_intents_can_be_queued_already_claimed_by_the_caller(store):
    order = add(store, 1)
    store.update(order.id, 1, state="invoice_requested", data=order.data,
                 journal=step(order.id, "order_placed", "invoice_requested"),
                 outbox=[OutboxDraft("create_order", {"n": 1}, "create_order:o-1")], claim_outbox_as="web-1",
                 lease_seconds=45)
    [item] = store.outbox()
    assert (item.status, item.claimed_by, item.attempts) == ("claimed", "web-1", 1)
    assert item.claimed_until == item.created_at + dt.timedelta(seconds=45)
    assert store.claim_outbox("w2") == []


def test_claim_can_be_limited_to_one_order_and_can_ignore_retry_times(store):
    add(store, 1, outbox=1)
    add(store, 2, outbox=1)
    [item] = store.claim_outbox("w1", order_id="o-2", now=at(0))
    assert item.order_id == "o-2"
    store.release_outbox(item.id, worker="w1", error="HTTP 503", retry_at=at(60))

    assert store.claim_outbox("w1", order_id="o-2", now=at(1)) == []  # not due yet
    [now_please] = store.claim_outbox("w1", order_id="o-2", now=at(1), due_only=False)  # "retry now"
    assert (now_please.id, now_please.attempts) == (item.id, 2)
    assert [i.order_id for i in store.claim_outbox("w2", now=at(1))] == ["o-1"]


def test_claim_arguments_are_checked(store):
    with pytest.raises(ValueError):
        store.claim_outbox("")
    with pytest.raises(ValueError):
        store.claim_outbox("w1", limit=0)
    with pytest.raises(ValueError):
        store.claim_outbox("w1", lease_seconds=0)


# --- schema, connections -------------------------------------------------------------------


def _schema_rows(url: str) -> list[tuple]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(sa.text("SELECT version FROM schema_version"))]
    finally:
        engine.dispose()


def test_the_schema_is_created_once_and_its_version_recorded(db_url):
    first = Store(db_url)
    assert first.schema_version() == SCHEMA_VERSION == 3
    add(first, 1)
    first.dispose()

    second = Store(db_url)
    assert second.schema_version() == 3
    assert second.get("o-1").merchant_order_id == "SHOP-1"  # creating "again" kept the data
    second.dispose()
    assert _schema_rows(db_url) == [(3,)]  # a new database is created at the current version, not migrated
    engine = sa.create_engine(db_url)
    assert {"orders", "journal", "processed_notifications", "outbox", "schema_version", "events", "event_handlers",
            "event_deliveries", "fulfilment_decisions", "order_state_counts"} <= set(sa.inspect(engine).get_table_names())
    engine.dispose()


def test_a_database_from_a_newer_version_is_refused(db_url):
    Store(db_url).schema_version()
    engine = sa.create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO schema_version (version, applied_at) VALUES (:v, :at)"),
                     {"v": SCHEMA_VERSION + 1, "at": utcnow().isoformat()})
    engine.dispose()
    with pytest.raises(SchemaVersionError):
        Store(db_url).get("o-1")


def test_two_store_objects_share_one_database(db_url):
    a, b = Store(db_url), Store(db_url)
    order = add(a, 1)
    assert b.get(order.id) == order
    b.update(order.id, 1, state="paid", data=order.data, journal=step(order.id, "order_placed", "paid"))
    with pytest.raises(ConcurrentUpdateError):
        a.update(order.id, 1, state="canceled", data=order.data, journal=step(order.id, "order_placed", "canceled"))
    assert a.get(order.id).state == "paid" and len(a.journal(order.id)) == 2
    a.dispose()
    b.dispose()


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path):
    url = sqlite_url(tmp_path)
    store = Store(url)
    add(store, 1)
    raw = sqlite3.connect(tmp_path / "store.db")
    assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"  # persistent in the file
    raw.close()
    with pytest.raises(OrderNotFoundError):  # a foreign key, enforced
        store.record_attempt(step("nope", "paid", "paid"))
    store.dispose()


def test_an_in_memory_sqlite_store_works_within_one_process():
    store = Store("sqlite://")
    order = add(store, 1, outbox=1)
    assert store.get(order.id) == order and len(store.claim_outbox("w1")) == 1
    store.dispose()


def test_the_default_url_is_a_sqlite_file_in_the_current_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    store = Store()
    add(store, 1)
    store.dispose()
    assert (tmp_path / "invoicebox-flow.db").exists()


def test_repr_and_url_never_show_the_password():
    store = Store("postgresql+psycopg://shop:s3cr3t-Passw0rd@127.0.0.1:5432/shop")  # connects lazily
    assert "s3cr3t" not in repr(store) and "s3cr3t" not in store.url
    assert repr(store) == "Store('postgresql+psycopg://shop:***@127.0.0.1:5432/shop')"


def test_a_store_is_a_context_manager(tmp_path):
    with Store(sqlite_url(tmp_path)) as store:
        add(store, 1)
    with Store(sqlite_url(tmp_path)) as again:
        assert again.get("o-1").id == "o-1"
