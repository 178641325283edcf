"""The bookshop's own code, beyond what the scenarios drive: its web app (checkout, pack, ship,
the webhook) and its payment mail, against the local InvoiceBox over HTTP.

The plugin's ``invoicebox_world`` serves the shop's app (``conftest.py``) on loopback for
InvoiceBox's notifications; the buyer's checkout and the warehouse's buttons go through the same
app, here through Flask's test client.
"""

from __future__ import annotations

import re
from decimal import Decimal
from http import HTTPStatus
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from invoicebox_flow import OrderPaid
from invoicebox_flow.testing.world import InvoiceboxWorld

from bookshop.events import PAYMENT_MAIL
from bookshop.mail import Mailbox
from bookshop.warehouse import Warehouse
from bookshop.web import create_app

README = Path(__file__).with_name("README.md")
ANNA = {"name": "Анна Смирнова", "email": "anna@example.org"}


@pytest.fixture
def web(invoicebox_world: InvoiceboxWorld) -> FlaskClient:
    return create_app(invoicebox_world.flow).test_client()


def test_a_buyer_checks_out_pays_and_the_warehouse_packs_and_ships(
        invoicebox_world: InvoiceboxWorld, web: FlaskClient, bookshop_mailbox: Mailbox,
        bookshop_warehouse: Warehouse) -> None:
    world = invoicebox_world
    checkout = web.post("/checkout", json={"buyer": ANNA, "books": {"BOOK-PY": 1, "BOOK-RUST": 1}})
    assert checkout.status_code == HTTPStatus.SEE_OTHER, checkout.json
    order_id = checkout.json["order_id"] if checkout.json else ""
    payment_url = checkout.headers["Location"]
    assert payment_url == world.flow.get(order_id).payment_url
    assert web.post(f"/orders/{order_id}/pack").status_code == HTTPStatus.CONFLICT  # not paid yet

    world.buyer.pay(payment_url)  # on InvoiceBox's page; its notification reaches the shop's webhook
    world.sandbox.wait_idle()
    assert web.get(f"/orders/{order_id}").json == {
        "order_id": order_id, "state": "paid", "state_label": "оплачен", "amount": "2480.00",
        "actions": world.flow.allowed_actions(order_id)}
    assert [(mail.order_id, "2480.00 RUB" in mail.body) for mail in bookshop_mailbox.sent.values()] == [
        (order_id, True)]

    not_packed = web.post(f"/orders/{order_id}/ship")
    assert not_packed.status_code == HTTPStatus.CONFLICT
    assert "not allowed in state 'paid'" in error(not_packed.json)
    out_of_stock = web.post(f"/orders/{order_id}/pack")  # «Rust с нуля» is not on the shelf
    assert out_of_stock.status_code == HTTPStatus.CONFLICT
    assert "in_stock" in error(out_of_stock.json)
    assert world.sandbox.shipments(world.flow.get(order_id).invoicebox_id) == []

    bookshop_warehouse.receive("BOOK-RUST", 5)
    assert web.post(f"/orders/{order_id}/pack").json == {
        "order_id": order_id, "state": "packed", "state_label": "упакован", "amount": "2480.00"}
    assert web.post(f"/orders/{order_id}/ship").json == {
        "order_id": order_id, "state": "shipped", "state_label": "отгружен", "amount": "2480.00"}
    assert len(world.sandbox.shipments(world.flow.get(order_id).invoicebox_id)) == 1


