"""Helpers the tests share: order data, a shop whose notification endpoint is served over
HTTP, and paying through the sandbox's page as a buyer does. Imported by test modules and by
conftest.py (which turns some of them into fixtures)."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

from invoicebox_flow.client import InvoiceboxClient
from invoicebox_flow.engine import OrderFlow, OrderView
from invoicebox_flow.flows import BUYER, DOCUMENTED_FLOW, SHOP, FlowDefinition, Message
from invoicebox_flow.models import LegalCustomer
from invoicebox_flow.sandbox import Buyer, Sandbox
from invoicebox_flow.serving import LoopbackServer
from invoicebox_flow.store import Store
from invoicebox_flow.testing import examples
from invoicebox_flow.testing.examples import course_lines, goods_lines, private_customer  # noqa: F401 (shared)
from invoicebox_flow.webhook import make_wsgi_app

PG_URL_ENV = "INVOICEBOX_FLOW_TEST_PG_URL"
FAST_RETRIES = (0.02, 0.05, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1)
SUCCESS_URL = "http://shop.example/ok"
FAIL_URL = "http://shop.example/fail"



class Shop:
    """The integrator's side in tests: the flow, its store and its notification URL."""

    def __init__(self, flow: OrderFlow, notification_url: str):
        self.flow = flow
        self.notification_url = notification_url


def make_shop(client: InvoiceboxClient, store: Store, sandbox: Sandbox, **flow_kwargs) -> tuple[Shop, LoopbackServer]:
    """A flow whose notification endpoint is served on loopback (close the server after)."""
    holder: dict = {}

    def app(environ, start_response):  # the flow is created after the server has its URL
        return holder["wsgi"](environ, start_response)

    served = LoopbackServer(app)
    url = served.url + "/invoicebox/notification"
    flow = OrderFlow(client, store, merchant_id=sandbox.merchant_id, notification_key=sandbox.notification_key,
                     notification_url=url, success_url=SUCCESS_URL, fail_url=FAIL_URL, **flow_kwargs)
    holder["wsgi"] = make_wsgi_app(flow)
    return Shop(flow, url), served


def pay(flow: OrderFlow, buyer: Buyer, sandbox: Sandbox, order_id: str) -> OrderView:
    """Steps 4–10: redirect, pay on the page over HTTP, come back, get notified."""
    url = flow.redirect_buyer(order_id)
    buyer.open(url)
    location = buyer.pay(url)
    assert location.startswith(SUCCESS_URL)
    flow.buyer_returned(order_id)
    sandbox.wait_idle()
    return flow.get(order_id)


def paid_notification(flow: OrderFlow, buyer: Buyer, receiver, order_id: str) -> tuple[bytes, dict[str, str]]:
    """The signed notification the sandbox sends for ``order_id``'s payment, caught by
    ``receiver`` and not applied: ``(body, headers)``."""
    order = flow.place(order_id, course_lines(), private_customer(), description="Курс",
                       notification_url=receiver.url)
    buyer.pay(order.payment_url)
    [received] = receiver.wait_for(1)
    return received.body, {"Content-Type": "application/json", "X-Signature": received.signature or ""}


def packing_flow() -> FlowDefinition:
    """A shop that packs goods (``paid → packed → shipment``, guarded by ``in_stock``) and
    confirms delivery (``shipped → delivered``)."""
    return (DOCUMENTED_FLOW.renamed("shop")
            .insert_state("packed", ru="упакован", en="packed", after="paid", before="request_shipment",
                          enter="pack", guard="in_stock", message=Message(SHOP, BUYER, "Заказ собран и упакован"))
            .insert_state("delivered", ru="доставлен", en="delivered", after="shipped", enter="confirm_delivery",
                          message=Message("Служба доставки", BUYER, "Заказ доставлен")))


# --- order data: the samples the feature files name too (invoicebox_flow.testing.examples) ----


def legal_customer(sole_proprietor: bool = False) -> LegalCustomer:
    return examples.sole_proprietor() if sole_proprietor else examples.company()


def in_days(days: float) -> datetime:
    return datetime.now(UTC) + timedelta(days=days)


def pg_url() -> str | None:
    return os.environ.get(PG_URL_ENV) or None
