"""Lifecycle events from the engine, over HTTP with the sandbox and a real SQLite store: one typed
event per committed change, in its transaction; handlers run after the commit, inline or by the
worker, once each when they succeed, retried when they raise, parked dead and revived."""

from __future__ import annotations

import threading
import uuid
from decimal import Decimal

import pytest
import sqlalchemy as sa
from helpers import course_lines, goods_lines, make_shop, packing_flow, pay, private_customer

from invoicebox_flow import (
    ApiError,
    ExtensionStep,
    Handlers,
    LifecycleStep,
    OrderAnnotated,
    OrderCanceled,
    OrderEvent,
    OrderExpired,
    OrderPaid,
    OrderPlaced,
    OrderRefunded,
    OrderShipped,
    PaymentDeclined,
    PaymentLinkIssued,
    ValidationError,
    Worker,
)
from invoicebox_flow.engine import EVENT_TYPES
from invoicebox_flow.engine.events import new_event_id
from invoicebox_flow.store import Store


def paid(flow, buyer, sandbox, order_id: str) -> None:
    """Redirect, pay on the page, wait for the notification — without the buyer's return, which
    would race the notification (each event list below is then exactly one)."""
    buyer.pay(flow.redirect_buyer(order_id))
    sandbox.wait_idle()
    assert flow.get(order_id).state == "paid"


def transitions(flow, order_id: str) -> list[tuple[str, str, str]]:
    """The journal's committed changes (a failed call that changed nothing is not one)."""
    return [(e.trigger, e.from_state, e.to_state) for e in flow.history(order_id)
            if not (e.outcome == "failed" and e.from_state == e.to_state)]


def events_of(flow, order_id: str) -> list[OrderEvent]:
    return [e for e in flow.events(limit=10_000) if e.order_id == order_id]


def test_every_committed_change_appends_one_typed_event_with_the_order_it_left(flow, sandbox, buyer):
    flow.place("E-1", course_lines(), private_customer(), description="Курс")
    paid(flow, buyer, sandbox, "E-1")
    flow.ship("E-1")
    flow.claim_refund("E-1", reason="не подошло")
    flow.refundable_items("E-1")
    flow.refund("E-1", {"COURSE-PY-90": 1})
    sandbox.inject_fault("refundable_items", "server_error", times=10)
    with pytest.raises(ApiError):  # a failed call: journaled, no event
        flow.refundable_items("E-1")
    flow.refund("E-1")

    found = events_of(flow, "E-1")
    assert [(e.trigger, e.from_state, e.to_state) for e in found] == transitions(flow, "E-1")
    assert [type(e) for e in found] == [
        OrderPlaced, LifecycleStep, PaymentLinkIssued, LifecycleStep, OrderPaid, LifecycleStep, OrderShipped,
        LifecycleStep, LifecycleStep, LifecycleStep, OrderRefunded, LifecycleStep, OrderRefunded]
    assert [e.order.version for e in found] == list(range(1, len(found) + 1))
    assert all(e.order.state == e.to_state and e.order.updated_at == e.at for e in found)
    assert len({e.id for e in found}) == len(found) and len({e.position for e in found}) == len(found)

    final = flow.get("E-1")
    link, payment, shipped = found[2], found[4], found[6]
    first_refund, last_refund = found[10], found[12]
    assert (link.invoicebox_id, link.payment_url) == (final.invoicebox_id, final.payment_url)
    assert (payment.amount, payment.currency, payment.actor) == (Decimal("2400.00"), "RUB", "invoicebox-notification")
    assert payment.order.paid_amount == Decimal("2400.00") and payment.order.refunded_amount == 0
    assert shipped.shipment_id == final.shipments[0].id
    assert (first_refund.amount, first_refund.refunded_amount, first_refund.partial) == (
        Decimal("1200.00"), Decimal("1200.00"), True)
    assert (last_refund.amount, last_refund.refunded_amount, last_refund.partial) == (
        Decimal("1200.00"), Decimal("2400.00"), False)
    assert first_refund.refund_id != last_refund.refund_id
    assert first_refund.order.state == "partially_refunded" and last_refund.order.is_final


