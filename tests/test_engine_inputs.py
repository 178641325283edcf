"""Bad input at the public engine API (``OrderFlow``), method by method, table-driven.

Each bad value must raise an error of invoicebox-flow's own tree (never a raw ``decimal``,
``KeyError``, ``TypeError`` or ``ValueError`` from inside), name the field where there is one,
and leave nothing stored, sent or burned: the order rows, their journals and the outbox are
exactly as before, the sandbox's request log has no new request, and the same order id can be
placed (or the same order used) right after. On SQLite and on PostgreSQL: a store is part of
what can refuse (PostgreSQL's text cannot hold a NUL character).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from helpers import course_lines, goods_lines, legal_customer, make_shop, packing_flow, pay, private_customer

from invoicebox_flow.engine import OrderFlow
from invoicebox_flow.errors import (
    BasketError,
    CustomerError,
    IllegalTransitionError,
    InvoiceboxFlowError,
    OrderNotFoundError,
    RefundLimitError,
    ShipmentLimitError,
    UnknownArgumentError,
    ValidationError,
)
from invoicebox_flow.flows import State, Variant
from invoicebox_flow.models import basket_line

pytestmark = pytest.mark.every_backend

class Opaque:
    """Neither text nor JSON; its repr is the same in every process (pytest-xdist compares the
    test ids each worker collects, and ``object()``'s carries its address)."""

    def __repr__(self) -> str:
        return "<opaque>"


OPAQUE = Opaque()
ID = "IN-1"
D = Decimal
# what a user can type where a quantity belongs (the rule book refuses each: see test_rulebook_inputs)
BAD_QUANTITIES = ["abc", None, True, "NaN", 1.0, 0, -1, "0.0000001", [1], "1e999"]
# what is not a {sku: quantity} map
NOT_MAPS = ["BOOK-1", 5, b"BOOK-1", {"BOOK-1"}, ("BOOK-1",)]
# ids no order can have: unknown, not text, or text no store can keep
NO_SUCH_IDS = ["NOPE", None, 5, "", "A\x00B", "A\ud800B"]


def footprint(flow: OrderFlow, sandbox: Any) -> tuple[Any, ...]:
    """Everything a call could have stored or sent: order rows, journals, outbox, API requests."""
    orders = flow.store.list_orders(limit=1000)
    return (orders, {o.id: flow.store.journal(o.id) for o in orders}, flow.store.outbox(), sandbox.requests())


def refused(flow: OrderFlow, sandbox: Any, call: Callable[[], Any], error: type[InvoiceboxFlowError],
            field: str | None = None) -> InvoiceboxFlowError:
    """``call()`` raises ``error`` (one of ours), naming ``field`` (``quantity`` matches
    ``basketItems[0].quantity``); nothing stored or sent."""
    before = footprint(flow, sandbox)
    with pytest.raises(InvoiceboxFlowError) as caught:
        call()
    assert isinstance(caught.value, error), repr(caught.value)
    assert type(caught.value).__module__ == "invoicebox_flow.errors"
    if isinstance(caught.value, ValidationError):
        assert caught.value.code
    if field is not None:
        assert isinstance(caught.value, ValidationError)
        names = [f["name"] for f in caught.value.fields]  # a line's field may come with its path or without
        assert any(name == field or name.endswith("." + field) for name in names), names
    assert footprint(flow, sandbox) == before
    return caught.value


def line_json(**changes: Any) -> dict[str, Any]:
    return dict(course_lines()[0].to_json(), **changes)


@pytest.fixture
def paid(flow, buyer, sandbox) -> str:
    """A paid private order of goods: BOOK-1 × 3 at 990.00, MUG-1 × 1 at 450.50."""
    flow.place("S-1", goods_lines(), private_customer(), description="Книги")
    assert pay(flow, buyer, sandbox, "S-1").state is State.PAID
    return "S-1"


@pytest.fixture
def unpaid(flow) -> str:
    """An order with its payment link, awaiting payment."""
    return flow.place("U-1", course_lines(), private_customer(), description="Курс").order_id


# --- place ---------------------------------------------------------------------------------------------

def place(**changes: Any) -> Callable[[OrderFlow], Any]:
    """``flow.place`` of a good order with ``changes``; the table's values are shared by every run."""
    def call(flow: OrderFlow) -> Any:
        values = {"order_id": ID, "items": course_lines(), "customer": private_customer(), "description": "Курс",
                  **changes}
        return flow.place(values.pop("order_id"), values.pop("items"), values.pop("customer"), **values)
    return call


PLACE = [
    ("items-none", place(items=None), ValidationError, "basketItems"),
    ("items-text", place(items="COURSE-PY-90"), ValidationError, "basketItems"),
    ("items-map", place(items={"COURSE-PY-90": 1}), ValidationError, "basketItems"),
    ("items-empty", place(items=[]), BasketError, "basketItems"),
    ("line-only-sku", place(items=[{"sku": "A"}]), ValidationError, None),
    ("line-quantity-text", place(items=[line_json(quantity="abc")]), ValidationError, "quantity"),
    ("line-quantity-float", place(items=[line_json(quantity=2.0)]), ValidationError, "quantity"),
    ("line-total-wrong", place(items=[line_json(totalAmount=D("1.00"))]), BasketError, None),
    ("line-empty-sku", place(items=[line_json(sku="")]), BasketError, "basketItems[0].sku"),
    ("two-lines-one-sku", place(items=course_lines() * 2), BasketError, "basketItems[1].sku"),
    ("order-of-nothing", place(items=[line_json(amount=D("0.00"), amountWoVat=D("0.00"), totalAmount=D("0.00"),
                                                totalVatAmount=D("0.00"))]), BasketError, "amount"),
    ("amount-overridden", place(amount=D("1.00")), BasketError, "amount"),
    ("customer-none", place(customer=None), ValidationError, "customer"),
    ("customer-text", place(customer="Анна"), ValidationError, "customer"),
    ("customer-type-unknown", place(customer={"type": "public", "name": "Анна"}), CustomerError, "type"),
    ("customer-inn-checksum", place(customer={"type": "legal", "name": "ООО", "vatNumber": "7812345676"}),
     CustomerError, "vatNumber"),
    ("id-none", place(order_id=None), ValidationError, "merchantOrderId"),
    ("id-empty", place(order_id=""), ValidationError, "merchantOrderId"),
    ("id-int", place(order_id=731), ValidationError, "merchantOrderId"),
    ("id-too-long", place(order_id="x" * 257), ValidationError, "merchantOrderId"),
    ("id-nul", place(order_id="IN\x001"), ValidationError, "merchantOrderId"),
    ("id-surrogate", place(order_id="IN\ud8001"), ValidationError, "merchantOrderId"),
    ("description-none", place(description=None), ValidationError, "description"),
    ("description-int", place(description=5), ValidationError, "description"),
    ("description-too-long", place(description="x" * 1001), ValidationError, "description"),
    ("description-surrogate", place(description="Курс \udcff"), ValidationError, "description"),
    ("expires-naive", place(expires_at=datetime(2030, 1, 1)), ValidationError, "expirationDate"),
    ("expires-text", place(expires_at="tomorrow"), ValidationError, "expirationDate"),
    ("expires-date", place(expires_at=date(2030, 1, 1)), ValidationError, "expirationDate"),
    ("expires-past", place(expires_at=datetime.now(UTC) - timedelta(hours=1)), ValidationError, "expirationDate"),
    ("currency-unknown", place(currency="XXX"), ValidationError, "currencyId"),
    ("currency-none", place(currency=None), ValidationError, "currencyId"),
    ("url-int", place(success_url=5), ValidationError, "successUrl"),
    ("keyword-misspelt", place(langauge_id="ru"), UnknownArgumentError, "langauge_id"),
    ("auto-ship-goods", place(items=goods_lines(), auto_ship=True), ValidationError, None),
    # a flag that is not a bool: "no" is truthy, so taking it would do the opposite of what was meant
    ("request-invoice-text", place(request_invoice="no"), ValidationError, "request_invoice"),
    ("defer-int", place(defer=1), ValidationError, "defer"),
    ("auto-ship-text", place(auto_ship="no"), ValidationError, "auto_ship"),
    # amounts and lines as a shop's code gets them wrong
    ("line-amount-float", place(items=[line_json(amount=1200.0)]), ValidationError, "amount"),
    ("line-amount-text", place(items=[line_json(amount="abc")]), ValidationError, "amount"),
    ("line-amount-nan", place(items=[line_json(amount="NaN")]), ValidationError, "amount"),
    ("line-amount-none", place(items=[line_json(amount=None)]), BasketError, "amount"),
    ("line-total-bool", place(items=[line_json(totalAmount=True)]), ValidationError, "totalAmount"),
    ("line-quantity-huge", place(items=[line_json(quantity=D("1e30"))]), ValidationError, "quantity"),
    ("items-list-of-int", place(items=[5]), ValidationError, "basketItems"),
    ("items-generator", place(items=iter(course_lines())), ValidationError, "basketItems"),
    ("vat-amount-overridden", place(vat_amount=D("1.00")), BasketError, "vatAmount"),
    ("customer-list", place(customer=["Анна"]), ValidationError, "customer"),
    ("id-bytes", place(order_id=b"IN-1"), ValidationError, "merchantOrderId"),
    ("id-blank", place(order_id="  "), ValidationError, "merchantOrderId"),
]


@pytest.mark.parametrize(("call", "error", "field"), [c[1:] for c in PLACE], ids=[c[0] for c in PLACE])
def test_place_refuses_bad_input_and_burns_nothing(flow, sandbox, call, error, field):
    err = refused(flow, sandbox, lambda: call(flow), error, field)
    if isinstance(err, ValidationError) and "expirationDate" in [f["name"] for f in err.fields]:
        assert err.code == "wrong_expiration_date"
    order = flow.place(ID, course_lines(), private_customer(), description="Курс")  # the id is still free
    assert order.state is State.PAYMENT_LINK_ISSUED
    assert [o["merchantOrderId"] for o in sandbox.orders()] == [ID]


def test_a_legal_customer_given_as_its_json_places_a_legal_order(flow, sandbox):
    # the variant follows the customer as the request reads it, not the argument's Python type
    order = flow.place(ID, course_lines(), legal_customer().to_json(), description="Курс")
    assert order.variant is Variant.LEGAL
    assert sandbox.order(order.invoicebox_id)["customer"]["type"] == "legal"


# --- ship --------------------------------------------------------------------------------------------

# the {sku: quantity} map of ship and refund, as a user gets it wrong (engine/wanted.py checks both)
WANTED = [
    *[(f"not-a-map-{type(v).__name__}", dict(items=v), ValidationError, "items") for v in NOT_MAPS],
    ("list-of-skus", dict(items=["BOOK-1"]), ValidationError, "items"),
    ("empty-map", dict(items={}), ValidationError, "items"),
    ("unknown-sku", dict(items={"NOPE": 1}), ValidationError, "basketItems"),
    ("sku-not-text", dict(items={5: 1}), ValidationError, "basketItems"),
    ("sku-none", dict(items={None: 1}), ValidationError, "basketItems"),
    *[(f"quantity-{q!r}", dict(items={"BOOK-1": q}), BasketError, "quantity of BOOK-1") for q in BAD_QUANTITIES],
    ("less-than-a-kopeck", dict(items={"BOOK-1": "0.000001"}), BasketError, "quantity of BOOK-1"),
]


def _book(**changes: Any) -> Any:
    values: dict[str, Any] = dict(sku="BOOK-1", name="Книга «Python»", unit_price="990.00", quantity=1,
                                  vat_code="RUS_VAT10", type="commodity")
    values.update(changes)
    return basket_line(**values)


SHIP = [
    *WANTED,
    ("more-than-ordered", dict(items={"BOOK-1": 4}), ShipmentLimitError, None),
    ("basket-item-not-in-order", dict(items=[_book(sku="NOPE")]), ValidationError, "basketItems"),
    ("basket-item-other-price", dict(items=[_book(unit_price="1.00")]), ValidationError, None),
    ("basket-items-more-than-ordered", dict(items=[_book(quantity="3")] * 2), ShipmentLimitError, None),
    ("document-date-text", dict(items={"BOOK-1": 1}, document_date="yesterday"), ValidationError, "documentDate"),
    ("document-date-int", dict(items={"BOOK-1": 1}, document_date=20240705), ValidationError, "documentDate"),
    ("document-number-int", dict(items={"BOOK-1": 1}, document_number=5), ValidationError, "documentNumber"),
    ("document-number-too-long", dict(items={"BOOK-1": 1}, document_number="№" * 37), ValidationError,
     "documentNumber"),
    ("defer-text", dict(items={"BOOK-1": 1}, defer="yes"), ValidationError, "defer"),
    ("keyword-misspelt", dict(items={"BOOK-1": 1}, documnet_number="A-1"), UnknownArgumentError, "documnet_number"),
]


@pytest.mark.parametrize(("kwargs", "error", "field"), [c[1:] for c in SHIP], ids=[c[0] for c in SHIP])
def test_ship_refuses_bad_input_and_the_order_ships_after(flow, sandbox, paid, kwargs, error, field):
    refused(flow, sandbox, lambda: flow.ship(paid, **kwargs), error, field)
    assert sandbox.shipments() == []
    order = flow.ship(paid, {"BOOK-1": 1})
    assert order.state is State.PARTIALLY_SHIPPED
    assert [line.shipped_quantity for line in order.lines] == [1, 0]


def test_ship_refuses_more_than_is_left_after_a_partial_shipment(flow, sandbox, paid):
    flow.ship(paid, {"BOOK-1": 2})
    refused(flow, sandbox, lambda: flow.ship(paid, {"BOOK-1": 2}), ShipmentLimitError)
    flow.refund(paid, {"BOOK-1": 1})  # the refunded book is no longer to be shipped either
    refused(flow, sandbox, lambda: flow.ship(paid, {"BOOK-1": 1}), ShipmentLimitError)
    assert flow.ship(paid).state is State.SHIPPED  # what is left: MUG-1
    refused(flow, sandbox, lambda: flow.ship(paid, {"MUG-1": 1}), IllegalTransitionError)


# --- refund ------------------------------------------------------------------------------------------

REFUND = [
    *WANTED,
    ("more-than-paid-of-a-line", dict(items={"BOOK-1": 4}), RefundLimitError, None),
    ("description-int", dict(items={"BOOK-1": 1}, description=5), ValidationError, "description"),
    ("description-too-long", dict(items={"BOOK-1": 1}, description="x" * 1001), ValidationError, "description"),
    ("description-surrogate", dict(items={"BOOK-1": 1}, description="\ud800"), ValidationError, "description"),
    ("defer-int", dict(items={"BOOK-1": 1}, defer=1), ValidationError, "defer"),
    ("keyword-misspelt", dict(items={"BOOK-1": 1}, descripton="брак"), UnknownArgumentError, "descripton"),
]


@pytest.mark.parametrize(("kwargs", "error", "field"), [c[1:] for c in REFUND], ids=[c[0] for c in REFUND])
def test_refund_refuses_bad_input_and_the_order_refunds_after(flow, sandbox, paid, kwargs, error, field):
    refused(flow, sandbox, lambda: flow.refund(paid, **kwargs), error, field)
    assert sandbox.refunds() == [] and [r["type"] for r in sandbox.receipts()] == ["prepayment_full"]
    order = flow.refund(paid, {"BOOK-1": 1})
    assert order.state is State.PARTIALLY_REFUNDED and order.refunded_amount == D("990.00")


def test_refund_refuses_more_than_was_paid_and_not_refunded(flow, sandbox, paid):
    flow.refund(paid, {"BOOK-1": 3})
    refused(flow, sandbox, lambda: flow.refund(paid, {"BOOK-1": 1}), RefundLimitError)
    refused(flow, sandbox, lambda: flow.refund(paid, {"MUG-1": 2}), RefundLimitError)
    assert flow.refund(paid).refunded_amount == flow.get(paid).paid_amount  # the mug, all that is left
    refused(flow, sandbox, lambda: flow.refund(paid, {"MUG-1": 1}), IllegalTransitionError)


def test_a_refund_of_prepaid_and_shipped_units_of_one_line_at_once_is_refused(flow, sandbox, paid):
    # 54-FZ: the «возврат» of units only prepaid and of units a «полный расчёт» settled state
    # different settlement methods, which one refund line cannot do (lines are addressed by SKU)
    flow.ship(paid, {"BOOK-1": 2})
    for items in ({"BOOK-1": 3}, None):  # one only prepaid and two shipped; or everything left
        error = refused(flow, sandbox, lambda: flow.refund(paid, items), ValidationError,  # noqa: B023 (called now)
                        "quantity of BOOK-1")
        assert isinstance(error, ValidationError) and error.code == "mixed_settlement"
        assert "{'BOOK-1': 1}" in str(error) and "{'BOOK-1': 2}" in str(error)  # the two refunds to make
    flow.refund(paid, {"BOOK-1": 1})  # the one only prepaid: it can no longer be shipped
    assert flow.refund(paid, {"BOOK-1": 2}).state is State.PARTIALLY_REFUNDED  # the two shipped
    sandbox.wait_idle()
    returned = [(line["sku"], line["quantity"], line["paymentType"])
                for receipt in sandbox.receipts() if receipt["type"] == "refund" for line in receipt["items"]]
    assert returned == [("BOOK-1", 1, "full_prepayment"), ("BOOK-1", 2, "full_payment")]


# --- update, claim_refund, fire, resume ---------------------------------------------------------------

UPDATE = [
    ("description-none", dict(description=None), ValidationError, "description"),
    ("description-empty", dict(description=""), ValidationError, "description"),
    ("description-int", dict(description=5), ValidationError, "description"),
    ("expires-naive", dict(expires_at=datetime(2030, 1, 1)), ValidationError, "expirationDate"),
    ("expires-text", dict(expires_at="tomorrow"), ValidationError, "expirationDate"),
    ("expires-past", dict(expires_at=datetime.now(UTC) - timedelta(hours=1)), ValidationError, "expirationDate"),
    ("items-none", dict(items=None), ValidationError, "items"),
    ("items-text", dict(items="COURSE-PY-90"), ValidationError, "items"),
    ("items-empty", dict(items=[]), BasketError, "basketItems"),
    ("items-only-sku", dict(items=[{"sku": "A"}]), ValidationError, None),
    ("items-one-sku-twice", dict(items=course_lines() * 2), BasketError, "basketItems[1].sku"),
    ("items-list-of-int", dict(items=[5]), ValidationError, "items[0]"),
    ("unknown-change", dict(colour="red"), UnknownArgumentError, "colour"),
    ("keyword-misspelt", dict(descripton="Курс"), UnknownArgumentError, "descripton"),
    ("nothing", dict(), ValidationError, None),
]


@pytest.mark.parametrize(("changes", "error", "field"), [c[1:] for c in UPDATE], ids=[c[0] for c in UPDATE])
def test_update_refuses_bad_input_and_the_order_updates_after(flow, sandbox, unpaid, changes, error, field):
    refused(flow, sandbox, lambda: flow.update(unpaid, **changes), error, field)
    order = flow.update(unpaid, description="Курс, доступ 120 дней")
    assert sandbox.order(order.invoicebox_id)["description"] == "Курс, доступ 120 дней"


def test_update_of_a_paid_order_is_refused(flow, sandbox, paid):
    refused(flow, sandbox, lambda: flow.update(paid, description="поздно"), IllegalTransitionError)


@pytest.mark.parametrize("reason", [5, OPAQUE, ["не подошло"], "не \ud800 подошло"], ids=repr)
def test_claim_refund_refuses_a_reason_that_is_not_text(flow, sandbox, paid, reason):
    refused(flow, sandbox, lambda: flow.claim_refund(paid, reason), ValidationError, "reason")
    flow.claim_refund(paid, "не подошло")
    assert flow.history(paid)[-1].detail == {"reason": "не подошло"}


@pytest.mark.parametrize("trigger", ["nope", None, "request_shipment", "confirm_payment"], ids=repr)
def test_fire_refuses_an_unknown_or_documented_trigger(flow, sandbox, paid, trigger):
    refused(flow, sandbox, lambda: flow.fire(paid, trigger), IllegalTransitionError)


@pytest.fixture
def packing(client, store, sandbox, buyer) -> Iterator[OrderFlow]:
    """A shop that packs goods (its own step ``pack``), with the paid order P-1."""
    shop, served = make_shop(client, store, sandbox, definition=packing_flow(), conditions={"in_stock": lambda v: True})
    shop.flow.place("P-1", goods_lines(), private_customer(), description="Книги")
    pay(shop.flow, buyer, sandbox, "P-1")
    yield shop.flow
    served.close()


@pytest.mark.parametrize("detail", ["packed", ["box"], {1: "box"}, {"box": OPAQUE}, {"box": "\udcff"}], ids=repr)
def test_fire_refuses_a_detail_the_journal_cannot_hold(packing, sandbox, detail):
    refused(packing, sandbox, lambda: packing.fire("P-1", "pack", detail=detail), ValidationError, "detail")
    assert packing.fire("P-1", "pack", detail={"box": "A-7"}).state == "packed"
    assert packing.history("P-1")[-1].detail == {"box": "A-7"}


@pytest.mark.parametrize("actor", [5, "", "  ", "склад\x00", "склад\ud800"], ids=repr)
def test_fire_refuses_an_actor_the_journal_cannot_hold(packing, sandbox, actor):
    # PostgreSQL's text cannot hold a NUL: refused before the database is asked
    refused(packing, sandbox, lambda: packing.fire("P-1", "pack", actor=actor), ValidationError, "actor")
    assert packing.fire("P-1", "pack", actor="склад").state == "packed"
    assert packing.history("P-1")[-1].actor == "склад"


def test_fire_refuses_a_misspelt_keyword(packing, sandbox):
    error = refused(packing, sandbox, lambda: packing.fire("P-1", "pack", detial={"box": "A-7"}),
                    UnknownArgumentError, "detial")
    assert "did you mean 'detail'?" in str(error)
    assert isinstance(error, TypeError)  # as Python's own unexpected-keyword error is


@pytest.mark.parametrize("success", ["no", None, 0, 1], ids=repr)
def test_buyer_returned_refuses_a_success_that_is_not_a_bool(flow, sandbox, unpaid, success):
    refused(flow, sandbox, lambda: flow.buyer_returned(unpaid, success=success), ValidationError, "success")
    assert flow.get(unpaid).state is State.PAYMENT_LINK_ISSUED
    assert flow.buyer_returned(unpaid, success=False).state is State.PAYMENT_DECLINED


@pytest.mark.parametrize("limit", ["10", 0, -1, True, None], ids=repr)
def test_resume_refuses_a_limit_that_is_not_a_count(flow, sandbox, limit):
    refused(flow, sandbox, lambda: flow.resume(limit=limit), ValidationError, "limit")


@pytest.mark.parametrize("keywords", [dict(due_now="yes"), dict(report_claimed=1)], ids=repr)
def test_resume_refuses_a_flag_that_is_not_a_bool(flow, sandbox, keywords):
    flow.place(ID, course_lines(), private_customer(), description="Курс", defer=True)  # one call is due
    refused(flow, sandbox, lambda: flow.resume(**keywords), ValidationError, next(iter(keywords)))
    [order] = flow.resume()
    assert order.state is State.PAYMENT_LINK_ISSUED


@pytest.mark.parametrize("keywords", [dict(batch="100"), dict(batch=0), dict(batch=True), dict(heal="yes")], ids=repr)
def test_reconcile_refuses_a_batch_or_heal_of_the_wrong_kind(flow, sandbox, unpaid, keywords):
    refused(flow, sandbox, lambda: flow.reconcile(**keywords), ValidationError, next(iter(keywords)))
    assert flow.reconcile(batch=10).orders == 1


# --- ids that name no order ------------------------------------------------------------------------------

BY_ID: list[tuple[str, Callable[[OrderFlow, Any], Any]]] = [
    ("get", lambda f, i: f.get(i)), ("history", lambda f, i: f.history(i)),
    ("allowed_actions", lambda f, i: f.allowed_actions(i)), ("sequence_diagram", lambda f, i: f.sequence_diagram(i)),
    ("request_invoice", lambda f, i: f.request_invoice(i)), ("redirect_buyer", lambda f, i: f.redirect_buyer(i)),
    ("buyer_returned", lambda f, i: f.buyer_returned(i)), ("update", lambda f, i: f.update(i, description="x")),
    ("cancel", lambda f, i: f.cancel(i)), ("sync", lambda f, i: f.sync(i)), ("ship", lambda f, i: f.ship(i)),
    ("send_documents", lambda f, i: f.send_documents(i)), ("claim_refund", lambda f, i: f.claim_refund(i, "x")),
    ("refundable_items", lambda f, i: f.refundable_items(i)), ("refund", lambda f, i: f.refund(i)),
    ("fire", lambda f, i: f.fire(i, "pack")), ("confirm_facts", lambda f, i: f.confirm_facts(i, None)),
]


@pytest.mark.parametrize("call", [c[1] for c in BY_ID], ids=[c[0] for c in BY_ID])
def test_every_method_refuses_an_id_that_names_no_order(flow, sandbox, unpaid, call):
    for order_id in NO_SUCH_IDS:
        error = refused(flow, sandbox, lambda: call(flow, order_id), OrderNotFoundError)  # noqa: B023 (called now)
        assert repr(order_id) in str(error)


def test_resume_refuses_an_id_that_names_no_order(flow, sandbox):
    flow.place(ID, course_lines(), private_customer(), description="Курс", defer=True)  # one call is due
    for order_id in [i for i in NO_SUCH_IDS if i is not None]:  # None: every order's due calls
        refused(flow, sandbox, lambda: flow.resume(order_id), OrderNotFoundError)  # noqa: B023 (called now)
    [order] = flow.resume(ID)
    assert order.state is State.PAYMENT_LINK_ISSUED
