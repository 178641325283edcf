"""The reconciliation sweep, one kind of drift at a time, against the sandbox over HTTP.

Each test makes the drift as it happens in life (the sandbox's drift controls on InvoiceBox's
side; on the shop's, a database restore or an edit behind the engine's back), then: the sweep
reports it with its kind, ``heal=True`` heals exactly the safe kinds through the engine (the
journal shows the transitions, by ``reconcile``), and a second sweep agrees — or, for the kinds
that need a person, still reports it and changes nothing.
"""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import pytest
from helpers import make_shop, pay
from reconcile_helpers import healed_by_reconcile, kinds, lose_outbox, paid, paid_unannounced, placed

from invoicebox_flow import jsonutil
from invoicebox_flow.engine import OrderPaid
from invoicebox_flow.errors import ValidationError
from invoicebox_flow.flows import State
from invoicebox_flow.reconcile import AGREE, HEALED, NEEDS_HUMAN, Drift, Outcome
from invoicebox_flow.store import utcnow


def sweep_heals(flow, order_id, kind, journal):
    """The sweep finds ``kind`` in ``order_id``; healing makes exactly the ``journal`` entries; then
    the books agree."""
    found = flow.reconcile()
    assert kinds(found) == {order_id: kind} and found.exit_code == HEALED
    assert [f.outcome for f in found.findings] == [Outcome.FOUND]
    assert healed_by_reconcile(flow, order_id) == []  # reporting changes nothing
    healed = flow.reconcile(heal=True)
    assert kinds(healed) == {order_id: kind} and [f.outcome for f in healed.findings] == [Outcome.HEALED]
    assert healed.exit_code == HEALED and healed.needs_human == ()
    assert healed_by_reconcile(flow, order_id) == journal
    # the same lifecycle events as the live path, by reconcile
    assert [(e.trigger, e.from_state, e.to_state) for e in flow.order_events(order_id)
            if e.actor == "reconcile"] == journal
    again = flow.reconcile(heal=True)
    assert again.agrees and again.exit_code == AGREE and again.orders == found.orders


def sweep_leaves_to_a_person(flow, order_id, kind):
    before = flow.history(order_id)
    for heal in (False, True):
        report = flow.reconcile(heal=heal)
        assert kinds(report) == {order_id: kind} and report.exit_code == NEEDS_HUMAN
        assert [f.order_id for f in report.needs_human] == [order_id]
        assert [f.outcome for f in report.findings] == [Outcome.FOUND]
    assert flow.history(order_id) == before


def edit_order(store, order_id, **changes):
    """The shop's row changed behind the engine's back (an admin's edit, a restore from elsewhere)."""
    record = store.get(order_id)
    data = jsonutil.loads(jsonutil.dumps(record.data))
    state = changes.pop("state", record.state)
    for key, change in changes.items():
        data[key] = change(data[key])
    with sqlite3.connect(store.url.removeprefix("sqlite:///")) as conn:
        conn.execute("UPDATE orders SET state = ?, data = ? WHERE id = ?", (state, jsonutil.dumps(data), order_id))


# --- safe to heal -------------------------------------------------------------------------------


def test_a_payment_whose_notification_never_arrived_is_confirmed(flow, buyer, sandbox):
    assert paid_unannounced(flow, buyer, sandbox, "A-1").state is State.AWAITING_PAYMENT
    assert sandbox.order(flow.get("A-1").invoicebox_id)["status"] == "completed"
    sweep_heals(flow, "A-1", Drift.MISSED_PAYMENT, [("confirm_payment", "awaiting_payment", "paid")])
    [paid] = [e for e in flow.order_events("A-1") if isinstance(e, OrderPaid)]
    assert paid.actor == "reconcile" and paid.amount == flow.get("A-1").amount
    view = flow.get("A-1")
    assert view.state is State.PAID and view.paid_amount == view.amount


@pytest.mark.parametrize("control, trigger, state", [("drift_cancel_order", "cancel", "canceled"),
                                                     ("drift_expire_order", "expire", "expired")])
def test_an_order_closed_at_invoicebox_is_closed_by_its_transition(flow, sandbox, control, trigger, state):
    view = placed(flow, "A-1")
    getattr(sandbox, control)(view.invoicebox_id)
    sweep_heals(flow, "A-1", Drift.CLOSED_AT_INVOICEBOX, [(trigger, "payment_link_issued", state)])


def test_a_queued_call_whose_effect_is_at_invoicebox_is_finished_by_resume(flow, buyer, sandbox):
    view = paid(flow, buyer, sandbox, "A-1")
    flow.ship("A-1", defer=True)  # the worker's call landed; its commit did not (it died)
    sandbox.drift_shipment(view.invoicebox_id)
    sweep_heals(flow, "A-1", Drift.UNFINISHED_CALL, [("shipment_accepted", "shipment_requested", "shipped")])
    assert flow.store.outbox(order_id="A-1", status="pending") == []
    assert len(sandbox.shipments(view.invoicebox_id)) == 1  # looked up, not made twice


