"""Money, VAT and basket arithmetic: the reference's examples, every error code, both official
readings of a line's VAT, and a property test that lines built by ``basket_line`` always pass
the same checks the sandbox applies."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from invoicebox_flow import jsonutil
from invoicebox_flow.errors import BasketError, UnknownArgumentError, ValidationError
from invoicebox_flow.models import BasketItem, basket_line
from invoicebox_flow.money import (
    DOCUMENTED_VAT_CODES,
    KOPECK,
    LEGACY_VAT_CODES,
    VAT_CODES,
    amount_wo_vat,
    basket_problems,
    is_vat_added,
    order_totals,
    to_money,
    validate_basket,
    vat_of_total,
    vat_per_unit,
    vat_rate,
)

D = Decimal


def line(**overrides):
    """The reference's notification line (123.96 × 3 at 20 %) as camelCase JSON, with changes."""
    item = jsonutil.loads(
        '{"sku":"5fe0adcfa7fb4","name":"Бронирование номера","measure":"шт.","measureCode":"796","quantity":3,'
        '"amount":123.96,"amountWoVat":103.3,"totalAmount":371.88,"totalVatAmount":61.98,"vatCode":"RUS_VAT20",'
        '"type":"service","paymentType":"full_prepayment"}')
    item.update(overrides)
    return item


def codes(problems):
    return [(p["code"], p["name"]) for p in problems]


# --- to_money ------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "expected"), [
    ("0.005", "0.01"),
    ("1.005", "1.01"),
    ("2.675", "2.68"),  # a float would make this 2.67
    ("2.674999", "2.67"),
    ("-0.005", "-0.01"),  # half-up rounds away from zero
    (D("371.88"), "371.88"),
    (2400, "2400.00"),
    (" 10.5 ", "10.50"),
    ("1E+3", "1000.00"),
])
def test_to_money_rounds_half_up_to_kopecks(value, expected):
    result = to_money(value)
    assert result == D(expected)
    assert result.as_tuple().exponent == -2


def test_to_money_refuses_float_with_a_typed_error():
    with pytest.raises(ValidationError, match="never float") as caught:
        to_money(0.1)  # type: ignore[arg-type]
    assert caught.value.code == "wrong_value"
    assert caught.value.fields[0]["name"] == "amount"


@pytest.mark.parametrize("value", ["NaN", "sNaN", "Infinity", "-inf", D("NaN"), D("Infinity"), "12,50", "", "abc",
                                   None, True, [1], "1e18", 10**20, "-1e999999"])
def test_to_money_refuses_what_is_not_a_finite_number(value):
    with pytest.raises(ValidationError) as caught:
        to_money(value)
    assert caught.value.code == "wrong_value"


# --- VAT codes and arithmetic --------------------------------------------------------------


def test_vat_codes_cover_the_documented_the_mcp_and_the_legacy_codes():
    assert set(DOCUMENTED_VAT_CODES) <= set(VAT_CODES)
    assert set(VAT_CODES) == {
        "VATNONE", "RUS_VAT0", "RUS_VAT10", "RUS_VAT20",
        "RUS_VAT22", "RUS_VAT7", "RUS_VAT5",
        "RUS_VAT22_ADDED", "RUS_VAT20_ADDED", "RUS_VAT10_ADDED", "RUS_VAT7_ADDED", "RUS_VAT5_ADDED",
        "NONE", "RUS_VAT110", "RUS_VAT120",  # legacy, still sent by the Bitrix module: accepted with a warning
    }
    assert set(LEGACY_VAT_CODES) == {"NONE", "RUS_VAT110", "RUS_VAT120"}
    assert vat_rate("VATNONE") == vat_rate("RUS_VAT0") == vat_rate("NONE") == 0
    assert vat_rate("RUS_VAT20") == vat_rate("RUS_VAT120") == vat_rate("RUS_VAT20_ADDED") == D("0.20")
    assert vat_rate("RUS_VAT22") == D("0.22")


