"""Hostile notifications: malformed, forged, oversized and replayed bodies never crash the
webhook, never get a 5xx, never change the store, and each gets its documented answer.

The bodies are built around real orders in every interesting state (paid, shipped, refunded,
unpaid, canceled) that went through the sandbox, and around the exact bytes InvoiceBox really
delivered for them (replays). An *oracle* says which answer each body must get; it only needs
the few fields the documented answers depend on (signature, ``merchantId``, ``id``,
``merchantOrderId``, ``status``, ``amount``, ``currencyId``), so every other field is fuzzed
freely. A correctly signed body that would legitimately pay, cancel or expire an order is
never generated: only InvoiceBox can sign, and what it signs is not hostile.

The second half runs a whole lifecycle with failures while capturing every log record (root
logger at DEBUG) and stderr, and checks that neither the API token nor the notification key
ever appears there, in an error text, or in a ``repr()``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import secrets
import sqlite3
import uuid
from decimal import Decimal
from typing import Any

import attrs
import pytest
import requests
from helpers import course_lines, goods_lines, legal_customer, make_shop, private_customer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import make_url

from invoicebox_flow import jsonutil
from invoicebox_flow.client import InvoiceboxClient
from invoicebox_flow.engine import OrderFlow
from invoicebox_flow.errors import InvoiceboxFlowError
from invoicebox_flow.flows import State
from invoicebox_flow.signature import SIGNATURE_HEADER, sign
from invoicebox_flow.store import Store
from invoicebox_flow.webhook import MAX_BODY_BYTES

TOTAL_BODIES = 10_000  # issue 6: at least this many hostile bodies per run
HTTP_SAMPLE = 300  # of which this many also travel through the WSGI app over real HTTP
BATCH = 10  # cases per Hypothesis example

SUCCESS = "success"
SIGNATURE_ERROR = "signature_error"
NOT_FOUND = "order_not_found"
WRONG_AMOUNT = "order_wrong_amount"
ALREADY_PAID = "order_already_paid"
DOCUMENTED = {SUCCESS, SIGNATURE_ERROR, NOT_FOUND, WRONG_AMOUNT, ALREADY_PAID, "shipping_unavailable",
              "out_of_service"}

# Forged signature headers may hold any text, and signed bodies may nest far deeper than the
# parser's recursion limit: both once crashed the handler into out_of_service.
MAX_NESTING = 3_000

FUZZ_SETTINGS = dict(deadline=None, database=None, print_blob=True,
                     suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                            HealthCheck.filter_too_much, HealthCheck.large_base_example])


@attrs.frozen
class Case:
    """One hostile request and the answers the documentation allows for it."""

    label: str
    body: bytes
    headers: tuple[tuple[str, str], ...]
    expected: frozenset[str]


@attrs.frozen
class Orders:
    """The real orders the fuzzer aims at, and what InvoiceBox really sent about them."""

    key: str
    merchant_id: str
    paid: list[dict]  # order JSON (as notified) of orders that are paid, shipped or refunded
    unpaid: dict  # order JSON of an order with a payment link, not paid
    canceled: dict  # order JSON of an order canceled before payment
    deliveries: list[tuple[bytes, str]]  # exact (body, signature) InvoiceBox delivered and the shop accepted


# --- the real orders -------------------------------------------------------------------------


def _pay(flow: OrderFlow, buyer, order_id: str) -> None:
    url = flow.redirect_buyer(order_id)
    buyer.pay(url)


def prepare_orders(flow: OrderFlow, sandbox, buyer, notification_url: str) -> Orders:
    """Paid, shipped, refunded, unpaid and canceled orders, really run through the sandbox."""
    run = uuid.uuid4().hex[:8]
    paid = flow.place(f"FZ-{run}-paid", course_lines(), private_customer(), description="Курс")
    shipped = flow.place(f"FZ-{run}-shipped", goods_lines(), legal_customer(sole_proprietor=True), description="Книги")
    refunded = flow.place(f"FZ-{run}-refunded", goods_lines(), private_customer(), description="Книги")
    unpaid = flow.place(f"FZ-{run}-unpaid", course_lines(), legal_customer(), description="Курс")
    canceled = flow.place(f"FZ-{run}-canceled", course_lines(), private_customer(), description="Курс")
    for order in (paid, shipped, refunded):
        _pay(flow, buyer, order.order_id)
    flow.redirect_buyer(unpaid.order_id)
    flow.cancel(canceled.order_id)
    sandbox.wait_idle()
    flow.ship(shipped.order_id)
    flow.refund(refunded.order_id)
    sandbox.send_test_notification(url=notification_url)
    sandbox.wait_idle()
    expected = {paid.order_id: State.PAID, shipped.order_id: State.SHIPPED, refunded.order_id: State.REFUNDED,
                unpaid.order_id: State.BUYER_REDIRECTED, canceled.order_id: State.CANCELED}
    assert {oid: flow.get(oid).state for oid in expected} == expected

    def notified(order_id: str, status: str) -> dict:
        data = sandbox.order(flow.get(order_id).invoicebox_id)
        return jsonutil.loads(jsonutil.dumps(dict(data, status=status)))

    deliveries = [(n["body"].encode("utf-8"), n["signature"]) for n in sandbox.notifications()
                  if n["delivered"]]
    assert len(deliveries) == 4  # three payments and the monitoring test notification
    return Orders(key=flow.notification_key, merchant_id=flow.merchant_id,
                  paid=[notified(o.order_id, "completed") for o in (paid, shipped, refunded)],
                  unpaid=notified(unpaid.order_id, "completed"),
                  canceled=notified(canceled.order_id, "completed"), deliveries=deliveries)


# --- the store must not move -----------------------------------------------------------------


class StoreWatch:
    """Cheap per-request check on the store's SQLite file: rows in every table and the sum of
    order versions (one open autocommit connection sees every commit)."""

    def __init__(self, db_path) -> None:
        self._conn = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)

    def fingerprint(self) -> tuple:
        return self._conn.execute(
            "SELECT (SELECT count(*) FROM orders), (SELECT coalesce(sum(version), 0) FROM orders),"
            " (SELECT count(*) FROM journal), (SELECT count(*) FROM processed_notifications),"
            " (SELECT count(*) FROM outbox)").fetchone()

    def close(self) -> None:
        self._conn.close()


def store_dump(db_path) -> dict[str, list]:
    """Every row of every table: compared before and after a whole run."""
    with sqlite3.connect(db_path) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        return {t: conn.execute(f'SELECT * FROM "{t}" ORDER BY 1').fetchall() for t in tables}


# --- strategies ------------------------------------------------------------------------------

json_scalars = st.none() | st.booleans() | st.integers(-(10**30), 10**30) | st.text(max_size=20) | st.decimals(
    allow_nan=False, allow_infinity=False, places=2, min_value=-(10**12), max_value=10**12)
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=5)
# Unknown top-level fields: arbitrary JSON under names no model field uses.
extra_fields = st.dictionaries(st.sampled_from(["x_note", "x_meta", "x_extended", "x_"]),
                               json_scalars | st.lists(json_scalars, max_size=2), max_size=2)


def dump(obj: Any) -> bytes:
    return jsonutil.dumps_php(obj).encode("utf-8")


def signed(body: bytes, key: str, header: str = SIGNATURE_HEADER) -> tuple[tuple[str, str], ...]:
    return ((header, sign(body, key)), ("Content-Type", "application/json"))


def header_name() -> st.SearchStrategy[str]:
    return st.sampled_from([SIGNATURE_HEADER, "x-signature", "X-SIGNATURE"])


@st.composite
def forged(draw, orders: Orders) -> Case:
    """A body with a missing, wrong, misplaced or stale signature."""
    body = draw(st.one_of(
        st.sampled_from([b for b, _ in orders.deliveries]),
        st.sampled_from([*orders.paid, orders.unpaid, orders.canceled]).map(dump),
        st.binary(max_size=300),
    ))
    other_key = draw(st.text(min_size=1, max_size=30).filter(lambda k: k != orders.key))
    kind = draw(st.sampled_from(["missing", "empty", "random", "wrong-key", "other-body", "tampered",
                                 "truncated", "wrong-header"]))
    name = draw(header_name())
    headers: list[tuple[str, str]] = [("Content-Type", "application/json")]
    if kind == "empty":
        headers.append((name, draw(st.sampled_from(["", " ", "\t"]))))
    elif kind == "random":
        headers.append((name, draw(st.text(max_size=60))))
    elif kind == "wrong-key":
        headers.append((name, sign(body, other_key)))
    elif kind == "other-body":
        headers.append((name, sign(body + draw(st.binary(min_size=1, max_size=8)), orders.key)))
    elif kind == "tampered":  # signed, then changed in transit
        signature = sign(body, orders.key)
        position = draw(st.integers(0, max(len(body) - 1, 0)))
        flipped = bytes([(body[position] if body else 0) ^ draw(st.integers(1, 255))])
        body = body[:position] + flipped + body[position + 1:]
        headers.append((name, signature))
    elif kind == "truncated":
        headers.append((name, sign(body, orders.key)[:draw(st.integers(0, 39))]))
    elif kind == "wrong-header":
        headers.append((draw(st.sampled_from(["Signature", "X-Signature-Sha1", "X-Sign", "Authorization"])),
                        sign(body, orders.key)))
    return Case(f"forged:{kind}", body, tuple(headers), frozenset({SIGNATURE_ERROR}))


@st.composite
def oversized(draw, orders: Orders) -> Case:
    """Bodies beyond the size any notification has, with or without a valid signature."""
    size = MAX_BODY_BYTES + draw(st.integers(1, 64 * 1024))
    body = draw(st.sampled_from([b" ", b"{", b"x", b"\xff"])) * size
    if draw(st.booleans()):
        base = draw(st.sampled_from([b for b, _ in orders.deliveries]))
        body = base + b" " * (size - len(base))  # a real notification padded with whitespace
    headers = signed(body, orders.key) if draw(st.booleans()) else ()
    return Case("oversized", body, tuple(headers), frozenset({SIGNATURE_ERROR}))


def _nested(depth: int, opener: bytes, closer: bytes) -> bytes:
    return opener * depth + closer * depth


@st.composite
def signed_garbage(draw, orders: Orders) -> Case:
    """Correctly signed bytes that are not an order: InvoiceBox's own mistake, answered
    ``order_not_found`` (the webhook's documented answer for a body that is not an order)."""
    body = draw(st.one_of(
        st.binary(max_size=500),
        st.text(max_size=200).map(lambda s: s.encode("utf-8")),
        json_values.filter(lambda v: not isinstance(v, dict)).map(dump),
        st.dictionaries(st.text(max_size=12), json_values, max_size=6).map(dump),
        st.integers(1, MAX_NESTING).flatmap(lambda d: st.sampled_from([_nested(d, b"[", b"]"),
                                                                 _nested(d, b'{"a":', b"}") + b"1"])),
        st.sampled_from([b"", b"null", b"NaN", b"-Infinity", b'{"id":NaN}', b"1e999999", b"9" * 5000,
                         b'{"merchantId":null}', b"\xef\xbb\xbf{}", b'{"a":1,"a":2}']),
    ))
    return Case("signed:garbage", body, signed(body, orders.key, draw(header_name())), frozenset({NOT_FOUND}))


@st.composite
def signed_not_ours(draw, orders: Orders) -> Case:
    """Real order JSON, correctly signed, but for another merchant or for orders we never had."""
    data = dict(draw(st.sampled_from([*orders.paid, orders.unpaid, orders.canceled])))
    kind = draw(st.sampled_from(["merchant", "unknown-order", "no-ids"]))
    if kind == "merchant":
        data["merchantId"] = draw(st.one_of(st.uuids().map(str), st.text(max_size=20), json_values)
                                  .filter(lambda v: v != orders.merchant_id))
    elif kind == "unknown-order":
        data["id"] = str(draw(st.uuids()))
        data["merchantOrderId"] = "NOPE-" + draw(st.text(max_size=20))
    else:
        data.pop("id", None)
        data.pop("merchantOrderId", None)
    data.update(draw(extra_fields))
    body = dump(data)
    return Case(f"signed:{kind}", body, signed(body, orders.key), frozenset({NOT_FOUND}))


def _not_equal_amount(real: Decimal):
    def check(value: Any) -> bool:
        try:
            return Decimal(str(value)) != real
        except ArithmeticError:
            return True
    return check


@st.composite
def signed_wrong_money(draw, orders: Orders) -> Case:
    """The unpaid order, "completed", correctly signed, with another amount or currency."""
    data = dict(orders.unpaid)
    real = Decimal(str(data["amount"]))
    if draw(st.booleans()):
        data["amount"] = draw(st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False,
                                          allow_infinity=False).filter(_not_equal_amount(real)))
    else:
        data["currencyId"] = draw(st.sampled_from(["USD", "EUR", "rub", "", "RUR", "643"]))
    data.update(draw(extra_fields))
    body = dump(data)
    return Case("signed:wrong-money", body, signed(body, orders.key), frozenset({WRONG_AMOUNT}))