def test_a_lost_intent_whose_effect_is_at_invoicebox_is_recorded(flow, buyer, sandbox, store):
    view = paid(flow, buyer, sandbox, "A-1")
    flow.ship("A-1", defer=True)
    sandbox.drift_shipment(view.invoicebox_id)
    assert lose_outbox(store, "A-1") == 1
    sweep_heals(flow, "A-1", Drift.LOST_INTENT, [("shipment_accepted", "shipment_requested", "shipped")])
    [shipment] = flow.get("A-1").shipments
    assert shipment.id == str(sandbox.shipments(view.invoicebox_id)[0]["id"])


def test_a_lost_shipment_intent_that_never_reached_invoicebox_goes_back(flow, buyer, sandbox, store):
    paid(flow, buyer, sandbox, "A-1")
    flow.ship("A-1", defer=True)
    assert lose_outbox(store, "A-1") == 1
    sweep_heals(flow, "A-1", Drift.LOST_INTENT, [("shipment_failed", "shipment_requested", "paid")])
    assert flow.ship("A-1").state is State.SHIPPED  # the shop can ship it again


def test_a_lost_invoice_intent_is_requested_again(flow, store, sandbox):
    placed(flow, "A-1", defer=True)
    assert lose_outbox(store, "A-1") == 1
    sweep_heals(flow, "A-1", Drift.LOST_INTENT, [("invoice_failed", "invoice_requested", "order_placed")])
    assert flow.get("A-1").state is State.INVOICE_REQUESTED  # the intent again, for a worker
    [view] = flow.resume()
    assert view.state is State.PAYMENT_LINK_ISSUED and len(sandbox.orders()) == 1


def test_a_shipment_made_at_invoicebox_is_observed(flow, buyer, sandbox):
    view = paid(flow, buyer, sandbox, "A-1")
    sandbox.drift_shipment(view.invoicebox_id)
    sweep_heals(flow, "A-1", Drift.UNSEEN_SHIPMENT, [("shipment_observed", "paid", "shipped")])


def test_a_refund_canceled_at_invoicebox_is_undone(flow, buyer, sandbox):
    paid(flow, buyer, sandbox, "A-1")
    sandbox.inject_refund_fault("canceled")
    flow.refund("A-1", {"BOOK-1": 1})
    sandbox.wait_idle()
    sweep_heals(flow, "A-1", Drift.REFUND_SETTLED, [("refund_canceled", "partially_refunded", "paid")])
    assert flow.get("A-1").refunded_amount == 0


def test_a_refund_paid_out_is_recorded(flow, buyer, sandbox):
    paid(flow, buyer, sandbox, "A-1")
    flow.refund("A-1", {"BOOK-1": 1})
    sandbox.wait_idle()
    assert [r.status for r in flow.get("A-1").refunds] == ["created"]  # the API's answer; the payout came later
    found = flow.reconcile(heal=True)
    assert kinds(found) == {"A-1": Drift.REFUND_SETTLED} and found.healed == found.findings
    assert [r.status for r in flow.get("A-1").refunds] == ["completed"]
    assert flow.history("A-1")[-1].trigger == "refund_status"  # bookkeeping: the state stays
    assert flow.reconcile().agrees


# --- needs a person -------------------------------------------------------------------------------


def test_a_refund_made_by_hand_needs_a_person(flow, buyer, sandbox):
    view = paid(flow, buyer, sandbox, "A-1")
    sandbox.drift_refund(view.invoicebox_id, [dict(sandbox.order(view.invoicebox_id)["basketItems"][0], quantity=1,
                                                   totalAmount="990.00", totalVatAmount="90.00")])
    sweep_leaves_to_a_person(flow, "A-1", Drift.UNKNOWN_REFUND)
    [finding] = flow.reconcile().findings
    assert finding.detail["amount"] == "990.00"


def test_an_amount_changed_at_invoicebox_needs_a_person(flow, sandbox):
    view = placed(flow, "A-1")
    sandbox.drift_change_amount(view.invoicebox_id, "1.00")
    sweep_leaves_to_a_person(flow, "A-1", Drift.AMOUNT_MISMATCH)


def test_a_payment_of_a_changed_amount_is_not_confirmed(flow, buyer, sandbox):
    view = placed(flow, "A-1")
    sandbox.drift_change_amount(view.invoicebox_id, "1.00")
    sandbox.inject_notification_fault("drop")
    buyer.pay(flow.redirect_buyer("A-1"))
    sandbox.wait_idle()
    sweep_leaves_to_a_person(flow, "A-1", Drift.AMOUNT_MISMATCH)
    assert flow.get("A-1").state is State.BUYER_REDIRECTED


