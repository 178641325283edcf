"""jsonutil writes exactly what simplejson (``use_decimal=True``, compact, raw UTF-8) writes —
through orjson where it can, through simplejson where orjson refuses — and reads numbers as Decimal."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
import simplejson
from hypothesis import given
from hypothesis import strategies as st

from invoicebox_flow import jsonutil


def reference(obj: object) -> str:
    return simplejson.dumps(obj, use_decimal=True, ensure_ascii=False, separators=(",", ":"))


amounts = st.decimals(allow_nan=False, allow_infinity=False, places=2, min_value=-10**9, max_value=10**9)
scalars = st.none() | st.booleans() | st.integers(min_value=-2**63, max_value=2**63 - 1) | amounts | st.text()
documents = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner,
                                                                                             max_size=4), max_leaves=30)


@given(documents)
def test_dumps_is_simplejsons_text_and_loads_gives_it_back(doc: object) -> None:
    text = jsonutil.dumps(doc)
    assert text == reference(doc)
    assert jsonutil.loads(text) == doc
    assert jsonutil.loads(text.encode("utf-8")) == doc


@pytest.mark.parametrize("doc", [
    {1: "an integer key"},
    {"big": 2**70},
    {"lone surrogate": "\ud800"},
    [Decimal("1E+2"), Decimal("-0.00"), "«Книга» / курс"],
], ids=["integer key", "integer over 64 bits", "lone surrogate", "decimal forms"])
def test_what_orjson_refuses_is_written_as_simplejson_writes_it(doc: object) -> None:
    assert jsonutil.dumps(doc) == reference(doc)


def test_numbers_are_read_as_decimal_never_float() -> None:
    assert jsonutil.loads('{"amount": 990.10, "quantity": 2}') == {"amount": Decimal("990.10"), "quantity": 2}
    assert type(jsonutil.loads("[0.1]")[0]) is Decimal


@pytest.mark.parametrize("value", [datetime(2026, 1, 1, tzinfo=UTC), {1, 2}, object()],
                         ids=["datetime", "set", "object"])
def test_what_is_not_json_is_refused_with_type_error(value: object) -> None:
    with pytest.raises(TypeError):
        jsonutil.dumps({"value": value})
