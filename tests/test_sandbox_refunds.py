"""Refunds as InvoiceBox pays them out, over real HTTP: a refund stays ``created`` until the
sandbox clock passes the payout delay ("up to two banking days"), then ``completed`` with the
money returned and its «возврат» receipt or refund documents; a refund may end ``canceled``
instead (for the next refund, or one refund still waiting), with no money and no receipt."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from sandbox_calls import LEGAL, Api, body, book_line, course_line, error_of

from invoicebox_flow.errors import InvalidRequestError, NotFoundError
from invoicebox_flow.sandbox import Sandbox

TWO_DAYS = 2 * 24 * 3600.0



@pytest.fixture
def ib():
    with Sandbox(refund_payout_delay=TWO_DAYS) as sandbox:
        yield sandbox


def money_returned(ib: Sandbox, order_id: str) -> list[tuple[str, D]]:
    return [(e["detail"]["refundId"], e["detail"]["amount"]) for e in ib.events(order_id)
            if e["effect"] == "money_returned"]


def test_a_refund_stays_created_until_the_payout_delay_has_passed(ib, api):
    order = api.paid()
    refund = body(api.refund(order, [course_line(1)]))["data"]
    ib.wait_idle()
    assert refund["status"] == "created"
    assert [r["status"] for r in api.refunds(order["id"])] == ["created"]
    assert money_returned(ib, order["id"]) == []
    assert [r["type"] for r in ib.receipts(order["id"])] == ["prepayment_full"]

    ib.advance_clock(TWO_DAYS - 60)
    assert [r["status"] for r in api.refunds(order["id"])] == ["created"]
    ib.advance_clock(60)
    assert [r["status"] for r in api.refunds(order["id"])] == ["completed"]
    assert money_returned(ib, order["id"]) == [(refund["id"], D("1200.00"))]
    receipts = ib.receipts(order["id"])
    assert [(r["type"], r.get("refundId"), r["amount"]) for r in receipts][1:] == [("refund", refund["id"], D("1200.00"))]


def test_a_waiting_refund_already_counts_against_what_may_be_refunded(ib, api):
    order = api.paid()
    assert api.refund(order, [course_line(2)]).status_code == 200
    assert api.refundable(order["id"]) == []
    again = api.refund(order, [course_line(1)])
    assert again.status_code == 422 and error_of(again)["code"] == "wrong_refund_amount"


def test_a_legal_payer_gets_the_refund_documents_at_payout(ib, api):
    order = api.paid(customer=dict(LEGAL), basketItems=[course_line(1), book_line(1)])
    refund = body(api.refund(order))["data"]
    ib.wait_idle()
    assert ib.documents(order["id"]) == []
    ib.advance_clock(TWO_DAYS)
    kinds = [d["kind"] for d in ib.documents(order["id"]) if d.get("refundId") == refund["id"]]
    assert kinds == ["refund_transfer_report", "refund_act", "refund_torg12"]


def test_without_a_payout_delay_the_refund_completes_at_once():
    with Sandbox() as ib:
        api = Api(ib)
        order = api.paid()
        refund = body(api.refund(order))["data"]
        ib.wait_idle()
        assert [r["status"] for r in api.refunds(order["id"])] == ["completed"]
        assert money_returned(ib, order["id"]) == [(refund["id"], D("2400.00"))]


def test_a_short_real_time_delay_pays_out_without_moving_the_clock():
    with Sandbox(refund_payout_delay=0.3) as ib:
        api = Api(ib)
        order = api.paid()
        api.refund(order)
        ib.wait_idle()  # the payout is due within the wait: the worker does it
        assert [r["status"] for r in ib.refunds(order["id"])] == ["completed"]


# --- refunds that end canceled ----------------------------------------------------------------------------


def test_the_next_refund_can_be_made_to_end_canceled(ib, api):
    order = api.paid()
    ib.inject_refund_fault("canceled")
    failing = body(api.refund(order, [course_line(1)]))["data"]
    paid_out = body(api.refund(order, [course_line(1)]))["data"]
    ib.advance_clock(TWO_DAYS)
    statuses = {r["id"]: r["status"] for r in api.refunds(order["id"])}
    assert statuses == {failing["id"]: "canceled", paid_out["id"]: "completed"}
    assert money_returned(ib, order["id"]) == [(paid_out["id"], D("1200.00"))]
    assert [r.get("refundId") for r in ib.receipts(order["id"]) if r["type"] == "refund"] == [paid_out["id"]]
    [canceled] = [e for e in ib.events(order["id"]) if e["effect"] == "refund_canceled"]
    assert canceled["detail"] == {"refundId": failing["id"], "amount": D("1200.00"), "reason": "injected"}


def test_a_canceled_refund_frees_its_lines_to_be_refunded_or_shipped_again(ib, api):
    order = api.paid()
    ib.inject_refund_fault("canceled")
    api.refund(order)
    ib.advance_clock(TWO_DAYS)
    assert [(i["sku"], i["availableAmount"]) for i in api.refundable(order["id"])] == [("COURSE-PY-90", D("2400.00"))]
    assert api.ship(order).status_code == 200


def test_a_waiting_refund_can_be_canceled_and_is_never_paid_out(ib, api):
    order = api.paid()
    refund = body(api.refund(order))["data"]
    assert ib.cancel_refund(refund["id"])["status"] == "canceled"
    ib.advance_clock(TWO_DAYS)
    assert [r["status"] for r in api.refunds(order["id"])] == ["canceled"]
    assert money_returned(ib, order["id"]) == []
    with pytest.raises(InvalidRequestError) as refused:
        ib.cancel_refund(refund["id"])
    assert refused.value.code == "wrong_order_status"


def test_a_completed_or_unknown_refund_cannot_be_canceled(ib, api):
    order = api.paid()
    refund = body(api.refund(order))["data"]
    ib.advance_clock(TWO_DAYS)
    with pytest.raises(InvalidRequestError):
        ib.cancel_refund(refund["id"])
    with pytest.raises(NotFoundError):
        ib.cancel_refund("no-such-refund")
    assert [r["status"] for r in ib.refunds(order["id"])] == ["completed"]


def test_unknown_refund_faults_and_bad_delays_are_refused(ib):
    with pytest.raises(InvalidRequestError):
        ib.inject_refund_fault("vanish")
    assert ib.inspect.faults()["refunds"] == []
    with pytest.raises(ValueError):
        Sandbox(refund_payout_delay=-1)


def test_clearing_faults_forgets_a_pending_refund_outcome(ib, api):
    ib.inject_refund_fault("canceled")
    ib.clear_faults()
    order = api.paid()
    api.refund(order)
    ib.advance_clock(TWO_DAYS)
    assert [r["status"] for r in api.refunds(order["id"])] == ["completed"]
