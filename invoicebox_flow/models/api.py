"""What the API answers besides orders: check auth, error bodies, and list pages."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal
from typing import Any, Generic, TypeVar

import attrs

from ..errors import ValidationError
from ._json import JsonModel, json_meta, prefixed, wrong
from ._keywords import strict_init

__all__ = ["AuthInfo", "ErrorBody", "Page"]


@strict_init
@attrs.frozen(kw_only=True, repr=False)
class AuthInfo(JsonModel):
    """The answer of check auth. Without a token InvoiceBox answers 200 with ``userId: null``, so
    only :attr:`authenticated` says whether the token works."""

    user_id: str | None = attrs.field(metadata=json_meta())
    profile: Any = attrs.field(default=None, metadata=json_meta())
    access_token: str | None = attrs.field(default=None, repr=False, metadata=json_meta())  # a credential
    request_id: str | None = attrs.field(default=None, eq=False)

    @property
    def authenticated(self) -> bool:
        return self.user_id is not None


@strict_init
@attrs.frozen
class ErrorBody:
    """An API error body: ``{"error": {"message", "code", "fields": [{name, code, message}]}}``.

    The nested envelope is authoritative; top-level ``code``/``message`` (as the MCP server's
    client reads them) are the fallback.
    """

    message: str
    code: str | None = None
    fields: list[dict[str, Any]] = attrs.field(factory=list)

    @classmethod
    def from_json(cls, body: Any) -> ErrorBody:
        if not isinstance(body, Mapping):
            return cls(message="unexpected error body" if body is None else str(body)[:500])
        inner = body.get("error")
        source = inner if isinstance(inner, Mapping) else body
        code = source.get("code")
        message = source.get("message")
        if not message and isinstance(inner, str):  # {"error": "text"}
            message = inner
        fields = source.get("fields")
        return cls(
            message=str(message) if message else (str(code) if code else "unknown error"),
            code=str(code) if code is not None else None,
            fields=[dict(f) for f in fields if isinstance(f, Mapping)] if isinstance(fields, list) else [],
        )

    def to_json(self) -> dict[str, Any]:
        inner: dict[str, Any] = {"message": self.message}
        if self.code is not None:
            inner["code"] = self.code
        inner["fields"] = [dict(f) for f in self.fields]
        return {"error": inner}


T = TypeVar("T")


@strict_init
@attrs.frozen
class Page(Generic[T]):
    """One page of a list answer: ``{"data": [...], "metaData": {totalCount, pageSize, page}}``."""

    items: list[T]
    total_count: int | None = None
    page: int | None = None
    page_size: int | None = None
    request_id: str | None = attrs.field(default=None, kw_only=True, eq=False)

    @classmethod
    def from_json(cls, body: Mapping[str, Any], parse_item: Callable[[Any], T] | type[T] | None = None) -> Page[T]:
        """Read a whole list envelope; ``parse_item`` (a model class or a function) turns each
        ``data`` element into an item; without it items stay plain JSON."""
        if not isinstance(body, Mapping) or not isinstance(body.get("data"), list):
            raise wrong("expected a list answer {\"data\": [...]}", "data")
        parse: Callable[[Any], Any] | None = parse_item
        if isinstance(parse_item, type) and hasattr(parse_item, "from_json"):
            parse = parse_item.from_json  # Page.from_json(body, Order) reads like it should
        items = []
        for index, element in enumerate(body["data"]):
            try:
                items.append(parse(element) if parse else element)
            except ValidationError as error:
                raise prefixed(error, f"data[{index}]") from None
        meta = body.get("metaData")
        meta = meta if isinstance(meta, Mapping) else {}

        def number(key: str) -> int | None:
            value = meta.get(key)
            return int(value) if isinstance(value, (int, Decimal)) and not isinstance(value, bool) else None

        return cls(items=items, total_count=number("totalCount"), page=number("page"), page_size=number("pageSize"))

    def to_json(self, dump_item: Callable[[T], Any] | None = None) -> dict[str, Any]:
        """The list envelope without ``extendedData``; items with ``to_json`` are written with it."""

        def dump(item: Any) -> Any:
            if dump_item:
                return dump_item(item)
            return item.to_json() if hasattr(item, "to_json") else item

        meta = {"totalCount": self.total_count, "pageSize": self.page_size, "page": self.page}
        out: dict[str, Any] = {"data": [dump(item) for item in self.items]}
        if any(v is not None for v in meta.values()):
            out["metaData"] = {k: v for k, v in meta.items() if v is not None}
        return out

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)