@pytest.mark.parametrize(("body", "code"), [
    ({"buyer": ANNA, "books": {"BOOK-GO": 1}}, "unknown_sku"),
    ({"buyer": ANNA, "books": {"BOOK-PY": 0}}, "wrong_value"),
    ({"buyer": ANNA, "books": {"BOOK-PY": 1.5}}, "wrong_value"),
    ({"buyer": ANNA, "books": {"BOOK-PY": "2"}}, "wrong_value"),
    ({"buyer": ANNA, "books": {}}, "empty_basket"),
    ({"buyer": {"name": "Анна"}, "books": {"BOOK-PY": 1}}, "validation"),
    ({"buyer": ANNA | {"inn": "7812345670", "kpp": "781201001"}, "books": {"BOOK-PY": 1}}, None),  # bad check digit
    ([], "validation"),
])
def test_a_bad_checkout_is_refused_and_leaves_nothing_behind(
        invoicebox_world: InvoiceboxWorld, web: FlaskClient, body: Any, code: str | None) -> None:
    refused = web.post("/checkout", json=body)
    assert refused.status_code == HTTPStatus.BAD_REQUEST
    assert code is None or (refused.json and refused.json["code"]) == code, refused.json
    assert invoicebox_world.sandbox.orders() == []
    assert invoicebox_world.store.list_orders() == []


def test_a_checkout_invoicebox_fails_to_take_is_answered_502_and_kept(
        invoicebox_world: InvoiceboxWorld, web: FlaskClient) -> None:
    invoicebox_world.sandbox.inject_fault("create_order", "server_error")  # 500, nothing created
    failed = web.post("/checkout", json={"buyer": ANNA, "books": {"BOOK-PY": 1}})
    assert failed.status_code == HTTPStatus.BAD_GATEWAY
    assert "InvoiceBox is not available" in error(failed.json)
    [kept] = invoicebox_world.store.list_orders()  # with its call pending, for the worker to retry
    assert kept.state == "invoice_requested"
    last = invoicebox_world.store.journal(kept.id)[-1]
    assert (last.trigger, last.outcome) == ("request_invoice", "failed")


def test_an_unknown_order_is_not_found(web: FlaskClient) -> None:
    assert web.post("/orders/BS-nope/pack").status_code == HTTPStatus.NOT_FOUND
    assert web.get("/orders/BS-nope").status_code == HTTPStatus.NOT_FOUND


def test_the_payment_mail_goes_once_however_often_its_handler_runs(
        invoicebox_world: InvoiceboxWorld, bookshop_mailbox: Mailbox) -> None:
    """A worker calls a handler again when a process died after the handler returned and before its
    success was recorded: the event id as the mail's idempotency key sends nothing the second time."""
    invoicebox_world.pay_fully("физическое лицо", "книга о Python")
    order_id = invoicebox_world.order_id()
    [paid] = [e for e in invoicebox_world.flow.order_events(order_id) if isinstance(e, OrderPaid)]
    subscription = invoicebox_world.flow.handlers.get(PAYMENT_MAIL)
    assert subscription is not None
    subscription.handler(paid)
    assert list(bookshop_mailbox.sent) == [paid.id]


def error(answer: Any) -> str:
    """The message of a refusal's JSON answer."""
    return str(answer.get("error", "")) if isinstance(answer, dict) else ""


def test_the_readme_production_setup_takes_a_checkout(
        invoicebox_world: InvoiceboxWorld, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    [block] = re.findall(r"^```python\n(.*?)^```", README.read_text(encoding="utf-8"), flags=re.M | re.S)
    sandbox = invoicebox_world.sandbox
    for name, value in {"INVOICEBOX_TOKEN": sandbox.token, "INVOICEBOX_BASE_URL": sandbox.url,
                        "INVOICEBOX_FLOW_DB": f"sqlite:///{tmp_path / 'bookshop.db'}",
                        "INVOICEBOX_MERCHANT_ID": sandbox.merchant_id,
                        "INVOICEBOX_NOTIFICATION_KEY": sandbox.notification_key}.items():
        monkeypatch.setenv(name, value)
    namespace: dict[str, Any] = {}
    exec(block, namespace)
    try:
        checkout = namespace["app"].test_client().post("/checkout", json={"buyer": ANNA, "books": {"BOOK-SQL": 2}})
        assert checkout.status_code == HTTPStatus.SEE_OTHER, checkout.json
        [order] = sandbox.orders()
        assert (order["merchantOrderId"], order["amount"]) == (checkout.json["order_id"], Decimal("2500.00"))
    finally:
        namespace["flow"].store.dispose()
