"""What every HTTP face of the sandbox shares: the engine of the running app, the JSON body of a
request, and answers in InvoiceBox's envelopes.

The API (:mod:`.app`), the payment page (:mod:`.payment_page`) and the inspection API
(:mod:`.inspection_api`) import these helpers from here, and :mod:`.app` registers the other
two blueprints, so no HTTP module imports another.
"""

from __future__ import annotations

from typing import Any, cast

from flask import Response, current_app, request

from .. import jsonutil
from ..errors import ApiError, RateLimitError
from .engine import SandboxEngine
from .listing import Listed
from .rules import api_error

ENGINE_KEY = "invoicebox_sandbox"


def engine() -> SandboxEngine:
    """The sandbox engine of the app serving the current request."""
    return cast(SandboxEngine, current_app.extensions[ENGINE_KEY])


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(jsonutil.dumps(body), status=status, headers=headers, mimetype="application/json")


def error_response(error: ApiError) -> Response:
    """The nested error envelope; a 429 carries ``Retry-After`` only when the error names a wait."""
    body = {"error": {"message": error.message, "code": error.code, "fields": error.fields}}
    headers = {}
    if isinstance(error, RateLimitError) and error.retry_after:
        headers["Retry-After"] = str(max(1, int(error.retry_after)))
    return json_response(body, error.status, headers)


def envelope(result: Any) -> dict[str, Any]:
    """``{"data": …, "extendedData": []}``; a list page adds its ``metaData``."""
    if isinstance(result, Listed):
        return {"data": result.items, "metaData": result.meta, "extendedData": []}
    return {"data": result, "extendedData": []}


def request_body() -> Any:
    """The JSON body, numbers as ``Decimal``; malformed JSON is a 400 ``validation`` error."""
    raw = request.get_data(cache=True)
    try:
        body = jsonutil.loads(raw) if raw.strip() else None
    except (ValueError, UnicodeDecodeError):
        raise api_error(400, "validation", "the request body is not valid JSON") from None
    if _has_float(body):  # NaN and Infinity are the only way a float gets through parse_float=Decimal
        raise api_error(400, "validation", "the request body contains a non-finite number")
    if body is None:
        raise api_error(400, "validation", "the request body must be a JSON object")
    return body


def _has_float(value: Any) -> bool:
    if isinstance(value, float):
        return True
    if isinstance(value, dict):
        return any(_has_float(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_float(v) for v in value)
    return False