def test_a_declined_then_canceled_order_and_an_expired_one_say_so(flow, buyer, sandbox):
    order = flow.place("E-2", goods_lines(), private_customer(), description="Книги")
    flow.redirect_buyer("E-2")
    buyer.decline(order.payment_url)
    flow.buyer_returned("E-2", success=False)
    flow.cancel("E-2")
    assert [type(e) for e in events_of(flow, "E-2")][-2:] == [PaymentDeclined, OrderCanceled]
    flow.place("E-2b", goods_lines(), private_customer(), description="Книги")
    sandbox.advance_clock(4 * 24 * 3600)  # past its lifetime at InvoiceBox
    assert flow.sync("E-2b").state == "expired"
    last = events_of(flow, "E-2b")[-1]
    assert isinstance(last, OrderExpired) and last.actor == "reconcile"


def test_extension_transitions_are_extension_steps_named_by_their_trigger(client, store, sandbox, buyer):
    shop, served = make_shop(client, store, sandbox, definition=packing_flow(), conditions={"in_stock": lambda o: True})
    packed: list[str] = []
    shop.flow.subscribe(lambda event: packed.append(event.trigger), ExtensionStep, name="packing-slips",
                        triggers=("pack",))
    try:
        shop.flow.place("E-3", goods_lines(), private_customer(), description="Книги")
        paid(shop.flow, buyer, sandbox, "E-3")
        shop.flow.fire("E-3", "pack")
        shop.flow.ship("E-3")
        shop.flow.fire("E-3", "confirm_delivery")
        found = events_of(shop.flow, "E-3")
        steps = [(type(e).__name__, e.trigger) for e in found[5:]]
        assert steps == [("ExtensionStep", "pack"), ("LifecycleStep", "request_shipment"),
                         ("OrderShipped", "shipment_accepted"), ("ExtensionStep", "confirm_delivery")]
        assert found[-1].order.state == "delivered" and found[-1].order.state_label == "доставлен"
        Worker(shop.flow).run(once=True)
        assert packed == ["pack"]  # the subscription took only that trigger
    finally:
        served.close()


def test_bookkeeping_without_a_transition_is_an_annotation(flow, sandbox, buyer):
    flow.place("E-4", course_lines(), private_customer(), description="Курс")
    paid(flow, buyer, sandbox, "E-4")
    flow.confirm_facts("E-4", sandbox)
    last = events_of(flow, "E-4")[-1]
    assert isinstance(last, OrderAnnotated) and last.trigger == "confirm_facts"
    assert last.from_state == last.to_state == "paid" and last.order.receipts[0].ref


def test_the_catalogue_names_every_event_class():
    assert set(EVENT_TYPES) == {cls.__name__ for cls in (
        OrderPlaced, PaymentLinkIssued, OrderPaid, PaymentDeclined, OrderShipped, OrderRefunded, OrderCanceled,
        OrderExpired, LifecycleStep, ExtensionStep, OrderAnnotated)}
    assert all(issubclass(cls, OrderEvent) for cls in EVENT_TYPES.values())


# --- handlers ----------------------------------------------------------------------------------


class Recorder:
    """A handler that records each call and raises the first ``failures`` times."""

    def __init__(self, failures: int = 0) -> None:
        self.calls: list[OrderEvent] = []
        self.failures = failures

    def __call__(self, event: OrderEvent) -> None:
        self.calls.append(event)
        if self.failures > 0:
            self.failures -= 1
            raise RuntimeError("mail server down")