def test_added_codes_are_named_apart_but_computed_like_the_included_ones():
    # MCP writes.ts::vatFromCode: "totalAmount включает НДС при любой ставке"
    assert [c for c in VAT_CODES if is_vat_added(c)] == [
        "RUS_VAT22_ADDED", "RUS_VAT20_ADDED", "RUS_VAT10_ADDED", "RUS_VAT7_ADDED", "RUS_VAT5_ADDED"]
    assert not is_vat_added("RUS_VAT20")
    assert not is_vat_added("BOGUS_ADDED")
    for rate in ("22", "20", "10", "7", "5"):
        assert vat_of_total(D("122.00"), f"RUS_VAT{rate}_ADDED") == vat_of_total(D("122.00"), f"RUS_VAT{rate}")
        assert amount_wo_vat(D("99.99"), f"RUS_VAT{rate}_ADDED") == amount_wo_vat(D("99.99"), f"RUS_VAT{rate}")


@pytest.mark.parametrize("code", ["RUS_VAT18", "rus_vat20", "VAT_NONE", "", None])
def test_unknown_vat_code_is_refused_with_the_api_code(code):
    with pytest.raises(BasketError) as caught:
        vat_rate(code)
    assert caught.value.code == "wrong_vat_code"
    assert caught.value.fields[0]["name"] == "vatCode"
    assert caught.value.fields[0]["code"] == "wrong_vat_code"


def test_reference_vat_examples():
    assert vat_of_total(D("371.88"), "RUS_VAT20") == D("61.98")
    assert amount_wo_vat(D("123.96"), "RUS_VAT20") == D("103.30")
    assert vat_of_total(D("123.96"), "RUS_VAT20") == D("20.66")
    assert vat_of_total(D("2400"), "RUS_VAT20") == D("400.00")
    assert amount_wo_vat(D("1200"), "RUS_VAT20") == D("1000.00")


@pytest.mark.parametrize(("total", "code", "vat"), [
    ("110.00", "RUS_VAT10", "10.00"),
    ("122.00", "RUS_VAT22", "22.00"),
    ("105.00", "RUS_VAT5", "5.00"),
    ("107.00", "RUS_VAT7", "7.00"),
    ("120.00", "RUS_VAT120", "20.00"),
    ("120.00", "RUS_VAT20_ADDED", "20.00"),  # tax included too (MCP): total × r/(1+r)
    ("122.00", "RUS_VAT22_ADDED", "22.00"),
    ("999.99", "VATNONE", "0.00"),
    ("999.99", "NONE", "0.00"),
    ("999.99", "RUS_VAT0", "0.00"),
    ("0.03", "RUS_VAT20", "0.01"),  # 0.005 rounds half-up
])
def test_vat_of_total_per_code(total, code, vat):
    result = vat_of_total(D(total), code)
    assert result == D(vat)
    assert result.as_tuple().exponent == -2


def test_amount_wo_vat_for_zero_codes_is_the_price():
    assert amount_wo_vat(D("99.99"), "VATNONE") == D("99.99")
    assert amount_wo_vat(D("99.99"), "RUS_VAT0") == D("99.99")
    assert amount_wo_vat(D("120"), "RUS_VAT20_ADDED") == D("100.00")
    assert amount_wo_vat(D("110"), "RUS_VAT10") == D("100.00")


@pytest.mark.parametrize(("price", "qty", "code", "per_unit", "of_total"), [
    ("1.00", 5, "RUS_VAT20", "0.85", "0.83"),  # the example: both readings are InvoiceBox's own
    ("33.33", 3, "RUS_VAT20", "16.65", "16.67"),  # the audit's 33.33 × 3
    ("123.96", 3, "RUS_VAT20", "61.98", "61.98"),  # the documented line: both agree
    ("10.00", 7, "RUS_VAT10", "6.37", "6.36"),
    ("5.00", 3, "VATNONE", "0.00", "0.00"),
])
def test_vat_per_unit_is_the_bitrix_reading(price, qty, code, per_unit, of_total):
    # BITRIX handler.php::calculateVATData: round((price - round(price / (1 + r), 2)) * qty, 2)
    assert vat_per_unit(D(price), D(qty), code) == D(per_unit)
    assert vat_of_total(D(price) * qty, code) == D(of_total)


