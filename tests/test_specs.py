"""Step definitions of the executable specs in ``features/`` (Russian Gherkin, pytest-bdd).

Every scenario drives the real :class:`~invoicebox_flow.engine.OrderFlow` against a live
sandbox over HTTP: the simulated :class:`~invoicebox_flow.sandbox.Buyer` opens the payment page
and pays or declines through it, the sandbox delivers its signed notification to the shop's
webhook served on loopback, and the ``Тогда`` steps look at what really happened — the stored
order and its journal, the sandbox's orders, receipts, documents, mailbox, notification
attempts and request log.

Each order a scenario works on is registered in ``spec_orders``; after the scenario the
conftest hook traces it (:func:`invoicebox_flow.tracing.collect`) for the diagram and coverage
checks of ``test_trace_matches_definitions.py``.
"""

from __future__ import annotations

import re
import secrets
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from decimal import Decimal
from html import unescape
from typing import Any

import pytest
import requests
from helpers import (
    FAST_RETRIES,
    Shop,
    course_lines,
    goods_lines,
    legal_customer,
    private_customer,
)
from pytest_bdd import given, parsers, scenarios, then, when

from invoicebox_flow import jsonutil
from invoicebox_flow.client import InvoiceboxClient
from invoicebox_flow.engine import OrderFlow
from invoicebox_flow.errors import (
    IllegalTransitionError,
    InvalidRequestError,
    RateLimitError,
    RefundLimitError,
    ResultUnknownError,
    ValidationError,
)
from invoicebox_flow.flows import DOCUMENTED_STATES, State
from invoicebox_flow.models import RefundRequest, basket_line
from invoicebox_flow.ratelimit import RateLimiter
from invoicebox_flow.sandbox import Buyer, Sandbox
from invoicebox_flow.serving import LoopbackServer
from invoicebox_flow.signature import SIGNATURE_HEADER, is_valid, sign
from invoicebox_flow.webhook import make_wsgi_app

# reconciliation.feature has its own step definitions (test_reconciliation_specs.py)
scenarios(*sorted(p.name for p in (Path(__file__).resolve().parent.parent / "features").glob("*.feature")
                  if p.name != "reconciliation.feature"))

SUCCESS_URL = "http://shop.example/ok"
FAIL_URL = "http://shop.example/fail"

# The states as the feature files name them: their Russian labels in the definition.
STATE_NAMES = {spec.ru: State(spec.name) for spec in DOCUMENTED_STATES}

RECEIPT_TYPES = {"предоплата 100%": "prepayment_full", "полный расчёт": "full_settlement", "возврат": "refund"}
DOCUMENT_KINDS = {"отчёт о переводе средств": "transfer_report", "акт": "act", "ТОРГ-12": "torg12"}
ERRORS = {
    "недопустимо в текущем состоянии": IllegalTransitionError,
    "превышает оплаченное": RefundLimitError,
    "ИнвойсБокс отклонил запрос": InvalidRequestError,
    "результат неизвестен": ResultUnknownError,
    "неверные данные": ValidationError,
}
BASKETS: dict[str, Callable[[], list]] = {
    "курс": course_lines,
    "товары": goods_lines,
    "курс и товары": lambda: course_lines() + goods_lines(),
}
CUSTOMERS: dict[str, Callable[[], Any]] = {
    "физическое лицо": private_customer,
    "организация": legal_customer,
    "ИП": lambda: legal_customer(sole_proprietor=True),
}


# --- the scenario's world -------------------------------------------------------------------