def test_inline_handlers_run_once_right_after_the_commit(client, store, sandbox, buyer):
    seen_versions: list[tuple[int, int]] = []
    mails = Recorder()
    shop, served = make_shop(client, store, sandbox, inline_handlers=True)
    flow = shop.flow
    flow.subscribe(mails, OrderPaid, name="mail")

    @flow.on(OrderEvent, name="audit")
    def audit(event: OrderEvent) -> None:  # the change is committed when a handler runs
        seen_versions.append((event.order.version, flow.get(event.order_id).version))

    try:
        flow.place("E-5", course_lines(), private_customer(), description="Курс")
        paid(flow, buyer, sandbox, "E-5")
    finally:
        served.close()
    assert [e.order_id for e in mails.calls] == ["E-5"] and isinstance(mails.calls[0], OrderPaid)
    assert [stored for stored, _ in seen_versions] == [1, 2, 3, 4, 5]
    assert all(current >= stored for stored, current in seen_versions)
    assert store.delivery_counts() == {("mail", "done"): 1, ("audit", "done"): 5}
    assert Worker(flow).run(once=True) == 0  # nothing left for a worker: each delivery was recorded


def test_a_failing_inline_handler_never_blocks_the_lifecycle_and_a_worker_retries_it(client, store, sandbox, buyer):
    mails = Recorder(failures=1)
    shop, served = make_shop(client, store, sandbox, inline_handlers=True,
                             handlers=Handlers(retry_base_seconds=0.01))
    shop.flow.subscribe(mails, OrderPaid, name="mail")
    try:
        shop.flow.place("E-6", course_lines(), private_customer(), description="Курс")
        assert pay(shop.flow, buyer, sandbox, "E-6").state == "paid"  # the payment stands
    finally:
        served.close()
    [delivery] = store.deliveries(handler="mail")
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("pending", 1, "RuntimeError: mail server down")
    Worker(shop.flow).run(once=True, poll_interval=0.01)
    assert [d.status for d in store.deliveries(handler="mail")] == ["done"] and len(mails.calls) == 2
    assert mails.calls[0].id == mails.calls[1].id  # the same event: its id is the idempotency key


def test_a_worker_delivers_each_event_once_and_parks_a_hopeless_one_dead(flow, store, sandbox, buyer):
    flow.handlers.max_attempts = 2
    flow.handlers.retry_base_seconds = 0.01
    everything, broken = Recorder(), Recorder(failures=10)
    flow.subscribe(everything, OrderEvent, name="everything")
    flow.subscribe(broken, OrderPlaced, name="broken")
    flow.place("E-7", course_lines(), private_customer(), description="Курс")
    paid(flow, buyer, sandbox, "E-7")
    assert everything.calls == []  # not inline: nothing runs in the committing process
    worker = Worker(flow)
    worker.run(once=True)
    while store.deliveries(handler="broken", status="pending"):
        worker.run(once=True)
    assert [e.trigger for e in everything.calls] == [e.trigger for e in events_of(flow, "E-7")]
    assert worker.run(once=True) == 0 and len(everything.calls) == 5  # never again
    [dead] = store.deliveries(status="dead")
    assert (dead.handler, dead.event_type, dead.attempts) == ("broken", "OrderPlaced", 2) and len(broken.calls) == 2
    broken.failures = 0
    assert store.retry_deliveries([dead.id]) == 1
    worker.run(once=True)
    assert store.deliveries(status="dead") == [] and len(broken.calls) == 3