# --- basket_line -----------------------------------------------------------------------------


def test_basket_line_reproduces_the_notification_example():
    item = basket_line(sku="5fe0adcfa7fb4", name="Бронирование номера", unit_price="123.96", quantity=3,
                       vat_code="RUS_VAT20")
    assert isinstance(item, BasketItem)
    assert (item.amount, item.amount_wo_vat, item.total_amount, item.total_vat_amount) == (
        D("123.96"), D("103.30"), D("371.88"), D("61.98"))
    assert item.to_json() == line()  # numerically equal to the documented line, key for key


def test_basket_line_reproduces_the_create_order_example():
    item = basket_line(sku="COURSE-PY-90", name="Онлайн-курс", unit_price=1200, quantity=2, measure="шт",
                       vat_code="RUS_VAT20")
    assert item.to_json() == {
        "sku": "COURSE-PY-90", "name": "Онлайн-курс", "measure": "шт", "measureCode": "796", "quantity": 2,
        "amount": D("1200.00"), "amountWoVat": D("1000.00"), "totalAmount": D("2400.00"),
        "totalVatAmount": D("400.00"), "vatCode": "RUS_VAT20", "type": "service", "paymentType": "full_prepayment"}


def test_basket_line_rounds_a_fractional_quantity_half_up():
    item = basket_line(sku="W", name="Кофе, кг", unit_price="33.33", quantity="0.5", type="commodity",
                       measure="кг", measure_code="166", vat_code="RUS_VAT20")
    assert item.total_amount == D("16.67")  # 16.665
    assert item.total_vat_amount == D("2.78")  # 16.67 / 6 = 2.778…
    assert basket_problems(item.total_amount, item.total_vat_amount, [item.to_json()]) == []


def test_basket_line_passes_attributes_and_takes_other_json_fields_as_an_explicit_mapping():
    item = basket_line(sku="A", name="B", unit_price=10, quantity=1, group_name="Курсы",
                       extra={"originCountryCode": "643"}, vat_code="VATNONE")
    assert item.group_name == "Курсы"
    assert item.extra == {"originCountryCode": "643"}
    assert item.to_json()["originCountryCode"] == "643"
    assert item.to_json()["groupName"] == "Курсы"
    assert item.total_vat_amount == D("0.00")


def test_basket_line_has_no_catch_all_and_no_default_vat_code():
    with pytest.raises(UnknownArgumentError, match="did you mean 'vat_code'") as caught:
        basket_line(sku="A", name="B", unit_price=10, quantity=1, vat_cod="RUS_VAT22")  # type: ignore[call-arg]
    assert isinstance(caught.value, TypeError) and caught.value.code == "unknown_argument"
    with pytest.raises(UnknownArgumentError, match="originCountryCode"):
        basket_line(sku="A", name="B", unit_price=10, quantity=1, vat_code="RUS_VAT22",
                    originCountryCode="643")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="vat_code"):
        basket_line(sku="A", name="B", unit_price=10, quantity=1)  # type: ignore[call-arg]


def test_basket_line_refuses_bad_input():
    with pytest.raises(ValidationError, match="never float") as caught:
        basket_line(sku="A", name="B", unit_price=9.99, quantity=1, vat_code="RUS_VAT22")  # type: ignore[arg-type]
    assert caught.value.code == "wrong_value"
    with pytest.raises(BasketError) as caught:
        basket_line(sku="A", name="B", unit_price=10, quantity=0, vat_code="RUS_VAT22")
    assert caught.value.code == "wrong_value"
    with pytest.raises(BasketError):
        basket_line(sku="A", name="B", unit_price=-1, quantity=1, vat_code="RUS_VAT22")
    with pytest.raises(BasketError) as caught:
        basket_line(sku="A", name="B", unit_price=10, quantity=1, vat_code="RUS_VAT18")
    assert caught.value.code == "wrong_vat_code"
    for changes, name in [({"sku": ""}, "sku"), ({"name": "  "}, "name"), ({"payment_type": "bogus"}, "paymentType"),
                          ({"type": "bogus"}, "type"), ({"measure_code": "79600"}, "measureCode"),
                          ({"sku": "x" * 501}, "sku")]:
        values = dict(sku="A", name="B", unit_price=10, quantity=1, vat_code="RUS_VAT22") | changes
        with pytest.raises(ValidationError) as caught:
            basket_line(**values)
        assert caught.value.fields[0]["name"] == name, changes


