"""An HTTP answer ≥ 400 from InvoiceBox as the typed error of :mod:`invoicebox_flow.errors`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
import requests

from .. import jsonutil
from ..errors import (
    ApiError,
    AuthenticationError,
    InvalidRequestError,
    NotFoundError,
    RateLimitError,
    ServerError,
)
from ..models import ErrorBody
from ..retry import parse_retry_after

_MAX_ERROR_TEXT = 300  # how much of a non-JSON error body goes into the exception message


def api_error(response: requests.Response, *, method: str, path: str, request_id: str | None,
              scrub: Callable[[str], str]) -> ApiError:
    """The typed error for a status ≥ 400, read from the nested error envelope (with the
    top-level fallback of :meth:`ErrorBody.from_json`) or from a non-JSON body; ``scrub``
    removes any secret a server might echo."""
    status = response.status_code
    code: str | None = None
    fields: list[dict[str, Any]] = []
    try:
        body = jsonutil.loads(response.content) if response.content else None
    except ValueError:
        body = None
    if isinstance(body, dict):
        error_body = ErrorBody.from_json(body)
        message = error_body.message or response.reason or "error"
        code = error_body.code or None
        fields = [_field_dict(f) for f in (error_body.fields or [])]
    elif "html" in response.headers.get("Content-Type", "").lower():
        # An HTML page (a proxy, a maintenance page): its markup is no message.
        message = f"{response.reason or 'error'} (an HTML page, not the API's JSON)"
    else:
        text = response.text.strip() if response.content else ""
        message = " ".join(text.split())[:_MAX_ERROR_TEXT] or response.reason or "error"
    message = scrub(str(message))
    kwargs: dict[str, Any] = dict(
        status=status, code=code, fields=fields, request_id=request_id, method=method, path=path
    )
    if status in (401, 403):
        return AuthenticationError(message, **kwargs)
    if status == 404:
        return NotFoundError(message, **kwargs)
    if status in (400, 422):
        return InvalidRequestError(message, **kwargs)
    if status == 429:
        return RateLimitError(message, retry_after=parse_retry_after(response.headers.get("Retry-After")), **kwargs)
    if status >= 500:
        return ServerError(message, **kwargs)
    return ApiError(message, **kwargs)


def _field_dict(field: Any) -> dict[str, Any]:
    if isinstance(field, dict):
        return field
    if hasattr(field, "to_json"):
        return dict(field.to_json())
    if attrs.has(type(field)):
        return attrs.asdict(field)
    return {"name": str(field)}