@st.composite
def signed_odd_amount(draw, orders: Orders) -> Case:
    """The unpaid order with an amount that is not a number of roubles at all: never paid by
    it; answered as a wrong amount or as a body that is not an order."""
    data = dict(orders.unpaid)
    real = Decimal(str(data["amount"]))
    data["amount"] = draw(st.one_of(st.text(max_size=12), st.lists(json_scalars, max_size=2), st.booleans(),
                                    st.decimals(places=5, allow_nan=False, allow_infinity=False,
                                                min_value=-(10**20), max_value=10**20))
                          .filter(_not_equal_amount(real)))
    body = dump(data)
    return Case("signed:odd-amount", body, signed(body, orders.key), frozenset({WRONG_AMOUNT, NOT_FOUND}))


@st.composite
def signed_other_invoicebox_order(draw, orders: Orders) -> Case:
    """Our merchantOrderId under another InvoiceBox order id: already paid for paid orders,
    not ours otherwise."""
    base = draw(st.sampled_from([*orders.paid, orders.unpaid, orders.canceled]))
    data = dict(base, id=str(draw(st.uuids())))
    data.update(draw(extra_fields))
    body = dump(data)
    expected = ALREADY_PAID if base in orders.paid else NOT_FOUND
    return Case("signed:other-invoicebox-order", body, signed(body, orders.key), frozenset({expected}))