# --- basket_problems: every error code -----------------------------------------------------


def test_the_documented_basket_is_valid():
    assert basket_problems(D("371.88"), D("61.98"), [line()]) == []
    validate_basket(D("371.88"), D("61.98"), [line()])


def test_integer_amounts_are_fine():
    item = line(amount=100, amountWoVat=D("83.33"), quantity=1, totalAmount=100, totalVatAmount=D("16.67"))
    assert basket_problems(100, D("16.67"), [item]) == []


def test_empty_basket_is_a_validation_problem():
    assert codes(basket_problems(0, 0, [])) == [("validation", "basketItems")]
    assert codes(basket_problems(0, 0, {"not": "a list"})) == [("validation", "basketItems")]  # type: ignore[arg-type]


@pytest.mark.parametrize(("changes", "name"), [
    ({"quantity": 0}, "basketItems[0].quantity"),
    ({"quantity": D("-1")}, "basketItems[0].quantity"),
    ({"quantity": D("0.0000001")}, "basketItems[0].quantity"),  # more than 6 decimals
    ({"amount": D("-123.96")}, "basketItems[0].amount"),
    ({"amountWoVat": "lots"}, "basketItems[0].amountWoVat"),
    ({"totalVatAmount": D("61.985")}, "basketItems[0].totalVatAmount"),  # more than two decimals
])
def test_unusable_line_values_are_wrong_value(changes, name):
    assert ("wrong_value", name) in codes(basket_problems(D("371.88"), D("61.98"), [line(**changes)]))


@pytest.mark.parametrize("key", ["quantity", "amountWoVat", "totalAmount"])
def test_a_missing_line_value_is_a_validation_problem(key):
    # the sandbox's code for a missing required field, now on both sides (was wrong_value locally)
    item = line()
    del item[key]
    assert ("validation", f"basketItems[0].{key}") in codes(basket_problems(D("371.88"), D("61.98"), [item]))
    assert ("validation", f"basketItems[0].{key}") in codes(basket_problems(D("371.88"), D("61.98"), [line(**{key: None})]))


def test_a_line_that_is_not_an_object_is_a_validation_problem():
    assert codes(basket_problems(D("371.88"), D("61.98"), [line(), "x"])) == [("validation", "basketItems[1]")]


def test_negative_order_amounts_are_wrong_value_and_missing_ones_validation():
    assert codes(basket_problems(D("-1"), D("61.98"), [line()]))[0] == ("wrong_value", "amount")
    assert codes(basket_problems(D("371.88"), None, [line()]))[0] == ("validation", "vatAmount")


def test_wrong_line_total():
    problems = basket_problems(D("371.87"), D("61.98"), [line(totalAmount=D("371.87"))])
    assert codes(problems) == [("wrong_basket_item_total_amount", "basketItems[0].totalAmount")]
    assert "123.96 × 3 = 371.88" in problems[0]["message"]


def test_wrong_line_vat_beyond_one_kopeck():
    assert basket_problems(D("371.88"), D("61.99"), [line(totalVatAmount=D("61.99"))]) == []  # within 1 kopeck
    assert codes(basket_problems(D("371.88"), D("62.00"), [line(totalVatAmount=D("62.00"))])) == [
        ("wrong_basket_item_total_vat_amount", "basketItems[0].totalVatAmount")]


def small(vat, qty=5, price="1.00", wo_vat="0.83", code="RUS_VAT20"):
    total = D(price) * qty
    return line(quantity=qty, amount=D(price), amountWoVat=D(wo_vat), totalAmount=total, totalVatAmount=D(vat),
                vatCode=code)


