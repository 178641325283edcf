"""The sweeps' cursor and findings in the store, on SQLite and PostgreSQL: a sweep of a window is
resumed until it is done, its orders come in cursor order, and a finding is kept once."""

from __future__ import annotations

import datetime as dt

import pytest

from invoicebox_flow.store import JournalEntry, OrderRecord, Store, SweepLog

pytestmark = pytest.mark.every_backend


def add(store: Store, order_id: str, state: str, created: dt.datetime) -> None:
    store.add_order(OrderRecord(id=order_id, merchant_order_id=order_id, variant="private", state=state, version=1,
                                data={}, created_at=created, updated_at=created),
                    JournalEntry(order_id=order_id, trigger="place", from_state="new", to_state=state, actor="test"))


def test_a_sweep_walks_its_window_in_cursor_order_and_resumes_until_done(store):
    start = dt.datetime(2024, 7, 1, tzinfo=dt.UTC)
    for n, state in enumerate(["paid", "canceled", "paid", "awaiting_payment", "refunded"]):
        add(store, f"A-{n}", state, start + dt.timedelta(days=n))
    log = SweepLog(store)
    sweep, resumed = log.open("w", since=start + dt.timedelta(days=2), until=start + dt.timedelta(days=4),
                              include_open=True)
    assert not resumed
    final = {"canceled", "refunded", "expired"}
    assert [r.id for r in log.next_orders(sweep, final_states=final, limit=10)] == ["A-0", "A-2", "A-3"]
    [first] = log.next_orders(sweep, final_states=final, limit=1)
    log.advance(sweep.id, (first.created_at, first.id), orders=1, api_calls=3)
    again, resumed = log.open("w", since=None, until=start, include_open=False)  # the stored window wins
    assert resumed and again.id == sweep.id and (again.orders, again.api_calls) == (1, 3)
    assert [r.id for r in log.next_orders(again, final_states=final, limit=10)] == ["A-2", "A-3"]
    log.finish(sweep.id)
    assert log.open("w", since=None, until=start, include_open=False)[0].id != sweep.id


def test_a_finding_is_kept_once_and_its_outcome_changes(store):
    log = SweepLog(store)
    sweep, _ = log.open("w", since=None, until=dt.datetime.now(dt.UTC), include_open=False)
    assert log.add_findings(sweep.id, [("A-1", "missed_payment", "found", {"shop": "paid"})]) == 1
    assert log.add_findings(sweep.id, [("A-1", "missed_payment", "found", {"shop": "other"}),
                                       ("A-2", "unknown_refund", "found", {})]) == 1
    log.set_outcome(sweep.id, "A-1", "missed_payment", "healed")
    found = {(f.order_id, f.kind): (f.outcome, dict(f.detail)) for f in log.findings(sweep.id)}
    assert found == {("A-1", "missed_payment"): ("healed", {"shop": "paid"}), ("A-2", "unknown_refund"): ("found", {})}
    assert [f.order_id for f in log.findings(sweep.id, order_ids=["A-2"])] == ["A-2"]