@st.composite
def signed_late_payment(draw, orders: Orders) -> Case:
    """A payment for the order the shop canceled: it no longer sells it."""
    data = dict(orders.canceled)
    data.update(draw(extra_fields))
    body = dump(data)
    return Case("signed:payment-after-cancel", body, signed(body, orders.key), frozenset({NOT_FOUND}))


@st.composite
def replayed(draw, orders: Orders) -> Case:
    """What InvoiceBox already delivered, again: exactly, with other header spellings, with
    extra fields, or with another status for an order that is paid anyway. Answered success,
    changing nothing."""
    kind = draw(st.sampled_from(["exact", "exact", "extra-fields", "other-status"]))
    if kind == "exact":
        body, signature = draw(st.sampled_from(orders.deliveries))
        headers = ((draw(header_name()), draw(st.sampled_from([signature, signature.upper(), f" {signature} "]))),)
        return Case("replay:exact", body, headers, frozenset({SUCCESS}))
    data = dict(draw(st.sampled_from(orders.paid)))
    if kind == "other-status":
        data["status"] = draw(st.one_of(st.sampled_from(["created", "canceled", "expired", "cancelled", "refunded"]),
                                        st.text(max_size=12)).filter(lambda s: s != "completed"))
    data.update(draw(extra_fields))
    body = dump(data)
    return Case(f"replay:{kind}", body, signed(body, orders.key), frozenset({SUCCESS}))


