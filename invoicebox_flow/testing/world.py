"""One scenario's world: its InvoiceBox, the integrator's shop, the buyer and the orders.

The sandbox is the session-wide one (reset when a scenario starts using it) unless a ``Дано``
step asks for special options (a rate limit); the client, the shop and its notification
endpoint (served over HTTP on loopback) are built on first use, so a step that changes one of
them must come before the first step that uses it.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

import pytest
import requests

from .. import jsonutil
from ..client import InvoiceboxClient
from ..engine import OrderFlow, OrderView
from ..models import BasketItem, basket_line
from ..sandbox import Buyer, Sandbox
from ..serving import LoopbackServer
from ..signature import SIGNATURE_HEADER
from ..store import JournalEntry
from . import vocabulary
from .examples import Customer
from .shop import AppFactory, FlowFactory, ShopParts

SESSION_SANDBOX = "invoicebox_sandbox_session"
CLIENT_DEFAULTS: dict[str, Any] = {"timeout": (2.0, 5.0), "backoff_base": 0.01}


class ServedShop:
    """The shop's flow with its notification endpoint served over HTTP."""

    def __init__(self, flow: OrderFlow, notification_url: str) -> None:
        self.flow = flow
        self.notification_url = notification_url


class InvoiceboxWorld:
    """What the steps share within one scenario (the ``invoicebox_world`` fixture)."""

    def __init__(self, request: pytest.FixtureRequest, *, flow_factory: FlowFactory, shop_app: AppFactory,
                 notification_path: str, baskets: Mapping[str, Callable[[], list[BasketItem]]],
                 customers: Mapping[str, Callable[[], Customer]]) -> None:
        self._request = request
        self._flow_factory = flow_factory
        self._shop_app = shop_app
        self._notification_path = notification_path
        self._sandbox: Sandbox | None = None
        self._client: InvoiceboxClient | None = None
        self._shop: ServedShop | None = None
        self.cleanups: list[Callable[[], None]] = []
        self.baskets: dict[str, Callable[[], list[BasketItem]]] = dict(baskets)
        self.customers: dict[str, Callable[[], Customer]] = dict(customers)
        self.buyer = Buyer()
        self.orders: dict[str, str] = {}  # label in the scenario → the shop's order id
        self.customer_of: dict[str, Customer] = {}  # order id → customer
        self.lines: dict[str, list[BasketItem]] = {}  # order id → basket lines
        self.current = ""
        self.payment_urls: dict[str, str] = {}
        self.traced: list[tuple[Any, Sandbox, str]] = []  # (store, sandbox, order id) for the trace
        self.location: str | None = None
        self.page: str | None = None
        self.error: Exception | None = None
        self.before: dict[str, Any] | None = None
        self.answer: tuple[int, Any] | None = None
        self.test_attempt: dict[str, Any] | None = None
        self.refundable: list[Any] = []
        self.rate_limited = 0
        self.auto_ship: bool | None = None  # the orders placed ask to ship themselves once paid
        self.sweeps: list[Any] = []  # reconciliation reports, latest last

    # --- the participants -------------------------------------------------------------------

    @property
    def sandbox(self) -> Sandbox:
        if self._sandbox is None:
            sandbox: Sandbox = self._request.getfixturevalue(SESSION_SANDBOX)
            sandbox.reset()  # shared by the session: start from a clean slate
            self._sandbox = sandbox
        return self._sandbox

    @property
    def client(self) -> InvoiceboxClient:
        if self._client is None:
            self._client = self.new_client()
        return self._client

    @property
    def shop(self) -> ServedShop:
        if self._shop is None:
            self._shop = self.new_shop()
        return self._shop

    @property
    def flow(self) -> OrderFlow:
        return self.shop.flow

    @property
    def store(self) -> Any:
        return self._request.getfixturevalue("invoicebox_store")

    def use_sandbox(self, **options: Any) -> None:
        """A sandbox of this scenario alone, with ``options`` (see :class:`Sandbox`)."""
        assert self._shop is None and self._client is None, "choose InvoiceBox before the shop"
        sandbox = Sandbox(**options).start()
        self.cleanups.append(sandbox.stop)
        self._sandbox = sandbox

    def use_client(self, **options: Any) -> None:
        assert self._shop is None, "choose the client before the shop"
        self._client = self.new_client(**options)

    def use_shop(self, **changes: Any) -> None:
        """A shop built from parts changed by ``changes`` (``notification_key``, ``can_fulfil``)."""
        self._shop = self.new_shop(**changes)

    def new_client(self, **options: Any) -> InvoiceboxClient:
        client = InvoiceboxClient(self.sandbox.token, base_url=self.sandbox.url, **(CLIENT_DEFAULTS | options))
        self.cleanups.append(client.close)
        return client

    def new_shop(self, **changes: Any) -> ServedShop:
        holder: dict[str, Any] = {}

        def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
            return holder["app"](environ, start_response)  # the flow needs the URL, the server the app

        served = LoopbackServer(app, name="shop-under-test")
        self.cleanups.append(served.close)
        url = served.url + self._notification_path
        parts = dataclasses.replace(
            ShopParts(client=self.client, store=self.store, merchant_id=self.sandbox.merchant_id,
                      notification_key=self.sandbox.notification_key, notification_url=url), **changes)
        flow = self._flow_factory(parts)
        holder["app"] = self._shop_app(flow)
        return ServedShop(flow, url)

    def close(self) -> None:
        for cleanup in reversed(self.cleanups):
            cleanup()
        self.cleanups.clear()

    # --- buyers, baskets, orders --------------------------------------------------------------

    def define_basket(self, name: str, datatable: list[list[str]]) -> None:
        rows = vocabulary.table_rows(datatable, vocabulary.BASKET_COLUMNS, "basket")
        lines = [basket_line(**vocabulary.basket_line_arguments(row)) for row in rows]
        self.baskets[name] = lambda: list(lines)

    def define_customer(self, name: str, customer: Customer) -> None:
        self.customers[name] = lambda: customer

    def prepare(self, who: str, basket: str, label: str = "") -> str:
        order_id = f"SPEC-{uuid.uuid4().hex[:12]}"
        self.orders[label] = order_id
        self.customer_of[order_id] = vocabulary.named(self.customers, who, "buyer")()
        self.lines[order_id] = vocabulary.named(self.baskets, basket, "basket")()
        self.current = label
        return order_id

    def order_id(self, label: str | None = None) -> str:
        return self.orders[self.current if label is None else label]

    def place(self, label: str | None = None, *, request_invoice: bool = False) -> OrderView:
        order_id = self.order_id(label)
        view = self.flow.place(order_id, self.lines[order_id], self.customer_of[order_id],
                               description="Заказ из сценария", request_invoice=request_invoice,
                               auto_ship=self.auto_ship)
        self.traced.append((self.flow.store, self.sandbox, order_id))
        return view

    def view(self, label: str | None = None) -> OrderView:
        return self.flow.get(self.order_id(label))

    def journal(self, label: str | None = None) -> list[JournalEntry]:
        return self.flow.history(self.order_id(label))

    def invoicebox_id(self, label: str | None = None) -> str:
        invoicebox_id = self.view(label).invoicebox_id
        assert invoicebox_id, "the order is not known to InvoiceBox"
        return invoicebox_id

    def payment_url(self, label: str | None = None) -> str:
        url = self.payment_urls.get(self.order_id(label)) or self.view(label).payment_url
        assert url, "the order has no payment link"
        return url

    def customer_contact(self) -> str:
        customer = self.customer_of[self.order_id()]
        contact = customer.email or customer.phone
        assert contact, "the buyer has neither e-mail nor phone"
        return contact

    def line(self, sku: str) -> BasketItem:
        """A line of the current order, or of any basket the scenario knows (for foreign lines)."""
        own = [ln for ln in self.lines.get(self.order_id(), []) if ln.sku == sku]
        if own:
            return own[0]
        for make in self.baskets.values():
            found = [ln for ln in make() if ln.sku == sku]
            if found:
                return found[0]
        raise LookupError(f'no basket has a line "{sku}"')

    def line_part(self, sku: str, quantity: Decimal | int, payment_type: str = "full_prepayment") -> BasketItem:
        line = self.line(sku)
        return basket_line(sku=line.sku, name=line.name, unit_price=line.amount, quantity=quantity,
                           vat_code=line.vat_code, type=line.type, payment_type=payment_type)

    # --- the buyer on the payment page --------------------------------------------------------

    def pay(self, label: str | None = None, *, wait: bool = True) -> None:
        url = self.payment_url(label)
        self.page = self.buyer.open(url)
        self.location = self.buyer.pay(url)
        if wait:
            self.sandbox.wait_idle()

    def return_to_shop(self, *, success: bool) -> OrderView:
        """The buyer follows InvoiceBox's redirect back to the shop's success (or fail) URL."""
        assert self.location == (self.flow.success_url if success else self.flow.fail_url), self.location
        return self.flow.buyer_returned(self.order_id(), success=success)

    def pay_fully(self, who: str, basket: str) -> None:
        """The payment sequence of the buyer's variant, all the way to the notification."""
        order_id = self.prepare(who, basket)
        self.place(request_invoice=True)
        self.payment_urls[order_id] = self.flow.redirect_buyer(order_id)
        self.pay()
        assert self.view().state == "paid", self.view().state

    # --- attempts that must be refused --------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """The order in the shop and at InvoiceBox, to compare before and after an attempt."""
        view = self.view()
        remote = None
        if view.invoicebox_id:
            order = self.sandbox.order(view.invoicebox_id)
            remote = {k: order.get(k) for k in ("status", "amount", "description", "paidAt")}
            remote["shipments"] = len(self.sandbox.shipments(view.invoicebox_id))
            remote["refunds"] = len(self.sandbox.refunds(view.invoicebox_id))
        journal = [(j.trigger, j.from_state, j.to_state, j.outcome) for j in self.journal()]
        return {"order": view, "journal": journal, "invoicebox": remote}

    def attempt(self, action: Callable[[], Any]) -> None:
        """Run a shop action expected to be refused; keep the order before it and the error."""
        self.before = self.snapshot()
        self.error = None
        try:
            action()
        except Exception as exc:  # noqa: BLE001 — the Тогда step checks its type
            self.error = exc

    # --- notifications ------------------------------------------------------------------------

    def notification_attempts(self, label: str | None = None, kind: str = "payment") -> list[dict[str, Any]]:
        self.sandbox.wait_idle()
        return [n for n in self.sandbox.notifications(self.invoicebox_id(label)) if n.get("kind", kind) == kind]

    def paid_order_body(self, **changes: Any) -> bytes:
        """The order as InvoiceBox would notify it once paid, with ``changes``."""
        order = self.sandbox.order(self.invoicebox_id())
        order.update({"status": "completed", "paidAt": order.get("createdAt")} | changes)
        return jsonutil.dumps_php(order).encode("utf-8")

    def unpaid_order_body(self) -> bytes:
        return jsonutil.dumps_php(self.sandbox.order(self.invoicebox_id())).encode("utf-8")

    @staticmethod
    def decoded(body: str | bytes) -> Any:
        """A JSON body (a notification, the shop's answer) with its amounts as Decimals."""
        return jsonutil.loads(body)

    def post_notification(self, body: bytes, signature: str | None) -> None:
        headers = {"Content-Type": "application/json"}
        if signature is not None:
            headers[SIGNATURE_HEADER] = signature
        with requests.Session() as session:
            session.trust_env = False
            response = session.post(self.shop.notification_url, data=body, headers=headers, timeout=10)
        self.answer = (response.status_code, jsonutil.loads(response.content))
