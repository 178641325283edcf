"""The sandbox's InvoiceBox API v3 over real HTTP: envelope, auth, every endpoint's success path
and error codes, filters, sorting, paging, the rate limit, injected faults and expiry.

Requests are made with plain ``requests`` (not the project's client) so that the sandbox is
checked against the reference on its own.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal as D

import pytest
import requests
from sandbox_calls import (
    AUTH,
    FIND_ORDERS,
    ORDERS,
    REFUND,
    REFUND_LIST,
    SHIPMENT,
    SHIPMENT_LIST,
    Api,
    at,
    body,
    course_line,
    error_of,
    order_payload,
)

from invoicebox_flow.errors import InvalidRequestError
from invoicebox_flow.sandbox import Sandbox


@pytest.fixture
def ib():
    with Sandbox() as sandbox:
        yield sandbox


# --- authentication and envelope --------------------------------------------------------------------


def test_check_auth_with_the_token_names_a_user(api):
    response = api.call("GET", AUTH)
    assert response.status_code == 200
    assert body(response) == {"data": {"userId": body(response)["data"]["userId"], "profile": None,
                                       "accessToken": None}, "extendedData": []}
    uuid.UUID(body(response)["data"]["userId"])


def test_check_auth_without_a_token_is_an_anonymous_200(api):
    response = api.call("GET", AUTH, token=None)
    assert response.status_code == 200
    assert body(response)["data"]["userId"] is None


@pytest.mark.parametrize("token", ["wrong-token", None])
def test_a_wrong_or_missing_token_is_401_and_stores_nothing(ib, api, token):
    if token is not None:
        assert api.call("GET", AUTH, token=token).status_code == 401
    response = api.call("POST", ORDERS, order_payload(ib), token=token)
    assert response.status_code == 401
    assert error_of(response)["code"] == "unauthorized"
    assert api.call("GET", FIND_ORDERS, token=token).status_code == 401
    assert ib.orders() == []


def test_every_response_carries_its_own_request_id(ib, api):
    order = api.create()
    responses = [
        api.call("GET", AUTH), api.call("GET", AUTH, token="bad"), api.call("GET", "/no/such/path"),
        api.call("GET", f"{ORDERS}/{order['id']}"), requests.get(order["paymentUrl"]),
        requests.get(f"{ib.url}/_sandbox/orders"),
    ]
    ids = [r.headers["X-Request-Id"] for r in responses]
    assert all(uuid.UUID(i) for i in ids)
    assert len(set(ids)) == len(ids)
    # the request log quotes the id the client saw
    logged = {r["requestId"]: r for r in ib.requests()}
    assert logged[ids[0]]["endpoint"] == "check_auth" and logged[ids[1]]["status"] == 401


def test_an_unknown_api_path_is_a_404_envelope(api):
    response = api.call("GET", "/billing/api/order/nothing-here")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_the_l3_prefix_serves_the_same_api(ib):
    legacy = Api(ib, prefix="l3")
    order = legacy.create()
    assert legacy.call("GET", f"{ORDERS}/{order['id']}").status_code == 200
    assert [r["path"] for r in ib.requests()] == [f"/l3{ORDERS}", f"/l3{ORDERS}/{order['id']}"]


# --- create order --------------------------------------------------------------------------------------


def test_create_order_echoes_the_request_and_adds_the_server_fields(ib, api):
    payload = order_payload(ib, metaData={"@type": "Order"}, shopNote="kept as sent",
                            invoiceSetting={"customerLocked": True})
    response = api.call("POST", ORDERS, payload)
    assert response.status_code == 200
    envelope = body(response)
    assert envelope["extendedData"] == []
    order = envelope["data"]
    for key, value in payload.items():
        assert order[key] == value, key
    uuid.UUID(order["id"])
    uuid.UUID(order["orderContainerId"])
    assert order["paymentUrl"] == f"{ib.url}/pay/order/{order['orderContainerId']}"
    assert (order["status"], order["subtype"], order["processable"], order["fileIds"]) == ("created", "order", True, [])
    assert datetime.fromisoformat(order["createdAt"]).tzinfo is not None
    assert "paidAt" not in order
    assert ib.order(order["id"]) == order


def test_amounts_keep_their_decimal_value_through_the_api(api):
    order = api.create()
    assert order["amount"] == D("2400.00") and isinstance(order["amount"], D)
    assert order["basketItems"][0]["totalVatAmount"] == D("400.00")


def _without(field):
    def change(payload):
        del payload[field]
    return change


def _set(path, value):
    def change(payload):
        target = payload
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return change


@pytest.mark.parametrize("change, status, code", [
    (_without("description"), 422, "validation"),
    (_without("basketItems"), 422, "validation"),
    (_set(["basketItems"], []), 422, "validation"),
    (_set(["merchantId"], "ffffffff-ffff-ffff-ffff-ffffffffffff"), 403, "forbidden"),
    (_set(["currencyId"], "XYZ"), 422, "wrong_currency"),
    (_set(["languageId"], "de"), 422, "language_not_found"),
    (_set(["expirationDate"], "2020-01-01T00:00:00+00:00"), 422, "wrong_expiration_date"),
    (_set(["expirationDate"], "tomorrow"), 422, "wrong_expiration_date"),
    (_set(["amount"], D("2500.00")), 422, "wrong_total_amount"),
    (_set(["vatAmount"], D("401.00")), 422, "wrong_total_vat_amount"),
    (_set(["basketItems", 0, "totalAmount"], D("2300.00")), 422, "wrong_basket_item_total_amount"),
    (_set(["basketItems", 0, "totalVatAmount"], D("300.00")), 422, "wrong_basket_item_total_vat_amount"),
    (_set(["basketItems", 0, "amountWoVat"], D("900.00")), 422, "wrong_basket_item_amount_wo_vat"),
    (_set(["basketItems", 0, "vatCode"], "RUS_VAT99"), 422, "wrong_vat_code"),
])
def test_a_refused_create_answers_the_documented_code_and_stores_nothing(ib, api, change, status, code):
    payload = order_payload(ib)
    change(payload)
    response = api.call("POST", ORDERS, payload)
    assert response.status_code == status, response.text
    error = error_of(response)
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["fields"], list)
    assert ib.orders() == []
    assert body(api.call("GET", FIND_ORDERS))["metaData"]["totalCount"] == 0


def test_field_errors_name_the_missing_fields(ib, api):
    payload = order_payload(ib)
    del payload["description"], payload["customer"]
    fields = error_of(api.call("POST", ORDERS, payload))["fields"]
    assert {f["name"] for f in fields} == {"description", "customer"}


@pytest.mark.parametrize("raw", [b'{"merchantId": ', b"not json", b"[1, 2]", b""])
def test_malformed_json_is_a_400_validation_error(ib, api, raw):
    response = api.call("POST", ORDERS, raw=raw)
    assert response.status_code == 400
    assert error_of(response)["code"] == "validation"
    assert ib.orders() == []


def test_a_duplicate_merchant_order_id_is_refused(ib, api):
    first = api.create(merchantOrderId="SHOP-731")
    response = api.call("POST", ORDERS, order_payload(ib, merchantOrderId="SHOP-731"))
    assert response.status_code == 422
    assert error_of(response)["code"] == "merchant_order_id_duplicate"
    assert [o["id"] for o in ib.orders()] == [first["id"]]


def test_duplicate_merchant_order_ids_pass_when_uniqueness_is_off():
    with Sandbox(unique_merchant_order_id=False) as ib:
        api = Api(ib)
        api.create(merchantOrderId="SHOP-1")
        api.create(merchantOrderId="SHOP-1")
        found = body(api.call("GET", FIND_ORDERS, params={"merchantOrderId": "SHOP-1"}))
        assert found["metaData"]["totalCount"] == 2


def test_the_expiration_date_is_judged_by_the_sandbox_clock(ib, api):
    ib.advance_clock(2 * 24 * 3600)
    response = api.call("POST", ORDERS, order_payload(ib, expirationDate=at(24)))
    assert error_of(response)["code"] == "wrong_expiration_date"
    assert api.call("POST", ORDERS, order_payload(ib, expirationDate=at(72))).status_code == 200


# --- get and find ----------------------------------------------------------------------------------------


def test_get_one_order_and_404_for_an_unknown_id(api):
    order = api.create()
    response = api.call("GET", f"{ORDERS}/{order['id']}")
    assert response.status_code == 200 and body(response)["data"] == order
    missing = api.call("GET", f"{ORDERS}/{uuid.uuid4()}")
    assert missing.status_code == 404 and error_of(missing)["code"] == "not_found"


@pytest.fixture
def three_orders(api):
    small = api.create(merchantOrderId="A-100", amount=D("1200.00"), vatAmount=D("200.00"),
                       basketItems=[course_line(1)])
    middle = api.create(merchantOrderId="A-200")
    large = api.create(merchantOrderId="B-300", amount=D("3600.00"), vatAmount=D("600.00"),
                       basketItems=[course_line(3)])
    return small, middle, large


def _ids(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [o["id"] for o in body(response)["data"]]


def test_find_orders_understands_every_filter_spelling(api, three_orders):
    small, middle, large = three_orders

    def find(params):
        return _ids(api.call("GET", FIND_ORDERS, params=params))

    assert find({"merchantOrderId": "A-200"}) == [middle["id"]]
    assert find({"id[]": [small["id"], large["id"]]}) == [small["id"], large["id"]]
    assert find({"id[0]": small["id"], "id[1]": middle["id"]}) == [small["id"], middle["id"]]
    assert find([("id", middle["id"]), ("id", large["id"])]) == [middle["id"], large["id"]]
    assert find({"amount[_ge]": "2400"}) == [middle["id"], large["id"]]
    assert find({"amount[_lt]": "2400.00"}) == [small["id"]]
    assert find({"amount[_gt]": "1200", "amount[_le]": "2400"}) == [middle["id"]]
    assert find({"merchantOrderId[_start]": "A-"}) == [small["id"], middle["id"]]
    assert find({"merchantOrderId[_ne]": "A-100"}) == [middle["id"], large["id"]]
    assert find({"status": "created", "merchantOrderId[_eq]": "B-300"}) == [large["id"]]
    assert find({"status": "completed"}) == []
    assert find({"createdAt[_ge]": "2021-01-27T00:00:00"}) == [small["id"], middle["id"], large["id"]]
    assert find({"createdAt[_lt]": "2021-01-27T00:00:00"}) == []
    assert find({"customer[email]": "anna@example.org"}) == [small["id"], middle["id"], large["id"]]


def test_find_orders_sorts_by_order_parameters(api, three_orders):
    small, middle, large = three_orders
    assert _ids(api.call("GET", FIND_ORDERS, params={"_order[amount]": "desc"})) == [large["id"], middle["id"], small["id"]]
    assert _ids(api.call("GET", FIND_ORDERS, params={"_order[merchantOrderId]": "asc"})) == [small["id"], middle["id"], large["id"]]


@pytest.mark.parametrize("params", [{"_order": "createdAt:desc"}, {"_order[amount]": "sideways"},
                                    {"amount[_between]": "1"}, {"page": "0"}, {"_pageSize": "many"}])
def test_unreadable_list_parameters_are_a_422(api, params):
    response = api.call("GET", FIND_ORDERS, params=params)
    assert response.status_code == 422
    assert error_of(response)["code"] == "wrong_filter_format"


@pytest.mark.parametrize("page_key, size_key", [("page", "pageSize"), ("_page", "_pageSize")])
def test_both_paging_spellings_page_the_list(api, page_key, size_key):
    created = [api.create()["id"] for _ in range(5)]
    response = api.call("GET", FIND_ORDERS, params={page_key: 2, size_key: 2})
    assert _ids(response) == created[2:4]
    assert body(response)["metaData"] == {"totalCount": 5, "pageSize": 2, "page": 2}
    assert _ids(api.call("GET", FIND_ORDERS, params={page_key: 3, size_key: 2})) == created[4:]


def test_the_default_page_size_is_30(api):
    api.create()
    assert body(api.call("GET", FIND_ORDERS))["metaData"] == {"totalCount": 1, "pageSize": 30, "page": 1}


# --- update and cancel -------------------------------------------------------------------------------------


def test_an_unpaid_order_can_be_updated_and_is_revalidated(api):
    order = api.create()
    response = api.call("PUT", f"{ORDERS}/{order['id']}", {"description": "Новое описание", "expirationDate": at(48)})
    assert response.status_code == 200
    updated = body(response)["data"]
    assert updated["description"] == "Новое описание" and updated["expirationDate"] == at(48)
    assert updated["id"] == order["id"] and updated["status"] == "created"
    bad = api.call("PUT", f"{ORDERS}/{order['id']}", {"amount": D("1.00")})
    assert bad.status_code == 422 and error_of(bad)["code"] == "wrong_total_amount"
    assert body(api.call("GET", f"{ORDERS}/{order['id']}"))["data"]["amount"] == D("2400.00")


def test_a_paid_order_cannot_be_updated(api):
    order = api.paid()
    response = api.call("PUT", f"{ORDERS}/{order['id']}", {"description": "поздно"})
    assert response.status_code == 422 and error_of(response)["code"] == "wrong_order_status"
    assert body(api.call("GET", f"{ORDERS}/{order['id']}"))["data"]["description"] == order["description"]


def test_cancel_before_payment_and_not_after(api):
    order = api.create()
    response = api.call("DELETE", f"{ORDERS}/{order['id']}")
    assert response.status_code == 200 and body(response)["data"]["status"] == "canceled"
    again = api.call("DELETE", f"{ORDERS}/{order['id']}")
    assert again.status_code == 422 and error_of(again)["code"] == "wrong_order_status"
    paid = api.paid()
    refused = api.call("DELETE", f"{ORDERS}/{paid['id']}")
    assert refused.status_code == 422 and error_of(refused)["code"] == "wrong_order_status"
    assert api.call("DELETE", f"{ORDERS}/{uuid.uuid4()}").status_code == 404


# --- shipments -------------------------------------------------------------------------------------------


def test_shipment_of_an_unpaid_order_is_refused(ib, api):
    order = api.create()
    response = api.call("POST", SHIPMENT, {"orderId": order["id"], "basketItems": [course_line()]})
    assert response.status_code == 422 and error_of(response)["code"] == "wrong_order_status"
    assert ib.shipments() == []


def test_shipments_are_created_and_listed_on_both_paths(ib, api):
    order = api.paid()
    response = api.call("POST", SHIPMENT, {"orderId": order["id"], "documentNumber": "УПД-731",
                                           "documentDate": "2024-07-05", "basketItems": [course_line(1)]})
    assert response.status_code == 200, response.text
    shipment = body(response)["data"]
    assert isinstance(shipment["id"], int)
    assert (shipment["orderId"], shipment["merchantId"], shipment["documentNumber"]) == (order["id"], ib.merchant_id, "УПД-731")
    assert (shipment["amount"], shipment["vatAmount"]) == (D("1200.00"), D("200.00"))
    second = body(api.call("POST", SHIPMENT, {"orderId": order["id"], "basketItems": [course_line(1)]}))["data"]
    assert second["amount"] == D("1200.00")
    for path in (SHIPMENT_LIST, SHIPMENT):
        listed = api.call("GET", path, params={"orderId": order["id"]})
        assert listed.status_code == 200
        assert [s["id"] for s in body(listed)["data"]] == [shipment["id"], second["id"]]
        assert body(listed)["metaData"]["totalCount"] == 2
    assert {r["endpoint"] for r in ib.requests() if r["method"] == "GET"} == {"list_shipments"}


@pytest.mark.parametrize("lines, code", [
    ([dict(course_line(1), sku="NOT-IN-ORDER")], "validation"),
    ([course_line(3)], "wrong_shipment_amount"),
    ([{"sku": "COURSE-PY-90", "quantity": 0}], "validation"),
])
def test_shipped_lines_must_be_lines_of_the_order_within_its_quantity(ib, api, lines, code):
    order = api.paid()
    response = api.call("POST", SHIPMENT, {"orderId": order["id"], "basketItems": lines})
    assert response.status_code == 422 and error_of(response)["code"] == code
    assert ib.shipments() == []


def test_cumulative_shipments_cannot_exceed_the_order(ib, api):
    order = api.paid()
    assert api.call("POST", SHIPMENT, {"orderId": order["id"], "basketItems": [course_line(2)]}).status_code == 200
    response = api.call("POST", SHIPMENT, {"orderId": order["id"], "basketItems": [course_line(1)]})
    assert error_of(response)["code"] == "wrong_shipment_amount"
    assert len(ib.shipments(order["id"])) == 1


def test_shipment_for_an_unknown_order_is_404(api):
    response = api.call("POST", SHIPMENT, {"orderId": str(uuid.uuid4()), "basketItems": [course_line()]})
    assert response.status_code == 404 and error_of(response)["code"] == "not_found"


# --- refunds ----------------------------------------------------------------------------------------------


def refund_payload(order: dict, quantity: int = 1, **overrides) -> dict:
    payload = {"parentId": order["id"], "merchantOrderId": f"{order['merchantOrderId']}-R{uuid.uuid4().hex[:6]}",
               "description": "Возврат одного доступа", "amount": D("1200.00") * quantity,
               "vatAmount": D("200.00") * quantity, "basketItems": [course_line(quantity)]}
    payload.update(overrides)
    return payload


def test_partial_refund_and_what_remains_refundable(ib, api):
    order = api.paid()
    items = body(api.call("GET", f"{ORDERS}/{order['id']}/refund-basket-item"))["data"]
    assert [(i["sku"], i["quantity"], i["availableAmount"], i["availableVatAmount"]) for i in items] == \
        [("COURSE-PY-90", 2, D("2400.00"), D("400.00"))]
    response = api.call("POST", REFUND, refund_payload(order))
    assert response.status_code == 200, response.text
    refund = body(response)["data"]
    assert (refund["parentId"], refund["status"], refund["currencyId"], refund["merchantId"]) == \
        (order["id"], "created", "RUB", ib.merchant_id)
    left = body(api.call("GET", f"{ORDERS}/{order['id']}/refund-basket-item"))["data"]
    assert [(i["quantity"], i["availableAmount"], i["availableVatAmount"]) for i in left] == [(1, D("1200.00"), D("200.00"))]
    ib.wait_idle()
    listed = body(api.call("GET", REFUND_LIST, params={"parentId": order["id"]}))
    assert [(r["id"], r["status"]) for r in listed["data"]] == [(refund["id"], "completed")]


def test_a_refund_above_what_was_paid_is_refused_and_nothing_is_stored(ib, api):
    order = api.paid()
    response = api.call("POST", REFUND, refund_payload(order, quantity=3))
    assert response.status_code == 422 and error_of(response)["code"] == "wrong_refund_amount"
    assert ib.refunds() == []
    assert api.call("POST", REFUND, refund_payload(order, quantity=2)).status_code == 200
    over = api.call("POST", REFUND, refund_payload(order, quantity=1))
    assert over.status_code == 422 and error_of(over)["code"] == "wrong_refund_amount"
    assert len(ib.refunds(order["id"])) == 1
    assert body(api.call("GET", f"{ORDERS}/{order['id']}/refund-basket-item"))["data"] == []


def test_refund_rules(ib, api):
    unpaid = api.create()
    response = api.call("POST", REFUND, refund_payload(unpaid))
    assert response.status_code == 422 and error_of(response)["code"] == "wrong_order_status"
    order = api.paid()
    first = refund_payload(order)
    assert api.call("POST", REFUND, first).status_code == 200
    duplicate = api.call("POST", REFUND, refund_payload(order, merchantOrderId=first["merchantOrderId"]))
    assert duplicate.status_code == 422 and error_of(duplicate)["code"] == "merchant_order_id_duplicate"
    foreign = refund_payload(order, basketItems=[dict(course_line(1), sku="OTHER")])
    assert error_of(api.call("POST", REFUND, foreign))["code"] == "validation"
    unbalanced = refund_payload(order, amount=D("1000.00"))
    assert error_of(api.call("POST", REFUND, unbalanced))["code"] == "wrong_total_amount"
    missing = api.call("POST", REFUND, refund_payload(order, parentId=str(uuid.uuid4())))
    assert missing.status_code == 404
    assert len(ib.refunds()) == 1


def test_a_draft_refund_stays_a_draft_and_moves_no_money(ib, api):
    order = api.paid()
    response = api.call("POST", REFUND, refund_payload(order, quantity=2, status="draft"))
    assert body(response)["data"]["status"] == "draft"
    ib.wait_idle()
    assert [r["status"] for r in ib.refunds(order["id"])] == ["draft"]
    assert [e for e in ib.events(order["id"]) if e["effect"] == "money_returned"] == []
    items = body(api.call("GET", f"{ORDERS}/{order['id']}/refund-basket-item"))["data"]
    assert items[0]["availableAmount"] == D("2400.00")


# --- rate limit -----------------------------------------------------------------------------------------


def test_the_account_rate_limit_answers_429_with_retry_after():
    with Sandbox(rate_limit=3, rate_window=30.0) as ib:
        api = Api(ib)
        assert [api.call("GET", AUTH).status_code for _ in range(3)] == [200, 200, 200]
        limited = api.call("GET", FIND_ORDERS)
        assert limited.status_code == 429
        assert error_of(limited)["code"] == "too_many_requests"
        assert 1 <= int(limited.headers["Retry-After"]) <= 30
        assert "X-Request-Id" in limited.headers
        # the inspection API and the payment page are not counted
        assert len(ib.requests()) == 4
        assert [r["status"] for r in ib.requests()] == [200, 200, 200, 429]


def test_the_rate_limit_can_answer_429_without_retry_after_as_the_docs_promise_no_more():
    with Sandbox(rate_limit=2, rate_window=30.0, rate_limit_retry_after=False) as ib:
        api = Api(ib)
        assert [api.call("GET", AUTH).status_code for _ in range(2)] == [200, 200]
        limited = api.call("GET", AUTH)
        assert limited.status_code == 429 and error_of(limited)["code"] == "too_many_requests"
        assert "Retry-After" not in limited.headers
        assert ib.inspect.info()["rateLimitRetryAfter"] is False


# --- faults ------------------------------------------------------------------------------------------------


def test_server_error_answers_500_before_doing_anything(ib, api):
    ib.inject_fault("create_order", "server_error")
    response = api.call("POST", ORDERS, order_payload(ib))
    assert response.status_code == 500 and "error" in body(response)
    assert ib.orders() == []
    assert api.call("POST", ORDERS, order_payload(ib)).status_code == 200  # used up


def test_server_error_after_commit_creates_the_order_once_then_answers_500(ib, api):
    ib.inject_fault("create_order", "server_error_after_commit")
    payload = order_payload(ib)
    assert api.call("POST", ORDERS, payload).status_code == 500
    found = body(api.call("GET", FIND_ORDERS, params={"merchantOrderId": payload["merchantOrderId"]}))
    assert found["metaData"]["totalCount"] == 1


def test_slow_answers_beyond_the_client_timeout(ib, api):
    ib.inject_fault("find_orders", "slow", delay=1.5)
    with pytest.raises(requests.ReadTimeout):
        api.call("GET", FIND_ORDERS, timeout=0.5)
    assert api.call("GET", FIND_ORDERS).status_code == 200


def test_slow_after_commit_creates_the_order_although_the_client_timed_out(ib, api):
    ib.inject_fault("create_order", "slow_after_commit", delay=1.5)
    payload = order_payload(ib)
    with pytest.raises(requests.ReadTimeout):
        api.call("POST", ORDERS, payload, timeout=0.5)
    assert [o["merchantOrderId"] for o in ib.orders()] == [payload["merchantOrderId"]]


@pytest.mark.parametrize("kind, stored", [("drop", 0), ("drop_after_commit", 1)])
def test_a_dropped_connection_is_a_connection_error(ib, api, kind, stored):
    ib.inject_fault("create_order", kind)
    with pytest.raises(requests.ConnectionError):
        api.call("POST", ORDERS, order_payload(ib))
    assert len(ib.orders()) == stored
    assert ib.requests()[-1]["status"] is None
    assert api.call("GET", AUTH).status_code == 200


def test_injected_rate_limit_and_repeated_faults(ib, api):
    ib.inject_fault("get_order", "server_error", times=2)
    ib.inject_fault("get_order", "rate_limit", delay=7)
    order = api.create()
    statuses = [api.call("GET", f"{ORDERS}/{order['id']}") for _ in range(4)]
    assert [r.status_code for r in statuses] == [500, 500, 429, 200]
    assert statuses[2].headers["Retry-After"] == "7"
    assert [r["endpoint"] for r in ib.requests()] == ["create_order"] + ["get_order"] * 4


def test_an_injected_429_without_retry_after(ib, api):
    ib.inject_fault("find_orders", "rate_limit_no_retry_after")
    limited = api.call("GET", FIND_ORDERS)
    assert limited.status_code == 429 and error_of(limited)["code"] == "too_many_requests"
    assert "Retry-After" not in limited.headers
    assert api.call("GET", FIND_ORDERS).status_code == 200


def test_faults_can_be_cleared_and_unknown_ones_are_refused(ib, api):
    ib.inject_fault("check_auth", "server_error")
    ib.clear_faults()
    assert api.call("GET", AUTH).status_code == 200
    with pytest.raises(InvalidRequestError):
        ib.inject_fault("no_such_endpoint", "server_error")
    with pytest.raises(InvalidRequestError):
        ib.inject_fault("check_auth", "explode")


# --- time --------------------------------------------------------------------------------------------------


def test_orders_expire_by_the_sandbox_clock(ib, api):
    order = api.create(expirationDate=at(1))
    keeps = api.create(expirationDate=at(5))
    ib.advance_clock(2 * 3600)
    assert body(api.call("GET", f"{ORDERS}/{order['id']}"))["data"]["status"] == "expired"
    assert body(api.call("GET", f"{ORDERS}/{keeps['id']}"))["data"]["status"] == "created"
    assert _ids(api.call("GET", FIND_ORDERS, params={"status": "expired"})) == [order["id"]]
    response = api.call("PUT", f"{ORDERS}/{order['id']}", {"description": "x"})
    assert error_of(response)["code"] == "wrong_order_status"
    assert error_of(api.call("DELETE", f"{ORDERS}/{order['id']}"))["code"] == "wrong_order_status"


def test_reset_forgets_everything_but_the_credentials(ib, api):
    api.create()
    ib.inject_fault("check_auth", "server_error")
    token = ib.token
    ib.reset()
    assert ib.orders() == [] and ib.requests() == []
    assert api.call("GET", AUTH).status_code == 200 and ib.token == token


def test_repr_shows_no_secrets():
    sandbox = Sandbox(token="tok-secret-123", notification_key="key-secret-456")
    with sandbox as ib:
        text = repr(ib) + repr(ib.inspect)
        assert "tok-secret-123" not in text and "key-secret-456" not in text
        assert ib.url in repr(ib)



def test_unit_refunds_may_each_round_their_vat(ib, api):
    line = {"sku": "CUP", "name": "Чашка", "measure": "шт.", "measureCode": "796", "quantity": 3,
            "amount": D("100.00"), "amountWoVat": D("83.33"), "totalAmount": D("300.00"),
            "totalVatAmount": D("50.00"), "vatCode": "RUS_VAT20", "type": "commodity", "paymentType": "full_prepayment"}
    order = api.paid(amount=D("300.00"), vatAmount=D("50.00"), basketItems=[line])
    unit = dict(line, quantity=1, totalAmount=D("100.00"), totalVatAmount=D("16.67"))
    for number in range(3):
        refund = refund_payload(order, amount=D("100.00"), vatAmount=D("16.67"), basketItems=[unit])
        assert api.call("POST", REFUND, refund).status_code == 200, number
    fourth = api.call("POST", REFUND, refund_payload(order, amount=D("100.00"), vatAmount=D("16.67"), basketItems=[unit]))
    assert error_of(fourth)["code"] == "wrong_refund_amount"
    assert body(api.call("GET", f"{ORDERS}/{order['id']}/refund-basket-item"))["data"] == []
