"""``can_fulfil`` is asked once per accepted payment, however many copies of its notification
race in over HTTP, and its answer survives a lost compare-and-set and a crash: SQLite and
PostgreSQL, the sandbox's real signed notification, the shop's real endpoint."""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import threading
import time
import uuid

import db_fixtures
import pytest
import requests
import sqlalchemy as sa
from db_fixtures import postgres_schema
from helpers import course_lines, private_customer

from invoicebox_flow import LifecycleStep, OrderFlow, OrderPaid, Store
from invoicebox_flow.client import InvoiceboxClient
from invoicebox_flow.sandbox import Buyer, Sandbox
from invoicebox_flow.sandbox.testing import NotificationReceiver
from invoicebox_flow.serving import LoopbackServer
from invoicebox_flow.webhook import make_wsgi_app

COPIES = 5
db_url = db_fixtures.db_url  # the fixture: SQLite, and PostgreSQL when configured


class InFlight:
    """WSGI middleware counting the requests inside the shop's endpoint right now."""

    def __init__(self, app) -> None:
        self.app = app
        self.count = 0
        self.most = 0
        self._lock = threading.Condition()

    def __call__(self, environ, start_response):
        with self._lock:
            self.count += 1
            self.most = max(self.most, self.count)
            self._lock.notify_all()
        try:
            return list(self.app(environ, start_response))
        finally:
            with self._lock:
                self.count -= 1

    def wait_for(self, count: int, timeout: float = 10.0) -> bool:
        with self._lock:
            return self._lock.wait_for(lambda: self.count >= count, timeout)


def captured_payment(ib: Sandbox, flow: OrderFlow, order_id: str) -> tuple[bytes, dict[str, str]]:
    """Pay ``order_id`` on the sandbox's page; its signed notification goes to a receiver, not to
    the shop, so that the test can deliver the very same bytes itself."""
    with NotificationReceiver() as receiver:
        order = flow.place(order_id, course_lines(), private_customer(), description="Курс",
                           notification_url=receiver.url)
        flow.redirect_buyer(order_id)
        Buyer().pay(order.payment_url)
        [received] = receiver.wait_for(1)
    ib.wait_idle()
    return received.body, {"Content-Type": "application/json", "X-Signature": received.signature or ""}