@st.composite
def confused_types(draw, orders: Orders) -> Case:
    """Known fields of a paid or canceled order with values of the wrong type: the body is
    not an order (or, for the paid ones, the fields that matter still say "already paid")."""
    base = draw(st.sampled_from([*orders.paid, orders.canceled]))
    data = dict(base)
    for name in draw(st.lists(st.sampled_from(["basketItems", "customer", "createdAt", "paidAt", "vatAmount",
                                               "description", "expirationDate", "paymentUrl", "languageId"]),
                              min_size=1, max_size=3, unique=True)):
        data[name] = draw(json_values)
    body = dump(data)
    expected = {NOT_FOUND, SUCCESS} if base in orders.paid else {NOT_FOUND}
    return Case("signed:confused-types", body, signed(body, orders.key), frozenset(expected))


def hostile_cases(orders: Orders) -> st.SearchStrategy[Case]:
    return st.one_of(forged(orders), oversized(orders), signed_garbage(orders), signed_not_ours(orders),
                     signed_wrong_money(orders), signed_odd_amount(orders), signed_other_invoicebox_order(orders),
                     signed_late_payment(orders), replayed(orders), confused_types(orders))


# --- checking one answer ---------------------------------------------------------------------


def check_answer(case: Case, status: int, headers, body: bytes) -> str:
    """The answer is HTTP 200 with the documented JSON; returns its code (``success`` or the error)."""
    assert status == 200, f"{case.label}: HTTP {status}"
    assert ("Content-Type", "application/json") in list(headers), f"{case.label}: {headers}"
    answer = json.loads(body)
    if answer["status"] == "success":
        assert set(answer) == {"status"}, answer
        code = SUCCESS
    else:
        assert answer["status"] == "error", answer
        code = answer["code"]
    assert code in DOCUMENTED, f"{case.label}: undocumented code {code!r}"
    assert code in case.expected, f"{case.label}: answered {answer}, expected one of {sorted(case.expected)}"
    return code


