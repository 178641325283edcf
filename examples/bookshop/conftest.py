"""The bookshop under test: what the invoicebox-flow plugin's step library runs the scenarios
of ``features/`` on.

The plugin brings the steps, a local InvoiceBox and a buyer paying on its page over HTTP; this
file brings the shop, by overriding the plugin's fixtures:

* ``invoicebox_flow_factory`` — the bookshop's ``OrderFlow`` (its packing flow, its stock guard,
  its payment-mail handler), built from the parts each scenario hands it;
* ``invoicebox_shop_app`` and ``invoicebox_notification_path`` — the bookshop's own Flask app
  receives InvoiceBox's notifications, at its own path;
* ``invoicebox_baskets`` — baskets of the shop's own books, by the names the features use.

One step is the shop's own: no library can know where a shop's mail goes.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import pytest
from invoicebox_flow import BasketItem, OrderFlow, OrderPaid
from invoicebox_flow.testing import AppFactory, FlowFactory, ShopParts
from invoicebox_flow.testing.world import InvoiceboxWorld
from pytest_bdd import parsers, then

from bookshop.catalogue import basket
from bookshop.mail import Mailbox
from bookshop.shop import make_flow
from bookshop.warehouse import Warehouse
from bookshop.web import NOTIFICATION_PATH, create_app

STOCK = {"BOOK-PY": 10, "BOOK-SQL": 3, "BOOK-RUST": 0}  # «Rust с нуля» is still at the printer's
BASKETS = {
    "книга о Python": {"BOOK-PY": 2},
    "книги о Python и SQL": {"BOOK-PY": 1, "BOOK-SQL": 1},
    "книга о Rust": {"BOOK-RUST": 1},
}


@pytest.fixture
def bookshop_warehouse() -> Warehouse:
    return Warehouse(STOCK)


@pytest.fixture
def bookshop_mailbox() -> Mailbox:
    return Mailbox()


@pytest.fixture
def invoicebox_flow_factory(bookshop_warehouse: Warehouse, bookshop_mailbox: Mailbox) -> FlowFactory:
    def bookshop(parts: ShopParts) -> OrderFlow:  # the scenario's InvoiceBox, store and credentials
        return make_flow(parts.client, parts.store, warehouse=bookshop_warehouse, mailbox=bookshop_mailbox,
                         **parts.settings())
    return bookshop


@pytest.fixture
def invoicebox_shop_app() -> AppFactory:
    return create_app


@pytest.fixture
def invoicebox_notification_path() -> str:
    return NOTIFICATION_PATH


@pytest.fixture
def invoicebox_baskets() -> dict[str, Callable[[], list[BasketItem]]]:
    return {name: partial(basket, copies) for name, copies in BASKETS.items()}


@then(parsers.parse("писем об оплате заказа отправлено: {count:d}"))
def payment_mails_sent(invoicebox_world: InvoiceboxWorld, bookshop_mailbox: Mailbox, count: int) -> None:
    """The mails the shop's mail service sent about the order, each for one of its OrderPaid events."""
    order_id = invoicebox_world.order_id()
    mails = {key: mail for key, mail in bookshop_mailbox.sent.items() if mail.order_id == order_id}
    paid = {event.id for event in invoicebox_world.flow.order_events(order_id) if isinstance(event, OrderPaid)}
    assert len(mails) == count, mails
    assert set(mails) <= paid, (mails, paid)
