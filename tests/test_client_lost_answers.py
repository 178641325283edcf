"""Every write whose answer is lost ends in what InvoiceBox has, or in ``ResultUnknownError``.

The sandbox's faults lose the answer *after* the work was done (``*_after_commit``: a 500, a
dropped connection, an answer slower than the client's read timeout) or fail *before* it
(``server_error``, ``drop``); its request log then shows that the write was sent exactly once
and which look-ups followed. A clear refusal (4xx) is no lost answer: no look-up follows it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from client_testing import (
    SLOW,
    RecordedSleeps,
    ScriptedServer,
    calls,
    course_line,
    make_client,
    order_request,
    paid_order,
    refund_request,
    statuses,
    wait_for,
)

from invoicebox_flow.client import InvoiceboxClient
from invoicebox_flow.errors import InvalidRequestError, ResultUnknownError, ServerError, TransportError
from invoicebox_flow.models import Order, ShipmentRequest
from invoicebox_flow.sandbox import Sandbox

LOST_AFTER_COMMIT = ["server_error_after_commit", "drop_after_commit", "slow_after_commit"]
FAILED_BEFORE = ["server_error", "drop"]


@pytest.fixture
def ib() -> Iterator[Sandbox]:
    with Sandbox() as sandbox:
        yield sandbox


@pytest.fixture
def client(ib: Sandbox) -> Iterator[InvoiceboxClient]:
    with make_client(ib.url, ib.token, RecordedSleeps()) as c:
        yield c


def lose(ib: Sandbox, endpoint: str, fault: str) -> None:
    ib.inject_fault(endpoint, fault, delay=SLOW if fault.startswith("slow") else None)


def sent_once(ib: Sandbox, endpoint: str) -> None:
    """The write went out once (a slow answer is logged when it is finally sent)."""
    wait_for(lambda: len(calls(ib, endpoint)) >= 1)
    assert len(calls(ib, endpoint)) == 1


# --- orders ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("fault", LOST_AFTER_COMMIT)
def test_a_lost_answer_after_the_order_was_created_returns_that_one_order(ib, client, caplog, fault):
    caplog.set_level(logging.INFO, logger="invoicebox_flow.client")
    lose(ib, "create_order", fault)
    order = client.create_order(order_request(ib, "SHOP-LOST"))
    assert isinstance(order, Order)
    assert order.merchant_order_id == "SHOP-LOST" and order.status == "created"
    assert [o["id"] for o in ib.orders()] == [order.id]  # exactly one order
    assert order.request_id == calls(ib, "find_orders")[-1]["requestId"]  # the look-up's answer
    sent_once(ib, "create_order")
    assert "recovered" in caplog.text and order.id in caplog.text


@pytest.mark.parametrize("fault", FAILED_BEFORE)
def test_a_create_that_did_not_happen_is_result_unknown_and_leaves_nothing(ib, client, fault):
    ib.inject_fault("create_order", fault)
    with pytest.raises(ResultUnknownError, match="result unknown, it will be reconciled") as caught:
        client.create_order(order_request(ib, "SHOP-GONE"))
    assert (caught.value.operation, caught.value.merchant_order_id) == ("create_order", "SHOP-GONE")
    assert isinstance(caught.value.cause, (ServerError, TransportError))
    assert ib.orders() == []
    assert len(calls(ib, "create_order")) == 1


def test_an_order_created_after_the_client_gave_up_is_found_later_by_its_merchant_order_id(ib, client):
    """``slow`` handles the request only after the client's read timeout: at look-up time the
    order does not exist yet, so the result is honestly unknown — and reconciling later by the
    same merchantOrderId finds it. (This is why one must not resend under a new id.)"""
    ib.inject_fault("create_order", "slow", delay=2 * SLOW)  # room for the look-up to finish first
    with pytest.raises(ResultUnknownError) as caught:
        client.create_order(order_request(ib, "SHOP-LATE"))
    assert caught.value.cause.timeout
    wait_for(lambda: len(ib.orders()) == 1)
    assert client.find_order_by_merchant_order_id("SHOP-LATE").id == ib.orders()[0]["id"]


def test_when_the_look_up_fails_too_the_result_is_unknown(ib, client):
    ib.inject_fault("create_order", "server_error_after_commit")
    ib.inject_fault("find_orders", "server_error", times=4)  # the first try and all three retries
    with pytest.raises(ResultUnknownError) as caught:
        client.create_order(order_request(ib, "SHOP-DARK"))
    assert "look-up" in str(caught.value)
    assert len(ib.orders()) == 1  # it did happen; reconciliation by "SHOP-DARK" will find it
    assert statuses(ib, "find_orders") == [500] * 4


# --- refunds ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("fault", LOST_AFTER_COMMIT)
def test_a_lost_answer_after_the_refund_was_created_returns_that_one_refund(ib, client, fault):
    order = paid_order(client, ib)
    lose(ib, "create_refund", fault)
    refund = client.create_refund(refund_request(order))
    assert refund.merchant_order_id == "SHOP-1-R1" and refund.parent_id == order.id
    assert [r["id"] for r in ib.refunds()] == [refund.id]
    sent_once(ib, "create_refund")
    assert calls(ib, "list_refunds")


def test_a_refund_that_did_not_happen_is_result_unknown_and_leaves_nothing(ib, client):
    order = paid_order(client, ib)
    ib.inject_fault("create_refund", "server_error")
    with pytest.raises(ResultUnknownError) as caught:
        client.create_refund(refund_request(order))
    assert (caught.value.operation, caught.value.merchant_order_id) == ("create_refund", "SHOP-1-R1")
    assert ib.refunds() == []
    assert len(calls(ib, "create_refund")) == 1


# --- shipments -------------------------------------------------------------------------------------


@pytest.mark.parametrize("document_number", ["УПД-731", None], ids=["with document number", "without"])
@pytest.mark.parametrize("fault", LOST_AFTER_COMMIT)
def test_a_lost_answer_after_the_shipment_was_made_returns_that_shipment(ib, client, fault, document_number):
    order = paid_order(client, ib)
    lose(ib, "create_shipment", fault)
    shipment = client.create_shipment(ShipmentRequest(order_id=order.id, basket_items=[course_line()],
                                                      document_number=document_number))
    [made] = ib.shipments()
    assert (shipment.id, shipment.order_id, shipment.document_number) == (made["id"], order.id, document_number)
    sent_once(ib, "create_shipment")
    # a document number identifies the shipment; without one, the shipments before it are listed
    assert len(calls(ib, "list_shipments")) == (1 if document_number else 2)


def test_a_lost_answer_on_a_second_shipment_alike_the_first_returns_the_new_one(ib, client):
    order = paid_order(client, ib, quantity=2)
    first = client.create_shipment(ShipmentRequest(order_id=order.id, basket_items=[course_line(1)]))
    ib.inject_fault("create_shipment", "server_error_after_commit")
    second = client.create_shipment(ShipmentRequest(order_id=order.id, basket_items=[course_line(1)]))
    assert second.id != first.id
    assert sorted(s["id"] for s in ib.shipments()) == sorted([first.id, second.id])


@pytest.mark.parametrize("fault", FAILED_BEFORE)
def test_a_shipment_that_was_not_made_is_result_unknown_with_the_order_id(ib, client, fault):
    order = paid_order(client, ib)
    ib.inject_fault("create_shipment", fault)
    with pytest.raises(ResultUnknownError) as caught:
        client.create_shipment(ShipmentRequest(order_id=order.id, basket_items=[course_line()]))
    assert (caught.value.operation, caught.value.object_id) == ("create_shipment", order.id)
    assert ib.shipments() == []
    assert len(calls(ib, "create_shipment")) == 1


# --- cancel and update -----------------------------------------------------------------------------


@pytest.mark.parametrize("fault", LOST_AFTER_COMMIT)
def test_a_lost_answer_after_the_cancel_returns_the_canceled_order(ib, client, fault):
    order = client.create_order(order_request(ib))
    lose(ib, "cancel_order", fault)
    canceled = client.cancel_order(order.id)
    assert (canceled.id, canceled.status) == (order.id, "canceled")
    sent_once(ib, "cancel_order")


@pytest.mark.parametrize("fault", FAILED_BEFORE)
def test_a_cancel_that_did_not_happen_is_result_unknown_with_the_order_id(ib, client, fault):
    order = client.create_order(order_request(ib))
    ib.inject_fault("cancel_order", fault)
    with pytest.raises(ResultUnknownError) as caught:
        client.cancel_order(order.id)
    assert (caught.value.operation, caught.value.object_id) == ("cancel_order", order.id)
    assert ib.order(order.id)["status"] == "created"
    assert len(calls(ib, "cancel_order")) == 1


@pytest.mark.parametrize("fault", LOST_AFTER_COMMIT)
def test_a_lost_answer_after_the_update_returns_the_updated_order(ib, client, fault):
    order = client.create_order(order_request(ib))
    later = (datetime.now(UTC) + timedelta(days=10)).replace(microsecond=0)
    lose(ib, "update_order", fault)
    updated = client.update_order(order.id, description="Курс, срок продлён", expiration_date=later,
                                  basket_items=[course_line(1)], shop_id="shop-2")
    assert (updated.description, updated.expiration_date, updated.amount) == ("Курс, срок продлён", later, 1200)
    assert updated.extra["shopId"] == "shop-2"
    sent_once(ib, "update_order")


@pytest.mark.parametrize("fault", FAILED_BEFORE)
def test_an_update_that_did_not_happen_is_result_unknown_with_the_order_id(ib, client, fault):
    order = client.create_order(order_request(ib))
    ib.inject_fault("update_order", fault)
    with pytest.raises(ResultUnknownError) as caught:
        client.update_order(order.id, description="Курс, срок продлён")
    assert (caught.value.operation, caught.value.object_id) == ("update_order", order.id)
    assert ib.order(order.id)["description"] == order.description
    assert len(calls(ib, "update_order")) == 1


def test_an_update_whose_order_shows_other_values_is_result_unknown(ib, client):
    """The order read back after a lost answer must hold every value sent: here another
    update landed in between, so the look-up cannot tell whether ours happened."""
    order = client.create_order(order_request(ib))
    ib.inject_fault("update_order", "server_error_after_commit")
    client.update_order(order.id, description="first")  # lost answer, recovered: it holds "first"
    ib.inject_fault("update_order", "server_error")
    with pytest.raises(ResultUnknownError):
        client.update_order(order.id, description="second")
    assert ib.order(order.id)["description"] == "first"


# --- what is not a lost answer ---------------------------------------------------------------------


def test_a_clear_refusal_of_any_write_is_its_typed_error_and_nothing_is_looked_up(ib, client):
    unpaid = client.create_order(order_request(ib))
    paid = paid_order(client, ib, "SHOP-PAID")
    reads_before = len([r for r in ib.requests() if r["method"] == "GET"])
    refusals = [
        lambda: client.create_order(order_request(ib, "SHOP-PAID")),  # duplicate merchantOrderId
        lambda: client.update_order(paid.id, description="too late"),
        lambda: client.cancel_order(paid.id),
        lambda: client.create_shipment(ShipmentRequest(order_id=unpaid.id, basket_items=[course_line()],
                                                       document_number="D-1")),
        lambda: client.create_refund(refund_request(unpaid)),
    ]
    for refused in refusals:
        with pytest.raises(InvalidRequestError):
            refused()
    assert len([r for r in ib.requests() if r["method"] == "GET"]) == reads_before


def test_an_unreadable_success_answer_is_a_lost_answer():
    """A 200 without the envelope: the cancel happened, its answer is unusable — look it up."""
    no_envelope = (200, {}, {"unexpected": True})
    with ScriptedServer([no_envelope]) as server, make_client(server.url, "t" * 32, max_read_retries=0) as client:
        with pytest.raises(ResultUnknownError) as caught:
            client.cancel_order("0190f3a2-5c1e-7d4b-9a2f-3b8c1d0e4f57")
        assert server.methods == ["DELETE", "GET"]  # the DELETE once, then the look-up
    assert caught.value.cause.code == "invalid_response"