class World:
    """One scenario: its InvoiceBox, its shop, its buyer and the orders it works on.

    The sandbox, client and shop come from the conftest fixtures unless a ``Дано`` step builds
    its own (a rate-limited InvoiceBox, a shop with another key or another policy).
    """

    def __init__(self, request: pytest.FixtureRequest, spec_orders: list):
        self._request = request
        self._spec_orders = spec_orders
        self._sandbox: Sandbox | None = None
        self._client: InvoiceboxClient | None = None
        self._shop: Shop | None = None
        self.cleanups: list[Callable[[], None]] = []
        self.buyer = Buyer()
        self.orders: dict[str, str] = {}  # label in the scenario → the shop's order id
        self.customers: dict[str, Any] = {}  # order id → customer
        self.lines: dict[str, list] = {}  # order id → basket lines
        self.current = ""
        self.payment_urls: dict[str, str] = {}
        self.location: str | None = None
        self.page: str | None = None
        self.error: Exception | None = None
        self.before: dict | None = None
        self.answer: tuple[int, dict] | None = None
        self.test_attempt: dict | None = None
        self.refundable: list = []
        self.rate_limited = 0

    # --- the participants ---------------------------------------------------------------------

    @property
    def sandbox(self) -> Sandbox:
        if self._sandbox is None:
            self._sandbox = self._request.getfixturevalue("sandbox")
        return self._sandbox

    @property
    def client(self) -> InvoiceboxClient:
        if self._client is None:
            self._client = (self._request.getfixturevalue("client") if self._sandbox is None
                            else self.new_client())
        return self._client

    @property
    def shop(self) -> Shop:
        if self._shop is None:
            self._shop = (self._request.getfixturevalue("shop") if self._sandbox is None and self._client is None
                          else self.new_shop())
        return self._shop

    @property
    def flow(self) -> OrderFlow:
        return self.shop.flow

    @property
    def store(self):
        return self._request.getfixturevalue("store")

    def use_sandbox(self, sandbox: Sandbox) -> None:
        assert self._shop is None and self._client is None, "choose InvoiceBox before the shop"
        sandbox.start()
        self.cleanups.append(sandbox.stop)
        self._sandbox = sandbox

    def use_client(self, **kwargs: Any) -> None:
        assert self._shop is None, "choose the client before the shop"
        self._client = self.new_client(**kwargs)

    def use_shop(self, **flow_kwargs: Any) -> None:
        self._shop = self.new_shop(**flow_kwargs)

    def new_client(self, **kwargs: Any) -> InvoiceboxClient:
        kwargs = {"timeout": (2.0, 5.0), "backoff_base": 0.01} | kwargs
        client = InvoiceboxClient(self.sandbox.token, base_url=self.sandbox.url, **kwargs)
        self.cleanups.append(client.close)
        return client

    def new_shop(self, **flow_kwargs: Any) -> Shop:
        """An :class:`OrderFlow` whose notification endpoint is served over HTTP."""
        holder: dict = {}

        def app(environ, start_response):  # the flow needs the URL, the server needs the app
            return holder["wsgi"](environ, start_response)

        served = LoopbackServer(app)
        self.cleanups.append(served.close)
        url = served.url + "/invoicebox/notification"
        settings = dict(merchant_id=self.sandbox.merchant_id, notification_key=self.sandbox.notification_key,
                        notification_url=url, success_url=SUCCESS_URL, fail_url=FAIL_URL) | flow_kwargs
        flow = OrderFlow(self.client, self.store, **settings)
        holder["wsgi"] = make_wsgi_app(flow)
        return Shop(flow, url)

    def close(self) -> None:
        for cleanup in reversed(self.cleanups):
            cleanup()

    # --- orders -----------------------------------------------------------------------------

    def prepare(self, who: str, basket: str, label: str = "") -> str:
        order_id = f"SPEC-{uuid.uuid4().hex[:12]}"
        self.orders[label] = order_id
        self.customers[order_id] = CUSTOMERS[who]()
        self.lines[order_id] = BASKETS[basket]()
        self.current = label
        return order_id

    def order_id(self, label: str | None = None) -> str:
        return self.orders[self.current if label is None else label]

    def place(self, label: str | None = None, *, request_invoice: bool = False):
        order_id = self.order_id(label)
        view = self.flow.place(order_id, self.lines[order_id], self.customers[order_id],
                               description="Заказ из сценария", request_invoice=request_invoice)
        self._spec_orders.append((self.flow.store, self.sandbox, order_id))
        return view

    def view(self, label: str | None = None):
        return self.flow.get(self.order_id(label))

    def invoicebox_id(self, label: str | None = None) -> str:
        invoicebox_id = self.view(label).invoicebox_id
        assert invoicebox_id, "the order is not known to InvoiceBox"
        return invoicebox_id

    def payment_url(self, label: str | None = None) -> str:
        order_id = self.order_id(label)
        return self.payment_urls.get(order_id) or self.view(label).payment_url

    def pay(self, label: str | None = None) -> None:
        url = self.payment_url(label)
        self.page = self.buyer.open(url)
        self.location = self.buyer.pay(url)
        self.sandbox.wait_idle()

    def pay_fully(self, who: str, basket: str) -> None:
        """Payment sequence of the buyer's variant, all the way to the notification."""
        order_id = self.prepare(who, basket)
        self.place(request_invoice=True)
        self.payment_urls[order_id] = self.flow.redirect_buyer(order_id)
        self.pay()
        assert self.view().state is State.PAID

    def customer_contact(self) -> str:
        customer = self.customers[self.order_id()]
        return customer.email or customer.phone

    def journal(self, label: str | None = None):
        return self.flow.history(self.order_id(label))

    # --- attempts and their traces ------------------------------------------------------------

    def snapshot(self) -> dict:
        order_id = self.order_id()
        record = self.flow.store.get(order_id)
        remote = None
        if record.invoicebox_id:
            order = self.sandbox.order(record.invoicebox_id)
            remote = {k: order.get(k) for k in ("status", "amount", "description", "paidAt")}
            remote["shipments"] = len(self.sandbox.shipments(record.invoicebox_id))
            remote["refunds"] = len(self.sandbox.refunds(record.invoicebox_id))
        return {"state": record.state, "version": record.version, "data": record.data,
                "journal": [(j.trigger, j.from_state, j.to_state, j.outcome) for j in self.journal()],
                "invoicebox": remote}

    def attempt(self, action: Callable[[], Any]) -> None:
        """Run a shop action expected to be refused; remember the order before it and the error."""
        self.before = self.snapshot()
        self.error = None
        try:
            action()
        except Exception as exc:  # noqa: BLE001 — the Тогда step checks its type
            self.error = exc

    def notification_attempts(self, label: str | None = None, kind: str = "payment") -> list[dict]:
        self.sandbox.wait_idle()
        return [n for n in self.sandbox.notifications(self.invoicebox_id(label)) if n.get("kind", kind) == kind]


@pytest.fixture
def world(request, spec_orders):
    w = World(request, spec_orders)
    yield w
    w.close()


def _quoted(text: str) -> str:
    return text


_quoted.pattern = r'[^"]+'  # a quoted parameter never spans a closing quote


