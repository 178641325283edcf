"""An extended flow and the automatic shipment of online services, end to end against the
sandbox over HTTP with a real SQLite store: extension states are first-class everywhere."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from helpers import course_lines, goods_lines, legal_customer, make_shop, packing_flow, pay, private_customer

from invoicebox_flow import OrderFlow
from invoicebox_flow.errors import DefinitionError, IllegalTransitionError, ResultUnknownError, ValidationError
from invoicebox_flow.flows import DOCUMENTED_FLOW, State

CUSTOMERS = {"private": private_customer, "company": legal_customer,
             "sole-proprietor": lambda: legal_customer(sole_proprietor=True)}


@pytest.fixture
def stock() -> dict[str, int]:
    return {"BOOK-1": 5, "MUG-1": 0}


@pytest.fixture
def packing_shop(client, store, sandbox, stock):
    def in_stock(view) -> bool:
        return all(stock.get(line.sku, 0) >= line.quantity for line in view.lines)

    shop, served = make_shop(client, store, sandbox, definition=packing_flow(), conditions={"in_stock": in_stock})
    yield shop.flow
    served.close()


@pytest.mark.parametrize("buyer_kind", list(CUSTOMERS))
def test_a_packed_order_goes_end_to_end(packing_shop, buyer, sandbox, store, stock, buyer_kind):
    flow = packing_shop
    order = flow.place("PK-1", goods_lines(), CUSTOMERS[buyer_kind](), description="Книги и кружка")
    order = pay(flow, buyer, sandbox, "PK-1")
    assert order.state is State.PAID

    with pytest.raises(IllegalTransitionError) as refused:  # no shipment before packing
        flow.ship("PK-1")
    assert "pack" in refused.value.allowed
    with pytest.raises(IllegalTransitionError, match="in_stock does not hold"):  # the guard
        flow.fire("PK-1", "pack")
    stock["MUG-1"] = 1
    order = flow.fire("PK-1", "pack", detail={"box": "A-7"})
    assert (order.state, order.state_label, order.is_final) == ("packed", "упакован", False)
    assert "request_shipment" in flow.allowed_actions("PK-1")

    # a payment notification arriving again for a packed order, and the buyer coming back
    sandbox.redeliver(order.invoicebox_id)
    sandbox.wait_idle()
    assert sandbox.notifications(order.invoicebox_id)[-1]["delivered"]
    assert flow.buyer_returned("PK-1").state == "packed"

    # persisted: another flow on the same store sees the packed order
    assert OrderFlow(flow.client, store, definition=packing_flow(), conditions=flow.conditions).get("PK-1").state == "packed"

    order = flow.ship("PK-1")
    assert order.state is State.SHIPPED and order.shipped
    order = flow.fire("PK-1", "confirm_delivery")
    assert order.state == "delivered"
    order = flow.refund("PK-1", {"MUG-1": 1})
    assert order.state is State.PARTIALLY_REFUNDED and order.refunded_amount == Decimal("450.50")
    triggers = [e.trigger for e in flow.history("PK-1")]
    assert triggers.index("pack") < triggers.index("request_shipment") < triggers.index("confirm_delivery")
    assert [e.detail for e in flow.history("PK-1") if e.trigger == "pack"] == [{"box": "A-7"}]


def test_a_refund_invoicebox_cancels_brings_the_order_back_to_the_shops_own_state(packing_shop, buyer, sandbox,
                                                                                 stock):
    flow = packing_shop
    flow.place("PK-5", goods_lines(), private_customer(), description="Книги и кружка")
    pay(flow, buyer, sandbox, "PK-5")
    stock["MUG-1"] = 1
    flow.fire("PK-5", "pack")
    sandbox.inject_refund_fault("canceled")
    assert flow.refund("PK-5", {"MUG-1": 1}).state is State.PARTIALLY_REFUNDED
    sandbox.wait_idle()
    order = flow.sync("PK-5")  # InvoiceBox canceled it: no money went back
    assert (order.state, order.refunded_amount) == ("packed", Decimal("0.00"))
    assert [e.trigger for e in flow.history("PK-5")][-1] == "refund_canceled"


def test_documented_steps_cannot_be_fired_by_hand(packing_shop, buyer, sandbox):
    packing_shop.place("PK-2", goods_lines(), private_customer(), description="x")
    with pytest.raises(IllegalTransitionError, match="call its OrderFlow method"):
        packing_shop.fire("PK-2", "redirect_buyer")


def test_a_guard_named_but_given_nowhere_is_refused_when_the_flow_is_built(client, store):
    with pytest.raises(DefinitionError, match="'in_stock', which is neither built in"):
        OrderFlow(client, store, definition=packing_flow())


def test_the_cli_knows_the_shops_own_states(packing_shop, buyer, sandbox, store, stock):
    stock["MUG-1"] = 1
    packing_shop.place("PK-3", goods_lines(), private_customer(), description="x")
    pay(packing_shop, buyer, sandbox, "PK-3")
    packing_shop.fire("PK-3", "pack")
    cli = Path(sys.executable).with_name("invoicebox-flow")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent), "INVOICEBOX_FLOW_DB": store.url}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(cli), *args], capture_output=True, text=True, timeout=60, check=False, env=env)

    listed = run("orders", "list", "--state", "packed", "--definition", "helpers:packing_flow", "--json")
    assert listed.returncode == 0, listed.stderr
    assert [o["state"] for o in json.loads(listed.stdout)] == ["packed"]
    shown = run("orders", "show", "PK-3", "--definition", "helpers:packing_flow")
    assert shown.returncode == 0 and "packed (упакован" in shown.stdout, shown.stderr
    unknown = run("orders", "list", "--state", "packed")  # the documented flow has no such state
    assert unknown.returncode == 2 and "unknown state 'packed'" in unknown.stderr
    assert "cannot load the flow definition" in run("orders", "list", "--definition", "helpers:nothing").stderr


# --- online services ship themselves once paid ------------------------------------------------


def lose_the_shipments_answer(sandbox) -> None:
    """The next shipment is registered but its answer is lost, and InvoiceBox cannot say for a
    while: the client's listing before the call passes, the lookups after it fail."""
    sandbox.inject_fault("list_shipments", "slow", delay=0.01)
    sandbox.inject_fault("list_shipments", "server_error", times=20)
    sandbox.inject_fault("create_shipment", "server_error_after_commit")