@pytest.mark.parametrize("vat", ["0.82", "0.83", "0.84", "0.85", "0.86"])
def test_line_vat_of_the_total_and_per_unit_times_quantity_are_both_accepted(vat):
    # 1.00 × 5 at 20 %: MCP sends 0.83 (VAT of the total), the Bitrix module 0.85 (per unit × 5)
    assert basket_problems(D("5.00"), D(vat), [small(vat)]) == []


@pytest.mark.parametrize("vat", ["0.81", "0.87", "1.00"])
def test_line_vat_outside_both_readings_is_refused(vat):
    assert ("wrong_basket_item_total_vat_amount", "basketItems[0].totalVatAmount") in codes(
        basket_problems(D("5.00"), D(vat), [small(vat)]))


def test_line_vat_never_exceeds_the_line_total():
    item = line(quantity=1, amount=D("0.01"), amountWoVat=D("0.01"), totalAmount=D("0.01"), totalVatAmount=D("0.02"))
    assert ("wrong_basket_item_total_vat_amount", "basketItems[0].totalVatAmount") in codes(
        basket_problems(D("0.01"), D("0.02"), [item]))


def test_wrong_amount_wo_vat():
    # the line total sent instead of the unit price without VAT: the classic mistake
    assert codes(basket_problems(D("371.88"), D("61.98"), [line(amountWoVat=D("309.90"))])) == [
        ("wrong_basket_item_amount_wo_vat", "basketItems[0].amountWoVat")]
    # one kopeck per unit plus one is tolerated: 3 units → up to 0.04
    assert basket_problems(D("371.88"), D("61.98"), [line(amountWoVat=D("103.31"))]) == []
    assert codes(basket_problems(D("371.88"), D("61.98"), [line(amountWoVat=D("103.32"))])) == [
        ("wrong_basket_item_amount_wo_vat", "basketItems[0].amountWoVat")]


def test_amount_wo_vat_tolerance_needs_its_extra_kopeck_for_fractional_quantities():
    # A correctly built line whose amountWoVat × quantity misses by a full kopeck although
    # quantity < 1: "≤ 0.01 × quantity" alone would refuse it.
    item = basket_line(sku="A", name="B", unit_price="68668.45", quantity="0.393", vat_code="RUS_VAT22")
    missing = (item.amount_wo_vat * item.quantity).quantize(KOPECK) + item.total_vat_amount - item.total_amount
    assert abs(missing) == KOPECK > KOPECK * item.quantity
    assert basket_problems(item.total_amount, item.total_vat_amount, [item.to_json()]) == []


def test_unknown_vat_code_in_a_line():
    assert codes(basket_problems(D("371.88"), D("61.98"), [line(vatCode="RUS_VAT18")])) == [
        ("wrong_vat_code", "basketItems[0].vatCode")]


def test_wrong_order_totals():
    assert codes(basket_problems(D("371.89"), D("61.98"), [line()])) == [("wrong_total_amount", "amount")]
    assert codes(basket_problems(D("371.88"), D("61.97"), [line()])) == [("wrong_total_vat_amount", "vatAmount")]
    two = [line(), line(sku="other")]
    assert basket_problems(D("743.76"), D("123.96"), two) == []


def test_problems_come_in_a_stable_order_with_json_paths():
    items = [line(), line(totalAmount=D("1")), line(vatCode="X")]
    expected = [
        ("wrong_basket_item_total_amount", "basketItems[1].totalAmount"),
        ("wrong_basket_item_total_vat_amount", "basketItems[1].totalVatAmount"),
        ("wrong_basket_item_amount_wo_vat", "basketItems[1].amountWoVat"),
        ("wrong_vat_code", "basketItems[2].vatCode"),
        ("wrong_total_amount", "amount"),
        ("wrong_total_vat_amount", "vatAmount"),
    ]
    assert codes(basket_problems(D("1"), D("1"), items)) == expected
    assert codes(basket_problems(D("1"), D("1"), items)) == expected
    for problem in basket_problems(D("1"), D("1"), items):
        assert problem["message"]


