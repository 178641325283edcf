"""Property: for baskets built the way InvoiceBox's official integrations build them — the Bitrix
module (VAT per unit × quantity, legacy codes) and the MCP server (kopecks, VAT of the total,
*_ADDED codes) — and for the same baskets with one thing spoilt, the client's local validation
accepts exactly what the sandbox accepts over HTTP, and refuses the rest with the same code."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from rulebook_helpers import (
    BITRIX_RATES,
    MCP_PERCENT,
    bitrix_line,
    both,
    mcp_line,
    module_sandbox,  # noqa: F401 - the fixture ib
    order_body,
)

D = Decimal



quantities = st.one_of(
    st.integers(min_value=1, max_value=40).map(D),
    st.decimals(min_value=D("0.001"), max_value=D("25"), places=3, allow_nan=False, allow_infinity=False),
)
def paid_for(item):
    return item["totalAmount"] > 0  # a line of 0.01 × 0.001 costs nothing; an order of nothing is refused


bitrix_lines = st.builds(
    lambda n, price, qty, code, kind: bitrix_line(f"B{n}", price, qty, code, kind),
    st.integers(0, 10_000),
    st.decimals(min_value=D("0.01"), max_value=D("99999.99"), places=2, allow_nan=False, allow_infinity=False),
    quantities, st.sampled_from(sorted(BITRIX_RATES)), st.sampled_from(["commodity", "service"])).filter(paid_for)
mcp_lines = st.builds(
    lambda n, kopecks, qty, code, kind: mcp_line(f"M{n}", kopecks, qty, code, kind),
    st.integers(0, 10_000), st.integers(min_value=1, max_value=10_000_000), quantities,
    st.sampled_from(sorted(MCP_PERCENT)), st.sampled_from(["commodity", "service"])).filter(paid_for)


def _spoil_line(kind: str, amount: int):
    def spoil(body):
        item = body["basketItems"][0]
        if kind == "vat":
            item["totalVatAmount"] += D(amount) / 100
            body["vatAmount"] += D(amount) / 100
        elif kind == "total":
            item["totalAmount"] += D(amount) / 100
            body["amount"] += D(amount) / 100
        elif kind == "wo_vat":
            item["amountWoVat"] += D(amount) / 100
        elif kind == "quantity":
            item["quantity"] = D(0)
        elif kind == "payment_type":
            item["paymentType"] = "full"
        elif kind == "vat_code":
            item["vatCode"] = "RUS_VAT18"
        elif kind == "sku":
            item["sku"] = body["basketItems"][-1]["sku"] if len(body["basketItems"]) > 1 else ""
    return spoil


def _spoil_order(kind: str):
    def spoil(body):
        if kind == "amount":
            body["amount"] += D("0.01")
        elif kind == "policy":
            body["orderSetting"] = {"roundPolicy": "floor"}
        elif kind == "policy_none":
            body["orderSetting"] = {"roundPolicy": "none"}
        elif kind == "kpp":
            body["customer"] = {"type": "legal", "name": "ООО", "vatNumber": "7812345675"}
    return spoil


spoilers = st.one_of(
    st.just(lambda body: None),
    st.builds(_spoil_line, st.sampled_from(["vat", "total", "wo_vat"]), st.integers(-5, 5).filter(bool)),
    st.builds(_spoil_line, st.sampled_from(["quantity", "payment_type", "vat_code", "sku"]), st.just(0)),
    st.builds(_spoil_order, st.sampled_from(["amount", "policy", "policy_none", "kpp"])),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(bitrix_lines, mcp_lines), min_size=1, max_size=4, unique_by=lambda i: i["sku"]),
       spoilers)
def test_local_validation_accepts_exactly_what_the_sandbox_accepts(ib, items, spoil):
    body = order_body(ib.merchant_id, items)
    spoil(body)
    local, sandbox = both(ib, body)
    event(f"verdict: {local.code or 'accepted'}")  # --hypothesis-show-statistics: both kinds occur
    assert local.code == sandbox.code, (local, sandbox, body)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(bitrix_lines, mcp_lines), min_size=1, max_size=4, unique_by=lambda i: i["sku"]))
def test_every_basket_an_official_integration_builds_is_accepted_on_both_sides(ib, items):
    local, sandbox = both(ib, order_body(ib.merchant_id, items))
    assert (local.code, sandbox.code) == (None, None), items
