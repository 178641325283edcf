"""Bad input a user can pass to the values, builders and models: always a typed ValidationError
subclass naming the field, never a raw decimal/TypeError/KeyError, and nothing sent (the
sandbox's request log has no create call). Misspelt keywords are refused naming the right one."""

from __future__ import annotations

import decimal
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from rulebook_helpers import create_calls, module_sandbox, sandbox_client  # noqa: F401 - the fixtures ib, client

from invoicebox_flow import basket_line as top_level_basket_line
from invoicebox_flow import rulebook
from invoicebox_flow.errors import BasketError, CustomerError, UnknownArgumentError, ValidationError
from invoicebox_flow.models import (
    AuthInfo,
    BasketItem,
    ErrorBody,
    LegalCustomer,
    Order,
    OrderRequest,
    Page,
    PrivateCustomer,
    RefundableItem,
    RefundOrder,
    RefundRequest,
    Shipment,
    ShipmentRequest,
    basket_line,
)

D = Decimal
BAD_QUANTITIES = ["abc", None, True, "NaN", "0.0000001", 1.0, 0, -1, "", [], "1e999", D("Infinity")]
BAD_AMOUNTS = ["abc", None, True, "NaN", 1.5, [], "1e18", D("-Infinity")]




def good_line(**changes):
    values = dict(sku="COURSE", name="Курс", unit_price="1200.00", quantity=2, vat_code="RUS_VAT22")
    values.update(changes)
    return basket_line(**values)


def request(ib, **changes):
    values = dict(merchant_id=ib.merchant_id, merchant_order_id="IN-1", description="Курс",
                  basket_items=[good_line()], customer=PrivateCustomer(name="Анна", email="anna@example.org"),
                  expiration_date=datetime.now(UTC) + timedelta(days=1))
    values.update(changes)
    return OrderRequest(**values)


def refused_before_sending(ib, client, build):
    """``build()`` (and sending what it built) raises a typed error; nothing reaches the sandbox."""
    before = len(create_calls(ib))
    with pytest.raises(ValidationError) as caught:
        client.create_order(build())
    assert not isinstance(caught.value, (decimal.InvalidOperation, KeyError))
    assert caught.value.code and caught.value.fields and caught.value.fields[0]["name"]
    assert len(create_calls(ib)) == before
    return caught.value


# --- parsers ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", BAD_QUANTITIES, ids=repr)
def test_parse_quantity_refuses_with_a_typed_error_naming_the_field(value):
    with pytest.raises(BasketError) as caught:
        rulebook.parse_quantity(value, field="refund[COURSE]")
    assert caught.value.code == "wrong_value"
    assert caught.value.fields == [{"name": "refund[COURSE]", "code": "wrong_value", "message": caught.value.message}]


@pytest.mark.parametrize(("value", "expected"), [(1, "1"), ("2", "2"), (D("0.5"), "0.5"), ("0.000001", "0.000001"),
                                                 ("1.500000000", "1.5"), (" 3 ", "3")])
def test_parse_quantity_accepts_positive_numbers_with_up_to_six_decimals(value, expected):
    assert rulebook.parse_quantity(value) == D(expected)


@pytest.mark.parametrize("value", BAD_AMOUNTS, ids=repr)
def test_parse_money_refuses_what_is_not_an_amount(value):
    with pytest.raises(ValidationError) as caught:
        rulebook.parse_money(value, field="price")
    assert (caught.value.code, caught.value.fields[0]["name"]) == ("wrong_value", "price")


@pytest.mark.parametrize("value", ["0.004", "0", "0.00", "-0.01"])
def test_parse_money_refuses_an_amount_that_rounds_to_nothing_where_one_is_needed(value):
    with pytest.raises(BasketError) as caught:
        rulebook.parse_money(value, field="amount", positive=True)
    assert caught.value.code == "wrong_value"
    assert rulebook.parse_money("0.005", positive=True) == D("0.01")
    assert rulebook.parse_money("0.004") == D("0.00")