@pytest.fixture
def online_shop(client, store, sandbox):
    shop, served = make_shop(client, store, sandbox, definition=DOCUMENTED_FLOW.with_auto_shipment())
    yield shop.flow
    served.close()


def test_a_paid_order_of_online_services_is_shipped_without_a_ship_call(online_shop, buyer, sandbox):
    online_shop.place("AS-1", course_lines(), private_customer(), description="Онлайн-курс")
    order = pay(online_shop, buyer, sandbox, "AS-1")
    sandbox.wait_idle()
    assert order.state is State.SHIPPED
    receipts = sorted(r["type"] for r in sandbox.receipts(order.invoicebox_id))
    assert receipts == ["full_settlement", "prepayment_full"]
    assert len(sandbox.shipments(order.invoicebox_id)) == 1
    assert [e.trigger for e in online_shop.history("AS-1")][-3:] == ["confirm_payment", "request_shipment",
                                                                       "shipment_accepted"]
    assert online_shop.store.outbox(order_id="AS-1", status="pending") == []


def test_automatic_shipment_happens_once_when_its_answer_is_lost(online_shop, buyer, sandbox):
    online_shop.place("AS-2", course_lines(), legal_customer(), description="Онлайн-курс")
    lose_the_shipments_answer(sandbox)
    order = pay(online_shop, buyer, sandbox, "AS-2")
    assert order.state is State.SHIPMENT_REQUESTED  # the shipment's outcome is unknown: it stays pending
    sandbox.clear_faults()
    assert len(sandbox.shipments(order.invoicebox_id)) == 1
    online_shop.resume("AS-2", due_now=True)
    sandbox.wait_idle()
    order = online_shop.get("AS-2")
    assert order.state is State.SHIPPED and len(order.shipments) == 1
    assert len(sandbox.shipments(order.invoicebox_id)) == 1
    assert sorted(d["kind"] for d in sandbox.documents(order.invoicebox_id)) == ["act", "transfer_report"]


def test_a_mixed_basket_is_not_shipped_automatically(online_shop, buyer, sandbox):
    online_shop.place("AS-3", course_lines() + goods_lines(), private_customer(), description="Курс и книги")
    order = pay(online_shop, buyer, sandbox, "AS-3")
    assert order.state is State.PAID and sandbox.shipments(order.invoicebox_id) == []


def test_asking_goods_to_ship_themselves_is_refused_before_anything_is_stored(flow, sandbox, store):
    with pytest.raises(ValidationError, match="BOOK-1, MUG-1 are goods"):
        flow.place("AS-4", goods_lines(), private_customer(), description="x", auto_ship=True)
    assert store.list_orders() == [] and sandbox.requests() == []


def test_one_order_can_ask_to_ship_itself_in_a_flow_that_does_not(flow, buyer, sandbox):
    flow.place("AS-5", course_lines(), private_customer(), description="x", auto_ship=True)
    assert pay(flow, buyer, sandbox, "AS-5").state is State.SHIPPED


def test_an_unknown_outcome_is_the_one_documented_error(flow, buyer, sandbox):
    flow.place("AS-6", course_lines(), private_customer(), description="x")
    pay(flow, buyer, sandbox, "AS-6")
    lose_the_shipments_answer(sandbox)
    with pytest.raises(ResultUnknownError, match="result unknown, it will be reconciled"):
        flow.ship("AS-6")
    assert flow.get("AS-6").state is State.SHIPMENT_REQUESTED


def test_what_invoicebox_tolerates_is_a_warning_on_the_order(flow, sandbox, caplog):
    from invoicebox_flow.models import LegalCustomer

    no_kpp = LegalCustomer(name="ООО «Вектор»", vat_number="7812345675", email="buh@vector.example")
    with caplog.at_level("WARNING", logger="invoicebox_flow.rulebook"):
        order = flow.place("W-1", course_lines(), no_kpp, description="Курс")
    assert order.state is State.PAYMENT_LINK_ISSUED  # accepted, and sent
    assert {(w.code, w.field) for w in order.warnings} == {("kpp_missing", "customer.taxRegistrationReasonCode"),
                                                             ("address_missing", "customer.registrationAddress")}
    assert flow.get("W-1").warnings == order.warnings  # kept with the order
    assert "customer.taxRegistrationReasonCode" in caplog.text and "7812345675" not in caplog.text