def step_text(text: str) -> parsers.parse:
    """A ``parse`` step pattern where ``"{name:Q}"`` matches one quoted value."""
    return parsers.parse(text, extra_types={"Q": _quoted})


def money(text: str) -> Decimal:
    """``"3 420,50"`` (the payment page) or ``"3420.50"`` (the feature files) as a Decimal."""
    return Decimal(re.sub(r"[\s\u00a0\u202f]", "", text).replace(",", "."))


def documents_of(world: World, refund: bool) -> list[dict]:
    world.sandbox.wait_idle()
    return [d for d in world.sandbox.documents(world.invoicebox_id()) if d["kind"].startswith("refund_") == refund]


def document_kinds(text: str, refund: bool) -> set[str]:
    kinds = {DOCUMENT_KINDS[name.strip()] for name in text.split(",")}
    return {("refund_" + k) if refund else k for k in kinds}


# --- Дано: who buys what, and how InvoiceBox and the shop are set up ------------------------


@given(step_text('покупатель "{who:Q}" с корзиной "{basket:Q}"'))
def buyer_with_basket(world: World, who: str, basket: str):
    world.prepare(who, basket)


@given(step_text('покупатель "{who:Q}" получил ссылку на оплату заказа с корзиной "{basket:Q}"'))
def buyer_has_payment_link(world: World, who: str, basket: str):
    world.prepare(who, basket)
    assert world.place(request_invoice=True).state is State.PAYMENT_LINK_ISSUED


@given(step_text('покупатель "{who:Q}" получил ссылку на оплату заказа "{label:Q}" с корзиной "{basket:Q}"'))
def buyer_has_payment_link_for(world: World, who: str, label: str, basket: str):
    world.prepare(who, basket, label)
    assert world.place(label, request_invoice=True).state is State.PAYMENT_LINK_ISSUED


@given(step_text('покупатель "{who:Q}" оплатил заказ с корзиной "{basket:Q}"'))
def buyer_paid(world: World, who: str, basket: str):
    world.pay_fully(who, basket)


@given("Магазин отгрузил заказ")
def shop_shipped(world: World):
    assert world.flow.ship(world.order_id()).state is State.SHIPPED
    world.sandbox.wait_idle()


@given("заказ ещё не отгружался")
def not_shipped_yet(world: World):
    assert not world.view().shipped
    assert world.sandbox.shipments(world.invoicebox_id()) == []


@given("Магазин вернул весь заказ")
def shop_refunded_everything(world: World):
    assert world.flow.refund(world.order_id()).state is State.REFUNDED
    world.sandbox.wait_idle()


@given(step_text('Магазин вернул {quantity:d} шт. "{sku:Q}"'))
def shop_refunded_part(world: World, quantity: int, sku: str):
    assert world.flow.refund(world.order_id(), {sku: quantity}).state is State.PARTIALLY_REFUNDED
    world.sandbox.wait_idle()


@given("Магазин перенаправил покупателя на платёжную страницу")
def shop_redirected(world: World):
    world.payment_urls[world.order_id()] = world.flow.redirect_buyer(world.order_id())


@given("магазин настроен с неверным ключом уведомлений")
def shop_with_wrong_key(world: World):
    world.use_shop(notification_key=secrets.token_hex(20))


@given("магазин не может выполнить ни одного заказа")
def shop_cannot_fulfil(world: World):
    world.use_shop(can_fulfil=lambda order: False)


@given("ИнвойсБокс доставит следующее уведомление дважды")
def next_notification_twice(world: World):
    world.sandbox.inject_notification_fault("duplicate")


@given("ИнвойсБокс придержит следующее уведомление до отправки следующего за ним")
def next_notification_held(world: World):
    world.sandbox.inject_notification_fault("reorder")


@given("сумма заказа изменена в ИнвойсБокс в обход магазина")
def amount_changed_behind_shop(world: World):
    line = world.lines[world.order_id()][0]
    cheaper = basket_line(sku=line.sku, name=line.name, unit_price=str(line.amount), quantity=1,
                          vat_code=line.vat_code, type=line.type)
    changed = world.client.update_order(world.invoicebox_id(), basket_items=[cheaper])
    assert changed.amount != world.view().amount


@given(step_text('в личном кабинете ИнвойсБокс уже вернули {quantity:d} шт. "{sku:Q}"'))
def refunded_in_cabinet(world: World, quantity: int, sku: str):
    line = next(ln for ln in world.lines[world.order_id()] if ln.sku == sku)
    part = basket_line(sku=line.sku, name=line.name, unit_price=str(line.amount), quantity=quantity,
                       vat_code=line.vat_code, type=line.type)
    world.client.create_refund(RefundRequest(parent_id=world.invoicebox_id(), merchant_order_id=f"CABINET-{sku}",
                                             description="Возврат из личного кабинета", basket_items=[part]))
    world.sandbox.wait_idle()


CREATE_FAULTS = {
    "создаёт его и отвечает 500": ("server_error_after_commit", None),
    "создаёт его и отвечает дольше таймаута": ("slow_after_commit", 1.0),
    "создаёт его и обрывает соединение": ("drop_after_commit", None),
    "отвечает 500, ничего не создав": ("server_error", None),
}


