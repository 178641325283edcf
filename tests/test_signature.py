"""Notification signatures against the worked example of the API reference (section 8.5)."""

from __future__ import annotations

import json

import pytest
import simplejson
from reference_bodies import NOTIFICATION, NOTIFICATION_KEY, NOTIFICATION_SIGNATURE
from reference_bodies import TEST_NOTIFICATION as TEST_NOTIFICATION_TEXT

from invoicebox_flow import jsonutil
from invoicebox_flow.errors import SignatureError
from invoicebox_flow.signature import SIGNATURE_HEADER, is_valid, sign, signature_from_headers, verify

KEY = NOTIFICATION_KEY

BODY = NOTIFICATION.encode("utf-8")
SIGNATURE = NOTIFICATION_SIGNATURE

TEST_NOTIFICATION = TEST_NOTIFICATION_TEXT.encode("utf-8")


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