def test_a_slow_handler_holds_up_neither_the_outbox_nor_another_handler(flow, store, sandbox, buyer):
    release, slow_started = threading.Event(), threading.Event()
    fast = Recorder()

    @flow.on(OrderEvent, name="slow")
    def slow(event: OrderEvent) -> None:
        slow_started.set()
        release.wait(30)

    flow.subscribe(fast, OrderEvent, name="fast")
    flow.place("E-8", course_lines(), private_customer(), description="Курс")
    flow.place("E-9", course_lines(), private_customer(), description="Курс", defer=True)
    worker = Worker(flow, batch=1)
    running = threading.Thread(target=worker.run, kwargs={"poll_interval": 0.02}, daemon=True)
    running.start()
    try:
        assert slow_started.wait(10)
        deadline = threading.Event()
        for _ in range(500):  # while "slow" is stuck on its first event ...
            if len(fast.calls) == 6 and flow.get("E-9").state == "payment_link_issued":
                break
            deadline.wait(0.02)
        assert len(fast.calls) == 6  # ... every event reached "fast" ...
        assert flow.get("E-9").state == "payment_link_issued"  # ... and the outbox call was made
    finally:
        release.set()
        worker.stopping.set()
        running.join(30)
    assert store.delivery_counts()[("slow", "done")] >= 1


def test_a_transactional_handler_writes_exactly_once_with_the_record_of_its_success(client, tmp_path, sandbox, buyer):
    store = Store(f"sqlite:///{tmp_path / 'shop.db'}")
    mails = sa.Table("sent_mails", sa.MetaData(), sa.Column("event_id", sa.String, primary_key=True),
                     sa.Column("order_id", sa.String))
    engine = sa.create_engine(store.url)
    store.schema_version()
    mails.create(engine)
    failures = [1]
    shop, served = make_shop(client, store, sandbox, handlers=Handlers(max_attempts=1))

    @shop.flow.on(OrderPaid, name="mail-ledger", transactional=True)
    def record_mail(event: OrderPaid, connection) -> None:
        connection.execute(mails.insert().values(event_id=event.id, order_id=event.order_id))
        if failures[0]:
            failures[0] -= 1
            raise RuntimeError("failed after writing: the write must go too")

    try:
        shop.flow.place("E-10", course_lines(), private_customer(), description="Курс")
        pay(shop.flow, buyer, sandbox, "E-10")
    finally:
        served.close()
    worker = Worker(shop.flow)
    worker.run(once=True)
    with engine.connect() as conn:
        assert conn.execute(sa.select(mails)).all() == []  # the failed attempt wrote nothing
    assert store.retry_deliveries(handler="mail-ledger") == 1
    worker.run(once=True)
    worker.run(once=True)
    with engine.connect() as conn:
        assert [row.order_id for row in conn.execute(sa.select(mails))] == ["E-10"]
    assert [d.status for d in store.deliveries(handler="mail-ledger")] == ["done"]
    engine.dispose()
    store.dispose()


def test_handlers_need_stable_names_and_event_classes():
    handlers = Handlers()
    with pytest.raises(ValidationError, match="stable name"):
        handlers.subscribe(lambda event: None, OrderPaid)
    with pytest.raises(ValidationError, match="not event classes"):
        handlers.subscribe(Recorder(), dict, name="x")
    with pytest.raises(ValidationError, match="at least one event class"):
        handlers.subscribe(Recorder(), name="x")
    handlers.subscribe(test_handlers_need_stable_names_and_event_classes, OrderPaid)
    assert handlers.names == ("test_events.test_handlers_need_stable_names_and_event_classes",)
    handlers.subscribe(test_handlers_need_stable_names_and_event_classes, OrderPaid)  # the same again: fine
    with pytest.raises(ValidationError, match="subscribed as"):
        handlers.subscribe(Recorder(), OrderPaid, name=handlers.names[0])
    with pytest.raises(ValidationError, match="must be > 0"):
        Handlers(max_attempts=0)
    assert [Handlers(retry_base_seconds=1, retry_cap_seconds=5).retry_delay(n) for n in (1, 2, 3, 4)] == [1, 2, 4, 5]


def test_an_event_id_is_a_random_version_4_uuid_in_hex():
    ids = [new_event_id() for _ in range(2000)]
    assert len(set(ids)) == len(ids)
    for event_id in ids[:200]:
        parsed = uuid.UUID(hex=event_id)
        assert (parsed.version, parsed.variant, parsed.hex) == (4, uuid.RFC_4122, event_id)