def test_validate_basket_raises_the_first_code_and_lists_every_field():
    with pytest.raises(BasketError) as caught:
        validate_basket(D("371.89"), D("61.97"), [line()])
    error = caught.value
    assert error.code == "wrong_total_amount"
    assert error.fields == [
        {"name": "amount", "code": "wrong_total_amount", "message": error.fields[0]["message"]},
        {"name": "vatAmount", "code": "wrong_total_vat_amount", "message": error.fields[1]["message"]},
    ]
    assert str(error).startswith("wrong_total_amount: ")
    assert "and 1 more" in str(error)


# --- round policies --------------------------------------------------------------------------


def test_round_policy_none_takes_the_docs_inequality_quantity_times_amount_at_most_total():
    # DOCS create.md: "none - без округления, допустимо когда quantity * amount <= totalAmount".
    # Changed: this used to be read the other way round (a line discount); now a total below the
    # product is refused and one above it accepted.
    rounded_up = line(totalAmount=D("372.00"), totalVatAmount=D("62.00"))  # the audit's 3 × 123.96
    assert basket_problems(D("372.00"), D("62.00"), [rounded_up], round_policy="none") == []
    assert codes(basket_problems(D("372.00"), D("62.00"), [rounded_up]))[0] == (
        "wrong_basket_item_total_amount", "basketItems[0].totalAmount")
    discounted = line(totalAmount=D("350.00"), totalVatAmount=D("58.33"))
    assert codes(basket_problems(D("350.00"), D("58.33"), [discounted], round_policy="none")) == [
        ("wrong_basket_item_total_amount", "basketItems[0].totalAmount")]
    unrounded = line(quantity=3, amount=D("33.333"), amountWoVat=D("27.7775"), totalAmount=D("100.00"),
                     totalVatAmount=D("16.67"))
    assert basket_problems(D("100.00"), D("16.67"), [unrounded], round_policy="none") == []


def test_round_policy_none_still_checks_vat_and_amount_wo_vat():
    rounded_up = line(totalAmount=D("372.00"), totalVatAmount=D("58.00"))
    assert ("wrong_basket_item_total_vat_amount", "basketItems[0].totalVatAmount") in codes(
        basket_problems(D("372.00"), D("58.00"), [rounded_up], round_policy="none"))
    wrong_unit = line(totalAmount=D("372.00"), totalVatAmount=D("62.00"), amountWoVat=D("90.00"))
    assert codes(basket_problems(D("372.00"), D("62.00"), [wrong_unit], round_policy="none")) == [
        ("wrong_basket_item_amount_wo_vat", "basketItems[0].amountWoVat")]


@pytest.mark.parametrize(("policy", "total"), [("strict", "16.67"), ("halfUp", "16.67"), ("halfDown", "16.66"),
                                               ("floor", "16.66"), ("ceil", "16.67")])
def test_rounding_policies_apply_to_the_line_product(policy, total):
    item = {"sku": "W", "name": "Кофе", "quantity": D("0.5"), "amount": D("33.33"), "amountWoVat": D("27.78"),
            "totalAmount": D(total), "totalVatAmount": vat_of_total(D(total), "RUS_VAT20"), "vatCode": "RUS_VAT20"}
    assert basket_problems(D(total), item["totalVatAmount"], [item], round_policy=policy) == []


@pytest.mark.parametrize(("policy", "total"), [("floor", "99.99"), ("ceil", "100.00"), ("halfUp", "100.00"),
                                               ("halfDown", "100.00"), ("none", "100.00")])
def test_unit_prices_with_more_than_two_decimals_under_the_policies_that_round(policy, total):
    item = {"sku": "W", "name": "Кофе", "quantity": 3, "amount": D("33.333"), "amountWoVat": D("27.778"),
            "totalAmount": D(total), "totalVatAmount": vat_of_total(D(total), "RUS_VAT20"), "vatCode": "RUS_VAT20"}
    assert basket_problems(D(total), item["totalVatAmount"], [item], round_policy=policy) == []
    # strict is "строгое соответствие": unit prices in kopecks, as every official integration sends
    assert ("wrong_value", "basketItems[0].amount") in codes(
        basket_problems(D(total), item["totalVatAmount"], [item], round_policy="strict"))


