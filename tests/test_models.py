"""Models against the JSON examples of the API reference: exact round trips, unknown fields kept,
strict construction (INN/KPP, computed amounts, aware date-times, no unknown keywords) and
lenient reading."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import attrs
import pytest
from reference_bodies import NOTIFICATION, TEST_NOTIFICATION

from invoicebox_flow import jsonutil
from invoicebox_flow.errors import BasketError, CustomerError, UnknownArgumentError, ValidationError
from invoicebox_flow.models import (
    AuthInfo,
    BasketItem,
    ErrorBody,
    JsonModel,
    LegalCustomer,
    Notification,
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
    customer_from_json,
    inn_is_valid,
)

D = Decimal

ITEM = (
    '{"sku": "COURSE-PY-90", "name": "Онлайн-курс «Python для аналитиков», доступ 90 дней",'
    ' "measure": "шт", "measureCode": "796", "quantity": 2,'
    ' "amount": 1200.00, "amountWoVat": 1000.00, "totalAmount": 2400.00, "totalVatAmount": 400.00,'
    ' "vatCode": "RUS_VAT20", "type": "service", "paymentType": "full_prepayment"}'
)
CUSTOMER = '{"type": "private", "name": "Анна Смирнова", "phone": "79215550101", "email": "anna@example.org"}'

# Reference §3.1, example request.
ORDER_REQUEST = f"""{{
  "merchantId": "ffffffff-ffff-ffff-ffff-ffffffffffff",
  "merchantOrderId": "SHOP-2024-000731",
  "description": "Онлайн-курс «Python для аналитиков», доступ 90 дней",
  "amount": 2400.00,
  "vatAmount": 400.00,
  "currencyId": "RUB",
  "languageId": "ru",
  "expirationDate": "2024-07-10T21:00:00+00:00",
  "basketItems": [{ITEM}],
  "customer": {CUSTOMER},
  "successUrl": "https://shop.example.org/pay/ok",
  "failUrl": "https://shop.example.org/pay/fail",
  "returnUrl": "https://shop.example.org/orders/731"
}}"""

# Reference §3.1, example response (``data``), the basket line echoed as sent.
ORDER_RESPONSE = f"""{{
  "id": "0190f3a2-5c1e-7d4b-9a2f-3b8c1d0e4f57",
  "orderContainerId": "0190f3a2-5b90-7a11-8c3e-6d2f9e1a0b22",
  "merchantId": "ffffffff-ffff-ffff-ffff-ffffffffffff",
  "merchantOrderId": "SHOP-2024-000731",
  "description": "Онлайн-курс «Python для аналитиков», доступ 90 дней",
  "amount": 2400, "vatAmount": 400, "currencyId": "RUB", "languageId": "ru",
  "basketItems": [{ITEM}],
  "customer": {CUSTOMER},
  "status": "created", "subtype": "order", "processingStatus": "", "processable": true, "fileIds": [],
  "createdAt": "2024-07-01T09:00:00+00:00", "expirationDate": "2024-07-10T21:00:00+00:00",
  "successUrl": "https://shop.example.org/pay/ok", "failUrl": "https://shop.example.org/pay/fail",
  "returnUrl": "https://shop.example.org/orders/731",
  "paymentUrl": "https://pay.invoicebox.ru/order/0190f3a2-5b90-7a11-8c3e-6d2f9e1a0b22"
}}"""

# Reference §3.1, legal-entity customer variant.
LEGAL_CUSTOMER = (
    '{"type":"legal","name":"ООО «Вектор»","vatNumber":"7812345675","taxRegistrationReasonCode":"781201001",'
    '"registrationAddress":"191186, Санкт-Петербург, Невский пр., 1","email":"buh@vector.example",'
    '"phone":"78125550000"}'
)

SHIPMENT_ITEM = ITEM.replace('"full_prepayment"', '"full_payment"')
# Reference §3.5, example request and response.
SHIPMENT_REQUEST = (
    '{"orderId": "0190f3a2-5c1e-7d4b-9a2f-3b8c1d0e4f57", "documentNumber": "УПД-731", "documentDate": "2024-07-05",'
    f' "basketItems": [{SHIPMENT_ITEM}]}}'
)
SHIPMENT_RESPONSE = (
    '{"id":371723,"merchantId":"ffffffff-ffff-ffff-ffff-ffffffffffff","orderId":"0190f3a2-5c1e-7d4b-9a2f-3b8c1d0e4f57",'
    f'"documentNumber":"УПД-731","documentDate":"2024-07-05","basketItems":[{SHIPMENT_ITEM}]}}'
)

REFUND_ITEM = ITEM.replace('"quantity": 2', '"quantity": 1').replace('"totalAmount": 2400.00', '"totalAmount": 1200.00') \
    .replace('"totalVatAmount": 400.00', '"totalVatAmount": 200.00')
# Reference §3.7, example request and response.
REFUND_REQUEST = (
    '{"parentId": "0190f3a2-5c1e-7d4b-9a2f-3b8c1d0e4f57", "merchantOrderId": "SHOP-2024-000731-R1",'
    ' "description": "Возврат одного доступа к курсу", "amount": 1200.00, "vatAmount": 200.00,'
    f' "basketItems": [{REFUND_ITEM}]}}'
)
REFUND_RESPONSE = (
    '{"id":"0190f3b0-1d2e-7f00-8a11-22b3c4d5e6f7","parentId":"0190f3a2-5c1e-7d4b-9a2f-3b8c1d0e4f57",'
    '"merchantOrderId":"SHOP-2024-000731-R1","merchantId":"ffffffff-ffff-ffff-ffff-ffffffffffff",'
    '"description":"Возврат одного доступа к курсу","amount":1200,"vatAmount":200,"currencyId":"RUB",'
    f'"basketItems":[{REFUND_ITEM}],"createdAt":"2024-07-06T12:00:00+00:00","status":"created"}}'
)

AUTH = '{"userId": "018f2c1e-7a55-7c41-9d0e-3c6b2a1f0e99", "profile": null, "accessToken": null}'


def check_digit(digits: str, weights: tuple[int, ...]) -> str:
    return str(sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11 % 10)


def company_inn(first9: str) -> str:
    return first9 + check_digit(first9, (2, 4, 10, 3, 5, 9, 4, 6, 8))


def person_inn(first10: str) -> str:
    eleven = first10 + check_digit(first10, (7, 2, 4, 10, 3, 5, 9, 4, 6, 8))
    return eleven + check_digit(eleven, (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8))


COMPANY_INN = company_inn("770123456")
PERSON_INN = person_inn("5001234567")


def spoil(inn: str) -> str:
    return inn[:-1] + str((int(inn[-1]) + 1) % 10)


# --- round trips against the reference's examples ---------------------------------------------


@pytest.mark.parametrize(("model", "text"), [
    (OrderRequest, ORDER_REQUEST),
    (Order, ORDER_RESPONSE),
    (Notification, NOTIFICATION),
    (Order, TEST_NOTIFICATION),
    (ShipmentRequest, SHIPMENT_REQUEST),
    (Shipment, SHIPMENT_RESPONSE),
    (RefundRequest, REFUND_REQUEST),
    (RefundOrder, REFUND_RESPONSE),
    (AuthInfo, AUTH),
    (LegalCustomer, LEGAL_CUSTOMER),
    (PrivateCustomer, CUSTOMER),
    (BasketItem, ITEM),
])
def test_round_trip_of_reference_examples(model, text):
    data = jsonutil.loads(text)
    obj = model.from_json(data)
    assert obj.to_json() == data  # numerically: 2400 == Decimal("2400.00")
    again = jsonutil.loads(jsonutil.dumps(obj.to_json()))  # and through the wire once more
    assert model.from_json(again) == obj


def test_reading_gives_typed_values():
    order = Order.from_json(jsonutil.loads(ORDER_RESPONSE))
    assert order.amount == D("2400") and isinstance(order.amount, Decimal)
    assert order.created_at == datetime(2024, 7, 1, 9, 0, tzinfo=UTC)
    assert isinstance(order.customer, PrivateCustomer) and order.customer.name == "Анна Смирнова"
    assert isinstance(order.basket_items[0], BasketItem)
    assert order.basket_items[0].amount_wo_vat == D("1000.00")
    assert order.extra == {"subtype": "order", "processingStatus": "", "processable": True, "fileIds": []}
    assert not order.is_paid and not order.is_test_notification

    shipment = Shipment.from_json(jsonutil.loads(SHIPMENT_RESPONSE))
    assert shipment.id == 371723 and shipment.document_date == date(2024, 7, 5)


def test_notification_is_the_order_model():
    assert Notification is Order
    paid = Notification.from_json(jsonutil.loads(NOTIFICATION))
    assert paid.is_paid and not paid.is_test_notification
    assert paid.payment_url == "https://pay.invoicebox.ru/order/0190f3a2-5b90-7a11-8c3e-6d2f9e1a0b22"
    assert paid.basket_items[0].amount_wo_vat == D("103.3")
    test = Notification.from_json(jsonutil.loads(TEST_NOTIFICATION))
    assert test.is_test_notification
    assert test.basket_items is None and test.vat_amount is None  # absent, and stays absent


def test_a_real_order_with_the_test_id_but_a_merchant_order_id_is_not_the_test_notification():
    data = jsonutil.loads(TEST_NOTIFICATION)
    data["merchantOrderId"] = "SHOP-1"
    assert not Order.from_json(data).is_test_notification


def test_unknown_fields_are_kept_at_every_level():
    data = jsonutil.loads(ORDER_RESPONSE)
    data["futureField"] = {"nested": [1, D("2.5")]}
    data["basketItems"][0]["originCountryCode"] = "643"
    data["basketItems"][0]["metaData"] = {"@type": "TrainReservation"}
    data["customer"]["countryId"] = "RUS"
    order = Order.from_json(data)
    assert order.extra["futureField"] == {"nested": [1, D("2.5")]}
    assert order.basket_items[0].extra == {"originCountryCode": "643", "metaData": {"@type": "TrainReservation"}}
    assert order.customer.extra == {"countryId": "RUS"}
    assert order.to_json() == data


def test_explicit_nulls_come_back_as_nulls_and_absent_keys_stay_absent():
    data = jsonutil.loads(ORDER_RESPONSE)
    data["paidAt"] = None
    del data["description"]
    out = Order.from_json(data).to_json()
    assert "paidAt" in out and out["paidAt"] is None
    assert "description" not in out
    assert out == data


def test_reading_does_not_mutate_or_share_the_input():
    data = jsonutil.loads(ORDER_RESPONSE)
    data["futureField"] = {"a": [1]}
    order = Order.from_json(data)
    order.to_json()["futureField"]["a"].append(2)
    assert data["futureField"] == {"a": [1]}
    assert order.extra["futureField"] == {"a": [1]}


def test_refundable_items_carry_the_mcp_extras():
    data = jsonutil.loads(ITEM)
    data.update(availableAmount=D("1200.00"), availableVatAmount=D("200.00"))
    item = RefundableItem.from_json(data)
    assert item.available_amount == D("1200.00") and item.available_vat_amount == D("200.00")
    assert item.to_json() == data
    plain = item.as_basket_item()
    assert type(plain) is BasketItem
    assert "availableAmount" not in plain.to_json()
    assert plain.to_json() == jsonutil.loads(ITEM)


def test_writing_uses_atom_dates_in_whole_seconds_and_decimal_numbers():
    req = OrderRequest(
        merchant_id="m", merchant_order_id="o-1", description="d",
        basket_items=[basket_line(sku="A", name="B", unit_price="123.96", quantity=3, vat_code="RUS_VAT20")],
        customer=PrivateCustomer(email="a@example.org"),
        expiration_date=datetime(2024, 7, 10, 21, 0, 0, 472385, tzinfo=UTC),
    )
    out = req.to_json()
    assert out["expirationDate"] == "2024-07-10T21:00:00+00:00"  # ATOM, no microseconds (SDK Y-m-d\TH:i:sP)
    assert out["amount"] == D("371.88") and isinstance(out["amount"], Decimal)
    text = jsonutil.dumps(out)
    assert '"amount":371.88' in text and '"vatAmount":61.98' in text
    assert '"customer":{"type":"private","email":"a@example.org"}' in text
    assert "notificationUrl" not in out  # None is left out
    offset = datetime(2024, 7, 11, 0, 0, tzinfo=timezone(timedelta(hours=3)))
    assert attrs.evolve(req, expiration_date=offset).to_json()["expirationDate"] == "2024-07-11T00:00:00+03:00"
    shipment = ShipmentRequest(order_id="x", basket_items=req.basket_items, document_date=date(2024, 7, 5))
    assert shipment.to_json()["documentDate"] == "2024-07-05"


def test_a_naive_expiration_date_is_refused_not_guessed():
    with pytest.raises(ValidationError, match="no timezone") as caught:
        order_request(expiration_date=datetime(2030, 7, 10, 21, 0))
    assert caught.value.code == "wrong_expiration_date"
    assert caught.value.fields[0]["name"] == "expirationDate"
    # reading a server's answer stays lenient: a value without offset is UTC
    data = jsonutil.loads(ORDER_RESPONSE)
    data["createdAt"] = "2024-07-01T09:00:00"
    assert Order.from_json(data).created_at == datetime(2024, 7, 1, 9, 0, tzinfo=UTC)


def test_money_is_never_float_and_the_error_names_the_field():
    with pytest.raises(ValidationError, match="never float") as caught:
        BasketItem(sku="A", name="B", quantity=1, amount=9.99, amount_wo_vat=D("8.33"),  # type: ignore[arg-type]
                   total_amount=D("9.99"), total_vat_amount=D("1.67"), vat_code="RUS_VAT20", type="service",
                   payment_type="full_payment")
    assert (caught.value.code, caught.value.fields[0]["name"]) == ("wrong_value", "amount")
    data = jsonutil.loads(ITEM)
    data["amount"] = 1200.0
    with pytest.raises(ValidationError, match="never float") as caught:
        BasketItem.from_json(data)
    assert caught.value.fields[0]["name"] == "amount"


def test_constructors_refuse_unknown_keywords_naming_the_closest():
    with pytest.raises(UnknownArgumentError, match="did you mean 'email'"):
        PrivateCustomer(name="Анна", emial="anna@example.org")  # type: ignore[call-arg]
    with pytest.raises(UnknownArgumentError, match="did you mean 'tax_registration_reason_code'"):
        LegalCustomer(name="ООО", vat_number=COMPANY_INN, tax_registration_code="770101001")  # type: ignore[call-arg]
    with pytest.raises(UnknownArgumentError, match="did you mean 'expiration_date'"):
        order_request(expiration=NOW)
    with pytest.raises(UnknownArgumentError, match="did you mean 'document_number'"):
        ShipmentRequest(order_id="x", basket_items=[], document_no="1")  # type: ignore[call-arg]
    with pytest.raises(UnknownArgumentError, match="did you mean 'code'"):
        ErrorBody("x", cod="y")  # type: ignore[call-arg]
    with pytest.raises(TypeError):  # positional arguments are not taken: the fields are keyword-only
        PrivateCustomer("Анна")  # type: ignore[misc]


def test_bad_server_values_name_their_json_path():
    data = jsonutil.loads(ORDER_RESPONSE)
    data["basketItems"][0]["totalAmount"] = "many"
    with pytest.raises(ValidationError) as caught:
        Order.from_json(data)
    assert caught.value.code == "wrong_value"
    assert caught.value.fields[0]["name"] == "basketItems[0].totalAmount"

    data = jsonutil.loads(ORDER_RESPONSE)
    data["createdAt"] = "yesterday"
    with pytest.raises(ValidationError) as caught:
        Order.from_json(data)
    assert caught.value.fields[0]["name"] == "createdAt"

    with pytest.raises(ValidationError):
        Order.from_json(["not", "an", "object"])  # type: ignore[arg-type]


def test_models_are_frozen_and_request_id_is_not_json():
    order = Order.from_json(jsonutil.loads(ORDER_RESPONSE))
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        order.status = "completed"  # type: ignore[misc]
    tagged = attrs.evolve(order, request_id="req-42")
    assert tagged.request_id == "req-42"
    assert tagged == order  # the request id is transport, not data
    assert "requestId" not in tagged.to_json() and "request_id" not in tagged.to_json()
    assert tagged.to_json() == order.to_json()


def test_basket_item_is_goods():
    def item(kind):
        return basket_line(sku="A", name="B", unit_price=1, quantity=1, type=kind, vat_code="RUS_VAT22")

    assert item("commodity").is_goods
    assert not item("service").is_goods
    for tag in (1, 2, 30, 31, 32, 33, "33"):
        assert item(tag).is_goods, tag
    for tag in (3, 4, 10, 13, "4"):
        assert not item(tag).is_goods, tag


# --- customers -------------------------------------------------------------------------------


def test_inn_checksums():
    assert inn_is_valid(COMPANY_INN) and inn_is_valid(PERSON_INN)
    assert not inn_is_valid(spoil(COMPANY_INN)) and not inn_is_valid(spoil(PERSON_INN))
    # the 11th digit of a 12-digit INN is checked too
    assert not inn_is_valid(PERSON_INN[:10] + str((int(PERSON_INN[10]) + 1) % 10) + PERSON_INN[11])
    for bad in ("", "123", "12345678901", COMPANY_INN + "0", "77O1234567", "７７０１２３４５６７", None):
        assert not inn_is_valid(bad), bad  # type: ignore[arg-type]


def test_company_needs_a_valid_inn_and_kpp():
    company = LegalCustomer(name="ООО «Ромашка»", vat_number=COMPANY_INN, tax_registration_reason_code="770101001")
    assert company.type == "legal" and not company.is_sole_proprietor
    assert company.to_json() == {"type": "legal", "name": "ООО «Ромашка»", "vatNumber": COMPANY_INN,
                                 "taxRegistrationReasonCode": "770101001"}
    LegalCustomer(name="ООО", vat_number=COMPANY_INN, tax_registration_reason_code="7701AB001")  # letters allowed


def test_sole_proprietor_has_a_12_digit_inn_and_no_kpp():
    sole = LegalCustomer(name="ИП Петров", vat_number=PERSON_INN)
    assert sole.is_sole_proprietor
    assert sole.to_json() == {"type": "legal", "name": "ИП Петров", "vatNumber": PERSON_INN}


@pytest.mark.parametrize(("inn", "kpp", "code"), [
    (spoil(COMPANY_INN), "770101001", "wrong_vat_number"),
    (spoil(PERSON_INN), None, "wrong_vat_number"),
    ("123456789", "770101001", "wrong_vat_number"),
    (COMPANY_INN, "77010100", "wrong_kpp"),
    (COMPANY_INN, "7701ab001", "wrong_kpp"),
    (COMPANY_INN, "770101A01", "wrong_kpp"),
    (PERSON_INN, "770101001", "kpp_not_allowed"),
])
def test_legal_customer_is_refused_on_construction(inn, kpp, code):
    with pytest.raises(CustomerError) as caught:
        LegalCustomer(name="X", vat_number=inn, tax_registration_reason_code=kpp)
    assert caught.value.code == code
    assert caught.value.fields[0]["code"] == code


@pytest.mark.parametrize(("inn", "kpp", "warnings"), [
    # Changed: a company without KPP and a legal customer without INN were refused; every Customer
    # field is optional (DOCS) and the MCP server only warns (counterparty.ts).
    (COMPANY_INN, None, ["kpp_missing"]),
    (None, None, ["vat_number_missing", "kpp_missing"]),
    ("", "", ["vat_number_missing", "kpp_missing"]),  # empty strings are absent, as the Bitrix module sends them
    (PERSON_INN, None, []),
    (COMPANY_INN, "770101001", []),
])
def test_what_a_legal_customer_lacks_is_a_warning(inn, kpp, warnings):
    customer = LegalCustomer(name="X", vat_number=inn, tax_registration_reason_code=kpp, registration_address="Адрес")
    assert [w.code for w in customer.warnings()] == warnings
    assert customer.problems() == []
    assert {w.source.tag for w in customer.warnings()} <= {"MCP"}
    assert [w.code for w in LegalCustomer(vat_number=COMPANY_INN).warnings()] == [
        "kpp_missing", "name_missing", "address_missing"]


def test_private_customer_refuses_a_kpp_but_not_an_inn_nor_a_missing_contact():
    quiet = PrivateCustomer(name="Без контактов")
    assert not quiet.has_contact
    assert PrivateCustomer(phone="79001112233").has_contact
    assert [w.code for w in PrivateCustomer().warnings()] == ["no_contact"]
    with pytest.raises(CustomerError) as caught:
        PrivateCustomer(name="X", extra={"taxRegistrationReasonCode": "770101001"})
    assert caught.value.code == "kpp_not_allowed"
    # Changed: an INN on a private customer was refused; the Bitrix module sends one (vatNumber)
    with_inn = PrivateCustomer(name="X", vat_number=PERSON_INN)
    assert with_inn.to_json() == {"type": "private", "name": "X", "vatNumber": PERSON_INN}
    assert with_inn.warnings() == []
    odd = PrivateCustomer(name="X", vat_number="123321")  # as in the SDK's order mocks
    assert [w.code for w in odd.warnings()] == ["vat_number_unchecked"]


def test_customer_from_json_picks_the_type():
    assert isinstance(customer_from_json({"type": "private", "name": "A"}), PrivateCustomer)
    assert isinstance(customer_from_json(jsonutil.loads(LEGAL_CUSTOMER)), LegalCustomer)
    assert isinstance(customer_from_json({"name": "A", "email": "a@example.org"}), PrivateCustomer)
    untyped = customer_from_json({"name": "ИП Петров", "vatNumber": PERSON_INN})
    assert isinstance(untyped, LegalCustomer) and untyped.is_sole_proprietor
    with pytest.raises(CustomerError):
        customer_from_json({"type": "public"})
    assert isinstance(customer_from_json({"type": "", "name": "A"}), PrivateCustomer)  # empty: absent


def test_reading_an_order_with_an_odd_customer_type_keeps_it_as_sent():
    # audit row 18: Order.from_json raised on customer.type "", so a notification could not be read
    for kind, model in (("", PrivateCustomer), ("public", PrivateCustomer), ("LEGAL", PrivateCustomer)):
        data = jsonutil.loads(ORDER_RESPONSE)
        data["customer"]["type"] = kind
        order = Order.from_json(data)
        assert isinstance(order.customer, model)
        assert order.to_json() == data
    data = jsonutil.loads(ORDER_RESPONSE)
    data["customer"] = {"name": "ИП Петров", "vatNumber": PERSON_INN}
    order = Order.from_json(data)
    assert isinstance(order.customer, LegalCustomer) and order.to_json() == data  # no type: none written


def test_reading_a_customer_is_lenient_but_validate_still_refuses():
    # A payer may type anything on the payment page; a notification must still be readable.
    odd = customer_from_json({"type": "legal", "name": "X", "vatNumber": spoil(COMPANY_INN)})
    assert isinstance(odd, LegalCustomer)
    with pytest.raises(CustomerError) as caught:
        odd.validate()
    assert caught.value.code == "wrong_vat_number"
    assert [p.code for p in odd.problems()] == ["wrong_vat_number"]
    assert [w.code for w in odd.warnings()] == ["kpp_missing", "address_missing"]
    assert odd.problems()[0].field == "vatNumber" and odd.problems()[0].source.tag == "MCP"


def test_a_dict_customer_given_to_a_request_is_checked():
    items = [basket_line(sku="A", name="B", unit_price=10, quantity=1, vat_code="RUS_VAT22")]
    with pytest.raises(CustomerError):
        OrderRequest(merchant_id="m", merchant_order_id="o", description="d", basket_items=items,
                     customer={"type": "legal", "name": "X", "vatNumber": spoil(COMPANY_INN)},
                     expiration_date=datetime(2030, 1, 1, tzinfo=UTC))


# --- requests: computed amounts and validate() --------------------------------------------------

NOW = datetime(2024, 7, 1, 9, 0, tzinfo=UTC)


def order_request(**changes):
    values = dict(
        merchant_id="ffffffff-ffff-ffff-ffff-ffffffffffff",
        merchant_order_id="SHOP-2024-000731",
        description="Онлайн-курс",
        basket_items=[basket_line(sku="COURSE", name="Курс", unit_price=1200, quantity=2, vat_code="RUS_VAT20"),
                      basket_line(sku="BOOK", name="Книга", unit_price="499.90", quantity=1, type="commodity",
                                  vat_code="RUS_VAT10")],
        customer=PrivateCustomer(name="Анна", email="anna@example.org"),
        expiration_date=NOW + timedelta(days=7),
    )
    values.update(changes)
    return OrderRequest(**values)


def codes_of(error):
    return [f["code"] for f in error.fields]


def test_order_request_computes_its_amounts_from_the_basket():
    req = order_request()
    assert req.amount == D("2899.90")
    assert req.vat_amount == D("445.45")  # 400.00 + 45.45
    req.validate(now=NOW)
    assert OrderRequest.from_json(req.to_json()) == req


def test_order_request_keeps_given_amounts_and_validate_refuses_them():
    req = order_request(amount=D("2899.91"))
    assert req.amount == D("2899.91")
    with pytest.raises(BasketError) as caught:
        req.validate(now=NOW)
    assert caught.value.code == "wrong_total_amount"


def test_reading_a_request_does_not_compute_missing_amounts():
    data = jsonutil.loads(ORDER_REQUEST)
    del data["amount"], data["vatAmount"]
    req = OrderRequest.from_json(data)
    assert req.amount is None and req.vat_amount is None
    assert req.to_json() == data
    with pytest.raises(ValidationError) as caught:
        req.validate(now=NOW)
    assert [(f["code"], f["name"]) for f in caught.value.fields] == [("validation", "amount"), ("validation", "vatAmount")]


@pytest.mark.parametrize(("changes", "code", "name"), [
    ({"expiration_date": NOW}, "wrong_expiration_date", "expirationDate"),
    ({"expiration_date": NOW - timedelta(days=1)}, "wrong_expiration_date", "expirationDate"),
    ({"currency_id": "RUR"}, "wrong_currency", "currencyId"),
    ({"language_id": "de"}, "language_not_found", "languageId"),
    ({"language_id": "RU"}, "language_not_found", "languageId"),
    ({"merchant_order_id": ""}, "validation", "merchantOrderId"),  # empty is missing (the sandbox's code)
    ({"merchant_order_id": "x" * 257}, "wrong_value", "merchantOrderId"),
    ({"description": ""}, "validation", "description"),
    ({"description": "d" * 1001}, "wrong_value", "description"),
    ({"notification_url": "https://shop.example/" + "n" * 1000}, "wrong_value", "notificationUrl"),
    ({"order_setting": {"roundPolicy": "banker"}}, "wrong_value", "orderSetting.roundPolicy"),
])
def test_order_request_validate_uses_the_api_codes(changes, code, name):
    with pytest.raises(ValidationError) as caught:
        order_request(**changes).validate(now=NOW)
    assert caught.value.code == code
    assert [(f["code"], f["name"]) for f in caught.value.fields] == [(code, name)]


def test_order_request_limits_are_inclusive():
    order_request(merchant_order_id="x" * 256, description="d" * 1000, currency_id="UZS", language_id="en").validate(now=NOW)
    order_request(language_id=None).validate(now=NOW)  # languageId is optional


def test_order_request_validate_checks_the_customer_and_the_round_policy():
    odd = customer_from_json({"type": "legal", "name": "X", "vatNumber": PERSON_INN,
                              "taxRegistrationReasonCode": "770101001"})
    with pytest.raises(CustomerError) as caught:
        order_request(customer=odd).validate(now=NOW)
    assert caught.value.fields == [{"name": "customer.taxRegistrationReasonCode", "code": "kpp_not_allowed",
                                    "message": caught.value.fields[0]["message"]}]
    rounded_up = attrs.evolve(basket_line(sku="A", name="B", unit_price="33.33", quantity=3, vat_code="RUS_VAT20"),
                              total_amount=D("100.00"), total_vat_amount=D("16.67"))
    order_request(basket_items=[rounded_up], order_setting={"roundPolicy": "none"}).validate(now=NOW)
    with pytest.raises(BasketError):
        order_request(basket_items=[rounded_up]).validate(now=NOW)


def test_order_request_validate_reports_every_problem_missing_parts_first_then_the_basket():
    req = order_request(amount=D("1"), currency_id="XXX", description="")
    with pytest.raises(ValidationError) as caught:
        req.validate(now=NOW)
    assert caught.value.code == "validation"
    assert codes_of(caught.value) == ["validation", "wrong_total_amount", "wrong_currency"]
    with pytest.raises(BasketError) as caught:
        order_request(amount=D("1"), currency_id="XXX").validate(now=NOW)
    assert codes_of(caught.value) == ["wrong_total_amount", "wrong_currency"]


def test_order_request_repr_is_readable_and_short():
    req = order_request()
    text = repr(req)
    assert text.startswith("OrderRequest(merchant_id='ffffffff-ffff-ffff-ffff-ffffffffffff', merchant_order_id='SHOP-2024-000731'")
    assert "amount=Decimal('2899.90')" in text
    assert "BasketItem(sku='COURSE'" in text
    assert "PrivateCustomer(name='Анна', email='anna@example.org')" in text
    assert "None" not in text and "extra=" not in text and "json_nulls" not in text
    assert "\n" not in text


def test_auth_info_hides_the_access_token():
    info = AuthInfo.from_json({"userId": "u-1", "profile": None, "accessToken": "s3cr3t-token-value"})
    assert info.authenticated
    assert "s3cr3t-token-value" not in repr(info)
    assert info.to_json()["accessToken"] == "s3cr3t-token-value"
    anonymous = AuthInfo.from_json({"userId": None, "profile": None, "accessToken": None})
    assert not anonymous.authenticated
    assert anonymous.to_json() == {"userId": None, "profile": None, "accessToken": None}


def test_refund_request_computes_amounts_and_validates():
    items = [basket_line(sku="COURSE", name="Курс", unit_price=1200, quantity=1, vat_code="RUS_VAT20")]
    refund = RefundRequest(parent_id="0190f3a2-5c1e-7d4b-9a2f-3b8c1d0e4f57", merchant_order_id="SHOP-1-R1",
                           description="Возврат", basket_items=items)
    assert (refund.amount, refund.vat_amount) == (D("1200.00"), D("200.00"))
    refund.validate()
    attrs.evolve(refund, status="draft").validate()
    for changes, code, name in [
        ({"status": "completed"}, "wrong_value", "status"),
        ({"merchant_order_id": "r" * 101}, "wrong_value", "merchantOrderId"),
        ({"parent_id": ""}, "validation", "parentId"),
        ({"amount": D("0.00"), "vat_amount": D("0.00")}, "wrong_total_amount", "amount"),
        ({"vat_amount": D("199.00")}, "wrong_total_vat_amount", "vatAmount"),
    ]:
        with pytest.raises(ValidationError) as caught:
            attrs.evolve(refund, **changes).validate()
        assert (caught.value.code, caught.value.fields[0]["name"]) == (code, name)


def test_refund_request_from_the_reference_is_valid():
    RefundRequest.from_json(jsonutil.loads(REFUND_REQUEST)).validate()


def test_order_request_from_the_reference_is_valid_before_it_expires():
    OrderRequest.from_json(jsonutil.loads(ORDER_REQUEST)).validate(now=NOW)
    with pytest.raises(ValidationError) as caught:
        OrderRequest.from_json(jsonutil.loads(ORDER_REQUEST)).validate(now=datetime(2024, 7, 11, tzinfo=UTC))
    assert caught.value.code == "wrong_expiration_date"


# --- error bodies and pages ----------------------------------------------------------------------


def test_error_body_reads_the_nested_envelope():
    body = jsonutil.loads('{"error": {"message": "Calculation Error", "code": "wrong_total_amount",'
                          ' "fields": [{"name": "amount", "code": "wrong_value", "message": ""}]}}')
    error = ErrorBody.from_json(body)
    assert (error.message, error.code) == ("Calculation Error", "wrong_total_amount")
    assert error.fields == [{"name": "amount", "code": "wrong_value", "message": ""}]
    assert error.to_json() == body


def test_error_body_falls_back_to_top_level_keys_and_survives_junk():
    assert ErrorBody.from_json({"code": "validation", "message": "bad"}) == ErrorBody("bad", "validation", [])
    unauthorized = ErrorBody.from_json({"error": {"message": "Unauthorized", "code": "unauthorized"}})
    assert unauthorized.code == "unauthorized" and unauthorized.fields == []
    assert ErrorBody.from_json({"error": {"code": "forbidden"}}).message == "forbidden"
    assert ErrorBody.from_json(None).code is None
    assert ErrorBody.from_json(["?"]).message == "['?']"
    assert ErrorBody.from_json({"error": {"message": "x", "fields": "oops"}}).fields == []


def test_page_reads_a_list_envelope():
    body = {"data": [jsonutil.loads(ORDER_RESPONSE)], "metaData": {"totalCount": 31, "pageSize": 30, "page": 2},
            "extendedData": []}
    page = Page.from_json(body, Order.from_json)
    assert (page.total_count, page.page, page.page_size) == (31, 2, 30)
    assert isinstance(page.items[0], Order) and len(page) == 1
    assert list(page) == page.items
    assert Page.from_json(body, Order) == page  # a model class works too
    assert page.to_json() == {"data": body["data"], "metaData": body["metaData"]}
    raw = Page.from_json({"data": [{"a": 1}]})
    assert raw.items == [{"a": 1}] and raw.total_count is None
    with pytest.raises(ValidationError):
        Page.from_json({"data": {"not": "a list"}})
    with pytest.raises(ValidationError) as caught:
        Page.from_json({"data": [{"id": "x", "amount": "lots"}]}, Order)
    assert caught.value.fields[0]["name"] == "data[0].amount"


# --- hostile input: the sandbox reads whatever a client sent ----------------------------------

from hypothesis import example, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8) | st.decimals(allow_nan=False, allow_infinity=False)
    | st.sampled_from(["2030-01-01T00:00:00+00:00", "private", "legal", "RUS_VAT20", "1e999"]),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=8,
)
request_keys = ("merchantId", "merchantOrderId", "description", "amount", "vatAmount", "currencyId", "languageId",
                "expirationDate", "basketItems", "customer", "orderSetting")


@settings(max_examples=150, deadline=None)
@given(st.fixed_dictionaries({}, optional={key: json_values for key in request_keys}))
@example({"orderSetting": [1], "invoiceSetting": "x"})
@example({"orderSetting": {"roundPolicy": ["strict"]}, "basketItems": [{}]})
def test_reading_and_validating_any_request_fails_only_with_validation_errors(data):
    try:
        req = OrderRequest.from_json(data)
        req.to_json()
        req.validate(now=NOW)
    except ValidationError as error:
        assert error.code and str(error)


def test_every_name_the_single_models_module_exported_is_still_importable():
    from invoicebox_flow import models

    exported_before = ("TEST_NOTIFICATION_ID", "CURRENCIES", "LANGUAGES", "JsonModel", "json_field", "BasketItem",
                       "RefundableItem", "PrivateCustomer", "LegalCustomer", "Customer", "customer_from_json",
                       "inn_is_valid", "OrderRequest", "Order", "Notification", "ShipmentRequest", "Shipment",
                       "RefundRequest", "RefundOrder", "AuthInfo", "ErrorBody", "Page")
    assert [name for name in exported_before if name not in models.__all__] == []
    assert all(getattr(models, name) is not None for name in exported_before)


def test_json_field_declares_a_json_attribute_for_models_of_ones_own():
    from invoicebox_flow.models import json_field

    @attrs.frozen(kw_only=True)
    class Ticket(JsonModel):
        seat_number: str = json_field()
        row: str | None = json_field(key="rowCode", default=None)

    assert Ticket(seat_number="12A", row="7").to_json() == {"seatNumber": "12A", "rowCode": "7"}
    assert Ticket.from_json({"seatNumber": "1", "other": 2}).extra == {"other": 2}