@pytest.mark.parametrize("value", [datetime(2030, 1, 1), "2030-01-01T00:00:00", "tomorrow", 12345, None,
                                   date(2030, 1, 1)], ids=repr)
def test_parse_datetime_refuses_naive_and_non_date_times(value):
    with pytest.raises(ValidationError) as caught:
        rulebook.parse_datetime(value, field="expires_at")
    assert (caught.value.code, caught.value.fields[0]["name"]) == ("wrong_expiration_date", "expires_at")
    assert rulebook.parse_datetime("2030-01-01T00:00:00+03:00").utcoffset() == timedelta(hours=3)


# --- builders and models, through the client: nothing is sent -------------------------------------------


@pytest.mark.parametrize("value", BAD_QUANTITIES, ids=repr)
def test_a_bad_quantity_is_refused_before_anything_is_sent(ib, client, value):
    error = refused_before_sending(ib, client, lambda: request(ib, basket_items=[good_line(quantity=value)]))
    assert error.fields[0]["name"] == "quantity"
    # built as a model directly, the same quantity is refused by validate() or on conversion
    item = good_line()
    error = refused_before_sending(ib, client, lambda: request(ib, basket_items=[BasketItem(
        sku=item.sku, name=item.name, quantity=value, amount=item.amount, amount_wo_vat=item.amount_wo_vat,
        total_amount=item.total_amount, total_vat_amount=item.total_vat_amount, vat_code=item.vat_code,
        type=item.type, payment_type=item.payment_type)]))
    assert error.fields[0]["name"] in ("quantity", "basketItems[0].quantity")


@pytest.mark.parametrize("value", BAD_AMOUNTS, ids=repr)
def test_a_bad_unit_price_is_refused_before_anything_is_sent(ib, client, value):
    error = refused_before_sending(ib, client, lambda: request(ib, basket_items=[good_line(unit_price=value)]))
    assert error.fields[0]["name"] == "amount"


@pytest.mark.parametrize(("changes", "name"), [
    ({"sku": ""}, "sku"), ({"name": ""}, "name"), ({"sku": None}, "sku"), ({"payment_type": "prepaid"}, "paymentType"),
    ({"type": "goods"}, "type"), ({"vat_code": "RUS_VAT18"}, "vatCode"), ({"measure": "штуки-штуки"}, "measure"),
])
def test_a_bad_line_is_refused_by_basket_line_before_anything_is_sent(ib, client, changes, name):
    error = refused_before_sending(ib, client, lambda: request(ib, basket_items=[good_line(**changes)]))
    assert isinstance(error, BasketError) and error.fields[0]["name"] == name


def test_two_lines_with_one_sku_are_refused_before_anything_is_sent(ib, client):
    twice = [good_line(), good_line(name="Курс, второй поток", unit_price="900.00")]
    error = refused_before_sending(ib, client, lambda: request(ib, basket_items=twice))
    assert (error.code, error.fields[0]["name"]) == ("duplicate_sku", "basketItems[1].sku")
    assert isinstance(error, BasketError)


@pytest.mark.parametrize(("changes", "code", "name"), [
    ({"merchant_order_id": None}, "validation", "merchantOrderId"),
    ({"merchant_order_id": 731}, "wrong_value", "merchantOrderId"),
    ({"merchant_order_id": ""}, "validation", "merchantOrderId"),
    ({"merchant_id": 42}, "wrong_value", "merchantId"),
    ({"description": None}, "validation", "description"),
    ({"expiration_date": datetime(2030, 1, 1)}, "wrong_expiration_date", "expirationDate"),
    ({"expiration_date": "tomorrow"}, "wrong_expiration_date", "expirationDate"),
    ({"expiration_date": datetime.now(UTC) - timedelta(minutes=1)}, "wrong_expiration_date",
     "expirationDate"),
    ({"amount": D("0.00"), "vat_amount": D("0.00"),
      "basket_items": [good_line(unit_price="0.00")]}, "wrong_value", "amount"),  # an order of nothing
    ({"amount": 1200.0}, "wrong_value", "amount"),
    ({"customer": "Анна"}, "wrong_value", "customer"),
    ({"customer": {"type": "public", "name": "Анна"}}, "wrong_value", "type"),
    ({"customer": None}, "validation", "customer"),
    ({"basket_items": []}, "validation", "basketItems"),
    ({"basket_items": "COURSE"}, "wrong_value", "basketItems"),
    ({"currency_id": None}, "validation", "currencyId"),
])
def test_bad_order_values_are_refused_with_a_typed_error_and_nothing_is_sent(ib, client, changes, code, name):
    error = refused_before_sending(ib, client, lambda: request(ib, **changes))
    assert (error.code, error.fields[0]["name"]) == (code, name)


