"""Filters, sorting and paging of the list endpoints (reference §2.2), leniently parsed.

Accepted spellings, all of which real clients send:

* equality ``status=completed``; membership ``status[]=a&status[]=b``, ``status[0]=a&status[1]=b``
  (PHP ``http_build_query``) or repeated ``status=a&status=b`` (MCP);
* operators ``amount[_ge]=1000``: ``_eq _ne _gt _ge _lt _le`` and ``_start`` (string prefix);
  nested fields as ``customer[email]=…`` or ``customer.email=…``;
* sorting ``_order[createdAt]=desc`` (repeatable, applied in the given order); the form
  ``_order=createdAt:desc`` is refused with 422 as the live API does (MCP's tests);
* paging ``page``/``pageSize`` (DOCS) and ``_page``/``_pageSize`` (MCP), default page size 30.

Values compare by the type of the stored field: numbers as ``Decimal``, date-times as instants
(a filter value without an offset is UTC), booleans as ``true``/``false``, everything else as text.
"""

from __future__ import annotations

import decimal
import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import attrs

from ..errors import ApiError
from .clock import parse_datetime
from .rules import api_error, field_problem

DEFAULT_PAGE_SIZE = 30
OPERATORS = ("_eq", "_ne", "_gt", "_ge", "_lt", "_le", "_start")
_KEY = re.compile(r"^(?P<field>[^\[\]]+)(?P<subs>(?:\[[^\[\]]*\])*)$")
_SUB = re.compile(r"\[([^\[\]]*)\]")


@attrs.frozen
class Condition:
    path: tuple[str, ...]
    op: str  # "_in" (equality with any of values) or one of OPERATORS
    values: tuple[str, ...]


@attrs.frozen
class Listed:
    """A page of a list endpoint and its list-level ``metaData``."""

    items: list[dict[str, Any]]
    meta: dict[str, int]


@attrs.frozen
class ListQuery:
    conditions: tuple[Condition, ...] = ()
    order: tuple[tuple[tuple[str, ...], bool], ...] = ()  # (path, descending)
    page: int = 1
    page_size: int = DEFAULT_PAGE_SIZE


def _wrong_filter(name: str, message: str) -> ApiError:
    return api_error(422, "wrong_filter_format", message, [field_problem(name, message, "wrong_filter_format")])


def _positive_int(name: str, raw: str) -> int:
    try:
        value = int(raw)
    except (TypeError, ValueError):
        value = 0
    if value < 1:
        raise _wrong_filter(name, f"{name} must be a positive integer")
    return value


def parse_query(args: Iterable[tuple[str, list[str]]]) -> ListQuery:
    """``args`` as ``(key, [values])`` pairs (werkzeug ``MultiDict.lists()``)."""
    grouped: dict[tuple[tuple[str, ...], str], list[str]] = {}
    order: list[tuple[tuple[str, ...], bool]] = []
    page, page_size = 1, DEFAULT_PAGE_SIZE
    for key, values in args:
        if key in ("page", "_page"):
            page = _positive_int(key, values[-1])
            continue
        if key in ("pageSize", "_pageSize"):
            page_size = _positive_int(key, values[-1])
            continue
        if key == "_order":
            raise _wrong_filter("_order", "sort as _order[<field>]=asc|desc")
        match = _KEY.match(key)
        if not match:
            raise _wrong_filter(key, f"cannot read filter {key!r}")
        field, subs = match["field"], _SUB.findall(match["subs"])
        if field == "_order":
            if len(subs) != 1 or not subs[0] or values[-1].lower() not in ("asc", "desc"):
                raise _wrong_filter(key, "sort as _order[<field>]=asc|desc")
            order.append((tuple(subs[0].split(".")), values[-1].lower() == "desc"))
            continue
        if field.startswith("_"):
            continue  # other underscore parameters (cache busters and the like) are not filters
        path = field.split(".")
        op = "_in"
        for index, sub in enumerate(subs):
            if sub == "" or sub.isdigit():  # field[] and field[0]: members of a set
                if index != len(subs) - 1:
                    raise _wrong_filter(key, f"cannot read filter {key!r}")
            elif sub.startswith("_"):
                if sub not in OPERATORS or index != len(subs) - 1:
                    raise _wrong_filter(key, f"unknown operator {sub!r}; known: {', '.join(OPERATORS)}")
                op = sub
            else:
                path.append(sub)  # customer[email]
        grouped.setdefault((tuple(path), op), []).extend(values)
    conditions = tuple(Condition(path, op, tuple(values)) for (path, op), values in grouped.items())
    return ListQuery(conditions, tuple(order), page, page_size)


def _value_at(item: Any, path: tuple[str, ...]) -> Any:
    for name in path:
        if not isinstance(item, dict):
            return None
        item = item.get(name)
    return item


def _comparable(stored: Any, raw: str) -> tuple[Any, Any] | None:
    """``(stored, filter value)`` in one comparable type, or None when they cannot compare."""
    if isinstance(stored, bool):
        return stored, raw.strip().lower() in ("1", "true", "yes")
    if isinstance(stored, (int, Decimal)):
        try:
            return Decimal(stored), Decimal(raw.strip())
        except decimal.InvalidOperation:
            return None
    if stored is None:
        return None
    text = str(stored)
    stored_time, raw_time = parse_datetime(text), parse_datetime(raw)
    if stored_time is not None and raw_time is not None and len(text) >= 10:
        return stored_time, raw_time
    return text, raw


def _matches(item: dict[str, Any], condition: Condition) -> bool:
    stored = _value_at(item, condition.path)
    if condition.op == "_ne":
        return all(not _equal(stored, raw) for raw in condition.values)
    if condition.op in ("_in", "_eq"):
        if isinstance(stored, str) and parse_datetime(stored) is None:
            return stored in condition.values  # plain text compares as text: one look, not one per value
        return any(_equal(stored, raw) for raw in condition.values)
    if condition.op == "_start":
        return stored is not None and any(str(stored).startswith(raw) for raw in condition.values)
    for raw in condition.values:
        pair = _comparable(stored, raw)
        if pair is None:
            return False
        left, right = pair
        try:
            ok = {"_gt": left > right, "_ge": left >= right, "_lt": left < right, "_le": left <= right}[condition.op]
        except TypeError:
            return False
        if not ok:
            return False
    return True


def _equal(stored: Any, raw: str) -> bool:
    if stored is None:
        return raw in ("", "null")
    pair = _comparable(stored, raw)
    return pair is not None and pair[0] == pair[1]


def _sort_key(value: Any) -> tuple[Any, ...]:
    if value is None:
        return (0,)
    if isinstance(value, bool):
        return (1, int(value))
    if isinstance(value, (int, Decimal)):
        return (2, Decimal(value))
    moment = parse_datetime(value) if isinstance(value, str) and len(value) >= 10 else None
    if moment is not None:
        return (3, moment)
    return (4, str(value))


def apply_query(query: ListQuery, items: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """The requested page of the matching items, and the list-level ``metaData``."""
    selected = [item for item in items if all(_matches(item, c) for c in query.conditions)]
    for path, descending in reversed(query.order):  # stable sorts: the first key wins
        selected.sort(key=lambda item: _sort_key(_value_at(item, path)), reverse=descending)
    start = (query.page - 1) * query.page_size
    page = selected[start:start + query.page_size]
    return page, {"totalCount": len(selected), "pageSize": query.page_size, "page": query.page}