@given(step_text("ИнвойсБокс на следующее создание заказа {fault}"))
def create_order_fault(world: World, fault: str):
    kind, delay = CREATE_FAULTS[fault]
    if kind == "slow_after_commit":
        world.use_client(timeout=(1.0, 0.3))  # the answer comes after the client stopped waiting
        world.use_shop()
    world.sandbox.inject_fault("create_order", kind, delay=delay)


@given(parsers.re(r"в ИнвойсБокс уже прошло (?P<days>\d+) (?:день|дня|дней), а магазин об этом не знает"),
       converters={"days": int})
def invoicebox_clock_ahead(world: World, days: int):
    world.sandbox.advance_clock(days * 86400)


@given(step_text("ИнвойсБокс пропускает не больше {limit:d} запросов за {seconds:d} секунду"))
def rate_limited_invoicebox(world: World, limit: int, seconds: int):
    world.use_sandbox(Sandbox(rate_limit=limit, rate_window=float(seconds), notification_retry_delays=FAST_RETRIES))


@given("клиент магазина не ограничивает темп")
def unpaced_client(world: World):
    world.use_client(rate_limit=None, max_read_retries=0)


@given(step_text("клиент магазина ограничивает себя {limit:d} запросами за {seconds:d} секунду"))
def paced_client(world: World, limit: int, seconds: int):
    world.use_client(rate_limit=RateLimiter(limit, float(seconds)))


# --- the documented steps, in the words of the diagrams ---------------------------------------


@given("Покупатель создает заказ")
@when("Покупатель создает заказ")
def buyer_places_order(world: World):
    world.place()


@when("Магазин вызывает метод создания заказа")
def shop_creates_invoice(world: World):
    world.flow.request_invoice(world.order_id())


@then("ИнвойсБокс возвращает идентификатор заказа и ссылку на оплату")
def invoicebox_returns_link(world: World):
    view = world.view()
    assert view.state is State.PAYMENT_LINK_ISSUED
    assert view.invoicebox_id and view.payment_url.startswith(world.sandbox.url + "/pay/order/")
    remote = world.sandbox.order(view.invoicebox_id)
    assert remote["status"] == "created"
    assert remote["merchantOrderId"] == view.order_id
    assert remote["paymentUrl"] == view.payment_url
    assert Decimal(remote["amount"]) == view.amount
    answered = [j for j in world.journal() if j.trigger == "issue_payment_link"]
    assert len(answered) == 1 and answered[0].request_id, "the answer's X-Request-Id is journaled"


@when("Магазин перенаправляет покупателя на платёжную страницу")
def shop_redirects_buyer(world: World):
    url = world.flow.redirect_buyer(world.order_id())
    assert url == world.view().payment_url
    world.payment_urls[world.order_id()] = url


@when("Покупатель взаимодействует с платёжной страницей и получает счёт")
def buyer_opens_page(world: World):
    world.page = world.buyer.open(world.payment_url())


@then("на платёжной странице видны позиции и сумма заказа")
def page_shows_order(world: World):
    page = unescape(world.page)
    for line in world.lines[world.order_id()]:
        assert line.name in page
    shown = re.search(r'id="amount">([^<]+)<', page)
    assert shown and money(shown.group(1)) == world.view().amount
    assert 'id="pay-form"' in page


@then("на платёжной странице видны реквизиты покупателя")
def page_shows_legal_details(world: World):
    customer = world.customers[world.order_id()]
    assert customer.vat_number in world.page
    assert 'id="pay-form"' in world.page


@when("Покупатель оплачивает счёт")
def buyer_pays_invoice(world: World):
    world.location = world.buyer.pay(world.payment_url())


@then("ИнвойсБокс перенаправляет покупателя на сайт магазина")
def invoicebox_redirects_to_shop(world: World):
    assert world.location == world.flow.success_url
    effects = [e["effect"] for e in world.sandbox.events(world.invoicebox_id())]
    assert effects.index("payment") < effects.index("redirect_to_shop")
    assert world.sandbox.order(world.invoicebox_id())["status"] == "completed"


@then(step_text('ИнвойсБокс регистрирует в онлайн кассе чек "{title:Q}"'))
def receipt_registered(world: World, title: str):
    world.sandbox.wait_idle()
    receipts = [r for r in world.sandbox.receipts(world.invoicebox_id()) if r["type"] == RECEIPT_TYPES[title]]
    assert len(receipts) == 1, receipts
    receipt = receipts[0]
    view = world.view()
    expected = view.refunded_amount if title == "возврат" else view.amount
    assert Decimal(receipt["amount"]) == expected
    assert receipt["title"] == title


@then(step_text('ИнвойсБокс предоставляет покупателю чек "{title:Q}"'))
def receipt_delivered(world: World, title: str):
    world.sandbox.wait_idle()
    receipt = next(r for r in world.sandbox.receipts(world.invoicebox_id()) if r["type"] == RECEIPT_TYPES[title])
    mails = [m for m in world.sandbox.mailbox(world.customer_contact()) if receipt["id"] in m["refs"]]
    assert len(mails) == 1 and mails[0]["kind"] == "receipt"


@then("ИнвойсБокс уведомляет Магазин об успешной оплате")
def invoicebox_notifies_shop(world: World):
    attempts = world.notification_attempts()
    assert attempts and attempts[-1]["delivered"], attempts
    last = attempts[-1]
    assert last["status"] == 200 and jsonutil.loads(last["response"]) == {"status": "success"}
    assert is_valid(last["body"].encode("utf-8"), last["signature"], world.sandbox.notification_key)
    confirmed = [j for j in world.journal() if j.trigger == "confirm_payment"]
    assert len(confirmed) == 1 and confirmed[0].actor == "invoicebox-notification"


