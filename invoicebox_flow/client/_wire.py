"""Python values as the API writes them: request bodies, query strings, path segments; and the
``X-Request-Id`` that every result carries back."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, TypeVar, cast

import attrs

T = TypeVar("T")


def format_datetime(value: datetime) -> str:
    """ATOM form with offset, as the API writes date-times; naive values are taken as UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.isoformat(timespec="seconds")


def to_wire(value: Any) -> Any:
    """A Python value (models, Decimals, dates, enums, containers) as a JSON-ready value."""
    if hasattr(value, "to_json"):
        return value.to_json()
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Mapping):
        return {str(k): to_wire(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_wire(v) for v in value]
    return value


def _query_value(value: Any) -> str:
    """One query-string value: dates in ATOM form, booleans as ``true``/``false``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def build_query(
    filters: Mapping[str, Any] | None = None,
    order_by: Mapping[str, str] | None = None,
    page: int | None = None,
    page_size: int | None = None,
) -> list[tuple[str, str]]:
    """Query parameters in the documented filter syntax (reference §2.2).

    ``{"status": ["created", "completed"]}`` ⇒ ``status[]=created&status[]=completed``;
    operator keys pass through (``{"createdAt[_ge]": dt}``); ``order_by={"createdAt": "desc"}``
    ⇒ ``_order[createdAt]=desc``; paging is sent as both ``page``/``pageSize`` (documented) and
    ``_page``/``_pageSize`` (what the official MCP server sends) because which one the live API
    honours is unverified. ``None`` filter values are left out.
    """
    params: list[tuple[str, str]] = []
    for key, value in (filters or {}).items():
        if value is None:
            continue
        if isinstance(value, (list, tuple, set, frozenset)):
            values = sorted(value, key=str) if isinstance(value, (set, frozenset)) else value
            params.extend((f"{key}[]", _query_value(v)) for v in values)
        else:
            params.append((key, _query_value(value)))
    for field, asked in (order_by or {}).items():
        direction = str(asked).lower()
        if direction not in ("asc", "desc"):
            raise ValueError(f"sort direction for {field!r} must be 'asc' or 'desc', not {direction!r}")
        params.append((f"_order[{field}]", direction))
    if page is not None:
        if page < 1:
            raise ValueError("page numbers start at 1")
        params += [("page", str(page)), ("_page", str(page))]
    if page_size is not None:
        if page_size < 1:
            raise ValueError("page_size must be positive")
        params += [("pageSize", str(page_size)), ("_pageSize", str(page_size))]
    return params


def id_segment(object_id: str) -> str:
    """An id as one path segment; an id with a slash would silently address another resource."""
    if not isinstance(object_id, str) or not object_id or any(c in object_id for c in "/?#"):
        raise ValueError(f"not a valid object id: {object_id!r}")
    return object_id


def with_request_id(obj: T, request_id: str | None) -> T:
    """The result with the ``X-Request-Id`` of the answer it came in, if it has a place for it
    (frozen models are evolved; a line of a list, e.g. a refundable item, has none)."""
    kind: Any = type(obj)
    if attrs.has(kind):
        return cast(T, attrs.evolve(cast(Any, obj), request_id=request_id)) if "request_id" in attrs.fields_dict(kind) else obj
    obj.request_id = request_id  # type: ignore[attr-defined]
    return obj


class ResultList(list[T]):
    """A plain list of results that also carries the response's ``X-Request-Id`` and, for a
    page of a list endpoint, its ``metaData.totalCount`` (None when the answer has none)."""

    def __init__(self, items: Iterable[T] = (), request_id: str | None = None, total_count: int | None = None):
        super().__init__(items)
        self.request_id = request_id
        self.total_count = total_count
