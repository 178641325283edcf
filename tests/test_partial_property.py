"""Random sequences of partial shipments and partial refunds (issue «money never stuck»): after
every step, what InvoiceBox reports as refundable equals what the shop says it can still refund,
and the receipts InvoiceBox issued add up, kind by kind, to the money that moved.

The basket has lines that look alike (two books of the same name and price under different SKUs),
a price that does not divide evenly (33.33 × 3) and a fractional quantity (1.5 kg). A small model
of its own predicts each step — what is left to ship, what is left to refund, which units of a
line a refund returns (only prepaid ones first, then shipped ones) and the money of each part
(price × quantity rounded, the last part exactly what is left) — so a step the model allows must
succeed and one it does not must be refused with nothing sent. A legal buyer gets reporting
documents instead of receipts; their funds-transfer reports are summed the same way.
"""

from __future__ import annotations

import itertools
from collections import Counter
from decimal import Decimal
from typing import Any

import attrs
import pytest
from helpers import FAST_RETRIES, legal_customer, pay, private_customer
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from invoicebox_flow import money
from invoicebox_flow.errors import InvoiceboxFlowError
from invoicebox_flow.models import basket_line
from invoicebox_flow.sandbox import Sandbox

D = Decimal
NONE, NO_MONEY = D(0), D("0.00")  # no units, no money
ORDER_NUMBERS = itertools.count(1)
PREPAID, SHIPPED = "full_prepayment", "full_payment"  # FFD tag 1214 of «предоплата 100%», «полный расчёт»


@pytest.fixture
def sandbox():
    with Sandbox(notification_retry_delays=FAST_RETRIES, rate_limit=100_000) as ib:  # many examples, one sandbox
        yield ib


def look_alike_basket() -> list[Any]:
    book = dict(name="Книга «Python»", unit_price="990.00", quantity=3, vat_code="RUS_VAT10", type="commodity")
    return [
        basket_line(sku="BOOK-1", **book),
        basket_line(sku="BOOK-2", **book),  # the same name and price: only the SKU tells them apart
        basket_line(sku="PEN-1", name="Ручка", unit_price="33.33", quantity=3, vat_code="RUS_VAT20",
                    type="commodity"),
        basket_line(sku="TEA-1", name="Чай развесной", unit_price="12.34", quantity="1.5", vat_code="RUS_VAT20",
                    type="commodity", measure="кг", measure_code="166"),
    ]


@attrs.define
class Line:
    """The model of one line: its units only prepaid, shipped, and refunded of each kind."""

    price: Decimal
    quantity: Decimal
    total: Decimal
    shipped: Decimal = NONE
    shipped_money: Decimal = NO_MONEY
    refunded_prepaid: Decimal = NONE
    refunded_shipped: Decimal = NONE
    refunded_money: Decimal = NO_MONEY

    @property
    def prepaid_left(self) -> Decimal:  # neither shipped nor refunded: what can still be shipped
        return self.quantity - self.shipped - self.refunded_prepaid

    @property
    def refundable(self) -> Decimal:
        return self.quantity - self.refunded_prepaid - self.refunded_shipped

    def part(self, qty: Decimal, left: Decimal, money_left: Decimal) -> Decimal:
        return money_left if qty == left else money.to_money(self.price * qty)


@attrs.define
class Model:
    lines: dict[str, Line]
    refund_lines: list[tuple[str, Decimal, str]] = attrs.Factory(list)  # (sku, quantity, paymentType) sent

    def ship(self, asked: dict[str, Decimal] | None) -> bool:
        """Apply a shipment if it is allowed; False if it must be refused."""
        asked = asked or {sku: ln.prepaid_left for sku, ln in self.lines.items() if ln.prepaid_left > 0}
        if not asked or any(qty > self.lines[sku].prepaid_left for sku, qty in asked.items()):
            return False
        for sku, qty in asked.items():
            ln = self.lines[sku]
            ln.shipped_money += ln.part(qty, ln.prepaid_left, ln.total - ln.shipped_money - ln.refunded_money)
            ln.shipped += qty
        return True

    def refund(self, asked: dict[str, Decimal] | None) -> bool:
        """Apply a refund if it is allowed (one kind of unit per line); False if it must be refused."""
        asked = asked or {sku: ln.refundable for sku, ln in self.lines.items() if ln.refundable > 0}
        if not asked:
            return False
        for sku, qty in asked.items():
            ln = self.lines[sku]
            if qty > ln.refundable or 0 < ln.prepaid_left < qty:  # too much, or prepaid and shipped units at once
                return False
        for sku, qty in asked.items():
            ln = self.lines[sku]
            ln.refunded_money += ln.part(qty, ln.refundable, ln.total - ln.refunded_money)
            if ln.prepaid_left >= qty:
                ln.refunded_prepaid += qty
                self.refund_lines.append((sku, qty, PREPAID))
            else:
                ln.refunded_shipped += qty
                self.refund_lines.append((sku, qty, SHIPPED))
        return True


def sums_by_kind(issued: list[dict[str, Any]], key: str) -> dict[str, Decimal]:
    out: Counter[str] = Counter()
    for item in issued:
        out[item[key]] += money.to_money(item["amount"])
    return {kind: money.to_money(total) for kind, total in out.items()}


def quantities_of(issued: list[dict[str, Any]]) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    for item in issued:
        for line in item["items"]:
            out[line["sku"]] = out.get(line["sku"], NONE) + D(str(line["quantity"]))
    return out