@pytest.mark.parametrize(("build", "error_class", "code"), [
    (lambda: LegalCustomer(name="ООО", vat_number=7812345675), CustomerError, "wrong_value"),  # an int INN
    (lambda: LegalCustomer(name="ООО", vat_number="7812345676"), CustomerError, "wrong_vat_number"),
    (lambda: PrivateCustomer(name="x" * 501), CustomerError, "wrong_value"),
    (lambda: PrivateCustomer(email=["a@example.org"]), CustomerError, "wrong_value"),
])
def test_bad_customers_are_customer_errors(build, error_class, code):
    with pytest.raises(error_class) as caught:
        build()
    assert caught.value.code == code


@pytest.mark.parametrize(("build", "code", "name"), [
    (lambda: ShipmentRequest(order_id=None, basket_items=[good_line()]), "validation", "orderId"),
    (lambda: ShipmentRequest(order_id="o" * 37, basket_items=[good_line()]), "wrong_value", "orderId"),
    (lambda: ShipmentRequest(order_id="x", basket_items=[good_line(), good_line()]), "duplicate_sku",
     "basketItems[1].sku"),
    (lambda: RefundRequest(parent_id=123, merchant_order_id="R-1", description="d", basket_items=[good_line()]),
     "wrong_value", "parentId"),
    (lambda: RefundRequest(parent_id="p", merchant_order_id="r" * 101, description="d", basket_items=[good_line()]),
     "wrong_value", "merchantOrderId"),
])
def test_bad_shipment_and_refund_requests_are_refused_by_validate(build, code, name):
    with pytest.raises(ValidationError) as caught:
        build().validate()
    assert (caught.value.code, caught.value.fields[0]["name"]) == (code, name)


# --- no silent typo ------------------------------------------------------------------------------------------

CONSTRUCTORS = [
    (BasketItem, "vat_cod", "vat_code"), (RefundableItem, "available_amout", "available_amount"),
    (PrivateCustomer, "emial", "email"), (LegalCustomer, "vat_numbr", "vat_number"),
    (OrderRequest, "expiration", "expiration_date"), (Order, "merchant_order", "merchant_order_id"),
    (ShipmentRequest, "document_no", "document_number"), (Shipment, "orderid", "order_id"),
    (RefundRequest, "parentid", "parent_id"), (RefundOrder, "vat_amout", "vat_amount"),
    (AuthInfo, "userid", "user_id"), (ErrorBody, "feilds", "fields"), (Page, "total", "total_count"),
    (basket_line, "unitprice", "unit_price"), (basket_line, "vat", "vat_code"),
]


@pytest.mark.parametrize(("target", "typo", "meant"), CONSTRUCTORS, ids=lambda v: getattr(v, "__name__", v))
def test_every_constructor_and_builder_refuses_a_misspelt_keyword_naming_the_closest(target, typo, meant):
    with pytest.raises(UnknownArgumentError) as caught:
        target(**{typo: "x"})
    assert f"did you mean {meant!r}" in str(caught.value)
    assert isinstance(caught.value, TypeError) and caught.value.fields[0]["name"] == typo


def test_basket_line_is_the_same_from_the_top_level_package():
    assert top_level_basket_line is basket_line