def test_a_shipment_invoicebox_does_not_have_needs_a_person(flow, buyer, sandbox, store):
    paid(flow, buyer, sandbox, "A-1")
    edit_order(store, "A-1", state="shipped",
               shipments=lambda s: [*s, {"id": "999999", "at": utcnow().isoformat(), "lines": []}])
    sweep_leaves_to_a_person(flow, "A-1", Drift.MISSING_SHIPMENT)


def test_money_at_invoicebox_for_an_order_the_shop_canceled_needs_a_person(flow, buyer, sandbox, store):
    paid_unannounced(flow, buyer, sandbox, "A-1")
    edit_order(store, "A-1", state="canceled")  # canceled in the shop's database by hand
    sweep_leaves_to_a_person(flow, "A-1", Drift.PAID_BUT_CLOSED)


def test_a_shipment_the_order_cannot_take_needs_a_person(client, store, sandbox, buyer):
    shop, served = make_shop(client, store, sandbox, can_fulfil=lambda view: False)
    try:
        flow = shop.flow
        view = placed(flow, "A-1")
        url = flow.redirect_buyer("A-1")
        buyer.pay(url)
        sandbox.wait_idle()
        assert flow.get("A-1").state is State.SHIPPING_UNAVAILABLE
        sandbox.drift_shipment(view.invoicebox_id)
        sweep_leaves_to_a_person(flow, "A-1", Drift.UNEXPECTED_SHIPMENT)
    finally:
        served.close()


def test_refunds_that_differ_per_line_need_a_person(flow, buyer, sandbox, store):
    paid(flow, buyer, sandbox, "A-1")
    flow.refund("A-1", {"BOOK-1": 1})
    sandbox.wait_idle()
    flow.sync("A-1")  # the payout is known: the refunds agree
    assert flow.reconcile().agrees

    def two_books(lines):
        return [dict(ln, refundedQuantity=2) if ln["sku"] == "BOOK-1" else ln for ln in lines]

    edit_order(store, "A-1", lines=two_books)
    sweep_leaves_to_a_person(flow, "A-1", Drift.REFUND_MISMATCH)
    [finding] = flow.reconcile().findings
    assert finding.detail["lines"] == {"BOOK-1": "shop 2 for 990.00, InvoiceBox 1 for 990.00"}


def test_an_order_reversed_at_invoicebox_behind_the_shop_needs_a_person(flow, buyer, sandbox, client):
    view = placed(flow, "A-1")
    sandbox.set_order_settings(view.invoicebox_id, payment_instrument="guarantee")
    pay(flow, buyer, sandbox, "A-1")
    client.cancel_order(view.invoicebox_id)  # someone else with the token: the guarantee is returned
    sandbox.wait_idle()
    sweep_leaves_to_a_person(flow, "A-1", Drift.STATUS_MISMATCH)


def test_an_order_invoicebox_does_not_know_needs_a_person(flow, buyer, sandbox):
    paid(flow, buyer, sandbox, "A-1")
    sandbox.reset()  # another account, a wiped test environment
    sweep_leaves_to_a_person(flow, "A-1", Drift.MISSING_AT_INVOICEBOX)


# --- the sweep itself -------------------------------------------------------------------------------


def test_agreeing_books_cost_a_few_list_calls_for_many_orders(flow, buyer, sandbox):
    for n in range(5):
        paid(flow, buyer, sandbox, f"A-{n}")
    placed(flow, "B-1")
    before = len(sandbox.requests())
    report = flow.reconcile(batch=3)
    assert report.agrees and report.orders == 6
    # two batches: orders by merchantOrderId, shipments and refunds of the paid ones
    calls = [r["endpoint"] for r in sandbox.requests()[before:]]
    assert calls == ["find_orders", "list_shipments", "list_refunds"] * 2
    assert report.api_calls == 6 and str(report.calls_per_order) == "1.000"


def test_the_window_bounds_the_orders_compared(flow, buyer, sandbox):
    paid(flow, buyer, sandbox, "A-1")
    placed(flow, "A-2")
    now = utcnow()
    assert flow.reconcile(since=now - timedelta(hours=1)).orders == 2
    assert flow.reconcile(since=now + timedelta(seconds=1), until=now + timedelta(hours=1)).orders == 0
    assert flow.reconcile(until=now + timedelta(seconds=1)).orders == 2  # from the first order on
    assert flow.reconcile(until=now - timedelta(days=8)).orders == 0


@pytest.mark.parametrize("window", [dict(since=utcnow().replace(tzinfo=None)), dict(batch=0),
                                    dict(since=utcnow(), until=utcnow() - timedelta(days=1))])
def test_a_bad_window_is_refused_before_anything_is_read(flow, sandbox, window):
    before = len(sandbox.requests())
    with pytest.raises(ValidationError):
        flow.reconcile(**window)
    assert len(sandbox.requests()) == before