def post_at_once(url: str, body: bytes, headers: dict[str, str], copies: int) -> list[dict]:
    """``copies`` POSTs of the same notification, released together."""
    start = threading.Barrier(copies)
    answers: list[dict] = [{}] * copies

    def send(i: int) -> None:
        start.wait()
        answers[i] = requests.post(url, data=body, headers=headers, timeout=30).json()

    threads = [threading.Thread(target=send, args=(i,)) for i in range(copies)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return answers


def shop(ib: Sandbox, store: Store, can_fulfil) -> tuple[OrderFlow, InFlight, LoopbackServer]:
    client = InvoiceboxClient(ib.token, base_url=ib.url, timeout=(2.0, 10.0))
    flow = OrderFlow(client, store, merchant_id=ib.merchant_id, notification_key=ib.notification_key,
                     success_url="http://shop.example/ok", fail_url="http://shop.example/fail", can_fulfil=can_fulfil)
    endpoint = InFlight(make_wsgi_app(flow))
    return flow, endpoint, LoopbackServer(endpoint)


@pytest.mark.parametrize("fulfil", [True, False], ids=["accepted", "refused"])
def test_five_copies_at_once_ask_the_shop_once_and_pay_once(db_url, fulfil):
    asked: list[str] = []
    holder: dict = {}

    def can_fulfil(order) -> bool:
        asked.append(order.order_id)
        holder["endpoint"].wait_for(COPIES)  # every copy is inside the shop while it decides
        return fulfil

    store = Store(db_url)
    with Sandbox() as ib:
        flow, endpoint, served = shop(ib, store, can_fulfil)
        holder["endpoint"] = endpoint
        try:
            body, headers = captured_payment(ib, flow, "N-1")
            answers = post_at_once(served.url + "/invoicebox/notification", body, headers, COPIES)
        finally:
            served.close()
    assert asked == ["N-1"] and endpoint.most == COPIES
    events = [e for e in flow.events() if e.order_id == "N-1"]
    if fulfil:
        assert answers == [{"status": "success"}] * COPIES
        assert [type(e) for e in events].count(OrderPaid) == 1 and flow.get("N-1").state == "paid"
    else:  # the copy that committed says why; the others are repeats of a processed notification
        assert sorted(a.get("code", "") for a in answers) == ["", "", "", "", "shipping_unavailable"]
        refused = [e for e in events if e.trigger == "refuse_shipping"]
        assert len(refused) == 1 and isinstance(refused[0], LifecycleStep)
        assert flow.get("N-1").state == "shipping_unavailable" and OrderPaid not in map(type, events)
    assert [e.trigger for e in flow.history("N-1")].count("refuse_shipping" if not fulfil else "confirm_payment") == 1
    store.dispose()


def test_a_lost_compare_and_set_after_the_answer_does_not_ask_again(tmp_path):
    asked: list[str] = []
    holder: dict = {}

    def can_fulfil(order) -> bool:
        asked.append(order.order_id)
        holder["flow"].buyer_returned(order.order_id)  # the buyer comes back meanwhile: a newer version
        return True

    store = Store(f"sqlite:///{tmp_path / 'shop.db'}")
    with Sandbox() as ib:
        flow, _, served = shop(ib, store, can_fulfil)
        holder["flow"] = flow
        try:
            body, headers = captured_payment(ib, flow, "N-2")
            answer = requests.post(served.url + "/invoicebox/notification", data=body, headers=headers, timeout=30)
        finally:
            served.close()
    assert answer.json() == {"status": "success"} and asked == ["N-2"]
    triggers = [e.trigger for e in flow.history("N-2")]
    assert triggers[-2:] == ["buyer_returned", "confirm_payment"] and flow.get("N-2").state == "paid"
    store.dispose()


# --- a crash after the answer was stored (PostgreSQL: a row lock holds the commit) -------------


def _crashing_shop(url: str, ib_url: str, token: str, merchant_id: str, key: str, asked_file: str, ready) -> None:
    """The shop in a process of its own: answers can_fulfil (recorded in a file), then is killed
    while its commit waits for the order's row."""
    def can_fulfil(order) -> bool:
        with open(asked_file, "a", encoding="utf-8") as f:
            f.write(order.order_id + "\n")
        return True

    store = Store(url)
    flow = OrderFlow(InvoiceboxClient(token, base_url=ib_url), store, merchant_id=merchant_id, notification_key=key,
                     can_fulfil=can_fulfil)
    served = LoopbackServer(make_wsgi_app(flow))
    ready.put(served.url + "/invoicebox/notification")
    time.sleep(600)  # until killed


@pytest.mark.postgres
@pytest.mark.timeout(120)
def test_an_answer_stored_before_a_crash_is_used_by_the_next_copy(tmp_path):
    application = f"crash-{uuid.uuid4().hex[:8]}"
    asked_file = str(tmp_path / "asked.txt")
    with postgres_schema() as base_url, Sandbox() as ib:
        child_url = sa.engine.make_url(base_url).update_query_dict({"application_name": application},
                                                                   append=False).render_as_string(hide_password=False)
        asked_here: list[str] = []
        store = Store(base_url)
        flow, _, served = shop(ib, store, lambda order: asked_here.append(order.order_id) or True)
        ctx = mp.get_context("spawn")
        ready = ctx.Queue()
        child = ctx.Process(target=_crashing_shop, args=(child_url, ib.url, ib.token, ib.merchant_id,
                                                         ib.notification_key, asked_file, ready), daemon=True)
        child.start()
        admin = sa.create_engine(base_url, poolclass=sa.pool.NullPool)
        try:
            body, headers = captured_payment(ib, flow, "N-3")
            child_endpoint = ready.get(timeout=60)
            with admin.connect() as lock:
                held = lock.begin()
                lock.execute(sa.text("SELECT id FROM orders WHERE id = 'N-3' FOR NO KEY UPDATE"))
                threading.Thread(target=lambda: _post_ignoring_reset(child_endpoint, body, headers), daemon=True).start()
                _until(lambda: store.decision(next(iter(_keys(admin)), "")) is True)  # the child answered ...
                _until(lambda: _waiting(admin, application))  # ... and its commit waits for the row
                child.kill()  # a crash: no rollback, no answer to InvoiceBox
                child.join(10)
                with admin.connect() as conn:  # its connection dies with it
                    conn.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                         "WHERE application_name = :app"), {"app": application})
                held.rollback()
            assert flow.get("N-3").state == "buyer_redirected"  # nothing of the child's commit is left
            answer = requests.post(served.url + "/invoicebox/notification", data=body, headers=headers, timeout=30)
        finally:
            served.close()
            if child.is_alive():
                child.kill()
            admin.dispose()
        assert answer.json() == {"status": "success"}
        with open(asked_file, encoding="utf-8") as f:
            assert f.read().split() == ["N-3"]  # asked once, by the process that crashed ...
        assert asked_here == []  # ... and not again by the one that committed with its answer
        assert flow.get("N-3").state == "paid"
        assert [type(e) for e in flow.events() if e.order_id == "N-3"].count(OrderPaid) == 1
        store.dispose()


def _post_ignoring_reset(url: str, body: bytes, headers: dict[str, str]) -> None:
    with contextlib.suppress(requests.RequestException):  # the shop dies mid-answer, as InvoiceBox would see it
        requests.post(url, data=body, headers=headers, timeout=60)


def _keys(engine) -> list[str]:
    with engine.connect() as conn:
        return [row[0] for row in conn.execute(sa.text("SELECT key FROM fulfilment_decisions"))]


def _waiting(engine, application: str) -> bool:
    with engine.connect() as conn:
        return bool(conn.scalar(sa.text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :app "
                                        "AND wait_event_type = 'Lock'"), {"app": application}))


def _until(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the crashing shop never got there")
        time.sleep(0.02)