@then(step_text('магазин записал в заказ чек "{title:Q}"'))
def shop_recorded_receipt(world: World, title: str):
    assert RECEIPT_TYPES[title] in {r.type for r in world.view().receipts}


@then("ИнвойсБокс не регистрирует чеков в онлайн кассе")
def no_receipts(world: World):
    world.sandbox.wait_idle()
    assert world.sandbox.receipts(world.invoicebox_id()) == []


@then("ИнвойсБокс не отправляет покупателю документов")
def no_documents(world: World):
    world.sandbox.wait_idle()
    assert world.sandbox.documents(world.invoicebox_id()) == []
    assert world.sandbox.mailbox(world.customer_contact()) == []


@when("Магазин вызывает метод отгрузки по заказу")
def shop_ships(world: World):
    world.flow.ship(world.order_id())
    world.sandbox.wait_idle()


@then(step_text("ИнвойсБокс предоставляет покупателю отчётные документы: {documents}"))
def shipment_documents(world: World, documents: str):
    issued = documents_of(world, refund=False)
    assert {d["kind"] for d in issued} == document_kinds(documents, refund=False)
    assert len(issued) == len(document_kinds(documents, refund=False))
    mails = [m for m in world.sandbox.mailbox(world.customer_contact()) if m["kind"] == "documents"]
    assert len(mails) == 1 and set(mails[0]["refs"]) == {d["id"] for d in issued}
    report = next(d for d in issued if d["kind"] == "transfer_report")
    assert Decimal(report["amount"]) == world.view().amount


@then(step_text("ИнвойсБокс предоставляет покупателю отчётные документы по возврату: {documents}"))
def refund_documents(world: World, documents: str):
    issued = documents_of(world, refund=True)
    assert {d["kind"] for d in issued} == document_kinds(documents, refund=True)
    mails = [m for m in world.sandbox.mailbox(world.customer_contact())
             if m["kind"] == "documents" and set(m["refs"]) == {d["id"] for d in issued}]
    assert len(mails) == 1


@when("Магазин предоставляет покупателю отчётные документы (если требуется)")
def shop_sends_documents(world: World):
    world.flow.send_documents(world.order_id())


@then(step_text("в журнале заказа Магазин предоставил покупателю документы по {phase}"))
def documents_journaled(world: World, phase: str):
    sent = [j for j in world.journal() if j.trigger == "send_documents" and j.outcome == "ok"]
    assert len(sent) == 1
    expected = {"отгрузке": {State.SHIPPED.value}, "возврату": {State.REFUNDED.value, State.PARTIALLY_REFUNDED.value}}
    assert sent[0].from_state in expected[phase]


@when("Покупатель обращается за возвратом по заказу")
def buyer_claims_refund(world: World):
    world.flow.claim_refund(world.order_id(), reason="Передумал")


@when("Магазин получает список позиций в заказе")
def shop_lists_refundable(world: World):
    world.refundable = world.flow.refundable_items(world.order_id())


@then("к возврату доступны все позиции заказа")
def everything_refundable(world: World):
    view = world.view()
    assert {i.sku: i.quantity for i in world.refundable} == {ln.sku: ln.quantity for ln in view.lines}
    assert sum(i.available_amount for i in world.refundable) == view.paid_amount == view.amount


@when("Магазин вызывает метод оформления возврата")
def shop_refunds(world: World):
    world.flow.refund(world.order_id())
    world.sandbox.wait_idle()


@then("ИнвойсБокс осуществляет возврат денежных средств на всю сумму заказа")
def money_returned_in_full(world: World):
    world.sandbox.wait_idle()
    returned = [e for e in world.sandbox.events(world.invoicebox_id()) if e["effect"] == "money_returned"]
    assert sum(Decimal(e["detail"]["amount"]) for e in returned) == world.view().amount
    assert all(r["status"] == "completed" for r in world.sandbox.refunds(world.invoicebox_id()))


# --- the order's state and what did not change ------------------------------------------------


@then(step_text('заказ в состоянии "{name:Q}"'))
def order_in_state(world: World, name: str):
    assert world.view().state is STATE_NAMES[name]


@then(step_text('заказ "{label:Q}" в состоянии "{name:Q}"'))
def labelled_order_in_state(world: World, label: str, name: str):
    assert world.view(label).state is STATE_NAMES[name]


@then("заказ не изменился")
def order_unchanged(world: World):
    assert world.before is not None
    assert world.snapshot() == world.before


@then(step_text("действие отклонено: {reason}"))
def action_refused(world: World, reason: str):
    assert isinstance(world.error, ERRORS[reason]), repr(world.error)


# --- notifications that are not the happy path ------------------------------------------------


def post_notification(world: World, body: bytes, signature: str | None) -> None:
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers[SIGNATURE_HEADER] = signature
    with requests.Session() as session:
        session.trust_env = False
        response = session.post(world.shop.notification_url, data=body, headers=headers, timeout=10)
    world.answer = (response.status_code, jsonutil.loads(response.content))


def paid_order_body(world: World, **changes: Any) -> bytes:
    """The order as InvoiceBox would notify it once paid, with ``changes``."""
    order = world.sandbox.order(world.invoicebox_id())
    order.update({"status": "completed", "paidAt": order.get("createdAt")} | changes)
    return jsonutil.dumps_php(order).encode("utf-8")


