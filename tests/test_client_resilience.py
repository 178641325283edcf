"""Resilience: safe create, read retries, writes that are never repeated, and pacing.

Faults are injected into the sandbox per endpoint (a 500 before or after the work is done, a
slow answer beyond the client's read timeout, a 429, a dropped connection); the request log of
the sandbox then shows exactly what the client sent. Retry waits are recorded instead of slept,
so the tests check the *chosen* delays without timing anything.
"""

from __future__ import annotations

import email.utils
import logging
import random
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone

import pytest

from invoicebox_flow.client import InvoiceboxClient
from invoicebox_flow.errors import (
    ApiError,
    AuthenticationError,
    InvalidRequestError,
    NotFoundError,
    RateLimitError,
    ResultUnknownError,
    ServerError,
    TransportError,
)
from invoicebox_flow.models import Order, OrderRequest, PrivateCustomer, RefundRequest, ShipmentRequest, basket_line
from invoicebox_flow.ratelimit import RateLimiter
from invoicebox_flow.retry import ReadRetryPolicy, is_retryable, parse_retry_after
from invoicebox_flow.sandbox import Buyer, Sandbox

READ_TIMEOUT = 0.5
SLOW = 1.0  # an injected slow answer: well beyond READ_TIMEOUT


@pytest.fixture
def ib() -> Iterator[Sandbox]:
    with Sandbox() as sandbox:
        yield sandbox


