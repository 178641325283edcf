"""The inspection API under ``/_sandbox/``: a local test tool, not part of InvoiceBox's API.

It reads what happened (orders, shipments, refunds, receipts, documents, the buyer's mailbox,
notification attempts, events, the request log) and steers the sandbox: the clock, faults,
test notifications, redelivery, an order's InvoiceBox-side settings, bank transfers, refunds
waiting for their payout, drift between shop and InvoiceBox, reset, waiting for background
work. No token, no rate limit. Answers are ``{"data": …}``; errors use the API's error envelope.
docs/sandbox.md lists every route.
"""

from __future__ import annotations

import math
from typing import Any

from flask import Blueprint, Response, request

from .. import jsonutil
from ..errors import ApiError
from .clock import format_atom
from .controls import READABLE
from .http import engine, error_response, json_response
from .rules import api_error

blueprint = Blueprint("sandbox_inspection", __name__, url_prefix="/_sandbox")

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
    if math.isnan(number) or number < 0:
        raise api_error(422, "validation", f"{name} must be a non-negative number")
    return number


def _delay(value: Any) -> float | None:
    return None if value is None else _number(value, "delay")


@blueprint.errorhandler(ApiError)
def _api_error(error: ApiError) -> Response:
    return error_response(error)


# --- reading -----------------------------------------------------------------------------------------


@blueprint.get("/info")
def info() -> Response:
    ib = engine()
    settings = ib.settings
    return _ok({"url": ib.base_url, "merchantId": settings.merchant_id,
                "notificationUrl": settings.notification_url, "now": format_atom(ib.clock.now()),
                "rateLimit": settings.rate_limit, "rateWindow": settings.rate_window,
                "rateLimitRetryAfter": settings.rate_limit_retry_after,
                "notificationShape": settings.notification_shape,
                "statusNotifications": list(settings.status_notifications),
                "refundPayoutDelay": settings.refund_payout_delay, "autoShipment": settings.auto_shipment,
                "paymentInstrument": settings.payment_instrument})


@blueprint.get("/<any(" + ", ".join(READABLE) + "):kind>")
def read(kind: str) -> Response:
    return _ok(engine().controls.snapshot(kind, order_id=request.args.get("orderId"),
                                          address=request.args.get("address")))


@blueprint.get("/orders/<order_id>")
def read_order(order_id: str) -> Response:
    found = engine().controls.snapshot("orders", order_id=order_id)
    if not found:
        raise api_error(404, "not_found", f"order {order_id} not found")
    return _ok(found[0])


# --- the clock, faults and notifications ----------------------------------------------------------------


@blueprint.post("/clock/advance")
def advance_clock() -> Response:
    return _ok({"now": engine().controls.advance_clock(_number(_body().get("seconds"), "seconds"))})


@blueprint.get("/faults")
def pending_faults() -> Response:
    return _ok(engine().faults.pending())


def _injected(inject: Any, *args: Any) -> Response:
    try:
        fault = inject(*args)
    except ValueError as error:
        raise api_error(422, "validation", str(error)) from None
    return _ok(fault.to_json())


@blueprint.post("/faults")
def inject_fault() -> Response:
    body = _body()
    return _injected(engine().faults.inject, body.get("endpoint"), body.get("kind"), body.get("times", 1),
                     _delay(body.get("delay")))


@blueprint.post("/notification-faults")
def inject_notification_fault() -> Response:
    body = _body()
    return _injected(engine().faults.inject_notification, body.get("kind"), body.get("times", 1),
                     _delay(body.get("delay")))


@blueprint.post("/refund-faults")
def inject_refund_fault() -> Response:
    body = _body()
    return _injected(engine().faults.inject_refund, body.get("kind"), body.get("times", 1))


@blueprint.delete("/faults")
def clear_faults() -> Response:
    ib = engine()
    ib.faults.clear()
    ib.notifier.release_held()  # nothing stays held back once the faults are gone
    return _ok({"cleared": True})


@blueprint.post("/test-notification")
def test_notification() -> Response:
    return _ok(engine().controls.send_test_notification(_body().get("url")))


@blueprint.post("/redeliver/<order_id>")
def redeliver(order_id: str) -> Response:
    engine().controls.redeliver(order_id)
    return _ok({"queued": True})


# --- one order's InvoiceBox side: settings, bank transfer, refunds waiting for payout -------------------


@blueprint.route("/orders/<order_id>/settings", methods=["GET", "POST"])
def order_settings(order_id: str) -> Response:
    changes = _body() if request.method == "POST" else None
    return _ok(engine().controls.order_settings(order_id, changes))


@blueprint.post("/orders/<order_id>/bank-transfer")
def invoice_bank_transfer(order_id: str) -> Response:
    return _ok(engine().invoice_bank_transfer(order_id))


@blueprint.post("/orders/<order_id>/bank-transfer/settle")
def settle_bank_transfer(order_id: str) -> Response:
    return _ok(engine().settle_bank_transfer(order_id))


@blueprint.post("/refunds/<refund_id>/cancel")
def cancel_refund(refund_id: str) -> Response:
    return _ok(engine().controls.cancel_refund(refund_id))


# --- drift: InvoiceBox changes what the shop is not told about ----------------------------------------------


@blueprint.post("/drift/orders/<order_id>/cancel")
def drift_cancel(order_id: str) -> Response:
    return _ok(engine().drift.cancel_order(order_id))


@blueprint.post("/drift/orders/<order_id>/expire")
def drift_expire(order_id: str) -> Response:
    return _ok(engine().drift.expire_order(order_id))


@blueprint.post("/drift/orders/<order_id>/amount")
def drift_amount(order_id: str) -> Response:
    body = _body()
    return _ok(engine().drift.change_amount(order_id, body.get("amount"), body.get("vatAmount")))


@blueprint.post("/drift/orders/<order_id>/refund")
def drift_refund(order_id: str) -> Response:
    body = _body()
    return _ok(engine().drift.refund(order_id, body.get("basketItems"), description=body.get("description"),
                                     merchant_order_id=body.get("merchantOrderId")))


@blueprint.post("/drift/orders/<order_id>/shipment")
def drift_shipment(order_id: str) -> Response:
    return _ok(engine().drift.ship(order_id, _body().get("basketItems")))


# --- housekeeping --------------------------------------------------------------------------------------------


@blueprint.post("/reset")
def reset() -> Response:
    engine().controls.reset()
    return _ok({"reset": True})


@blueprint.get("/idle")
def idle() -> Response:
    timeout = min(_number(request.args.get("timeout", 10), "timeout"), MAX_IDLE_WAIT)
    return _ok({"idle": engine().wait_idle(timeout)})