@when(step_text("на адрес уведомлений магазина приходит уведомление об оплате заказа, {how}"))
def forged_notification(world: World, how: str):
    world.before = world.snapshot()
    body = paid_order_body(world)
    key = world.sandbox.notification_key
    signature = {
        "без подписи": lambda: None,
        "с подписью случайным ключом": lambda: sign(body, secrets.token_hex(20)),
        "с подписью токеном API вместо ключа": lambda: sign(body, world.sandbox.token),
        # a genuine signature of the unpaid order, sent with a body that says "paid"
        "с подписью другого тела": lambda: sign(jsonutil.dumps_php(world.sandbox.order(world.invoicebox_id()))
                                                .encode("utf-8"), key),
    }[how]()
    post_notification(world, body, signature)


@when(step_text('на адрес уведомлений магазина приходит подписанное уведомление об оплате заказа, '
                 'где {field} = "{value:Q}"'))
def notification_with_field(world: World, field: str, value: str):
    world.before = world.snapshot()
    body = paid_order_body(world, **{field: Decimal(value) if field == "amount" else value})
    post_notification(world, body, sign(body, world.sandbox.notification_key))


@then(step_text('магазин отвечает HTTP 200 с ошибкой "{code:Q}"'))
def shop_answers_error(world: World, code: str):
    status, body = world.answer
    assert status == 200 and body["status"] == "error" and body["code"] == code, world.answer


@when("покупатель оплачивает заказ на платёжной странице")
def buyer_pays_on_page(world: World):
    world.pay()


@when(step_text('покупатель оплачивает заказ "{label:Q}" на платёжной странице'))
def buyer_pays_labelled(world: World, label: str):
    world.pay(label)


@then(step_text('ИнвойсБокс получил от магазина ответ "{code:Q}" и больше не повторял уведомление'))
def final_notification_answer(world: World, code: str):
    attempts = world.notification_attempts()
    assert len(attempts) == 1, attempts
    assert attempts[0]["status"] == 200 and attempts[0]["code"] == code
    assert not attempts[0]["delivered"] and not attempts[0]["willRetry"]


@when("магазин сверяет заказ с ИнвойсБокс")
def shop_syncs(world: World):
    world.flow.sync(world.order_id())


@then(step_text('ИнвойсБокс доставил уведомление об оплате {times:d} раза, и оба раза магазин ответил "success"'))
def delivered_times(world: World, times: int):
    attempts = world.notification_attempts()
    assert len(attempts) == times
    assert all(a["delivered"] and jsonutil.loads(a["response"]) == {"status": "success"} for a in attempts)
    assert len({a["body"] for a in attempts}) == 1, "the same notification, byte for byte"


@then("оплата записана в журнал заказа один раз")
def payment_journaled_once(world: World):
    assert [j.trigger for j in world.journal()].count("confirm_payment") == 1


@then("оплата не записана в журнал заказа")
def payment_not_journaled(world: World):
    assert "confirm_payment" not in [j.trigger for j in world.journal()]


@then(step_text("ИнвойсБокс зарегистрировал {count:d} чек"))
def receipts_count(world: World, count: int):
    world.sandbox.wait_idle()
    assert len(world.sandbox.receipts(world.invoicebox_id())) == count


@when("ИнвойсБокс повторно доставляет уведомление об оплате заказа")
def invoicebox_redelivers(world: World):
    world.before = world.snapshot()
    world.sandbox.redeliver(world.invoicebox_id())
    world.sandbox.wait_idle()


@when("ИнвойсБокс доставляет придержанное уведомление")
def invoicebox_delivers_held(world: World):
    assert world.notification_attempts() == [], "the notification was held back"
    world.sandbox.redeliver(world.invoicebox_id())
    world.sandbox.wait_idle()


@then(step_text('на последнее уведомление магазин ответил "{status:Q}"'))
def last_answer(world: World, status: str):
    last = world.notification_attempts()[-1]
    assert last["status"] == 200 and jsonutil.loads(last["response"]) == {"status": status}


@then(step_text('уведомление о заказе "{first:Q}" пришло в магазин раньше уведомления о заказе "{second:Q}"'))
def notified_in_order(world: World, first: str, second: str):
    def confirmation(label: str):
        entries = [j for j in world.journal(label) if j.trigger == "confirm_payment"]
        assert len(entries) == 1
        return entries[0].seq

    assert confirmation(first) < confirmation(second)


@when(parsers.re(r"покупатель (?:ещё раз )?возвращается на сайт магазина по адресу успешной оплаты"))
def buyer_returns(world: World):
    assert world.location == world.flow.success_url
    world.flow.buyer_returned(world.order_id(), success=True)


@when("ИнвойсБокс присылает тестовое уведомление мониторинга")
def monitoring_notification(world: World):
    if world.orders:
        world.before = world.snapshot()
    world.test_attempt = world.sandbox.send_test_notification(url=world.shop.notification_url)


@then(step_text('магазин ответил на тестовое уведомление HTTP 200 "{answer:Q}"'))
def monitoring_answer(world: World, answer: str):
    attempt = world.test_attempt
    assert attempt["status"] == 200
    body = jsonutil.loads(attempt["response"])
    if answer == "success":
        assert body == {"status": "success"} and attempt["delivered"]
    else:
        assert body["status"] == "error" and body["code"] == answer and not attempt["delivered"]


