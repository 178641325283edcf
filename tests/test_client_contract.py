"""Contract tests: the client against the sandbox over real HTTP, call by call.

Each API call is shown succeeding and failing with every error code the sandbox produces for
it; bad input refused locally is shown to leave nothing behind in the sandbox. Every test gets
a fresh sandbox (a real HTTP server on loopback), so "nothing behind" is ``ib.orders() == []``.

``validate=False`` (on ``create_order``, ``create_refund`` and ``update_order``) skips the
client's local checks; it is used here to show that the server refuses the same requests with
the same codes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from urllib.parse import parse_qsl

import attrs
import pytest
import requests

from invoicebox_flow.client import InvoiceboxClient, build_query
from invoicebox_flow.errors import (
    AuthenticationError,
    BasketError,
    InvalidRequestError,
    NotFoundError,
    RateLimitError,
    ResultUnknownError,
    ServerError,
    TransportError,
    ValidationError,
)
from invoicebox_flow.models import (
    AuthInfo,
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
from invoicebox_flow.sandbox import Buyer, Sandbox

UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"


# --- fixtures and builders ---------------------------------------------------------------------


@pytest.fixture
def ib() -> Iterator[Sandbox]:
    with Sandbox() as sandbox:
        yield sandbox


def make_client(ib: Sandbox, **kwargs) -> InvoiceboxClient:
    options = dict(base_url=ib.url, timeout=(2.0, 5.0), backoff_base=0.01, backoff_max=0.05, rate_limit=None)
    options.update(kwargs)
    token = options.pop("token", ib.token)
    return InvoiceboxClient(token, **options)


@pytest.fixture
def client(ib) -> Iterator[InvoiceboxClient]:
    with make_client(ib) as c:
        yield c


def future(days: float = 1) -> datetime:
    return datetime.now(UTC) + timedelta(days=days)


def course_line(quantity: int = 2, **kwargs):
    return basket_line(sku="COURSE-PY-90", name="Онлайн-курс «Python для аналитиков», доступ 90 дней",
                       unit_price="1200.00", quantity=quantity, vat_code="RUS_VAT20", **kwargs)


def book_line(quantity: int = 1):
    return basket_line(sku="BOOK-1", name="Книга «Pandas на практике»", unit_price="371.88", quantity=quantity,
                       vat_code="RUS_VAT10", type="commodity")


def order_request(ib: Sandbox, merchant_order_id: str = "SHOP-1", **changes) -> OrderRequest:
    values = dict(
        merchant_id=ib.merchant_id,
        merchant_order_id=merchant_order_id,
        description="Онлайн-курс и книга",
        basket_items=[course_line(), book_line()],
        customer=PrivateCustomer(name="Анна Смирнова", phone="79215550101", email="anna@example.org"),
        expiration_date=future(),
        success_url="https://shop.example.org/pay/ok",
        fail_url="https://shop.example.org/pay/fail",
    )
    values.update(changes)
    return OrderRequest(**values)


def paid_order(client: InvoiceboxClient, ib: Sandbox, merchant_order_id: str = "SHOP-PAID") -> Order:
    order = client.create_order(order_request(ib, merchant_order_id))
    Buyer().pay(order.payment_url)
    paid = client.get_order(order.id)
    assert paid.status == "completed"
    return paid


def refund_request(order: Order, merchant_order_id: str = "SHOP-PAID-R1", lines=None, **changes) -> RefundRequest:
    values = dict(parent_id=order.id, merchant_order_id=merchant_order_id, description="Возврат одного доступа",
                  basket_items=lines if lines is not None else [course_line(quantity=1)])
    values.update(changes)
    return RefundRequest(**values)


def endpoint_calls(ib: Sandbox, endpoint: str) -> list[dict]:
    return [r for r in ib.requests() if r["endpoint"] == endpoint]


def last_query(ib: Sandbox) -> list[tuple[str, str]]:
    return parse_qsl(ib.requests()[-1]["query"], keep_blank_values=True)


# --- the client object ---------------------------------------------------------------------------


def test_repr_shows_base_url_and_prefix_but_never_the_token(ib):
    client = make_client(ib, api_prefix="l3")
    assert repr(client) == f"InvoiceboxClient(base_url={ib.url!r}, api_prefix='l3')"
    assert ib.token not in repr(client)
    assert ib.token not in str(vars(client))


def test_user_agent_names_the_app_then_us(ib):
    client = make_client(ib, user_agent="AcmeShop/2.3 (Invoicebox 1.0)")
    assert client.user_agent.startswith("AcmeShop/2.3 (Invoicebox 1.0) invoicebox-flow/")
    assert f"(python-requests/{requests.__version__})" in client.user_agent


@pytest.mark.parametrize("prefix", ["", "v3/extra", "../v3", "V 3"])
def test_a_nonsense_prefix_is_refused(prefix):
    with pytest.raises(ValueError):
        InvoiceboxClient("token", api_prefix=prefix)


def test_headers_on_the_wire(ib):
    """Authorization, User-Agent and Accept on every request; Content-Type only with a body; the
    body is compact JSON with amounts as numbers."""
    session = requests.Session()
    sent: list[requests.PreparedRequest] = []
    session.hooks["response"].append(lambda response, *a, **k: sent.append(response.request))
    with make_client(ib, session=session, user_agent="AcmeShop/2.3") as client:
        client.check_auth()
        client.create_order(order_request(ib))
    get, post = sent
    for request in (get, post):
        assert request.headers["Authorization"] == f"Bearer {ib.token}"
        assert request.headers["Accept"] == "application/json"
        assert request.headers["User-Agent"] == client.user_agent
    assert "Content-Type" not in get.headers
    assert post.headers["Content-Type"] == "application/json"
    assert b'"amount":2771.88' in post.body and b'"vatAmount":433.81' in post.body
    # The token went per request, not into the caller's session.
    assert "Authorization" not in session.headers
    session.close()


def test_a_caller_supplied_session_is_left_open(ib):
    session = requests.Session()
    with make_client(ib, session=session) as client:
        client.check_auth()
    assert session.get(ib.url + "/v3/security/api/auth/auth", timeout=5).status_code == 200
    session.close()


def test_every_response_is_logged_with_method_path_status_and_request_id_never_the_token(ib, client, caplog):
    caplog.set_level(logging.DEBUG, logger="invoicebox_flow.client")
    info = client.check_auth()
    with pytest.raises(NotFoundError):
        client.cancel_order(UNKNOWN_ID)
    lines = [r.getMessage() for r in caplog.records if r.name == "invoicebox_flow.client"]
    assert any(line.startswith("GET /v3/security/api/auth/auth -> 200") and info.request_id in line for line in lines)
    assert any(line.startswith(f"DELETE /v3/billing/api/order/order/{UNKNOWN_ID} -> 404") for line in lines)
    assert ib.token not in caplog.text


# --- check auth ------------------------------------------------------------------------------------


def test_check_auth_with_a_valid_token(ib, client):
    info = client.check_auth()
    assert isinstance(info, AuthInfo)
    assert info.authenticated and info.user_id
    assert info.request_id == ib.requests()[-1]["requestId"]


def test_check_auth_with_a_wrong_token_is_unauthorized(ib):
    with make_client(ib, token="0" * 32) as client, pytest.raises(AuthenticationError) as caught:
        client.check_auth()
    error = caught.value
    assert (error.status, error.code, error.method, error.path) == (401, "unauthorized", "GET", "/v3/security/api/auth/auth")
    assert error.request_id == ib.requests()[-1]["requestId"]
    assert len(endpoint_calls(ib, "check_auth")) == 1  # a 401 is not retried


def test_check_auth_without_a_token_answers_anonymous_not_authenticated(ib):
    with make_client(ib, token="") as client:
        info = client.check_auth()
    assert info.user_id is None
    assert not info.authenticated


def test_any_other_call_with_a_wrong_token_is_unauthorized_and_creates_nothing(ib):
    with make_client(ib, token="0" * 32) as client, pytest.raises(AuthenticationError) as caught:
        client.create_order(order_request(ib))
    assert caught.value.status == 401
    assert ib.orders() == []


def test_another_shops_merchant_id_is_forbidden(ib, client):
    with pytest.raises(AuthenticationError) as caught:
        client.create_order(order_request(ib, merchant_id="ffffffff-ffff-ffff-ffff-ffffffffffff"))
    assert (caught.value.status, caught.value.code) == (403, "forbidden")
    assert caught.value.fields[0]["name"] == "merchantId"
    assert ib.orders() == []


def test_the_l3_prefix_works(ib):
    with make_client(ib, api_prefix="l3") as client:
        assert client.check_auth().authenticated
        order = client.create_order(order_request(ib))
        assert client.get_order(order.id).id == order.id
    assert {r["path"].split("/")[1] for r in ib.requests()} == {"l3"}


# --- create order ----------------------------------------------------------------------------------


def test_create_order(ib, client):
    order = client.create_order(order_request(ib))
    assert isinstance(order, Order)
    assert order.status == "created"
    assert order.merchant_order_id == "SHOP-1"
    assert order.amount == Decimal("2771.88") and isinstance(order.amount, Decimal)
    assert order.vat_amount == Decimal("433.81")
    assert order.payment_url.startswith(ib.url)
    assert order.request_id == ib.requests()[-1]["requestId"]
    assert [o["id"] for o in ib.orders()] == [order.id]


def test_create_order_for_a_legal_payer(ib, client):
    customer = LegalCustomer(name="ООО «Вектор»", vat_number="7812345675", tax_registration_reason_code="781201001",
                             registration_address="191186, Санкт-Петербург, Невский пр., 1", email="buh@vector.example")
    order = client.create_order(order_request(ib, customer=customer))
    assert order.customer == customer


def test_a_duplicate_merchant_order_id_is_refused(ib, client):
    first = client.create_order(order_request(ib, "SHOP-DUP"))
    with pytest.raises(InvalidRequestError) as caught:
        client.create_order(order_request(ib, "SHOP-DUP"))
    assert (caught.value.status, caught.value.code) == (422, "merchant_order_id_duplicate")
    assert [o["id"] for o in ib.orders()] == [first.id]
    # A 4xx on a write raises at once: no retry, no look-up.
    assert len(endpoint_calls(ib, "create_order")) == 2
    assert endpoint_calls(ib, "find_orders") == []


def _wrong_line(field: str, value: str):
    line = course_line()
    return attrs.evolve(line, **{field: Decimal(value)})


# (case id, changes to a valid request, expected code, expected local error class)
BAD_ORDERS = [
    ("total", lambda ib: dict(amount=Decimal("3000.00")), "wrong_total_amount", BasketError),
    ("total VAT", lambda ib: dict(vat_amount=Decimal("400.00")), "wrong_total_vat_amount", BasketError),
    ("line total", lambda ib: dict(basket_items=[_wrong_line("total_amount", "2300.00")]),
     "wrong_basket_item_total_amount", BasketError),
    ("line VAT", lambda ib: dict(basket_items=[_wrong_line("total_vat_amount", "401.00")]),
     "wrong_basket_item_total_vat_amount", BasketError),
    ("line without VAT", lambda ib: dict(basket_items=[_wrong_line("amount_wo_vat", "1200.00")]),
     "wrong_basket_item_amount_wo_vat", BasketError),
    ("unknown VAT code", lambda ib: dict(basket_items=[attrs.evolve(course_line(), vat_code="RUS_VAT99")]),
     "wrong_vat_code", BasketError),
    ("past expiration", lambda ib: dict(expiration_date=future(-1)), "wrong_expiration_date", ValidationError),
    ("currency", lambda ib: dict(currency_id="XYZ"), "wrong_currency", ValidationError),
    ("language", lambda ib: dict(language_id="de"), "language_not_found", ValidationError),
]


@pytest.mark.parametrize("changes, code, local_error", [c[1:] for c in BAD_ORDERS], ids=[c[0] for c in BAD_ORDERS])
def test_a_bad_order_is_refused_locally_and_nothing_is_sent(ib, client, changes, code, local_error):
    with pytest.raises(local_error) as caught:
        client.create_order(order_request(ib, **changes(ib)))
    assert caught.value.code == code
    assert endpoint_calls(ib, "create_order") == []
    assert ib.orders() == []


@pytest.mark.parametrize("changes, code, local_error", [c[1:] for c in BAD_ORDERS], ids=[c[0] for c in BAD_ORDERS])
def test_the_server_refuses_the_same_bad_order_with_the_same_code(ib, client, changes, code, local_error):
    with pytest.raises(InvalidRequestError) as caught:
        client.create_order(order_request(ib, **changes(ib)), validate=False)
    error = caught.value
    assert (error.status, error.code) == (422, code)
    assert error.fields and all(set(f) >= {"name", "code"} for f in error.fields)
    assert error.request_id == ib.requests()[-1]["requestId"]
    assert (error.method, error.path) == ("POST", "/v3/billing/api/order/order")
    assert ib.orders() == []


def test_a_missing_required_field_is_a_validation_error_on_both_sides(ib, client):
    request = order_request(ib, description="")
    with pytest.raises(ValidationError):
        client.create_order(request)
    with pytest.raises(InvalidRequestError) as caught:
        client.create_order(request, validate=False)
    assert caught.value.code == "validation"
    assert [f["name"] for f in caught.value.fields] == ["description"]
    assert ib.orders() == []


# --- find and get orders -------------------------------------------------------------------------


def test_build_query_uses_the_documented_syntax():
    since = datetime(2024, 7, 1, 9, 0, tzinfo=UTC)
    assert build_query(
        {"status": ["created", "completed"], "createdAt[_ge]": since, "merchantOrderId": "x", "amount[_ge]": Decimal("1000.00"),
         "processable": True, "skipped": None},
        {"createdAt": "DESC", "merchantOrderId": "asc"},
        page=2, page_size=10,
    ) == [
        ("status[]", "created"), ("status[]", "completed"), ("createdAt[_ge]", "2024-07-01T09:00:00+00:00"),
        ("merchantOrderId", "x"), ("amount[_ge]", "1000.00"), ("processable", "true"),
        ("_order[createdAt]", "desc"), ("_order[merchantOrderId]", "asc"),
        ("page", "2"), ("_page", "2"), ("pageSize", "10"), ("_pageSize", "10"),
    ]


@pytest.mark.parametrize("kwargs", [dict(order_by={"createdAt": "down"}), dict(page=0), dict(page_size=0)])
def test_build_query_refuses_nonsense(kwargs):
    with pytest.raises(ValueError):
        build_query(**kwargs)


@pytest.fixture
def three_orders(ib, client) -> list[Order]:
    orders = [client.create_order(order_request(ib, f"SHOP-{n}")) for n in (1, 2, 3)]
    client.cancel_order(orders[1].id)
    return orders


def test_find_orders_by_status_set(ib, client, three_orders):
    page = client.find_orders(filters={"status": ["created", "canceled"]})
    assert isinstance(page, Page) and page.total_count == 3
    assert ("status[]", "created") in last_query(ib) and ("status[]", "canceled") in last_query(ib)
    canceled = client.find_orders(filters={"status": ["canceled"]})
    assert [o.id for o in canceled.items] == [three_orders[1].id]
    assert canceled.request_id == ib.requests()[-1]["requestId"]


def test_find_orders_by_date_operator_and_merchant_order_id(ib, client, three_orders):
    assert client.find_orders(filters={"createdAt[_ge]": future(-1)}).total_count == 3
    assert client.find_orders(filters={"createdAt[_ge]": future(1)}).items == []
    found = client.find_orders(filters={"merchantOrderId": "SHOP-3"})
    assert [o.id for o in found] == [three_orders[2].id]


def test_find_orders_sorts_and_pages_with_both_spellings(ib, client, three_orders):
    page = client.find_orders(order_by={"merchantOrderId": "desc"}, page=2, page_size=2)
    assert [o.merchant_order_id for o in page.items] == ["SHOP-1"]
    assert (page.total_count, page.page, page.page_size) == (3, 2, 2)
    query = last_query(ib)
    for pair in [("_order[merchantOrderId]", "desc"), ("page", "2"), ("_page", "2"), ("pageSize", "2"), ("_pageSize", "2")]:
        assert pair in query
    first = client.find_orders(order_by={"merchantOrderId": "desc"}, page=1, page_size=2)
    assert [o.merchant_order_id for o in first.items] == ["SHOP-3", "SHOP-2"]


def test_find_order_by_merchant_order_id(ib, client, three_orders):
    assert client.find_order_by_merchant_order_id("SHOP-2").id == three_orders[1].id
    assert client.find_order_by_merchant_order_id("SHOP-404") is None


def test_a_malformed_filter_is_an_invalid_request(ib, client):
    with pytest.raises(InvalidRequestError) as caught:
        client.find_orders(filters={"amount[_between]": "1"})
    assert (caught.value.status, caught.value.code) == (422, "wrong_filter_format")


def test_get_order_uses_the_documented_list_filter(ib, client, three_orders):
    order = client.get_order(three_orders[0].id)
    assert order == three_orders[0]
    assert ib.requests()[-1]["path"] == "/v3/filter/api/order/order"
    assert ("id", three_orders[0].id) in last_query(ib)


def test_get_order_of_an_unknown_id_is_not_found(ib, client):
    with pytest.raises(NotFoundError) as caught:
        client.get_order(UNKNOWN_ID)
    assert (caught.value.status, caught.value.code) == (404, "not_found")
    assert caught.value.request_id == ib.requests()[-1]["requestId"]


# --- update and cancel -----------------------------------------------------------------------------


def test_update_order_sends_only_what_changes(ib, client):
    order = client.create_order(order_request(ib))
    later = future(10).replace(microsecond=0)
    updated = client.update_order(order.id, description="Курс (продлён срок оплаты)", expiration_date=later,
                                  meta_data={"@type": "Order"})
    assert updated.description == "Курс (продлён срок оплаты)"
    assert updated.expiration_date == later
    assert updated.extra.get("metaData") == {"@type": "Order"}
    assert updated.amount == order.amount
    assert updated.request_id == ib.requests()[-1]["requestId"]


def test_update_order_moves_the_order_to_another_shop_with_shop_id(ib, client):
    """``shopId`` is in the documented update body (update.md)."""
    session = requests.Session()
    sent: list[requests.PreparedRequest] = []
    session.hooks["response"].append(lambda response, *a, **k: sent.append(response.request))
    with make_client(ib, session=session) as shop_client:
        order = shop_client.create_order(order_request(ib))
        updated = shop_client.update_order(order.id, shop_id="5c1e7d4b")
    assert sent[-1].method == "PUT" and sent[-1].body == b'{"shopId":"5c1e7d4b"}'
    assert updated.extra["shopId"] == "5c1e7d4b"
    session.close()


def test_update_order_with_a_new_basket_sends_its_sums(ib, client):
    order = client.create_order(order_request(ib))
    updated = client.update_order(order.id, basket_items=[book_line(quantity=3)])
    assert updated.amount == Decimal("1115.64")
    assert updated.vat_amount == Decimal("101.42")
    assert [i.sku for i in updated.basket_items] == ["BOOK-1"]


def test_update_order_refuses_bad_changes_locally_and_the_server_agrees(ib, client):
    order = client.create_order(order_request(ib))
    with pytest.raises(ValidationError) as caught:
        client.update_order(order.id, expiration_date=future(-1))
    assert caught.value.code == "wrong_expiration_date"
    with pytest.raises(BasketError) as caught:
        client.update_order(order.id, basket_items=[book_line()], amount=Decimal("1.00"))
    assert caught.value.code == "wrong_total_amount"
    assert endpoint_calls(ib, "update_order") == []
    with pytest.raises(InvalidRequestError) as caught:
        client.update_order(order.id, basket_items=[book_line()], amount=Decimal("1.00"), validate=False)
    assert caught.value.code == "wrong_total_amount"
    assert ib.order(order.id)["amount"] == order.amount


def test_update_order_refuses_unknown_fields():
    client = InvoiceboxClient("token")
    with pytest.raises(TypeError, match="merchant_order_id"):
        client.update_order("x", merchant_order_id="other")
    with pytest.raises(TypeError):
        client.update_order("x")


def test_update_of_a_paid_order_is_wrong_order_status(ib, client):
    order = paid_order(client, ib)
    with pytest.raises(InvalidRequestError) as caught:
        client.update_order(order.id, description="too late")
    assert (caught.value.status, caught.value.code) == (422, "wrong_order_status")
    assert client.get_order(order.id).description == order.description


def test_update_of_an_unknown_order_is_not_found(ib, client):
    with pytest.raises(NotFoundError):
        client.update_order(UNKNOWN_ID, description="x")


def test_cancel_order(ib, client):
    order = client.create_order(order_request(ib))
    canceled = client.cancel_order(order.id)
    assert canceled.status == "canceled"
    assert canceled.request_id == ib.requests()[-1]["requestId"]
    assert ib.order(order.id)["status"] == "canceled"


def test_cancel_of_a_paid_order_is_wrong_order_status(ib, client):
    order = paid_order(client, ib)
    with pytest.raises(InvalidRequestError) as caught:
        client.cancel_order(order.id)
    assert caught.value.code == "wrong_order_status"
    assert client.get_order(order.id).status == "completed"


def test_cancel_of_an_unknown_order_is_not_found(ib, client):
    with pytest.raises(NotFoundError) as caught:
        client.cancel_order(UNKNOWN_ID)
    assert (caught.value.status, caught.value.code) == (404, "not_found")


@pytest.mark.parametrize("bad_id", ["", "a/b", "x?y=1"])
def test_an_id_that_would_address_another_resource_is_refused(bad_id):
    with pytest.raises(ValueError):
        InvoiceboxClient("token").cancel_order(bad_id)


# --- shipments ---------------------------------------------------------------------------------------


def test_create_and_list_shipments(ib, client):
    order = paid_order(client, ib)
    shipment = client.create_shipment(ShipmentRequest(order_id=order.id, basket_items=[course_line()],
                                                      document_number="УПД-731", document_date=datetime(2024, 7, 5).date()))
    assert isinstance(shipment, Shipment)
    assert shipment.order_id == order.id and shipment.document_number == "УПД-731"
    assert shipment.request_id == ib.requests()[-1]["requestId"]
    listed = client.list_shipments(order_id=order.id)
    assert [s.id for s in listed] == [shipment.id]
    assert listed.request_id == ib.requests()[-1]["requestId"]
    assert ib.requests()[-1]["path"] == "/v3/filter/api/order/shipment"
    assert client.list_shipments(order_id=UNKNOWN_ID) == []


def test_shipment_of_an_unpaid_order_is_wrong_order_status(ib, client):
    order = client.create_order(order_request(ib))
    with pytest.raises(InvalidRequestError) as caught:
        client.create_shipment(ShipmentRequest(order_id=order.id, basket_items=[course_line()]))
    assert caught.value.code == "wrong_order_status"
    assert ib.shipments() == []


def test_shipment_of_an_unknown_order_is_not_found(ib, client):
    with pytest.raises(NotFoundError):
        client.create_shipment(ShipmentRequest(order_id=UNKNOWN_ID, basket_items=[course_line()]))


# --- refunds ---------------------------------------------------------------------------------------------


def test_refundable_items_of_a_paid_order(ib, client):
    order = paid_order(client, ib)
    items = client.refundable_items(order.id)
    assert all(isinstance(i, RefundableItem) for i in items)
    assert items.request_id == ib.requests()[-1]["requestId"]  # the list carries it
    assert {i.sku: i.available_amount for i in items} == {"COURSE-PY-90": Decimal("2400.00"), "BOOK-1": Decimal("371.88")}
    client.create_refund(refund_request(order))
    after = {i.sku: i.available_amount for i in client.refundable_items(order.id)}
    assert after == {"COURSE-PY-90": Decimal("1200.00"), "BOOK-1": Decimal("371.88")}


def test_refundable_items_of_an_unknown_order_is_not_found(ib, client):
    with pytest.raises(NotFoundError):
        client.refundable_items(UNKNOWN_ID)


def test_create_and_list_refunds(ib, client):
    order = paid_order(client, ib)
    refund = client.create_refund(refund_request(order))
    assert isinstance(refund, RefundOrder)
    assert (refund.parent_id, refund.merchant_order_id) == (order.id, "SHOP-PAID-R1")
    assert refund.amount == Decimal("1200.00") and refund.vat_amount == Decimal("200.00")
    assert refund.status in ("created", "completed")
    assert refund.request_id == ib.requests()[-1]["requestId"]
    draft = client.create_refund(refund_request(order, "SHOP-PAID-R2", lines=[book_line()], status="draft"))
    assert draft.status == "draft"
    listed = client.list_refunds(parent_id=order.id)
    assert sorted(r.merchant_order_id for r in listed) == ["SHOP-PAID-R1", "SHOP-PAID-R2"]
    assert listed.request_id == ib.requests()[-1]["requestId"]
    assert ("parentId", order.id) in last_query(ib)
    only = client.list_refunds(filters={"merchantOrderId": "SHOP-PAID-R2"})
    assert [r.id for r in only] == [draft.id]
    assert client.list_refunds(parent_id=UNKNOWN_ID) == []


def test_a_refund_above_what_was_paid_is_refused(ib, client):
    order = paid_order(client, ib)
    with pytest.raises(InvalidRequestError) as caught:
        client.create_refund(refund_request(order, lines=[course_line(quantity=3)]))
    assert (caught.value.status, caught.value.code) == (422, "wrong_refund_amount")
    client.create_refund(refund_request(order, "R-ALL", lines=[course_line(quantity=2)]))
    with pytest.raises(InvalidRequestError) as caught:
        client.create_refund(refund_request(order, "R-MORE", lines=[course_line(quantity=1)]))
    assert caught.value.code == "wrong_refund_amount"
    assert [r["merchantOrderId"] for r in ib.refunds()] == ["R-ALL"]


def test_a_refund_of_an_unpaid_order_is_wrong_order_status(ib, client):
    order = client.create_order(order_request(ib))
    with pytest.raises(InvalidRequestError) as caught:
        client.create_refund(refund_request(order))
    assert caught.value.code == "wrong_order_status"
    assert ib.refunds() == []


def test_a_refund_of_an_unknown_order_is_not_found(ib, client):
    with pytest.raises(NotFoundError):
        client.create_refund(RefundRequest(parent_id=UNKNOWN_ID, merchant_order_id="R-1", description="x",
                                           basket_items=[course_line()]))


def test_a_duplicate_refund_merchant_order_id_is_refused(ib, client):
    order = paid_order(client, ib)
    client.create_refund(refund_request(order, "R-1"))
    with pytest.raises(InvalidRequestError) as caught:
        client.create_refund(refund_request(order, "R-1"))
    assert caught.value.code == "merchant_order_id_duplicate"
    assert len(ib.refunds()) == 1
    assert endpoint_calls(ib, "list_refunds") == []  # a 4xx on a write is not reconciled


def test_a_bad_refund_basket_is_refused_locally_and_by_the_server(ib, client):
    order = paid_order(client, ib)
    request = refund_request(order, amount=Decimal("1.00"))
    with pytest.raises(BasketError) as caught:
        client.create_refund(request)
    assert caught.value.code == "wrong_total_amount"
    assert endpoint_calls(ib, "create_refund") == []
    with pytest.raises(InvalidRequestError) as caught:
        client.create_refund(request, validate=False)
    assert caught.value.code == "wrong_total_amount"
    assert ib.refunds() == []


# --- errors carry no secret ------------------------------------------------------------------------


def test_no_error_kind_ever_shows_the_token(caplog):
    """Trigger every error the client raises and look for the token everywhere it could leak:
    ``str``, ``repr``, ``args``, the chained cause, and the log."""
    caplog.set_level(logging.DEBUG)
    wrong_token = "f" * 32
    errors: list[BaseException] = []

    def catch(expected, call):
        with pytest.raises(expected) as caught:
            call()
        errors.append(caught.value)

    with Sandbox(rate_limit=2, rate_window=30.0) as ib:
        tokens = [ib.token, wrong_token]
        good = make_client(ib, max_read_retries=0)
        catch(AuthenticationError, make_client(ib, token=wrong_token).check_auth)
        catch(NotFoundError, lambda: good.cancel_order(UNKNOWN_ID))
        catch(InvalidRequestError, lambda: good.create_order(order_request(ib, currency_id="XYZ"), validate=False))
        catch(ValidationError, lambda: good.create_order(order_request(ib, currency_id="XYZ")))
        catch(RateLimitError, good.check_auth)  # the 3rd request of this token in a window of 2
    with Sandbox(token=ib.token) as ib:
        good = make_client(ib, max_read_retries=0, timeout=(2.0, 0.3))
        ib.inject_fault("check_auth", "server_error")
        catch(ServerError, good.check_auth)
        ib.inject_fault("check_auth", "slow", delay=1.0)
        catch(TransportError, good.check_auth)
        ib.inject_fault("check_auth", "drop")
        catch(TransportError, good.check_auth)
        ib.inject_fault("create_order", "server_error")
        catch(ResultUnknownError, lambda: good.create_order(order_request(ib)))
    nobody = InvoiceboxClient(tokens[0], base_url="http://127.0.0.1:9", timeout=(1.0, 1.0), max_read_retries=0)
    catch(TransportError, nobody.check_auth)  # nothing listens on port 9

    assert {type(e) for e in errors} == {AuthenticationError, NotFoundError, InvalidRequestError, ValidationError,
                                         RateLimitError, ServerError, TransportError, ResultUnknownError}
    for error in errors:
        texts = [str(error), repr(error), repr(error.args), str(error.__cause__), repr(error.__cause__),
                 str(getattr(error, "cause", ""))]
        for token in tokens:
            assert all(token not in text for text in texts), (type(error).__name__, texts)
    for token in tokens:
        assert token not in caplog.text


def test_a_non_json_error_body_still_gives_a_typed_error(ib):
    """Under ``/pay/`` the sandbox answers errors as HTML pages, like a proxy or a maintenance
    page in front of an API would: the client still raises the typed error for the status."""
    with make_client(ib, base_url=ib.url + "/pay") as client, pytest.raises(NotFoundError) as caught:
        client.check_auth()
    error = caught.value
    assert (error.status, error.code) == (404, None)
    assert "HTML" in error.message and "<" not in error.message
