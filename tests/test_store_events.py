"""The store's event log, handler deliveries and fulfilment decisions, on SQLite and PostgreSQL:
events commit with their change or not at all, the feed never skips an event whose transaction
commits out of order, deliveries are claimed, retried, parked dead and revived, and an older
database is migrated."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import timedelta

import db_fixtures
import pytest
import sqlalchemy as sa
from db_fixtures import add, new_order, placed, postgres_schema, step

from invoicebox_flow.errors import ConcurrentUpdateError, ValidationError
from invoicebox_flow.store import (
    SCHEMA_VERSION,
    DeliveryClaim,
    DeliveryLeaseLostError,
    DuplicateNotificationError,
    EventDraft,
    Store,
    utcnow,
)
from invoicebox_flow.store import schema as tables

db_url, store = db_fixtures.db_url, db_fixtures.store  # the fixtures: SQLite, and PostgreSQL when configured


def event(trigger: str = "advance", from_state: str = "order_placed", to_state: str = "paid", **payload) -> EventDraft:
    return EventDraft(id=uuid.uuid4().hex, type="LifecycleStep", trigger=trigger, from_state=from_state,
                      to_state=to_state, actor="shop", payload=dict(payload))


def advance(store: Store, order_id: str, version: int, from_state: str, to_state: str, **kwargs) -> EventDraft:
    draft = event(from_state=from_state, to_state=to_state)
    store.update(order_id, version, state=to_state, data={}, journal=step(order_id, from_state, to_state),
                 events=[draft], **kwargs)
    return draft


def placed_with_event(store: Store, n: int) -> EventDraft:
    order = new_order(n)
    draft = event("place", "new", order.state)
    store.add_order(order, placed(order), events=[draft])
    return draft


# --- written with the change ---------------------------------------------------------------


def test_an_event_is_written_with_its_change_and_numbered_by_the_new_version(store):
    first = placed_with_event(store, 1)
    second = advance(store, "o-1", 1, "order_placed", "paid")
    stored = store.read_events()
    assert [(e.id, e.order_version, e.trigger, e.from_state, e.to_state) for e in stored] == [
        (first.id, 1, "place", "new", "order_placed"), (second.id, 2, "advance", "order_placed", "paid")]
    assert stored[1].at == store.get("o-1").updated_at  # the event's time is the change's
    assert store.event(second.id) == stored[1] and store.order_events("o-1") == stored


def test_a_change_that_fails_writes_no_event(store):
    placed_with_event(store, 1)
    with pytest.raises(ConcurrentUpdateError):
        advance(store, "o-1", 7, "order_placed", "paid")  # stale version
    advance(store, "o-1", 1, "order_placed", "paid", notification_key="n-1")
    with pytest.raises(DuplicateNotificationError):
        advance(store, "o-1", 2, "paid", "shipped", notification_key="n-1")
    with pytest.raises(ValidationError):  # a new order whose id is taken
        store.add_order(new_order(1), placed(new_order(1)), events=[event("place", "new", "order_placed")])
    assert [e.order_version for e in store.read_events()] == [1, 2]
    assert len(store.journal("o-1")) == 2


def test_the_feed_reads_on_from_a_position_in_pages(store):
    for n in range(5):
        placed_with_event(store, n)
    page = store.read_events(limit=2)
    rest = store.read_events(page[-1].position, limit=10)
    assert [e.order_id for e in page + rest] == [f"o-{n}" for n in range(5)]
    assert store.read_events(rest[-1].position) == []
    assert store.feed_head() == rest[-1].position


@pytest.mark.parametrize("position", ["", "12", "a-1", "1-", "-3", "1-2-3"])
def test_a_position_that_is_not_one_is_a_typed_error(store, position):
    with pytest.raises(ValidationError, match="feed position"):
        store.read_events(position)


# --- the feed when transactions commit out of order (PostgreSQL) ---------------------------


def _hold(store_url: str, statement: str, **params):
    """An open transaction holding a row lock, on a connection of its own: ``(release, pid)``,
    ``release()`` rolls it back, ``pid`` is its server process."""
    engine = sa.create_engine(store_url, poolclass=sa.pool.NullPool)
    conn = engine.connect()
    transaction = conn.begin()
    conn.execute(sa.text(statement), params)
    pid = conn.scalar(sa.text("SELECT pg_backend_pid()"))

    def release() -> None:
        transaction.rollback()
        conn.close()
        engine.dispose()
    return release, pid


def _in_thread(work) -> tuple[threading.Thread, list]:
    outcome: list = []
    thread = threading.Thread(target=lambda: outcome.append(work()), daemon=True)
    thread.start()
    return thread, outcome


def _wait_blocked(store_url: str, holder: int) -> None:
    """Until a session waits for the lock ``holder`` (a server pid) holds: the transaction under
    test is really in flight. (Only that holder counts: other tests may run on the same server.)"""
    engine = sa.create_engine(store_url, poolclass=sa.pool.NullPool)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                waiting = conn.scalar(sa.text("SELECT count(*) FROM pg_stat_activity "
                                              "WHERE :holder = ANY(pg_blocking_pids(pid))"), {"holder": holder})
            if waiting:
                return
            time.sleep(0.01)
        raise AssertionError("the transaction under test never waited for the held lock")
    finally:
        engine.dispose()


def _feed_once_final(store: Store, expected: int, after: str | None = None) -> list:
    """The feed from ``after`` once it holds ``expected`` events. The feed holds back what any
    transaction of the server still running could precede (other tests' included), so it may
    take a moment after the test's own transactions end: that is its guarantee, not a delay."""
    deadline = time.monotonic() + 20
    while True:
        seen = store.read_events(after)
        if len(seen) >= expected or time.monotonic() > deadline:
            return seen
        time.sleep(0.05)


@pytest.mark.postgres
def test_an_event_committed_after_a_newer_one_is_not_stepped_over():
    """Event A is inserted first (lower seq), its transaction commits after B's. The feed holds B
    back until A is final, then gives A, then B: a consumer never passes A."""
    with postgres_schema() as url:
        store = Store(url)
        for n in (1, 2):
            add(store, n)
        consumer = store.read_events()  # the position a consumer keeps: nothing read yet
        assert consumer == []
        # A's change ends by counting its order in its new state (.counts): it waits there, with its
        # event inserted. A table lock gives the holder no transaction id: only A holds the feed back.
        release, holder = _hold(url, "LOCK TABLE order_state_counts IN EXCLUSIVE MODE")
        a = event()
        try:
            thread, done = _in_thread(lambda: store.update("o-1", 1, state="paid", data={}, events=[a],
                                                           journal=step("o-1", "order_placed", "paid")))
            _wait_blocked(url, holder)
            # B commits while A is in flight (it changes no state, so it counts nothing)
            b = advance(store, "o-2", 1, "order_placed", "order_placed")
            assert [e.id for e in store.read_events()] == []  # B is held back: A could still precede it
        finally:
            release()
        thread.join(10)
        assert done, "A did not commit"
        seen = _feed_once_final(store, 2)
        assert [e.id for e in seen] == [a.id, b.id]
        assert seen[0].seq < seen[1].seq  # A's event was inserted before B's, and committed after it
        store.dispose()


@pytest.mark.postgres
def test_the_feed_follows_transactions_not_insertion_when_they_differ():
    """A's transaction starts first but inserts its event after B's (a higher seq): the feed
    gives A first — A's order's history is kept — and each exactly once."""
    with postgres_schema() as url:
        store = Store(url)
        for n in (1, 2):
            add(store, n)
        release, holder = _hold(url, "SELECT id FROM orders WHERE id = 'o-1' FOR NO KEY UPDATE")
        a = event()
        try:
            # A records its notification (it has a transaction id now), then waits for the order's row
            thread, done = _in_thread(lambda: store.update("o-1", 1, state="paid", data={}, events=[a],
                                                           journal=step("o-1", "order_placed", "paid"),
                                                           notification_key="n-a"))
            _wait_blocked(url, holder)
            b = advance(store, "o-2", 1, "order_placed", "paid")
            assert store.read_events() == []
        finally:
            release()
        thread.join(10)
        assert done, "A did not commit"
        seen = _feed_once_final(store, 2)[:1]
        seen += store.read_events(seen[-1].position)
        assert [e.id for e in seen] == [a.id, b.id]
        assert seen[0].seq > seen[1].seq  # inserted later, read first: the feed is not seq order here
        store.dispose()


# --- deliveries ------------------------------------------------------------------------------


def everything(event_type: str, trigger: str) -> bool:
    return True


def test_a_handler_registered_later_starts_after_the_events_before_it_unless_it_replays(store):
    placed_with_event(store, 1)
    store.register_handlers({"late": False, "replaying": True})
    placed_with_event(store, 2)
    assert store.fan_out("late", everything) == 1 and store.fan_out("replaying", everything) == 2
    assert [d.order_id for d in store.deliveries(handler="late")] == ["o-2"]
    assert [d.order_id for d in store.deliveries(handler="replaying")] == ["o-1", "o-2"]
    store.register_handlers({"late": True})  # known already: keeps its place
    assert store.fan_out("late", everything) == 0 and store.fan_out("unknown", everything) == 0


def test_fan_out_queues_what_the_handler_takes_once_and_moves_on(store):
    store.register_handlers({"paid-only": False})
    placed_with_event(store, 1)
    paid = advance(store, "o-1", 1, "order_placed", "paid")
    assert store.fan_out("paid-only", lambda kind, trigger: trigger == "advance") == 2
    assert store.fan_out("paid-only", everything) == 0  # read already: never queued twice
    [delivery] = store.deliveries()
    assert (delivery.event_id, delivery.status, delivery.attempts, delivery.event_type) == (
        paid.id, "pending", 0, "LifecycleStep")


def test_deliveries_are_claimed_with_a_lease_done_once_and_retried_after_a_failure(store):
    store.register_handlers({"h": False})
    for n in range(3):
        placed_with_event(store, n)
    store.fan_out("h", everything)
    first = store.claim_deliveries("w1", "h", limit=2, lease_seconds=30)
    assert [d.order_id for d in first] == ["o-0", "o-1"] and {d.attempts for d in first} == {1}
    assert [d.order_id for d in store.claim_deliveries("w2", "h", lease_seconds=86_400)] == ["o-2"]
    assert store.claim_deliveries("w2", "h") == []  # held
    store.complete_delivery(first[0].id, worker="w1")
    with pytest.raises(DeliveryLeaseLostError):
        store.complete_delivery(first[0].id, worker="w1")  # done already
    with pytest.raises(DeliveryLeaseLostError):
        store.complete_delivery(first[1].id, worker="w2")  # not w2's
    store.release_delivery(first[1].id, worker="w1", error="Boom: no", retry_at=utcnow() + timedelta(hours=1))
    assert store.claim_deliveries("w2", "h") == []  # not due yet
    [again] = store.claim_deliveries("w2", "h", now=utcnow() + timedelta(hours=2))
    assert (again.id, again.attempts, again.last_error) == (first[1].id, 2, "Boom: no")
    assert store.delivery_counts() == {("h", "done"): 1, ("h", "claimed"): 2}


def test_an_expired_lease_lets_another_worker_take_the_delivery_and_the_first_cannot_finish(store):
    store.register_handlers({"h": False})
    placed_with_event(store, 1)
    store.fan_out("h", everything)
    [mine] = store.claim_deliveries("w1", "h", lease_seconds=30)
    [theirs] = store.claim_deliveries("w2", "h", now=utcnow() + timedelta(seconds=31))
    assert theirs.id == mine.id and theirs.attempts == 2
    with pytest.raises(DeliveryLeaseLostError):
        store.complete_delivery(mine.id, worker="w1")
    store.complete_delivery(theirs.id, worker="w2")


def test_a_dead_delivery_is_never_claimed_until_it_is_retried(store):
    store.register_handlers({"h": False, "other": False})
    placed_with_event(store, 1)
    placed_with_event(store, 2)
    for name in ("h", "other"):
        store.fan_out(name, everything)
        for d in store.claim_deliveries("w", name):
            store.release_delivery(d.id, worker="w", error="E: x", retry_at=utcnow(), dead=True)
    assert store.claim_deliveries("w", "h", now=utcnow() + timedelta(days=1)) == []
    dead = store.deliveries(status="dead", handler="h")
    assert len(dead) == 2
    assert store.retry_deliveries([dead[0].id]) == 1
    assert store.retry_deliveries(handler="h") == 1 and store.retry_deliveries(handler="h") == 0
    revived = store.claim_deliveries("w", "h")
    assert [d.attempts for d in revived] == [1, 1]  # a fresh set of attempts
    assert len(store.deliveries(status="dead")) == 2  # the other handler's are untouched
    with pytest.raises(ValueError, match="unknown delivery status"):
        store.deliveries(status="lost")


def test_writes_made_within_a_completion_commit_with_it_or_not_at_all(store):
    store.register_handlers({"h": False})
    placed_with_event(store, 1)
    placed_with_event(store, 2)
    store.fan_out("h", everything)
    ok, failing = store.claim_deliveries("w", "h")

    def write(conn) -> None:  # the handler's own change to the shop's database
        conn.execute(sa.update(tables.orders).where(tables.orders.c.id == "o-1").values(state="handled"))

    def write_then_fail(conn) -> None:
        conn.execute(sa.update(tables.orders).where(tables.orders.c.id == "o-2").values(state="handled"))
        raise RuntimeError("handler failed half-way")

    store.complete_delivery(ok.id, worker="w", within=write)
    with pytest.raises(RuntimeError):
        store.complete_delivery(failing.id, worker="w", within=write_then_fail)
    assert (store.get("o-1").state, store.get("o-2").state) == ("handled", "order_placed")
    assert {d.order_id: d.status for d in store.deliveries()} == {"o-1": "done", "o-2": "claimed"}
    with pytest.raises(DeliveryLeaseLostError):  # the lease check comes before the handler runs
        store.complete_delivery(ok.id, worker="w", within=lambda conn: pytest.fail("ran without the lease"))


def test_deliveries_can_be_queued_claimed_with_their_event(store):
    order = new_order(1)
    draft = event("place", "new", order.state)
    store.add_order(order, placed(order), events=[draft],
                    deliveries=DeliveryClaim(("mail", "ledger"), worker="web-1", lease_seconds=5))
    found = store.deliveries()
    assert [(d.handler, d.status, d.claimed_by, d.attempts, d.event_id) for d in found] == [
        ("mail", "claimed", "web-1", 1, draft.id), ("ledger", "claimed", "web-1", 1, draft.id)]
    store.register_handlers({"mail": True})
    assert store.fan_out("mail", everything) == 1
    assert len(store.deliveries(handler="mail")) == 1  # fan-out found it queued already


# --- fulfilment decisions ----------------------------------------------------------------------


def test_one_claimant_decides_and_the_others_see_its_answer(store):
    add(store, 1)
    assert store.claim_decision("n-1", "o-1", "a", lease_seconds=30).won
    assert not store.claim_decision("n-1", "o-1", "b", lease_seconds=30).won  # held, unanswered
    assert store.decision("n-1") is None
    assert not store.record_decision("n-1", "b", True)  # not b's to answer
    assert store.record_decision("n-1", "a", False)
    claim = store.claim_decision("n-1", "o-1", "c", lease_seconds=30)
    assert (claim.won, claim.fulfil) == (False, False) and store.decision("n-1") is False


def test_an_unanswered_claim_runs_out_or_is_given_up(store):
    add(store, 1)
    assert store.claim_decision("n-1", "o-1", "a", lease_seconds=0.05).won
    time.sleep(0.1)
    assert store.claim_decision("n-1", "o-1", "b", lease_seconds=30).won  # a's lease ran out
    assert not store.record_decision("n-1", "a", True)  # a was too slow
    store.release_decision("n-1", "b")  # b's check raised
    assert store.claim_decision("n-1", "o-1", "c", lease_seconds=30).won


# --- migration ---------------------------------------------------------------------------------

V1_TABLES = ("orders", "journal", "processed_notifications", "outbox", "schema_version")


def test_a_version_1_database_is_migrated_and_keeps_its_orders(db_url):
    engine = sa.create_engine(db_url)
    with engine.begin() as conn:  # the schema as version 1 created it
        tables.metadata.create_all(conn, tables=[tables.metadata.tables[name] for name in V1_TABLES])
        conn.execute(sa.insert(tables.schema_version).values(version=1, applied_at=utcnow()))
        order = new_order(1)  # an order written by version 1: it has no event
        conn.execute(sa.insert(tables.orders).values(
            id=order.id, merchant_order_id=order.merchant_order_id, variant=order.variant, state=order.state,
            version=1, data=order.data, created_at=order.created_at, updated_at=order.updated_at))
        assert "events" not in sa.inspect(conn).get_table_names()
    engine.dispose()
    old = Store(db_url)
    assert old.schema_version() == SCHEMA_VERSION == 3
    engine = sa.create_engine(db_url)
    with engine.connect() as conn:
        assert [tuple(r) for r in conn.execute(sa.text("SELECT version FROM schema_version ORDER BY version"))] == [
            (1,), (2,), (3,)]
        assert {"events", "event_handlers", "event_deliveries", "fulfilment_decisions"} <= set(
            sa.inspect(conn).get_table_names())
    engine.dispose()
    first = advance(old, "o-1", 1, "order_placed", "paid")  # the old order's first event
    assert [e.id for e in old.read_events()] == [first.id]
    old.dispose()
