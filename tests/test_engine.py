"""The lifecycle engine against the sandbox over HTTP and a real SQLite store."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from helpers import course_lines, goods_lines, legal_customer, pay, private_customer

from invoicebox_flow.client import InvoiceboxClient
from invoicebox_flow.engine import OrderFlow
from invoicebox_flow.errors import (
    IllegalTransitionError,
    InvalidRequestError,
    OrderNotFoundError,
    RefundLimitError,
    ResultUnknownError,
    ValidationError,
)
from invoicebox_flow.flows import DOCUMENTED_FLOW, State, Variant, lifecycle_machine
from invoicebox_flow.models import basket_line
from invoicebox_flow.sandbox import Sandbox
from invoicebox_flow.store import OrderRecord

pytestmark = pytest.mark.every_backend  # the engine's tests run on SQLite and on PostgreSQL


def test_private_order_runs_payment_shipment_and_two_refunds(flow, buyer, sandbox):
    order = flow.place("P-1", course_lines(), private_customer(), description="Курс")
    assert order.state is State.PAYMENT_LINK_ISSUED and order.payment_url and order.invoicebox_id
    assert order.amount == Decimal("2400.00") and order.vat_amount == Decimal("400.00")

    order = pay(flow, buyer, sandbox, "P-1")
    assert order.state is State.PAID and order.paid_amount == Decimal("2400.00")
    assert [(f.kind, f.type) for f in order.facts] == [("receipt", "prepayment_full")]

    order = flow.ship("P-1")
    assert order.state is State.SHIPPED and order.shipped
    sandbox.wait_idle()
    assert sorted(r["type"] for r in sandbox.receipts(order.invoicebox_id)) == ["full_settlement", "prepayment_full"]

    flow.claim_refund("P-1", reason="не подошёл курс")
    refundable = flow.refundable_items("P-1")
    assert [i.sku for i in refundable] == ["COURSE-PY-90"]
    order = flow.refund("P-1", {"COURSE-PY-90": 1})
    assert order.state is State.PARTIALLY_REFUNDED and order.refunded_amount == Decimal("1200.00")
    order = flow.refund("P-1")
    assert order.state is State.REFUNDED and order.refunded_amount == order.paid_amount
    sandbox.wait_idle()
    assert [r["type"] for r in sandbox.receipts(order.invoicebox_id)].count("refund") == 2

    journal = flow.history("P-1")
    triggers = [e.trigger for e in journal]
    # the buyer's return races the notification; when the notification wins, the return changes nothing
    assert triggers.count("buyer_returned") <= 1
    assert [t for t in triggers if t != "buyer_returned"] == [
        "place", "request_invoice", "issue_payment_link", "redirect_buyer", "confirm_payment",
        "request_shipment", "shipment_accepted", "claim_refund", "list_refundable",
        "request_refund", "refund_accepted", "request_refund", "refund_accepted"]
    assert all(e.outcome == "ok" for e in journal)
    # every answer from InvoiceBox is journaled with its X-Request-Id
    for entry in journal:
        if entry.trigger in ("issue_payment_link", "shipment_accepted", "refund_accepted", "list_refundable"):
            assert entry.request_id
    # the journal is consistent with the stored state
    assert journal[-1].to_state == flow.get("P-1").state.value
    assert all(a.to_state == b.from_state for a, b in itertools.pairwise(journal))


@pytest.mark.parametrize(("lines", "documents"), [
    (course_lines, ["act", "transfer_report"]),
    (goods_lines, ["torg12", "transfer_report"]),
], ids=["services-act", "goods-torg12"])
@pytest.mark.parametrize("sole_proprietor", [False, True], ids=["company", "sole-proprietor"])
def test_legal_order_gets_documents_not_receipts(flow, buyer, sandbox, lines, documents, sole_proprietor):
    order = flow.place("L-1", lines(), legal_customer(sole_proprietor), description="Заказ организации")
    assert order.variant is Variant.LEGAL
    order = pay(flow, buyer, sandbox, "L-1")
    assert order.state is State.PAID and order.facts == ()
    order = flow.ship("L-1")
    flow.send_documents("L-1")
    sandbox.wait_idle()
    assert sorted(f.type for f in order.documents) == documents
    assert sorted(d["kind"] for d in sandbox.documents(order.invoicebox_id)) == documents
    assert sandbox.receipts(order.invoicebox_id) == []
    order = flow.refund("L-1")
    flow.send_documents("L-1")
    assert order.state is State.REFUNDED
    assert sorted(f.type for f in order.documents if f.event.startswith("refund")) == ["refund_" + d for d in documents]


def test_bad_input_is_refused_before_anything_is_stored_or_sent(flow, store, sandbox):
    past = datetime.now(UTC) - timedelta(hours=1)
    with pytest.raises(ValidationError) as err:
        flow.place("B-1", course_lines(), private_customer(), description="x", expires_at=past)
    assert err.value.code == "wrong_expiration_date"
    bad = course_lines()[0]
    bad = type(bad).from_json(dict(bad.to_json(), totalAmount=Decimal("1.00")))
    with pytest.raises(ValidationError):
        flow.place("B-2", [bad], private_customer(), description="x")
    with pytest.raises(ValidationError):
        flow.place("B-3", [basket_line(sku="S", name="n", unit_price="10", quantity=1, vat_code="RUS_VAT99")],
                   private_customer(), description="x")
    assert store.list_orders() == []
    assert sandbox.orders() == []


def test_duplicate_order_id_is_refused_and_the_first_order_is_untouched(flow, store):
    flow.place("D-1", course_lines(), private_customer(), description="x")
    before = flow.get("D-1")
    with pytest.raises(ValidationError) as err:
        flow.place("D-1", course_lines(), private_customer(), description="x")
    assert err.value.code == "merchant_order_id_duplicate"
    assert flow.get("D-1") == before


def test_refund_limits_per_line_and_in_total(flow, buyer, sandbox):
    flow.place("R-1", goods_lines(), private_customer(), description="x")
    pay(flow, buyer, sandbox, "R-1")
    before = flow.get("R-1")
    with pytest.raises(RefundLimitError):
        flow.refund("R-1", {"BOOK-1": 4})  # 3 were bought
    with pytest.raises(ValidationError):
        flow.refund("R-1", {"NOPE": 1})
    assert flow.get("R-1") == before and sandbox.refunds() == []

    flow.refund("R-1", {"BOOK-1": 1})
    flow.refund("R-1", {"BOOK-1": 2})
    with pytest.raises(RefundLimitError):
        flow.refund("R-1", {"BOOK-1": 1})
    order = flow.refund("R-1", {"MUG-1": 1})
    assert order.state is State.REFUNDED
    assert order.refunded_amount == order.paid_amount == Decimal("3420.50")
    assert sum(Decimal(str(r["amount"])) for r in sandbox.refunds()) == Decimal("3420.50")
    with pytest.raises(IllegalTransitionError):
        flow.refund("R-1")


def test_update_and_cancel_before_payment_then_refused_after(flow, buyer, sandbox):
    flow.place("U-1", course_lines(), private_customer(), description="x")
    order = flow.update("U-1", description="Курс, доступ 120 дней")
    assert order.state is State.PAYMENT_LINK_ISSUED
    assert sandbox.order(order.invoicebox_id)["description"] == "Курс, доступ 120 дней"
    assert flow.cancel("U-1").state is State.CANCELED
    assert sandbox.order(order.invoicebox_id)["status"] == "canceled"

    flow.place("U-2", course_lines(), private_customer(), description="x")
    pay(flow, buyer, sandbox, "U-2")
    for action in (lambda: flow.update("U-2", description="y"), lambda: flow.cancel("U-2")):
        with pytest.raises(IllegalTransitionError):
            action()
    assert flow.get("U-2").state is State.PAID


def test_definitive_refusal_returns_to_the_previous_state_and_journals_the_attempt(flow, buyer, sandbox):
    order = flow.place("F-1", course_lines(), private_customer(), description="x")
    pay(flow, buyer, sandbox, "F-1")
    sandbox.drift_shipment(order.invoicebox_id)  # shipped at InvoiceBox by hand: nothing left to ship
    with pytest.raises(InvalidRequestError) as refused:
        flow.ship("F-1")
    assert refused.value.code == "wrong_shipment_amount"
    order = flow.get("F-1")
    assert order.state is State.PAID and not order.shipped
    assert [(e.trigger, e.outcome) for e in flow.history("F-1")][-2:] == [("request_shipment", "ok"),
                                                                          ("shipment_failed", "failed")]
    order = flow.sync("F-1")  # what InvoiceBox did is caught up through the lifecycle
    assert order.state is State.SHIPPED and order.shipments[0].observed
    assert flow.history("F-1")[-1].trigger == "shipment_observed"


def test_a_line_the_order_does_not_have_is_refused_before_anything_is_sent(flow, buyer, sandbox):
    flow.place("F-2", course_lines(), private_customer(), description="x")
    pay(flow, buyer, sandbox, "F-2")
    before, requests = flow.get("F-2"), len(sandbox.requests())
    wrong = [basket_line(sku="OTHER", name="не из заказа", unit_price="10.00", quantity=1, vat_code="RUS_VAT20")]
    with pytest.raises(ValidationError, match="has no line OTHER"):
        flow.ship("F-2", wrong)
    assert flow.get("F-2") == before and len(sandbox.requests()) == requests


def test_unknown_outcome_keeps_the_intent_and_resume_finishes_it_once(flow, sandbox):
    sandbox.inject_fault("create_order", "server_error", times=1)
    with pytest.raises(ResultUnknownError):
        flow.place("X-1", course_lines(), private_customer(), description="x")
    assert flow.get("X-1").state is State.INVOICE_REQUESTED
    assert sandbox.orders() == []
    assert flow.history("X-1")[-1].outcome == "failed"
    # the lease is released with a retry time; resume() picks it up once due
    [order] = flow.resume("X-1", due_now=True)
    assert order.state is State.PAYMENT_LINK_ISSUED
    assert len(sandbox.orders()) == 1


def test_a_call_whose_answer_is_lost_is_found_again_and_not_repeated(flow, sandbox):
    sandbox.inject_fault("create_order", "server_error_after_commit", times=1)
    # the client's safe create looks the order up by merchantOrderId and finds it
    order = flow.place("X-2", course_lines(), private_customer(), description="x")
    assert order.state is State.PAYMENT_LINK_ISSUED
    assert len(sandbox.orders()) == 1


def test_unknown_orders_are_typed_errors(flow):
    with pytest.raises(OrderNotFoundError):
        flow.get("nope")
    with pytest.raises(OrderNotFoundError):
        flow.ship("nope")
    with pytest.raises(OrderNotFoundError):
        flow.history("nope")


# --- every public action in every state: refused ones change nothing anywhere -------------

ACTIONS = {
    "request_invoice": lambda f, o: f.request_invoice(o),
    "redirect_buyer": lambda f, o: f.redirect_buyer(o),
    "buyer_returned": lambda f, o: f.buyer_returned(o, success=False),
    "update": lambda f, o: f.update(o, description="y"),
    "cancel": lambda f, o: f.cancel(o),
    "request_shipment": lambda f, o: f.ship(o),
    "send_documents": lambda f, o: f.send_documents(o),
    "claim_refund": lambda f, o: f.claim_refund(o),
    "list_refundable": lambda f, o: f.refundable_items(o),
    "request_refund": lambda f, o: f.refund(o),
}
TRIGGER_OF_ACTION = {"buyer_returned": "decline_payment"}


def _stored_order(store, order_id: str, variant: Variant, state: str) -> None:
    now = datetime.now(UTC)
    line = course_lines()[0].to_json()
    data = {"request": {"basketItems": [line]}, "currency": "RUB", "amount": line["totalAmount"],
            "vatAmount": line["totalVatAmount"], "paidAmount": 0, "refundedAmount": 0, "shipped": False,
            "refunds": [], "facts": [], "paymentUrl": "http://example.invalid/pay",
            "lines": [{k: line[k] for k in ("sku", "name", "quantity", "amount", "totalAmount", "totalVatAmount",
                                             "vatCode", "type")} | {"refundedQuantity": 0, "refundedAmount": 0,
                                                                     "refundedVatAmount": 0}]}
    from invoicebox_flow.store import JournalEntry

    store.add_order(OrderRecord(id=order_id, merchant_order_id=order_id, variant=variant.value, state=state,
                                version=1, invoicebox_id=f"ib-{order_id}", data=data, created_at=now, updated_at=now),
                    JournalEntry(order_id=order_id, trigger="place", from_state="new", to_state=state, actor="test"))


def _adapts(variant: Variant, state: str) -> set[str]:
    """Actions that adapt instead of refusing: the buyer coming back (either page) to an order
    that is paid, over, or already awaiting its payment changes nothing."""
    lc = DOCUMENTED_FLOW.lifecycle(variant)
    settled = lc.paid_states | lc.final_states | lc.awaiting_payment_states
    return {TRIGGER_OF_ACTION["buyer_returned"]} if state in settled else set()


def _refused_cases():
    for variant in Variant:
        machine = lifecycle_machine(DOCUMENTED_FLOW.lifecycle(variant))
        for state in machine.states:
            if state == State.NEW.value:
                continue
            allowed = {t for t in machine.events if machine.events[t].transitions.get(state)} | _adapts(variant, state)
            for action in ACTIONS:
                trigger = TRIGGER_OF_ACTION.get(action, action)
                if trigger not in allowed:
                    yield pytest.param(variant, state, action, id=f"{variant.value}-{state}-{action}")


@pytest.fixture(scope="module")
def module_sandbox():
    with Sandbox() as ib:
        yield ib


@pytest.mark.parametrize(("variant", "state", "action"), list(_refused_cases()))
def test_refused_action_changes_nothing(module_sandbox, store, variant, state, action):
    sandbox = module_sandbox
    sandbox.reset()
    flow = OrderFlow(InvoiceboxClient(sandbox.token, base_url=sandbox.url), store, merchant_id=sandbox.merchant_id,
                     notification_key=sandbox.notification_key)
    _stored_order(store, "S-1", variant, state)
    before, journal_before = store.get("S-1"), store.journal("S-1")
    with pytest.raises(IllegalTransitionError) as err:
        ACTIONS[action](flow, "S-1")
    assert err.value.state == state
    assert store.get("S-1") == before and store.journal("S-1") == journal_before
    assert store.outbox(order_id="S-1") == []
    assert sandbox.requests() == []


@pytest.mark.parametrize("success", [True, False], ids=["success-page", "fail-page"])
def test_a_buyer_coming_back_to_a_paid_order_changes_nothing(flow, buyer, sandbox, success):
    flow.place("BR-1", course_lines(), private_customer(), description="x")
    paid = pay(flow, buyer, sandbox, "BR-1")
    journal = flow.history("BR-1")
    assert flow.buyer_returned("BR-1", success=success) == paid
    assert flow.history("BR-1") == journal


def test_facts_are_confirmed_against_what_invoicebox_issued(flow, buyer, sandbox):
    flow.place("FC-1", course_lines(), private_customer(), description="x")
    pay(flow, buyer, sandbox, "FC-1")
    flow.ship("FC-1")
    sandbox.wait_idle()
    order = flow.confirm_facts("FC-1", sandbox.inspect)
    issued = {r["id"]: r["type"] for r in sandbox.receipts(order.invoicebox_id)}
    assert {f.ref: f.type for f in order.facts} == issued
    assert [f.type for f in order.facts] == ["prepayment_full", "full_settlement"]
    assert flow.confirm_facts("FC-1", sandbox.inspect) == order  # nothing new: nothing written
    assert flow.history("FC-1")[-1].trigger == "confirm_facts"


def test_a_cancel_whose_answer_was_lost_is_reconciled(flow, sandbox):
    order = flow.place("CX-1", course_lines(), private_customer(), description="x")
    sandbox.inject_fault("cancel_order", "server_error_after_commit", times=1)
    # InvoiceBox canceled it and the answer was lost: the client reads the status back
    assert flow.cancel("CX-1").state is State.CANCELED
    assert sandbox.order(order.invoicebox_id)["status"] == "canceled"
    assert [e.outcome for e in flow.history("CX-1") if e.trigger == "cancel"] == ["ok"]


def test_an_item_whose_lease_ran_out_in_the_batch_is_left_to_the_next_claimer(flow, store):
    flow.place("LS-1", course_lines(), private_customer(), description="x", defer=True)
    flow.lease_seconds = 0.001  # the lease is over before the item's turn comes
    assert flow.resume() == []
    [item] = store.outbox(order_id="LS-1")
    assert item.status == "claimed" and flow.get("LS-1").state is State.INVOICE_REQUESTED
    flow.lease_seconds = 60
    [order] = flow.resume()
    assert order.state is State.PAYMENT_LINK_ISSUED


def test_a_worker_survives_a_failing_poll_and_goes_on(flow, store, monkeypatch):
    from invoicebox_flow.worker import Worker

    flow.place("W-1", course_lines(), private_customer(), description="x", defer=True)
    real_claim, calls = store.claim_outbox, []

    def flaky_claim(*args, **kwargs):  # the database is away for the first poll
        calls.append(1)
        if len(calls) == 1:
            raise ConnectionError("database restarting")
        return real_claim(*args, **kwargs)

    monkeypatch.setattr(store, "claim_outbox", flaky_claim)
    assert Worker(flow).run(poll_interval=0.01, idle_exit_after=0.2) == 1
    assert flow.get("W-1").state is State.PAYMENT_LINK_ISSUED
