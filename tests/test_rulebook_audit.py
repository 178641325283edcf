"""One test per row of the sources audit (section 2), asserting the behaviour decided for it on
both sides: the client's local validation and the sandbox answering over real HTTP. The rows
that are not validation assert what the rule book contributes and that the decision is written
down (docs/rulebook.md, "Audit rows")."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import requests
from rulebook_helpers import (
    ORDERS,
    SHIPMENT,
    bitrix_line,
    both,
    create_calls,
    error_of,
    mcp_line,
    module_sandbox,  # noqa: F401 - the fixture ib
    order_body,
    paid_order,
    post,
    sandbox_client,  # noqa: F401 - the fixture client
)

from invoicebox_flow import jsonutil, rulebook
from invoicebox_flow.errors import ValidationError
from invoicebox_flow.models import Order, OrderRequest, PrivateCustomer, ShipmentRequest, basket_line

D = Decimal
DOCS = Path(__file__).resolve().parents[1] / "docs" / "rulebook.md"
COMPANY_INN, PERSON_INN = "7812345675", "781234567870"




def line(**changes):
    """The documented line (123.96 × 3 at 20 %), with changes."""
    item = {"sku": "5fe0adcfa7fb4", "name": "Бронирование номера", "measure": "шт.", "measureCode": "796",
            "quantity": 3, "amount": D("123.96"), "amountWoVat": D("103.30"), "totalAmount": D("371.88"),
            "totalVatAmount": D("61.98"), "vatCode": "RUS_VAT20", "type": "service", "paymentType": "full_prepayment"}
    item.update(changes)
    return item


def assert_both(ib, body, code, warnings=None):
    local, sandbox = both(ib, body)
    assert (local.code, sandbox.code) == (code, code), (local, sandbox)
    if warnings is not None:
        assert local.warnings == tuple(warnings)


# --- row 1: line VAT arithmetic -----------------------------------------------------------------------


@pytest.mark.parametrize(("items", "code"), [
    ([bitrix_line("A", "1.00", 5)], None),  # VAT 0.85, per unit × 5 (Bitrix)
    ([dict(bitrix_line("A", "1.00", 5), totalVatAmount=D("0.83"))], None),  # VAT of the total (MCP)
    ([bitrix_line("A", "33.33", 3)], None),  # the audit's 33.33 × 3 (was 422)
    ([bitrix_line("A", "199.99", 7, "RUS_VAT10")], None),
    ([dict(bitrix_line("A", "1.00", 5), totalVatAmount=D("0.87"))], "wrong_basket_item_total_vat_amount"),
])
def test_audit_row_01_bitrix_style_line_vat_is_accepted(ib, items, code):
    assert_both(ib, order_body(ib.merchant_id, items), code)


def test_audit_row_01_every_bitrix_line_of_the_audit_run_is_accepted_locally():
    # the audit's run: prices 1.00…199.99, quantities 1–7 refused 3 315 of 14 215 lines; sampled here
    for cents in range(100, 20000, 37):
        for qty in range(1, 8):
            item = bitrix_line("A", D(cents) / 100, qty)
            report = rulebook.basket_report(item["totalAmount"], item["totalVatAmount"], [item])
            assert report.ok, (cents, qty, report.problems)


# --- row 2: *_ADDED codes --------------------------------------------------------------------------------


@pytest.mark.parametrize(("item", "code"), [
    (mcp_line("A", 12200, 1, "RUS_VAT22_ADDED"), None),  # 122 / VAT 22 / woVat 100, as MCP builds it
    (mcp_line("A", 3333, 3, "RUS_VAT20_ADDED"), None),
    # the project's old reading: price without the tax, VAT on top
    (dict(mcp_line("A", 10000, 1, "RUS_VAT22_ADDED"), totalVatAmount=D("22.00"), amountWoVat=D("100.00")),
     "wrong_basket_item_total_vat_amount"),
])
def test_audit_row_02_added_codes_are_built_as_the_mcp_server_builds_them(ib, item, code):
    assert_both(ib, order_body(ib.merchant_id, [item]), code)
    assert basket_line(sku="A", name="B", unit_price="122.00", quantity=1, vat_code="RUS_VAT22_ADDED").to_json()[
        "totalVatAmount"] == D("22.00")


# --- row 3: roundPolicy ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("policy", "changes", "code"), [
    ("none", {"totalAmount": D("372.00"), "totalVatAmount": D("62.00")}, None),  # quantity × amount <= total
    ("none", {"totalAmount": D("370.00"), "totalVatAmount": D("61.67")}, "wrong_basket_item_total_amount"),
    (None, {"totalAmount": D("372.00"), "totalVatAmount": D("62.00")}, "wrong_basket_item_total_amount"),  # strict
    ("floor", {"amount": D("33.333"), "amountWoVat": D("27.778"), "totalAmount": D("99.99"),
               "totalVatAmount": D("16.67")}, None),  # a 3-decimal unit price (was 422)
    ("ceil", {"amount": D("33.333"), "amountWoVat": D("27.778"), "totalAmount": D("100.00"),
              "totalVatAmount": D("16.67")}, None),
    ("strict", {"amount": D("33.333"), "amountWoVat": D("27.778"), "totalAmount": D("100.00"),
                "totalVatAmount": D("16.67")}, "wrong_value"),  # strict: kopecks
    ("banker", {}, "wrong_value"),
])
def test_audit_row_03_round_policies_as_the_docs_write_them(ib, policy, changes, code):
    setting = {} if policy is None else {"orderSetting": {"roundPolicy": policy}}
    assert_both(ib, order_body(ib.merchant_id, [line(**changes)], **setting), code)


# --- row 4: customer requisites --------------------------------------------------------------------------


@pytest.mark.parametrize(("customer", "code", "warnings"), [
    ({"type": "legal", "name": "ООО «Вектор»", "vatNumber": COMPANY_INN, "registrationAddress": "СПб"},
     None, ["kpp_missing"]),  # a company without KPP: MCP only warns
    ({"type": "legal", "name": "ООО «Вектор»", "registrationAddress": "СПб"}, None,
     ["vat_number_missing", "kpp_missing"]),
    ({"type": "private", "name": "Пётр", "email": "p@example.org", "vatNumber": PERSON_INN}, None, []),
    ({"type": "private", "name": "Пётр", "email": "p@example.org", "vatNumber": "123321"}, None,
     ["vat_number_unchecked"]),  # as in the SDK's mocks
    ({"type": "private", "name": "Пётр", "taxRegistrationReasonCode": "781201001"}, "kpp_not_allowed", None),
    ({"type": "legal", "name": "ИП", "vatNumber": PERSON_INN, "taxRegistrationReasonCode": "781201001"},
     "kpp_not_allowed", None),
    ({"type": "legal", "name": "ООО", "vatNumber": "7812345676", "taxRegistrationReasonCode": "781201001"},
     "wrong_vat_number", None),
    ({"type": "legal", "name": "ООО", "vatNumber": COMPANY_INN, "taxRegistrationReasonCode": "78120100"},
     "wrong_kpp", None),
])
def test_audit_row_04_a_customer_lacking_requisites_is_warned_about_a_contradiction_refused(ib, customer, code,
                                                                                            warnings):
    assert_both(ib, order_body(ib.merchant_id, [line()], customer=customer), code, warnings)


def test_audit_row_04_a_request_with_warnings_is_logged_and_sent(ib, client, caplog):
    body = order_body(ib.merchant_id, [line()], customer={"type": "legal", "name": "ООО «Вектор»",
                                                          "vatNumber": COMPANY_INN, "registrationAddress": "СПб"})
    request = OrderRequest.from_json(body)
    with caplog.at_level(logging.WARNING, logger="invoicebox_flow.rulebook"):
        order = client.create_order(request)
    assert order.status == "created"
    logged = [r for r in caplog.records if r.name == "invoicebox_flow.rulebook" and r.levelno == logging.WARNING]
    assert logged and "taxRegistrationReasonCode: kpp_missing" in logged[0].getMessage()
    assert COMPANY_INN not in logged[0].getMessage()  # the fields and codes, never the payer's data
    [warning] = request.warnings()
    assert (warning.code, warning.field, warning.source.tag) == ("kpp_missing", "customer.taxRegistrationReasonCode",
                                                                 "MCP")
    assert [w.code for w in rulebook.warnings_of(body)] == ["kpp_missing"]


# --- row 5: expirationDate ----------------------------------------------------------------------------------


def test_audit_row_05_expiration_date_is_atom_in_whole_seconds_and_never_naive(ib, client):
    moment = datetime.now(UTC).replace(microsecond=472385) + timedelta(days=1)
    request = OrderRequest(merchant_id=ib.merchant_id, merchant_order_id="ROW5-1", description="d",
                           basket_items=[basket_line(sku="A", name="B", unit_price=10, quantity=1,
                                                     vat_code="RUS_VAT22")],
                           customer=PrivateCustomer(email="a@example.org"), expiration_date=moment)
    assert request.to_json()["expirationDate"] == moment.replace(microsecond=0).isoformat()
    sent = client.create_order(request)
    assert "." not in ib.order(sent.id)["expirationDate"]  # what reached the sandbox
    before = len(create_calls(ib))
    with pytest.raises(ValidationError) as caught:
        OrderRequest(merchant_id=ib.merchant_id, merchant_order_id="ROW5-2", description="d",
                     basket_items=request.basket_items, customer=request.customer,
                     expiration_date=datetime(2030, 1, 1, 12, 0))
    assert caught.value.code == "wrong_expiration_date"
    assert len(create_calls(ib)) == before


@pytest.mark.parametrize(("value", "code"), [
    ("2030-01-01T12:00:00", "wrong_expiration_date"),  # no offset: which zone?
    ("2030-01-01T12:00:00+03:00", None),
    ("2030-01-01T12:00:00.5+00:00", None),  # fractions accepted from others (MCP's zod datetime lets them)
    ("2030-01-01", "wrong_expiration_date"),
])
def test_audit_row_05_the_sandbox_takes_only_date_times_with_an_offset(ib, value, code):
    assert_both(ib, order_body(ib.merchant_id, [line()], expirationDate=value), code)


# --- row 6: enums and complete shipment lines -----------------------------------------------------------


@pytest.mark.parametrize(("changes", "code"), [
    ({"paymentType": "bogus"}, "wrong_value"),
    ({"paymentType": "advance"}, None),
    ({"type": "bogus"}, "wrong_value"),
    ({"type": 4}, None),
    ({"type": "30"}, None),  # tag 1212 as digits, as Bitrix sends a property's XML_ID
    ({"type": 28}, "wrong_value"),  # not a tag-1212 value
    ({"type": True}, "wrong_value"),
    ({"sku": "s" * 501}, "wrong_value"),
    ({"name": "n" * 501}, "wrong_value"),
    ({"measureCode": "79600"}, "wrong_value"),
    ({"sku": ""}, "validation"),
    ({"name": " "}, "validation"),
])
def test_audit_row_06_basket_enums_and_lengths(ib, changes, code):
    assert_both(ib, order_body(ib.merchant_id, [line(**changes)]), code)


@pytest.mark.parametrize(("customer", "code"), [
    ({"type": "private", "name": "x" * 501}, "wrong_value"),
    ({"type": "private", "email": "e" * 101}, "wrong_value"),
    ({"type": "private", "phone": "7" * 101}, "wrong_value"),
    ({"type": "legal", "vatNumber": COMPANY_INN, "registrationAddress": "a" * 1001}, "wrong_value"),
    ({"type": "private", "name": "x" * 500, "email": "e" * 100, "phone": "7" * 100}, None),
])
def test_audit_row_06_customer_lengths(ib, customer, code):
    assert_both(ib, order_body(ib.merchant_id, [line()], customer=customer), code)


def test_audit_row_06_a_shipment_line_of_sku_and_quantity_is_refused_not_filled_in(ib):
    order = paid_order(ib, [line()])
    partial = {"orderId": order["id"], "basketItems": [{"sku": "5fe0adcfa7fb4", "quantity": 1}]}
    response = post(ib, SHIPMENT, partial)
    assert response.status_code == 422 and error_of(response)["code"] == "validation"
    missing = {f["name"] for f in error_of(response)["fields"]}
    assert {"basketItems[0].name", "basketItems[0].paymentType", "basketItems[0].totalAmount"} <= missing
    assert ib.shipments(order["id"]) == []
    with pytest.raises(ValidationError) as caught:
        ShipmentRequest.from_json(partial).validate()
    assert caught.value.code == "validation"
    whole = {"orderId": order["id"], "basketItems": [line(quantity=1, totalAmount=D("123.96"),
                                                          totalVatAmount=D("20.66"), paymentType="full_payment")]}
    ShipmentRequest.from_json(whole).validate()
    assert post(ib, SHIPMENT, whole).status_code == 200


# --- rows 7, 8: not validation ---------------------------------------------------------------------------


@pytest.mark.parametrize("row", [7, 8, 10, 13, 14, 15, 16, 17])
def test_audit_row_decisions_that_are_not_validation_name_who_implements_them(row):
    decision = audit_rows()[row]
    owner = {7: "sandbox", 8: "sandbox", 10: "webhook", 13: "left", 14: "sandbox", 15: "sandbox", 16: "webhook",
             17: "sandbox"}[row]
    assert owner in decision.lower()


# --- row 9: error bodies --------------------------------------------------------------------------------


@pytest.mark.parametrize(("changes", "code"), [
    ({"amount": D("371.89")}, "wrong_total_amount"),
    ({"vatAmount": D("61.97")}, "wrong_total_vat_amount"),
    ({"currencyId": "XYZ"}, "wrong_currency"),
    ({"description": ""}, "validation"),
])
def test_audit_row_09_the_sandbox_answers_like_the_sdk_mock_and_with_the_clients_code(ib, changes, code):
    body = order_body(ib.merchant_id, [line()], **changes)
    response = post(ib, ORDERS, body)
    error = error_of(response)
    assert response.status_code == 422
    assert error["code"] == code
    assert error["fields"] and all(f["code"] == "wrong_value" for f in error["fields"])  # SDK wrong-amount mock
    assert set(error["fields"][0]) == {"name", "code", "message"}
    with pytest.raises(ValidationError) as caught:
        OrderRequest.from_json(body).validate()
    assert caught.value.code == code
    assert [f["name"] for f in caught.value.fields] == [f["name"] for f in error["fields"]]


# --- row 11: legacy VAT codes ------------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["NONE", "RUS_VAT110", "RUS_VAT120"])
def test_audit_row_11_legacy_vat_codes_the_bitrix_module_sends_are_accepted_with_a_warning(ib, code):
    assert_both(ib, order_body(ib.merchant_id, [bitrix_line("A", "99.90", 2, code)]), None, ["legacy_vat_code"])


def test_audit_row_11_an_unknown_vat_code_is_still_refused(ib):
    assert_both(ib, order_body(ib.merchant_id, [line(vatCode="RUS_VAT18")]), "wrong_vat_code")


# --- row 12: paging -------------------------------------------------------------------------------------------


def test_audit_row_12_paging_the_documented_spelling_is_the_rule_and_the_sandbox_takes_both(ib):
    assert rulebook.PAGE_PARAMETERS == ("page", "pageSize")
    assert rulebook.MCP_PAGE_PARAMETERS == ("_page", "_pageSize")
    for n in range(3):
        assert post(ib, ORDERS, order_body(ib.merchant_id, [line()], merchantOrderId=f"ROW12-{n}")).status_code == 200
    session = requests.Session()
    session.trust_env = False
    pages = []
    for params in ({"page": 2, "pageSize": 1}, {"_page": 2, "_pageSize": 1}):
        answer = session.get(f"{ib.url}/v3/filter/api/order/order", params=params, timeout=10,
                             headers={"Authorization": f"Bearer {ib.token}"})
        envelope = jsonutil.loads(answer.content)
        pages.append(([o["id"] for o in envelope["data"]], envelope["metaData"]["page"], envelope["metaData"]["pageSize"]))
    assert pages[0] == pages[1] and pages[0][1:] == (2, 1) and len(pages[0][0]) == 1
    assert "page" in audit_rows()[12] and "client" in audit_rows()[12]


# --- row 13: shopId ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("shop", "code"), [(333, None), ("06581534-196a-1105-839a-82422289d6d8", None),
                                            ("s" * 37, "wrong_value")])
def test_audit_row_13_shop_id_is_taken_as_the_docs_and_the_sdk_type_it(ib, shop, code):
    assert_both(ib, order_body(ib.merchant_id, [line()], shopId=shop), code)


# --- row 18: reading an odd customer type -------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "code"), [("", None), ("public", "wrong_value")])
def test_audit_row_18_an_empty_customer_type_is_absent_an_unknown_one_refused_when_sent(ib, kind, code):
    assert_both(ib, order_body(ib.merchant_id, [line()], customer={"type": kind, "name": "Анна",
                                                                   "email": "a@example.org"}), code)


def test_audit_row_18_reading_never_fails_on_the_customer_type(ib):
    order = jsonutil.loads(post(ib, ORDERS, order_body(ib.merchant_id, [line()])).content)["data"]
    for kind in ("", "public", None):
        notified = dict(order, customer=dict(order["customer"], type=kind))
        read = Order.from_json(notified)
        assert read.to_json() == notified and isinstance(read.customer, PrivateCustomer)


# --- the decisions table ---------------------------------------------------------------------------------


def audit_rows() -> dict[int, str]:
    """Row number → its line in the decisions table of docs/rulebook.md."""
    rows = {}
    for text in DOCS.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^\| (\d{1,2}) \|", text)
        if match:
            rows[int(match.group(1))] = text
    return rows


def test_every_audit_row_has_a_decision_and_a_place():
    rows = audit_rows()
    assert sorted(rows) == list(range(1, 19))
    for row, text in rows.items():
        cells = [c.strip() for c in text.strip("|").split("|")]
        assert len(cells) == 5 and all(cells), (row, cells)  # row, topic, verdict, decision, where
        assert cells[2] in ("matched", "deliberately different", "not validation"), (row, cells[2])
