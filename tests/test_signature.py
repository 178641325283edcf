"""Notification signatures against the worked example of the API reference (section 8.5)."""

from __future__ import annotations

import json

import pytest
import simplejson

from invoicebox_flow import jsonutil
from invoicebox_flow.errors import SignatureError
from invoicebox_flow.signature import SIGNATURE_HEADER, is_valid, sign, signature_from_headers, verify

KEY = "wh-secret-2024"

# Exactly the documented body: one line, raw UTF-8 Cyrillic, every "/" written as "\/".
BODY = (
    r'{"id":"0190f3a2-5c1e-7d4b-9a2f-3b8c1d0e4f57","description":"Бронирование номера","currencyId":"RUB",'
    r'"amount":371.88,"vatAmount":61.98,"basketItems":[{"sku":"5fe0adcfa7fb4","name":"Бронирование номера",'
    r'"measure":"шт.","measureCode":"796","quantity":3,"amount":123.96,"amountWoVat":103.3,"totalAmount":371.88,'
    r'"totalVatAmount":61.98,"vatCode":"RUS_VAT20","type":"service","paymentType":"full_prepayment"}],'
    r'"orderContainerId":"0190f3a2-5b90-7a11-8c3e-6d2f9e1a0b22","merchantId":"ffffffff-ffff-ffff-ffff-ffffffffffff",'
    r'"status":"completed","subtype":"order","createdAt":"2024-07-01T09:00:00+00:00","merchantOrderId":"m-1608560079",'
    r'"expirationDate":"2024-07-02T00:00:00+00:00","paidAt":"2024-07-01T09:05:12+00:00",'
    r'"paymentUrl":"https:\/\/pay.invoicebox.ru\/order\/0190f3a2-5b90-7a11-8c3e-6d2f9e1a0b22",'
    r'"customer":{"type":"private","name":"Peter","phone":"79001112233","email":"peter@domain.com"},'
    r'"languageId":"ru","processable":true}'
).encode("utf-8")
SIGNATURE = "2054b8ce709744f9cafa7c6b1c8d1c0e05feab28"

TEST_NOTIFICATION = (
    b'{"id":"ffffffff-ffff-ffff-ffff-ffffffffffff","merchantId":"ffffffff-ffff-ffff-ffff-ffffffffffff",'
    b'"merchantOrderId":"","status":"completed","amount":0,"currencyId":"RUB",'
    b'"createdAt":"2024-07-01T09:00:00+00:00","customer":{"type":"private"}}'
)


def test_worked_example_body_is_the_documented_964_bytes():
    assert len(BODY) == 964
    assert BODY.count(rb"\/") == 4  # https:\/\/pay…\/order\/
    assert not BODY.endswith(b"\n")


def test_worked_example_signature():
    assert sign(BODY, KEY) == SIGNATURE
    assert is_valid(BODY, SIGNATURE, KEY)
    verify(BODY, SIGNATURE, KEY)


def test_reserialised_bodies_sign_differently_so_raw_bytes_matter():
    data = jsonutil.loads(BODY)
    ascii_escaped = simplejson.dumps(data, use_decimal=True, ensure_ascii=True, separators=(",", ":")).encode()
    raw_unicode = jsonutil.dumps(data).encode("utf-8")

    assert len(ascii_escaped) == 1112
    assert sign(ascii_escaped, KEY) == "1a050bba7f40913c84386e38d2696566005809d9"
    assert len(raw_unicode) == 960
    assert sign(raw_unicode, KEY) == "a6862982f78aa7af2f4194a8d197095debf2b68d"
    assert not is_valid(raw_unicode, SIGNATURE, KEY)


def test_reserialised_variants_match_what_the_stdlib_writes():
    # The reference computed the variants with the standard json module; same bytes either way.
    data = json.loads(BODY)
    assert json.dumps(data, ensure_ascii=True, separators=(",", ":")).encode() == simplejson.dumps(
        jsonutil.loads(BODY), use_decimal=True, ensure_ascii=True, separators=(",", ":")).encode()


def test_php_style_dump_reproduces_the_documented_body_byte_for_byte():
    assert jsonutil.dumps_php(jsonutil.loads(BODY)).encode("utf-8") == BODY


def test_test_notification_vector():
    assert sign(TEST_NOTIFICATION, KEY) == "98d5924370082dfee7c53192da257de492c8e845"


def test_sign_refuses_anything_but_raw_bytes():
    with pytest.raises(TypeError):
        sign(BODY.decode("utf-8"), KEY)  # type: ignore[arg-type]
    assert sign(bytearray(BODY), KEY) == SIGNATURE


@pytest.mark.parametrize("header", [None, ""])
def test_verify_refuses_a_missing_header(header):
    with pytest.raises(SignatureError, match="missing"):
        verify(BODY, header, KEY)


@pytest.mark.parametrize("header", [
    "0" * 40,
    SIGNATURE[:-1],
    "a6862982f78aa7af2f4194a8d197095debf2b68d",  # right key, re-serialised body
])
def test_verify_refuses_a_wrong_signature(header):
    with pytest.raises(SignatureError, match="does not match"):
        verify(BODY, header, KEY)


def test_verify_refuses_a_signature_made_with_another_key():
    with pytest.raises(SignatureError):
        verify(BODY, sign(BODY, "another-key"), KEY)
    assert not is_valid(BODY, SIGNATURE, "")


def test_a_changed_body_no_longer_verifies():
    with pytest.raises(SignatureError):
        verify(BODY.replace(b"371.88", b"1.00", 1), SIGNATURE, KEY)


def test_upper_case_hex_and_surrounding_spaces_are_accepted():
    verify(BODY, SIGNATURE.upper(), KEY)
    verify(BODY, f" {SIGNATURE}\t", KEY)


def test_the_error_never_carries_the_key():
    with pytest.raises(SignatureError) as caught:
        verify(BODY, "0" * 40, KEY)
    assert KEY not in str(caught.value)
    assert KEY not in repr(caught.value)


@pytest.mark.parametrize("headers", [
    {"X-Signature": SIGNATURE},
    {"x-signature": SIGNATURE},
    {"X-SIGNATURE": SIGNATURE},
    {"Content-Type": "application/json", "x-SiGnAtUrE": SIGNATURE},
    [("Content-Type", "application/json"), ("x-signature", SIGNATURE)],
    {"REQUEST_METHOD": "POST", "CONTENT_TYPE": "application/json", "HTTP_X_SIGNATURE": SIGNATURE},
    {"http_x_signature": SIGNATURE},
])
def test_signature_from_headers_finds_the_header_in_any_case_and_in_wsgi_form(headers):
    assert signature_from_headers(headers) == SIGNATURE


def test_signature_from_headers_without_the_header_is_none():
    assert signature_from_headers({"Content-Type": "application/json", "X-Signature-Extra": "x"}) is None
    assert signature_from_headers([]) is None


def test_header_name_constant():
    assert SIGNATURE_HEADER == "X-Signature"