# --- shipment, refund, update, cancel: attempts that must be refused --------------------------


@when("Магазин пытается отгрузить заказ")
def shop_tries_to_ship(world: World):
    world.attempt(lambda: world.flow.ship(world.order_id()))


@when(step_text('Магазин пытается отгрузить позицию "{sku:Q}", которой нет в заказе'))
def shop_tries_to_ship_foreign_line(world: World, sku: str):
    foreign = next(ln for ln in goods_lines() if ln.sku == sku)
    world.attempt(lambda: world.flow.ship(world.order_id(), [foreign]))
    world.sandbox.wait_idle()


@then(step_text('в ИнвойсБокс отгружено {quantity:d} шт. "{sku:Q}" и ничего больше'))
def shipped_only(world: World, quantity: int, sku: str):
    world.sandbox.wait_idle()
    [shipment] = world.sandbox.shipments(world.invoicebox_id())
    assert {i["sku"]: Decimal(i["quantity"]) for i in shipment["basketItems"]} == {sku: quantity}


@then(step_text('чек "{title:Q}" выдан на {amount}'))
def receipt_amount(world: World, title: str, amount: str):
    world.sandbox.wait_idle()
    [receipt] = [r for r in world.sandbox.receipts(world.invoicebox_id()) if r["type"] == RECEIPT_TYPES[title]]
    assert Decimal(receipt["amount"]) == money(amount)


@then(step_text("в ИнвойсБокс нет {what} по заказу"))
def nothing_at_invoicebox(world: World, what: str):
    world.sandbox.wait_idle()
    listing = {"отгрузок": world.sandbox.shipments, "возвратов": world.sandbox.refunds}[what]
    assert listing(world.invoicebox_id()) == []


@then(parsers.re(r"в ИнвойсБокс (?P<count>\d+) (?P<what>отгрузка|возврат) по заказу"), converters={"count": int})
def count_at_invoicebox(world: World, count: int, what: str):
    world.sandbox.wait_idle()
    listing = {"отгрузка": world.sandbox.shipments, "возврат": world.sandbox.refunds}[what]
    assert len(listing(world.invoicebox_id())) == count


@then(parsers.re(r"в журнале заказа записан(?:а)? отклонённ(?:ая|ый) (?P<what>.+)"))
def refused_call_journaled(world: World, what: str):
    trigger = {"отгрузка": "shipment_failed", "возврат": "refund_failed",
               "запрос создания заказа": "invoice_failed"}[what]
    entries = [j for j in world.journal() if j.trigger == trigger]
    assert len(entries) == 1 and entries[0].outcome == "failed" and entries[0].detail.get("error")


@when(step_text('Магазин пытается вернуть {quantity:d} шт. "{sku:Q}"'))
def shop_tries_to_refund(world: World, quantity: int, sku: str):
    world.attempt(lambda: world.flow.refund(world.order_id(), {sku: quantity}))


@when("Магазин пытается вернуть весь заказ")
def shop_tries_to_refund_all(world: World):
    world.attempt(lambda: world.flow.refund(world.order_id()))
    world.sandbox.wait_idle()


@when(step_text('покупатель возвращает {quantity:d} шт. "{sku:Q}"'))
def buyer_returns_items(world: World, quantity: int, sku: str):
    """The documented refund sequence once more, for part of the order."""
    order_id = world.order_id()
    world.flow.claim_refund(order_id, reason=f"{quantity} × {sku}")
    available = {i.sku: i.quantity for i in world.flow.refundable_items(order_id)}
    assert available[sku] >= quantity
    world.flow.refund(order_id, {sku: quantity})
    world.sandbox.wait_idle()


@then(step_text("возвращено {refunded} из {paid}"))
def refunded_so_far(world: World, refunded: str, paid: str):
    view = world.view()
    assert (view.refunded_amount, view.paid_amount) == (money(refunded), money(paid))
    remote = sum(Decimal(r["amount"]) for r in world.sandbox.refunds(view.invoicebox_id))
    assert remote == money(refunded)


@then(step_text("ИнвойсБокс провёл {count:d} возврата денежных средств на {amount}"))
def money_returned_times(world: World, count: int, amount: str):
    returned = [e for e in world.sandbox.events(world.invoicebox_id()) if e["effect"] == "money_returned"]
    assert len(returned) == count
    assert sum(Decimal(e["detail"]["amount"]) for e in returned) == money(amount)


@then(step_text("к каждому возврату ИнвойсБокс выдал {what}"))
def every_refund_has_paperwork(world: World, what: str):
    world.sandbox.wait_idle()
    refunds = {r["id"]: Decimal(r["amount"]) for r in world.sandbox.refunds(world.invoicebox_id())}
    if what == 'чек "возврат"':
        receipts = [r for r in world.sandbox.receipts(world.invoicebox_id()) if r["type"] == "refund"]
        assert {r["refundId"]: Decimal(r["amount"]) for r in receipts} == refunds
        assert len(receipts) == len(refunds)
    else:
        reports = [d for d in documents_of(world, refund=True) if d["kind"] == "refund_transfer_report"]
        assert {d["refundId"]: Decimal(d["amount"]) for d in reports} == refunds
        assert len(reports) == len(refunds)


