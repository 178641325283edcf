"""The inspection API under ``/_sandbox/``: a local test tool, not part of InvoiceBox's API.

It reads what happened (orders, shipments, refunds, receipts, documents, the buyer's mailbox,
notification attempts, events, the request log) and steers the sandbox (clock, faults, test
notifications, redelivery, reset, waiting for background work). No token, no rate limit.
Answers are ``{"data": …}``; errors use the API's error envelope.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request

from .. import jsonutil
from ..errors import ApiError
from .app import engine, error_response, json_response
from .clock import format_atom
from .rules import api_error

blueprint = Blueprint("sandbox_inspection", __name__, url_prefix="/_sandbox")

READABLE = ("orders", "refunds", "shipments", "receipts", "documents", "mailbox", "notifications", "events",
            "requests")
MAX_IDLE_WAIT = 300.0


def _ok(data: Any) -> Response:
    return json_response({"data": data})


def _body() -> dict[str, Any]:
    raw = request.get_data(cache=True)
    if not raw.strip():
        return {}
    try:
        body = jsonutil.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise api_error(400, "validation", "the request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise api_error(400, "validation", "the request body must be a JSON object")
    return body


def _number(value: Any, name: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise api_error(422, "validation", f"{name} must be a number") from None
    if number != number or number < 0:
        raise api_error(422, "validation", f"{name} must be a non-negative number")
    return number


@blueprint.errorhandler(ApiError)
def _api_error(error: ApiError) -> Response:
    return error_response(error)


@blueprint.get("/info")
def info() -> Response:
    ib = engine()
    return _ok({"url": ib.base_url, "merchantId": ib.settings.merchant_id,
                "notificationUrl": ib.settings.notification_url, "now": format_atom(ib.clock.now()),
                "rateLimit": ib.settings.rate_limit, "rateWindow": ib.settings.rate_window})


@blueprint.get("/<any(" + ", ".join(READABLE) + "):kind>")
def read(kind: str) -> Response:
    return _ok(engine().snapshot(kind, order_id=request.args.get("orderId"), address=request.args.get("address")))


@blueprint.get("/orders/<order_id>")
def read_order(order_id: str) -> Response:
    found = engine().snapshot("orders", order_id=order_id)
    if not found:
        raise api_error(404, "not_found", f"order {order_id} not found")
    return _ok(found[0])


@blueprint.post("/clock/advance")
def advance_clock() -> Response:
    return _ok({"now": engine().advance_clock(_number(_body().get("seconds"), "seconds"))})


@blueprint.get("/faults")
def pending_faults() -> Response:
    return _ok(engine().faults.pending())


@blueprint.post("/faults")
def inject_fault() -> Response:
    body = _body()
    try:
        fault = engine().faults.inject(body.get("endpoint"), body.get("kind"), body.get("times", 1),
                                       _delay(body.get("delay")))
    except ValueError as error:
        raise api_error(422, "validation", str(error)) from None
    return _ok(fault.to_json())


@blueprint.post("/notification-faults")
def inject_notification_fault() -> Response:
    body = _body()
    try:
        fault = engine().faults.inject_notification(body.get("kind"), body.get("times", 1), _delay(body.get("delay")))
    except ValueError as error:
        raise api_error(422, "validation", str(error)) from None
    return _ok(fault.to_json())


def _delay(value: Any) -> float | None:
    return None if value is None else _number(value, "delay")


@blueprint.delete("/faults")
def clear_faults() -> Response:
    ib = engine()
    ib.faults.clear()
    ib.notifier.release_held()  # nothing stays held back once the faults are gone
    return _ok({"cleared": True})


@blueprint.post("/test-notification")
def test_notification() -> Response:
    return _ok(engine().send_test_notification(_body().get("url")))


@blueprint.post("/redeliver/<order_id>")
def redeliver(order_id: str) -> Response:
    engine().redeliver(order_id)
    return _ok({"queued": True})


@blueprint.post("/reset")
def reset() -> Response:
    engine().reset()
    return _ok({"reset": True})


@blueprint.get("/idle")
def idle() -> Response:
    timeout = min(_number(request.args.get("timeout", 10), "timeout"), MAX_IDLE_WAIT)
    return _ok({"idle": engine().wait_idle(timeout)})