@pytest.fixture
def fuzz_target(shop, sandbox, buyer, store):
    orders = prepare_orders(shop.flow, sandbox, buyer, shop.notification_url)
    db_path = make_url(store.url).database  # the store fixture's SQLite file
    watch = StoreWatch(db_path)
    yield shop, orders, db_path, watch
    watch.close()


def batches(orders: Orders) -> st.SearchStrategy[list[Case]]:
    # Hypothesis costs about 2 ms per example here, whatever its size: drawing cases in batches
    # keeps 10,000 bodies within the time budget, and a failure still shrinks to one case.
    return st.lists(hostile_cases(orders), min_size=BATCH, max_size=BATCH)


@pytest.mark.slow  # 40 s on 2 idle cores (10,000 bodies)
def test_ten_thousand_hostile_notifications_change_nothing(fuzz_target):
    shop, orders, db_path, watch = fuzz_target
    flow = shop.flow
    before = store_dump(db_path)
    fingerprint = watch.fingerprint()
    answered: dict[str, int] = {}

    @settings(max_examples=TOTAL_BODIES // BATCH, **FUZZ_SETTINGS)
    @given(batches(orders))
    def send(cases: list[Case]) -> None:
        for case in cases:
            status, headers, body = flow.handle_notification(case.body, list(case.headers))
            code = check_answer(case, status, headers, body)
            assert watch.fingerprint() == fingerprint, f"{case.label} changed the store"
            answered[code] = answered.get(code, 0) + 1

    send()
    assert sum(answered.values()) >= TOTAL_BODIES, answered
    # every documented answer was exercised, so a handler answering one code to all would fail
    assert {SUCCESS, SIGNATURE_ERROR, NOT_FOUND, WRONG_AMOUNT, ALREADY_PAID} <= set(answered), answered
    assert store_dump(db_path) == before


def on_the_wire(value: str) -> bytes:
    """A header value as HTTP can carry it: bytes (any text, UTF-8 encoded), without the
    surrounding whitespace and line breaks that requests refuses to send. A forged value
    stays forged."""
    return value.strip().replace("\r", "").replace("\n", "").encode("utf-8")


def test_hostile_notifications_over_http_through_the_wsgi_app(fuzz_target):
    shop, orders, db_path, _watch = fuzz_target
    before = store_dump(db_path)
    session = requests.Session()
    session.trust_env = False
    answered: dict[str, int] = {}

    @settings(max_examples=HTTP_SAMPLE // BATCH, **FUZZ_SETTINGS)
    @given(batches(orders))
    def post(cases: list[Case]) -> None:
        for case in cases:
            headers = {name: on_the_wire(value) for name, value in case.headers}
            response = session.post(shop.notification_url, data=case.body, headers=headers, timeout=30)
            code = check_answer(case, response.status_code, response.headers.items(), response.content)
            answered[code] = answered.get(code, 0) + 1

    post()
    assert sum(answered.values()) >= HTTP_SAMPLE
    # the endpoint refuses other methods and paths without a server error
    assert session.get(shop.notification_url, timeout=10).status_code == 405
    assert session.post(shop.notification_url + "/x", data=b"{}", timeout=10).status_code == 404
    assert store_dump(db_path) == before


# --- once bugs: any text in a forged signature, nesting beyond the recursion limit ---------


def test_a_non_ascii_forged_signature_is_a_signature_error(flow):
    status, _, body = flow.handle_notification(b"{}", {SIGNATURE_HEADER: "\x80" * 40})
    assert (status, json.loads(body)) == (200, {"status": "error", "code": "signature_error"})


def test_deeply_nested_signed_json_is_not_an_order(flow):
    body = b"[" * 5000 + b"]" * 5000
    status, _, answer = flow.handle_notification(body, {SIGNATURE_HEADER: sign(body, flow.notification_key)})
    reply = json.loads(answer)
    assert (status, reply["status"], reply["code"]) == (200, "error", "order_not_found")


# --- secrets never leak ----------------------------------------------------------------------


class CaptureAll(logging.Handler):
    """Every record, fully formatted (message, arguments, traceback, stack)."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s %(threadName)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def all_logs():
    """The root logger at DEBUG, and every logger that does not propagate, into one handler."""
    handler = CaptureAll()
    root = logging.getLogger()
    old_level = root.level
    root.setLevel(logging.DEBUG)
    root.addHandler(handler)
    isolated = [lg for lg in logging.root.manager.loggerDict.values()
                if isinstance(lg, logging.Logger) and not lg.propagate]
    for lg in isolated:
        lg.addHandler(handler)
    yield handler
    for lg in isolated:
        lg.removeHandler(handler)
    root.removeHandler(handler)
    root.setLevel(old_level)


def test_a_full_run_with_failures_never_shows_the_token_or_the_key(all_logs, capfd, tmp_path, buyer):
    from invoicebox_flow.sandbox import Sandbox

    token = secrets.token_hex(16)
    key = "nk-" + secrets.token_urlsafe(24)
    wrong_token = secrets.token_hex(16)
    errors: list[BaseException] = []

    def expect_failure(call, *args, **kwargs):
        try:
            call(*args, **kwargs)
        except InvoiceboxFlowError as exc:
            errors.append(exc)
            return exc
        raise AssertionError(f"{call.__name__} was expected to fail")

    with Sandbox(token=token, notification_key=key, notification_retry_delays=(0.02,) * 10) as ib:
        store = Store(f"sqlite:///{tmp_path / 'secrets.db'}")
        client = InvoiceboxClient(token, base_url=ib.url, timeout=(1.0, 0.3), backoff_base=0.01, retry_after_max=0.01,
                                  rate_limit=None)
        shop, served = make_shop(client, store, ib, retry_cap_seconds=0.05)
        flow = shop.flow
        try:
            client.check_auth()
            with InvoiceboxClient(wrong_token, base_url=ib.url, max_read_retries=0) as intruder:
                expect_failure(intruder.check_auth)

            # creation fails without an answer, is recorded, and completes on resume
            ib.inject_fault("create_order", "server_error")
            ib.inject_fault("find_orders", "server_error", times=4)
            expect_failure(flow.place, "SEC-1", course_lines(), private_customer(), description="Курс")
            _resume_until(flow, "SEC-1", State.PAYMENT_LINK_ISSUED)
            url = flow.redirect_buyer("SEC-1")
            ib.inject_notification_fault("duplicate")
            buyer.pay(url)
            ib.wait_idle()
            assert flow.get("SEC-1").state is State.PAID

            # hostile notifications: forged, wrong amount, not JSON, and an internal failure
            body = dump(dict(ib.order(flow.get("SEC-1").invoicebox_id), amount=Decimal("1.00")))
            flow.handle_notification(body, {SIGNATURE_HEADER: "0" * 40})
            flow.handle_notification(body, {SIGNATURE_HEADER: sign(body, key)})
            flow.handle_notification(b"\xff", {SIGNATURE_HEADER: sign(b"\xff", key)})
            broken = OrderFlow(client, Store(f"sqlite:///{tmp_path / 'missing' / 'x.db'}"),
                               merchant_id=ib.merchant_id, notification_key=key)
            status, _, answer = broken.handle_notification(body, {SIGNATURE_HEADER: sign(body, key)})
            assert (status, json.loads(answer)["code"]) == (200, "out_of_service")

            # shipment times out, refunds are refused, rate limited, then go through
            # the call times out, and the look-up that follows fails too (not left to how fast the
            # machine is: a look-up later than the delay would find the shipment and succeed)
            ib.inject_fault("create_shipment", "slow", delay=0.6)
            ib.inject_fault("list_shipments", "server_error", times=4)
            expect_failure(flow.ship, "SEC-1")
            _resume_until(flow, "SEC-1", State.SHIPPED)
            expect_failure(flow.refund, "SEC-1", {"COURSE-PY-90": 5})
            ib.inject_fault("create_refund", "rate_limit", times=4)  # the first try and the three sent again
            expect_failure(flow.refund, "SEC-1", {"COURSE-PY-90": 1})
            _resume_until(flow, "SEC-1", State.PARTIALLY_REFUNDED)
            flow.refund("SEC-1")
            expect_failure(flow.ship, "SEC-1")
            ib.wait_idle()
            assert flow.get("SEC-1").state is State.REFUNDED

            reprs = [repr(client), repr(flow), repr(ib), repr(store), repr(flow.get("SEC-1")),
                     repr(broken), repr(shop)]
        finally:
            served.close()
            store.dispose()

    out, err = capfd.readouterr()
    texts = {
        "logs": "\n".join(all_logs.lines),
        "stdout/stderr": out + err,
        "errors": "\n".join(f"{type(e).__name__}: {e} {e!r} {e.__cause__!r}" for e in errors),
        "reprs": "\n".join(reprs),
    }
    for where, text in texts.items():
        for name, secret in (("API token", token), ("notification key", key), ("wrong token", wrong_token)):
            assert secret not in text, f"the {name} appears in the {where}"
    # the capture saw the run, failures included: otherwise the search above proves nothing
    assert "X-Request-Id" in texts["logs"]
    assert "Traceback" in texts["logs"]  # the webhook's internal failure, logged with its traceback
    assert len(all_logs.lines) > 30 and len(errors) >= 6


def _resume_until(flow: OrderFlow, order_id: str, state: State, rounds: int = 200) -> None:
    """Let the outbox finish what a failed call left (the lookup first, then the call)."""
    import time

    for _ in range(rounds):
        if flow.get(order_id).state is state:
            return
        with contextlib.suppress(InvoiceboxFlowError):  # a refusal now: the outbox retries later
            flow.resume(order_id=order_id)
        time.sleep(0.05)
    raise AssertionError(f"{order_id} stayed {flow.get(order_id).state.value}, expected {state.value}")