@when(step_text('Магазин меняет описание заказа на "{text:Q}"'))
def shop_updates_description(world: World, text: str):
    world.flow.update(world.order_id(), description=text)


@then(step_text('в ИнвойсБокс у заказа описание "{text:Q}"'))
def remote_description(world: World, text: str):
    assert world.sandbox.order(world.invoicebox_id())["description"] == text


@when("Магазин отменяет заказ")
def shop_cancels(world: World):
    world.flow.cancel(world.order_id())
    world.sandbox.wait_idle()


@when("Магазин пытается отменить заказ")
def shop_tries_to_cancel(world: World):
    world.attempt(lambda: world.flow.cancel(world.order_id()))


@when("Магазин пытается изменить описание заказа")
def shop_tries_to_update(world: World):
    world.attempt(lambda: world.flow.update(world.order_id(), description="Другое описание"))


@then(step_text('в ИнвойсБокс заказ в статусе "{status:Q}"'))
def remote_status(world: World, status: str):
    assert world.sandbox.order(world.invoicebox_id())["status"] == status


@then("оплатить заказ на платёжной странице нельзя")
def cannot_pay(world: World):
    status = world.sandbox.order(world.invoicebox_id())["status"]
    page = world.buyer.open(world.payment_url())
    assert 'id="pay-form"' not in page
    with pytest.raises(requests.HTTPError) as refused:
        world.buyer.pay(world.payment_url())
    assert refused.value.response.status_code == 409
    assert world.sandbox.order(world.invoicebox_id())["status"] == status


@then("в ИнвойсБокс нет ни одного заказа")
def no_remote_orders(world: World):
    assert world.sandbox.orders() == []


# --- time, declines, faults, limits ---------------------------------------------------------


@when(parsers.re(r"проходит (?P<days>\d+) (?:день|дня|дней)"), converters={"days": int})
def days_pass(world: World, days: int):
    world.sandbox.advance_clock(days * 86400)


@when("покупатель отказывается от оплаты на платёжной странице")
def buyer_declines(world: World):
    world.page = world.buyer.open(world.payment_url())
    world.location = world.buyer.decline(world.payment_url())
    world.sandbox.wait_idle()


@then("ИнвойсБокс перенаправляет покупателя на адрес неуспешной оплаты")
def redirected_to_fail_url(world: World):
    assert world.location == world.flow.fail_url
    assert world.sandbox.order(world.invoicebox_id())["status"] == "created"


@when("покупатель возвращается на сайт магазина по адресу неуспешной оплаты")
def buyer_returns_failed(world: World):
    assert world.location == world.flow.fail_url
    world.flow.buyer_returned(world.order_id(), success=False)


@then("ИнвойсБокс не присылал уведомлений")
def no_notifications(world: World):
    assert world.notification_attempts() == []


@when("Магазин пытается вызвать метод создания заказа")
def shop_tries_to_create_invoice(world: World):
    world.attempt(lambda: world.flow.request_invoice(world.order_id()))


@then(step_text("в ИнвойсБокс ровно {count:d} заказ с номером заказа магазина"))
def remote_orders_with_number(world: World, count: int):
    view = world.view()
    found = [o for o in world.sandbox.orders() if o["merchantOrderId"] == view.order_id]
    assert len(found) == count
    assert found[0]["id"] == view.invoicebox_id


@then(step_text("в ИнвойсБокс пришло {count:d} запрос на создание заказа"))
def create_requests(world: World, count: int):
    def creates() -> list[dict]:
        return [r for r in world.sandbox.requests() if r.get("endpoint") == "create_order"]

    # A slow request is logged when its answer is finally sent, after the client gave up on it;
    # any resend by the client would have been logged before that (the client is synchronous).
    deadline = time.monotonic() + 10.0
    while not creates() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(creates()) == count, creates()


@when("магазин выполняет отложенные вызовы заказа, не дожидаясь срока повтора")
def shop_resumes(world: World):
    [view] = world.flow.resume(world.order_id(), due_now=True)
    assert view.order_id == world.order_id()


@when(step_text("магазин подряд делает {count:d} запросов проверки авторизации"))
def many_auth_checks(world: World, count: int):
    for _ in range(count):
        try:
            world.client.check_auth()
        except RateLimitError:
            world.rate_limited += 1


@then("ИнвойсБокс ответил 429 хотя бы на один запрос")
def some_429(world: World):
    assert world.rate_limited > 0
    assert any(r["status"] == 429 for r in world.sandbox.requests())


@when(step_text("{count:d} покупателей создают заказы, и Магазин вызывает метод создания заказа для каждого"))
def many_orders(world: World, count: int):
    for n in range(count):
        world.prepare("физическое лицо", "курс", label=f"#{n}")
        world.place(request_invoice=True)


@then(step_text("у всех {count:d} заказов есть ссылка на оплату"))
def all_have_links(world: World, count: int):
    views = [world.view(label) for label in world.orders]
    assert len(views) == count
    assert all(v.state is State.PAYMENT_LINK_ISSUED and v.payment_url for v in views)


@then(step_text("в ИнвойсБокс {count:d} заказов"))
def remote_order_count(world: World, count: int):
    assert len(world.sandbox.orders()) == count


@then("ИнвойсБокс не ответил 429 ни на один запрос")
def no_429(world: World):
    statuses = [r["status"] for r in world.sandbox.requests()]
    assert statuses and 429 not in statuses
