"""Helpers the tests share: order data, a shop whose notification endpoint is served over
HTTP, and paying through the sandbox's page as a buyer does. Imported by test modules and by
conftest.py (which turns some of them into fixtures)."""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone

from invoicebox_flow.client import InvoiceboxClient
from invoicebox_flow.engine import OrderFlow, OrderView
from invoicebox_flow.flows import BUYER, DOCUMENTED_FLOW, SHOP, FlowDefinition, Message
from invoicebox_flow.models import basket_line
from invoicebox_flow.models import LegalCustomer, PrivateCustomer
from invoicebox_flow.sandbox import Buyer, Sandbox
from invoicebox_flow.serving import LoopbackServer
from invoicebox_flow.store import Store
from invoicebox_flow.webhook import make_wsgi_app

PG_URL_ENV = "INVOICEBOX_FLOW_TEST_PG_URL"
FAST_RETRIES = (0.02, 0.05, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1)
SUCCESS_URL = "http://shop.example/ok"
FAIL_URL = "http://shop.example/fail"

# A company (10-digit INN with KPP) and a sole proprietor (12-digit INN, no KPP), checksums valid.
COMPANY = dict(name="ООО «Вектор»", vat_number="7812345675", tax_registration_reason_code="781201001",
               registration_address="191186, Санкт-Петербург, Невский пр., 1", email="buh@vector.example")
SOLE_PROPRIETOR = dict(name="ИП Иванов Иван Иванович", vat_number="781234567870", email="ip@ivanov.example")


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


def packing_flow() -> FlowDefinition:
    """A shop that packs goods (``paid → packed → shipment``, guarded by ``in_stock``) and
    confirms delivery (``shipped → delivered``)."""
    return (DOCUMENTED_FLOW.renamed("shop")
            .insert_state("packed", ru="упакован", en="packed", after="paid", before="request_shipment",
                          enter="pack", guard="in_stock", message=Message(SHOP, BUYER, "Заказ собран и упакован"))
            .insert_state("delivered", ru="доставлен", en="delivered", after="shipped", enter="confirm_delivery",
                          message=Message("Служба доставки", BUYER, "Заказ доставлен")))


# --- order data ----------------------------------------------------------------------------
def course_lines():
    return [basket_line(sku="COURSE-PY-90", name="Онлайн-курс «Python для аналитиков», доступ 90 дней",
                        unit_price="1200.00", quantity=2, vat_code="RUS_VAT20", type="service")]


def goods_lines():
    return [
        basket_line(sku="BOOK-1", name="Книга «Python»", unit_price="990.00", quantity=3, vat_code="RUS_VAT10",
                    type="commodity", payment_type="full_prepayment"),
        basket_line(sku="MUG-1", name="Кружка", unit_price="450.50", quantity=1, vat_code="RUS_VAT20",
                    type="commodity"),
    ]


def private_customer():
    return PrivateCustomer(name="Анна Смирнова", phone="79215550101", email="anna@example.org")


def legal_customer(sole_proprietor: bool = False):
    return LegalCustomer(**(SOLE_PROPRIETOR if sole_proprietor else COMPANY))


def in_days(days: float) -> datetime:
    return datetime.now(timezone.utc) + timedelta(days=days)


def pg_url() -> str | None:
    return os.environ.get(PG_URL_ENV) or None