class RecordedSleeps(list):
    """Stands in for ``time.sleep`` in the retry policy: remembers each wait, waits not."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def make_client(ib: Sandbox, sleeps: RecordedSleeps | None = None, max_read_retries: int = 3, **kwargs) -> InvoiceboxClient:
    options = dict(base_url=ib.url, timeout=(2.0, READ_TIMEOUT), rate_limit=None)
    options.update(kwargs)
    client = InvoiceboxClient(ib.token, max_read_retries=max_read_retries, **options)
    client.retry_policy = ReadRetryPolicy(max_retries=max_read_retries, backoff_base=0.5, backoff_max=8.0,
                                          retry_after_max=kwargs.get("retry_after_max", 60.0),
                                          sleep=sleeps if sleeps is not None else RecordedSleeps())
    return client


@pytest.fixture
def sleeps() -> RecordedSleeps:
    return RecordedSleeps()


@pytest.fixture
def client(ib, sleeps) -> Iterator[InvoiceboxClient]:
    with make_client(ib, sleeps) as c:
        yield c


def order_request(ib: Sandbox, merchant_order_id: str = "SHOP-1") -> OrderRequest:
    return OrderRequest(
        merchant_id=ib.merchant_id,
        merchant_order_id=merchant_order_id,
        description="Онлайн-курс",
        basket_items=[basket_line(sku="COURSE", name="Онлайн-курс, доступ 90 дней", unit_price="1200.00", quantity=2,
                                 vat_code="RUS_VAT20")],
        customer=PrivateCustomer(name="Анна Смирнова", email="anna@example.org"),
        expiration_date=datetime.now(timezone.utc) + timedelta(days=1),
    )


def refund_request(order: Order, merchant_order_id: str = "SHOP-1-R1") -> RefundRequest:
    return RefundRequest(parent_id=order.id, merchant_order_id=merchant_order_id, description="Возврат",
                         basket_items=[basket_line(sku="COURSE", name="Онлайн-курс, доступ 90 дней",
                                                   unit_price="1200.00", quantity=1, vat_code="RUS_VAT20")])


def paid_order(client: InvoiceboxClient, ib: Sandbox) -> Order:
    order = client.create_order(order_request(ib))
    Buyer().pay(order.payment_url)
    return client.get_order(order.id)


def calls(ib: Sandbox, endpoint: str) -> list[dict]:
    return [r for r in ib.requests() if r["endpoint"] == endpoint]


def statuses(ib: Sandbox, endpoint: str) -> list[int | None]:
    return [r["status"] for r in calls(ib, endpoint)]


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Poll until ``condition`` holds: a slow answer is logged by the sandbox only once sent."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.02)


# --- safe create: orders ---------------------------------------------------------------------------


@pytest.mark.parametrize("fault", ["slow_after_commit", "server_error_after_commit", "drop_after_commit"])
def test_a_lost_answer_after_the_order_was_created_returns_that_one_order(ib, client, caplog, fault):
    caplog.set_level(logging.INFO, logger="invoicebox_flow.client")
    ib.inject_fault("create_order", fault, delay=SLOW if fault.startswith("slow") else None)
    order = client.create_order(order_request(ib, "SHOP-LOST"))
    assert isinstance(order, Order)
    assert order.merchant_order_id == "SHOP-LOST" and order.status == "created"
    assert [o["id"] for o in ib.orders()] == [order.id]  # exactly one order
    wait_for(lambda: len(calls(ib, "create_order")) == 1)
    assert len(calls(ib, "create_order")) == 1  # the POST was not repeated …
    assert calls(ib, "find_orders")  # … the client looked the order up instead
    assert "recovered" in caplog.text and order.id in caplog.text


@pytest.mark.parametrize("fault", ["server_error", "drop"])
def test_a_create_that_did_not_happen_is_result_unknown_and_leaves_nothing(ib, client, fault):
    ib.inject_fault("create_order", fault)
    with pytest.raises(ResultUnknownError) as caught:
        client.create_order(order_request(ib, "SHOP-GONE"))
    assert caught.value.merchant_order_id == "SHOP-GONE"
    assert isinstance(caught.value.cause, (ServerError, TransportError))
    assert ib.orders() == []
    assert len(calls(ib, "create_order")) == 1


def test_an_order_created_after_the_client_gave_up_is_found_later_by_its_merchant_order_id(ib, client):
    """``slow`` handles the request only after the client's read timeout: at look-up time the
    order does not exist yet, so the result is honestly unknown — and reconciling later by the
    same merchantOrderId finds it. (This is why one must not resend under a new id.)"""
    ib.inject_fault("create_order", "slow", delay=2 * SLOW)  # room for the look-up to finish first
    with pytest.raises(ResultUnknownError) as caught:
        client.create_order(order_request(ib, "SHOP-LATE"))
    assert caught.value.cause.timeout
    wait_for(lambda: len(ib.orders()) == 1)
    assert client.find_order_by_merchant_order_id("SHOP-LATE").id == ib.orders()[0]["id"]


def test_when_the_look_up_fails_too_the_result_is_unknown(ib, client):
    ib.inject_fault("create_order", "server_error_after_commit")
    ib.inject_fault("find_orders", "server_error", times=4)  # the first try and all three retries
    with pytest.raises(ResultUnknownError) as caught:
        client.create_order(order_request(ib, "SHOP-DARK"))
    assert "look-up" in str(caught.value)
    assert len(ib.orders()) == 1  # it did happen; reconciliation by "SHOP-DARK" will find it
    assert statuses(ib, "find_orders") == [500] * 4


def test_a_rate_limited_create_raises_at_once(ib, client):
    ib.inject_fault("create_order", "rate_limit", delay=7)
    with pytest.raises(RateLimitError) as caught:
        client.create_order(order_request(ib))
    assert caught.value.retry_after == 7
    assert calls(ib, "find_orders") == []  # a 4xx means "not done": nothing to reconcile
    assert ib.orders() == []


# --- safe create: refunds ----------------------------------------------------------------------------


@pytest.mark.parametrize("fault", ["slow_after_commit", "server_error_after_commit"])
def test_a_lost_answer_after_the_refund_was_created_returns_that_one_refund(ib, client, fault):
    order = paid_order(client, ib)
    ib.inject_fault("create_refund", fault, delay=SLOW if fault.startswith("slow") else None)
    refund = client.create_refund(refund_request(order))
    assert refund.merchant_order_id == "SHOP-1-R1" and refund.parent_id == order.id
    assert [r["id"] for r in ib.refunds()] == [refund.id]
    wait_for(lambda: len(calls(ib, "create_refund")) == 1)
    assert len(calls(ib, "create_refund")) == 1
    assert calls(ib, "list_refunds")


def test_a_refund_that_did_not_happen_is_result_unknown_and_leaves_nothing(ib, client):
    order = paid_order(client, ib)
    ib.inject_fault("create_refund", "server_error")
    with pytest.raises(ResultUnknownError) as caught:
        client.create_refund(refund_request(order))
    assert caught.value.merchant_order_id == "SHOP-1-R1"
    assert ib.refunds() == []
    assert len(calls(ib, "create_refund")) == 1


# --- other writes are never retried ------------------------------------------------------------------


def test_update_cancel_and_shipment_are_not_retried(ib, client):
    order = client.create_order(order_request(ib))
    ib.inject_fault("update_order", "server_error")
    with pytest.raises(ServerError):
        client.update_order(order.id, description="new")
    ib.inject_fault("cancel_order", "drop")
    with pytest.raises(TransportError) as caught:
        client.cancel_order(order.id)
    assert not caught.value.timeout
    ib.inject_fault("cancel_order", "slow", delay=SLOW)
    with pytest.raises(TransportError) as caught:
        client.cancel_order(order.id)
    assert caught.value.timeout
    ib.inject_fault("create_shipment", "server_error")
    with pytest.raises(ServerError):
        client.create_shipment(ShipmentRequest(order_id=order.id, basket_items=order.basket_items))
    wait_for(lambda: len(calls(ib, "cancel_order")) == 2)
    assert statuses(ib, "update_order") == [500]
    assert [s for s in statuses(ib, "cancel_order")] == [None, 200]  # dropped, then the slow one
    assert statuses(ib, "create_shipment") == [500]


# --- reads are retried ------------------------------------------------------------------------------


def test_reads_survive_two_server_errors(ib, client, sleeps):
    order = client.create_order(order_request(ib))
    ib.inject_fault("find_orders", "server_error", times=2)
    assert client.get_order(order.id).id == order.id
    assert statuses(ib, "find_orders") == [500, 500, 200]
    # Full jitter: each wait lies in [0, base·2^(n-1)].
    assert len(sleeps) == 2 and 0 <= sleeps[0] <= 0.5 and 0 <= sleeps[1] <= 1.0


def test_reads_survive_two_rate_limits_and_wait_as_told(ib, client, sleeps):
    ib.inject_fault("check_auth", "rate_limit", times=2, delay=3)
    assert client.check_auth().authenticated
    assert statuses(ib, "check_auth") == [429, 429, 200]
    assert sleeps == [3.0, 3.0]  # Retry-After, not the backoff


def test_retry_after_is_capped(ib, sleeps):
    with make_client(ib, sleeps, retry_after_max=2.0) as client:
        ib.inject_fault("check_auth", "rate_limit", delay=3600)
        client.check_auth()
    assert sleeps == [2.0]


def test_reads_survive_dropped_connections_and_timeouts(ib, client, sleeps):
    ib.inject_fault("list_refunds", "drop", times=2)
    assert client.list_refunds() == []
    assert statuses(ib, "list_refunds") == [None, None, 200]
    ib.inject_fault("list_shipments", "slow", delay=SLOW)
    assert client.list_shipments() == []
    assert len(sleeps) == 3


def test_every_read_endpoint_is_retried(ib, client):
    order = paid_order(client, ib)
    reads = {
        "check_auth": client.check_auth,
        "find_orders": lambda: client.find_orders(),
        "list_shipments": lambda: client.list_shipments(order_id=order.id),
        "refundable_items": lambda: client.refundable_items(order.id),
        "list_refunds": lambda: client.list_refunds(parent_id=order.id),
    }
    for endpoint, read in reads.items():
        ib.inject_fault(endpoint, "server_error")
        read()
        assert statuses(ib, endpoint)[-2:] == [500, 200], endpoint


def test_a_read_gives_up_after_max_read_retries(ib, client, sleeps):
    ib.inject_fault("check_auth", "server_error", times=4)
    with pytest.raises(ServerError) as caught:
        client.check_auth()
    assert caught.value.status == 500 and caught.value.code == "internal_error"
    assert statuses(ib, "check_auth") == [500] * 4
    assert len(sleeps) == 3


def test_client_errors_on_reads_are_not_retried(ib, sleeps):
    with make_client(ib, sleeps) as client:
        with pytest.raises(NotFoundError):
            client.refundable_items("00000000-0000-4000-8000-000000000000")
        with pytest.raises(InvalidRequestError):
            client.find_orders(filters={"amount[_between]": "1"})
    bad = InvoiceboxClient("0" * 32, base_url=ib.url, rate_limit=None)
    with pytest.raises(AuthenticationError):
        bad.check_auth()
    assert sleeps == []
    assert [r["status"] for r in ib.requests()] == [404, 422, 401]


# --- pacing -------------------------------------------------------------------------------------------


def test_the_sandbox_limit_is_real_without_a_client_limiter():
    """The control for the next test: unpaced, the sixth request in a window of five is a 429."""
    with Sandbox(rate_limit=5, rate_window=30.0) as ib:
        client = InvoiceboxClient(ib.token, base_url=ib.url, rate_limit=None, max_read_retries=0)
        for _ in range(5):
            client.check_auth()
        with pytest.raises(RateLimitError) as caught:
            client.check_auth()
    assert caught.value.retry_after is not None and caught.value.retry_after >= 1


def test_a_paced_burst_of_300_calls_sees_no_429():
    with Sandbox(rate_limit=60, rate_window=1.0) as ib:
        client = InvoiceboxClient(ib.token, base_url=ib.url, rate_limit=RateLimiter(60, 1.0), max_read_retries=0)
        results: list[bool] = []
        failures: list[BaseException] = []
        lock = threading.Lock()

        def worker(count: int) -> None:
            for _ in range(count):
                try:
                    ok = client.check_auth().authenticated
                except Exception as error:  # collected and asserted on below
                    with lock:
                        failures.append(error)
                    continue
                with lock:
                    results.append(ok)

        threads = [threading.Thread(target=worker, args=(75,)) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        logged = ib.requests()
    assert failures == []
    assert len(results) == 300 and all(results)
    assert len(logged) == 300
    assert [r for r in logged if r["status"] == 429] == []


def test_the_default_limiter_is_the_accounts_default_budget_and_per_client():
    a, b = InvoiceboxClient("t"), InvoiceboxClient("t")
    assert (a.rate_limit.limit, a.rate_limit.period) == (100, 30.0)
    assert a.rate_limit is not b.rate_limit
    shared = RateLimiter(10, 1.0)
    assert InvoiceboxClient("t", rate_limit=shared).rate_limit is shared
    assert InvoiceboxClient("t", rate_limit=None).rate_limit is None


# --- the retry policy itself ------------------------------------------------------------------------


def test_retry_after_in_seconds_or_as_an_http_date():
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after("-3") == 0.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    now = 1_700_000_000.0
    date = email.utils.formatdate(now + 30, usegmt=True)
    assert parse_retry_after(date, now=lambda: now) == pytest.approx(30.0)
    past = email.utils.formatdate(now - 30, usegmt=True)
    assert parse_retry_after(past, now=lambda: now) == 0.0


def test_backoff_is_full_jitter_under_an_exponential_ceiling():
    policy = ReadRetryPolicy(backoff_base=0.5, backoff_max=8.0, rng=random.Random(7))
    for attempt, ceiling in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (5, 8.0), (9, 8.0)]:
        delays = [policy.delay(attempt, ServerError("x", status=503)) for _ in range(200)]
        assert all(0 <= d <= ceiling for d in delays)
        assert max(delays) > ceiling * 0.8 and min(delays) < ceiling * 0.2  # spread, not fixed


def test_retry_after_wins_over_backoff_and_is_capped():
    policy = ReadRetryPolicy(retry_after_max=60.0)
    assert policy.delay(1, RateLimitError("x", status=429, retry_after=12.0)) == 12.0
    assert policy.delay(1, RateLimitError("x", status=429, retry_after=600.0)) == 60.0


@pytest.mark.parametrize("error, retryable", [
    (ServerError("x", status=500), True),
    (ServerError("x", status=503), True),
    (RateLimitError("x", status=429), True),
    (TransportError("x", timeout=True), True),
    (TransportError("x"), True),
    (InvalidRequestError("x", status=422), False),
    (NotFoundError("x", status=404), False),
    (AuthenticationError("x", status=401), False),
    (ValueError("x"), False),
])
def test_which_failures_are_retryable(error, retryable):
    assert is_retryable(error) is retryable


def test_408_and_425_are_retryable():
    assert is_retryable(ApiError("x", status=408)) and is_retryable(ApiError("x", status=425))
    assert not is_retryable(ApiError("x", status=409))