def test_unknown_round_policy_is_a_problem_not_a_crash():
    for policy in ("banker", None, ["strict"]):
        assert codes(basket_problems(D("371.88"), D("61.98"), [line()], round_policy=policy)) == [
            ("wrong_value", "orderSetting.roundPolicy")]


# --- totals ----------------------------------------------------------------------------------


def test_order_totals_of_models_and_dicts():
    a = basket_line(sku="A", name="A", unit_price="123.96", quantity=3, vat_code="RUS_VAT20")
    b = basket_line(sku="B", name="B", unit_price="10", quantity=1, vat_code="RUS_VAT10")
    assert order_totals([a, b]) == (D("381.88"), D("62.89"))
    assert order_totals([a.to_json(), b.to_json()]) == (D("381.88"), D("62.89"))
    assert order_totals([]) == (D("0.00"), D("0.00"))


# --- property: what basket_line builds, basket_problems accepts --------------------------------

prices = st.decimals(min_value=D("0"), max_value=D("1000000"), places=2, allow_nan=False, allow_infinity=False)
quantities = st.one_of(
    st.integers(min_value=1, max_value=1000).map(D),
    st.decimals(min_value=D("0.001"), max_value=D("100"), places=3, allow_nan=False, allow_infinity=False),
)
lines = st.builds(
    lambda price, qty, code, n: basket_line(sku=f"SKU-{n}", name="Товар", unit_price=price, quantity=qty, vat_code=code),
    prices, quantities, st.sampled_from(sorted(VAT_CODES)), st.integers(0, 99))


@settings(max_examples=300, deadline=None)
@given(st.lists(lines, min_size=1, max_size=8))
def test_basket_line_output_always_passes_and_sums_match(items):
    amount, vat = order_totals(items)
    wire = [jsonutil.loads(jsonutil.dumps(item.to_json())) for item in items]  # as the sandbox sees it
    assert basket_problems(amount, vat, wire) == []
    assert amount == sum((i.total_amount for i in items), D(0))
    assert vat == sum((i.total_vat_amount for i in items), D(0))
    for item in items:
        assert item.total_amount == (item.amount * item.quantity).quantize(KOPECK, rounding="ROUND_HALF_UP")
        assert item.total_vat_amount == vat_of_total(item.total_amount, item.vat_code)
        assert item.total_vat_amount <= item.total_amount


@settings(max_examples=200, deadline=None)
@given(prices, st.integers(min_value=1, max_value=1000), st.sampled_from(sorted(VAT_CODES)))
def test_whole_quantities_meet_the_one_kopeck_per_unit_rule(price, qty, code):
    item = basket_line(sku="A", name="B", unit_price=price, quantity=qty, vat_code=code)
    without_vat = (item.amount_wo_vat * qty).quantize(KOPECK)
    assert abs(without_vat + item.total_vat_amount - item.total_amount) <= KOPECK * qty


# --- hostile input: the sandbox feeds basket_problems whatever a client sent ------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8)
    | st.decimals(allow_nan=True, allow_infinity=True) | st.sampled_from(["1e999", "-0", "NaN", "RUS_VAT20"]),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=6,
)
hostile_lines = st.fixed_dictionaries({}, optional={
    key: json_values for key in ("quantity", "amount", "amountWoVat", "totalAmount", "totalVatAmount", "vatCode")})


@settings(max_examples=150, deadline=None)
@given(json_values, json_values, st.one_of(json_values, st.lists(st.one_of(hostile_lines, json_values), max_size=4)))
def test_basket_problems_answers_problems_for_any_json_never_crashes(amount, vat_amount, items):
    problems = basket_problems(amount, vat_amount, items)
    assert isinstance(problems, list)
    for problem in problems:
        assert set(problem) == {"code", "name", "message"}
