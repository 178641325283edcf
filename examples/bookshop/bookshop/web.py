"""The bookshop's web app (Flask): InvoiceBox's webhook, the checkout, and the shop's actions.

* ``POST /hooks/invoicebox`` — InvoiceBox's payment notifications, handed to the flow as raw bytes;
* ``POST /checkout`` — ``{"buyer": {"name", "email"[, "inn", "kpp"]}, "books": {sku: copies}}``:
  the order is placed at InvoiceBox and the buyer sent (303) to its payment page;
* ``GET /orders/ID`` — its state and what can be done with it next;
* ``POST /orders/ID/pack`` and ``POST /orders/ID/ship`` — the warehouse's buttons.

A refusal is an answer, not a crash: bad input 400, an unknown order 404, an action the order's
state (or the stock) does not allow 409, InvoiceBox failing to answer 502 — each with the error's
one-line message.
"""

from __future__ import annotations

import uuid
from http import HTTPStatus
from typing import Any

from flask import Flask, Response, jsonify, request
from flask.typing import ResponseReturnValue
from invoicebox_flow import LegalCustomer, OrderFlow, OrderView, PrivateCustomer
from invoicebox_flow.errors import (
    ApiError,
    FlowError,
    OrderNotFoundError,
    ResultUnknownError,
    TransportError,
    ValidationError,
)

from .catalogue import basket

NOTIFICATION_PATH = "/hooks/invoicebox"


def create_app(flow: OrderFlow) -> Flask:
    app = Flask(__name__)

    @app.post(NOTIFICATION_PATH)
    def invoicebox_notification() -> Response:
        # the signature covers the exact bytes InvoiceBox sent: never re-encode the JSON
        status, headers, body = flow.handle_notification(request.get_data(), request.headers)
        return Response(body, status=status, headers=headers)

    @app.post("/checkout")
    def checkout() -> ResponseReturnValue:
        form = _object(request.get_json(silent=True), "the request body")
        order_id = f"BS-{uuid.uuid4().hex[:12]}"
        flow.place(order_id, basket(_object(form.get("books"), "books")), _buyer(_object(form.get("buyer"), "buyer")),
                   description="Книги из книжного магазина")
        payment_url = flow.redirect_buyer(order_id)
        return jsonify(order_id=order_id, payment_url=payment_url), HTTPStatus.SEE_OTHER, {"Location": payment_url}

    @app.get("/orders/<order_id>")
    def order(order_id: str) -> ResponseReturnValue:
        return _state(flow.get(order_id)) | {"actions": flow.allowed_actions(order_id)}

    @app.post("/orders/<order_id>/pack")
    def pack(order_id: str) -> ResponseReturnValue:
        return _state(flow.fire(order_id, "pack"))

    @app.post("/orders/<order_id>/ship")
    def ship(order_id: str) -> ResponseReturnValue:
        return _state(flow.ship(order_id))

    @app.errorhandler(ValidationError)
    def bad_input(error: ValidationError) -> ResponseReturnValue:
        return {"error": str(error), "code": error.code}, HTTPStatus.BAD_REQUEST

    @app.errorhandler(OrderNotFoundError)
    def unknown_order(error: OrderNotFoundError) -> ResponseReturnValue:
        return {"error": str(error)}, HTTPStatus.NOT_FOUND

    @app.errorhandler(FlowError)
    def refused(error: FlowError) -> ResponseReturnValue:
        return {"error": str(error)}, HTTPStatus.CONFLICT

    @app.errorhandler(ApiError)
    @app.errorhandler(TransportError)
    @app.errorhandler(ResultUnknownError)
    def invoicebox_unavailable(error: Exception) -> ResponseReturnValue:
        # the order and the failed call are journaled; `flow.resume()` or the worker retries what is pending
        return {"error": f"InvoiceBox is not available, please try again later ({error})"}, HTTPStatus.BAD_GATEWAY

    return app


def _state(view: OrderView) -> dict[str, Any]:
    return {"order_id": view.order_id, "state": view.state, "state_label": view.state_label,
            "amount": str(view.amount)}  # a string: the exact decimal


def _object(value: object, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValidationError(f"{what} must be a JSON object")
    return value


def _buyer(fields: dict[str, Any]) -> PrivateCustomer | LegalCustomer:
    """A private buyer, or an organisation or sole proprietor when an INN is given (checked)."""
    name, email = fields.get("name"), fields.get("email")
    if not isinstance(name, str) or not isinstance(email, str):
        raise ValidationError("the buyer needs a name and an e-mail")
    inn, kpp = fields.get("inn"), fields.get("kpp")
    if inn is None:
        return PrivateCustomer(name=name, email=email)
    return LegalCustomer(name=name, email=email, vat_number=str(inn),
                         tax_registration_reason_code=None if kpp is None else str(kpp))
