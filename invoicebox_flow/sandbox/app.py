"""The sandbox's HTTP face: the Flask app factory and InvoiceBox API v3 routes.

Every API route goes through one pipeline (:func:`_serve`) in the order a request meets the
real service: the per-account rate limit, injected faults, bearer authentication, then the
operation. Answers use the documented envelope ``{"data": …, "extendedData": []}`` (lists add
``metaData``), errors the nested ``{"error": {"message", "code", "fields"}}``, and every
response carries a fresh ``X-Request-Id``. Both version prefixes, ``/v3`` and ``/l3``, serve.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import re
import socket
import time
import uuid
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Flask, Response, g, request
from werkzeug.exceptions import HTTPException

from .. import protocol
from ..errors import ApiError
from ..protocol import Endpoint
from . import faults as fault_kinds
from . import inspection_api, payment_page
from .core import AUTH_MISSING, AUTH_OK
from .engine import SandboxEngine
from .http import ENGINE_KEY, engine, envelope, error_response, json_response, request_body
from .listing import parse_query
from .rules import api_error

log = logging.getLogger(__name__)

DROP_KEY = "invoicebox_sandbox.drop"
REQUEST_ID_HEADER = "X-Request-Id"
API_PREFIX = "/<any(v3, l3):version>"

api = Blueprint("invoicebox_api", __name__)


# --- the request pipeline ----------------------------------------------------------------------------


def endpoint(*served: Endpoint, anonymous: bool = False) -> Callable[[Callable[..., Any]], Callable[..., Response]]:
    """Serve a view as the API method(s) ``served``, under both version prefixes; faults and the
    request log know it by the endpoint's name.

    ``anonymous``: a request without any token is served (check auth answers ``userId: null``).
    """
    def decorate(view: Callable[..., Any]) -> Callable[..., Response]:
        name = served[0].name

        @functools.wraps(view)
        def run(version: str, **kwargs: Any) -> Response:
            return _serve(name, anonymous, lambda auth: view(engine(), auth=auth, **kwargs))

        for index, spec in enumerate(served):
            path = API_PREFIX + "/" + re.sub(r"\{(\w+)\}", r"<\1>", spec.path)
            api.add_url_rule(path, endpoint=f"{view.__name__}_{index}" if index else view.__name__,
                             view_func=run, methods=[spec.method])
        return run
    return decorate


def _serve(name: str, anonymous: bool, call: Callable[[str], Any]) -> Response:
    sandbox = engine()
    fault = None
    dropped = False
    try:
        wait = sandbox.throttle.admit(_bearer(request.headers.get("Authorization")))
        if wait is not None:
            retry_after = wait if sandbox.settings.rate_limit_retry_after else None
            raise api_error(429, "too_many_requests", "Too Many Requests", retry_after=retry_after)
        fault = sandbox.faults.take(name)
        if fault is not None and not fault.after_commit:
            if fault.kind == fault_kinds.SERVER_ERROR:
                raise api_error(500, "internal_error", "Internal Server Error (injected)")
            if fault.kind == fault_kinds.RATE_LIMIT:
                retry_after = int(fault.seconds(fault_kinds.DEFAULT_RETRY_AFTER))
                raise api_error(429, "too_many_requests", "Too Many Requests (injected)", retry_after=retry_after)
            if fault.kind == fault_kinds.RATE_LIMIT_NO_RETRY_AFTER:
                raise api_error(429, "too_many_requests", "Too Many Requests (injected)")
            if fault.kind == fault_kinds.DROP:
                dropped = True
                return _drop()
            if fault.kind == fault_kinds.SLOW:
                sandbox.sleep(fault.seconds(fault_kinds.DEFAULT_SLOW_SECONDS))
        auth = sandbox.authenticate(request.headers.get("Authorization"))
        if auth != AUTH_OK and not (anonymous and auth == AUTH_MISSING):
            raise api_error(401, "unauthorized", "Unauthorized")
        response = json_response(envelope(call(auth)))
    except ApiError as error:
        response = error_response(error)
    except Exception:  # a bug in the sandbox still answers like a server: 500 in the envelope
        log.exception("sandbox failed on %s %s", request.method, request.path)
        response = error_response(api_error(500, "internal_error", "Internal Server Error"))
    finally:
        if fault is not None and fault.after_commit:
            if fault.kind == fault_kinds.SERVER_ERROR_AFTER_COMMIT:
                response = error_response(api_error(500, "internal_error", "Internal Server Error (injected)"))
            elif fault.kind == fault_kinds.SLOW_AFTER_COMMIT:
                sandbox.sleep(fault.seconds(fault_kinds.DEFAULT_SLOW_SECONDS))
            elif fault.kind == fault_kinds.DROP_AFTER_COMMIT:
                dropped = True
                response = _drop()
        sandbox.controls.log_request({
            "method": request.method, "path": request.path, "query": request.query_string.decode("latin-1"),
            "status": None if dropped else response.status_code, "requestId": g.request_id,
            "endpoint": name, "at": time.time(),
        })
    return response


def _bearer(authorization: str | None) -> str | None:
    if not authorization:
        return None
    return authorization.strip().partition(" ")[2].strip() or None


def _drop() -> Response:
    request.environ[DROP_KEY] = True
    return Response(status=500)  # never sent: ConnectionDropper closes the socket instead


class ConnectionDropper:
    """WSGI middleware: when a view asked for it, close the connection without any answer.

    The werkzeug development server exposes the client socket as ``werkzeug.socket`` and treats
    a ``ConnectionError`` from the app as a dropped connection, so nothing is written back.
    """

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        result = self.app(environ, start_response)
        if not environ.get(DROP_KEY):
            return result
        if hasattr(result, "close"):
            result.close()
        sock = environ.get("werkzeug.socket")
        if sock is not None:
            with contextlib.suppress(OSError):  # already closed by the client
                sock.shutdown(socket.SHUT_RDWR)
        raise ConnectionAbortedError("connection dropped by an injected fault")


# --- API routes ----------------------------------------------------------------------------------------


@endpoint(protocol.CHECK_AUTH, anonymous=True)
def check_auth(ib: SandboxEngine, auth: str) -> Any:
    return ib.orders.check_auth(auth)


@endpoint(protocol.CREATE_ORDER)
def create_order(ib: SandboxEngine, auth: str) -> Any:
    return ib.orders.create_order(request_body())


@endpoint(protocol.FIND_ORDERS)
def find_orders(ib: SandboxEngine, auth: str) -> Any:
    return ib.orders.find_orders(parse_query(request.args.lists()))


@endpoint(protocol.GET_ORDER)
def get_order(ib: SandboxEngine, auth: str, order_id: str) -> Any:
    return ib.orders.get_order(order_id)


@endpoint(protocol.UPDATE_ORDER)
def update_order(ib: SandboxEngine, auth: str, order_id: str) -> Any:
    return ib.orders.update_order(order_id, request_body())


@endpoint(protocol.CANCEL_ORDER)
def cancel_order(ib: SandboxEngine, auth: str, order_id: str) -> Any:
    return ib.orders.cancel_order(order_id)


@endpoint(protocol.CREATE_SHIPMENT)
def create_shipment(ib: SandboxEngine, auth: str) -> Any:
    return ib.shipments.create_shipment(request_body())


@endpoint(protocol.LIST_SHIPMENTS, protocol.LIST_SHIPMENTS_BILLING)
def list_shipments(ib: SandboxEngine, auth: str) -> Any:
    return ib.shipments.list_shipments(parse_query(request.args.lists()))


@endpoint(protocol.REFUNDABLE_ITEMS)
def refundable_items(ib: SandboxEngine, auth: str, order_id: str) -> Any:
    return ib.refunds.refundable_items(order_id)


@endpoint(protocol.CREATE_REFUND)
def create_refund(ib: SandboxEngine, auth: str) -> Any:
    return ib.refunds.create_refund(request_body())


@endpoint(protocol.LIST_REFUNDS)
def list_refunds(ib: SandboxEngine, auth: str) -> Any:
    return ib.refunds.list_refunds(parse_query(request.args.lists()))


# --- the app ---------------------------------------------------------------------------------------------


def create_app(sandbox: SandboxEngine) -> Flask:
    """The whole sandbox as one WSGI app: API, payment page and inspection API."""
    app = Flask(__name__)
    app.extensions[ENGINE_KEY] = sandbox
    app.register_blueprint(api)
    app.register_blueprint(payment_page.blueprint)
    app.register_blueprint(inspection_api.blueprint)

    @app.before_request
    def assign_request_id() -> None:
        g.request_id = str(uuid.uuid4())

    @app.after_request
    def add_request_id(response: Response) -> Response:
        response.headers.setdefault(REQUEST_ID_HEADER, getattr(g, "request_id", None) or str(uuid.uuid4()))
        return response

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        if request.path.startswith("/pay/"):
            return payment_page.error_page(error.code or 500)  # Russian, like the rest of the page
        status = error.code or 500
        code = {404: "not_found", 405: "method_not_allowed"}.get(status, "validation" if status < 500 else "internal_error")
        return error_response(api_error(status, code, error.description or error.name))

    app.wsgi_app = ConnectionDropper(app.wsgi_app)  # type: ignore[method-assign]
    return app