def check_agreement(flow, client, sandbox, order_id: str, model: Model, legal: bool) -> None:
    sandbox.wait_idle()
    view = flow.get(order_id)
    lines = {ln.sku: ln for ln in view.lines}
    for sku, ln in model.lines.items():  # the shop's lines are the model's
        assert (lines[sku].shipped_quantity, lines[sku].refunded_quantity) == (ln.shipped, ln.quantity - ln.refundable)
        assert (lines[sku].shipped_amount, lines[sku].refunded_amount) == (ln.shipped_money, ln.refunded_money)

    # what InvoiceBox reports as refundable is what the shop says it can refund, line by line
    remote = {item.sku: item.available_amount for item in client.refundable_items(view.invoicebox_id)}
    assert remote == {ln.sku: ln.refundable_amount for ln in view.lines if ln.refundable_amount > 0}
    assert sum(remote.values(), NO_MONEY) == view.refundable_amount == view.paid_amount - view.refunded_amount

    paid = sum((ln.total for ln in model.lines.values()), NO_MONEY)
    shipped = sum((ln.shipped_money for ln in model.lines.values()), NO_MONEY)
    refunded = sum((ln.refunded_money for ln in model.lines.values()), NO_MONEY)
    assert (view.paid_amount, view.refunded_amount) == (paid, refunded)
    # InvoiceBox's own records of what moved
    shipments = sandbox.shipments(view.invoicebox_id)
    refunds = [r for r in sandbox.refunds(view.invoicebox_id) if r["status"] != "canceled"]
    assert sum((money.to_money(i["totalAmount"]) for s in shipments for i in s["basketItems"]), NO_MONEY) == shipped
    assert sum((money.to_money(r["amount"]) for r in refunds), NO_MONEY) == refunded
    sent = Counter((i["sku"], D(str(i["quantity"])), i["paymentType"]) for r in refunds for i in r["basketItems"])
    assert sent == Counter(model.refund_lines)

    receipts = sandbox.receipts(view.invoicebox_id)
    if legal:  # documents instead of receipts: the funds-transfer reports carry the money
        assert receipts == []
        reports = [d for d in sandbox.documents(view.invoicebox_id) if d["kind"].endswith("transfer_report")]
        expected = {"transfer_report": shipped, "refund_transfer_report": refunded}
        assert sums_by_kind(reports, "kind") == {kind: total for kind, total in expected.items() if total}
        return
    expected = {"prepayment_full": paid, "full_settlement": shipped, "refund": refunded}
    assert sums_by_kind(receipts, "type") == {kind: total for kind, total in expected.items() if total}
    by_kind = {kind: [r for r in receipts if r["type"] == kind] for kind in expected}
    assert quantities_of(by_kind["full_settlement"]) == {s: ln.shipped for s, ln in model.lines.items() if ln.shipped}
    assert {line["paymentType"] for r in receipts for line in r["items"]} <= {PREPAID, SHIPPED}
    assert all(line["paymentType"] == PREPAID for r in by_kind["prepayment_full"] for line in r["items"])
    assert all(line["paymentType"] == SHIPPED for r in by_kind["full_settlement"] for line in r["items"])
    returned = Counter((i["sku"], D(str(i["quantity"])), i["paymentType"]) for r in by_kind["refund"] for i in r["items"])
    assert returned == Counter(model.refund_lines)  # each «возврат» reverses the settlement of what it returns


def asked_quantities(data: st.DataObject, model: Model) -> dict[str, Decimal] | None:
    """None (everything left) now and then, else one or two lines with quantities that are
    sometimes more than is left."""
    if data.draw(st.integers(0, 5)) == 0:
        return None
    skus = data.draw(st.lists(st.sampled_from(sorted(model.lines)), min_size=1, max_size=2, unique=True))
    asked = {}
    for sku in skus:
        whole = model.lines[sku].quantity == model.lines[sku].quantity.to_integral_value()
        choices = [D(1), D(2), D(3)] if whole else [D("0.5"), D(1), D("1.5")]
        asked[sku] = data.draw(st.sampled_from(choices))
    return asked


# Each example talks HTTP to the sandbox: shrinking a failure would take minutes, so the failing
# example is reported as drawn. The shop is taken whole (not its flow): Hypothesis prints an attrs
# object's every field in a failing example, the notification key included.
@settings(max_examples=8, deadline=None, database=None, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data(), legal=st.booleans())
def test_partial_shipments_and_refunds_keep_invoicebox_and_the_shop_in_agreement(shop, sandbox, buyer, data, legal):
    flow, client = shop.flow, shop.flow.client
    order_id = f"PP-{next(ORDER_NUMBERS)}"  # a fresh order each example, in the same store and sandbox
    basket = look_alike_basket()
    flow.place(order_id, basket, legal_customer() if legal else private_customer(), description="Книги и чай")
    pay(flow, buyer, sandbox, order_id)
    model = Model({item.sku: Line(item.amount, item.quantity, item.total_amount) for item in basket})
    check_agreement(flow, client, sandbox, order_id, model, legal)

    for _ in range(data.draw(st.integers(1, 7), label="steps")):
        verb = data.draw(st.sampled_from(["ship", "refund"]), label="verb")
        asked = asked_quantities(data, model)
        before = (flow.get(order_id).version, len(sandbox.requests()))
        allowed = model.ship(asked) if verb == "ship" else model.refund(asked)
        call = flow.ship if verb == "ship" else flow.refund
        if allowed:
            call(order_id, asked)
        else:
            with pytest.raises(InvoiceboxFlowError):
                call(order_id, asked)
            assert (flow.get(order_id).version, len(sandbox.requests())) == before  # nothing sent or stored
        check_agreement(flow, client, sandbox, order_id, model, legal)
