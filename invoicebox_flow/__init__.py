"""invoicebox-flow: strict, explicit, persisted order lifecycles for InvoiceBox API v3 payments.

The public API, in the order an integrator meets it::

    from invoicebox_flow import InvoiceboxClient, Store, OrderFlow, basket_line, PrivateCustomer

The local InvoiceBox for tests and demos lives in :mod:`invoicebox_flow.sandbox` (imported on
demand: it pulls in Flask).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .client import InvoiceboxClient
    from .engine import Fact, OrderFlow, OrderLine, OrderView
    from .errors import (
        ApiError,
        AuthenticationError,
        BasketError,
        ConcurrentUpdateError,
        CustomerError,
        FlowError,
        IllegalTransitionError,
        InvalidRequestError,
        InvoiceboxFlowError,
        NotFoundError,
        OrderNotFoundError,
        RateLimitError,
        RefundLimitError,
        ResultUnknownError,
        ServerError,
        SignatureError,
        TransportError,
        ValidationError,
    )
    from .flows import SEQUENCES, State, Variant
    from .models import (
        BasketItem,
        LegalCustomer,
        Order,
        OrderRequest,
        PrivateCustomer,
        RefundableItem,
        RefundOrder,
        RefundRequest,
        Shipment,
        ShipmentRequest,
    )
    from .money import basket_line, to_money
    from .ratelimit import RateLimiter
    from .signature import sign, verify
    from .store import Store
    from .webhook import NotificationHandler, make_wsgi_app
    from .worker import Worker

# Each public name and the submodule that defines it, imported on first use: importing a
# submodule (the pytest plugin, the CLI) then costs no SQLAlchemy, transitions or requests.
_EXPORTS = {
    "InvoiceboxClient": "client", "Fact": "engine", "OrderFlow": "engine", "OrderLine": "engine",
    "OrderView": "engine", "ApiError": "errors", "AuthenticationError": "errors", "BasketError": "errors",
    "ConcurrentUpdateError": "errors", "CustomerError": "errors", "FlowError": "errors",
    "IllegalTransitionError": "errors", "InvalidRequestError": "errors", "InvoiceboxFlowError": "errors",
    "NotFoundError": "errors", "OrderNotFoundError": "errors", "RateLimitError": "errors",
    "RefundLimitError": "errors", "ResultUnknownError": "errors", "ServerError": "errors",
    "SignatureError": "errors", "TransportError": "errors", "ValidationError": "errors", "SEQUENCES": "flows",
    "State": "flows", "Variant": "flows", "BasketItem": "models", "LegalCustomer": "models", "Order": "models",
    "OrderRequest": "models", "PrivateCustomer": "models", "RefundableItem": "models", "RefundOrder": "models",
    "RefundRequest": "models", "Shipment": "models", "ShipmentRequest": "models", "basket_line": "money",
    "to_money": "money", "RateLimiter": "ratelimit", "sign": "signature", "verify": "signature", "Store": "store",
    "NotificationHandler": "webhook", "make_wsgi_app": "webhook", "Worker": "worker",
}

__all__ = [
    "SEQUENCES", "ApiError", "AuthenticationError", "BasketError", "BasketItem", "ConcurrentUpdateError",
    "CustomerError", "Fact", "FlowError", "IllegalTransitionError", "InvalidRequestError", "InvoiceboxClient",
    "InvoiceboxFlowError", "LegalCustomer", "NotFoundError", "NotificationHandler", "Order", "OrderFlow", "OrderLine",
    "OrderNotFoundError", "OrderRequest", "OrderView", "PrivateCustomer", "RateLimitError", "RateLimiter",
    "RefundLimitError", "RefundOrder", "RefundRequest", "RefundableItem", "ResultUnknownError", "ServerError",
    "Shipment", "ShipmentRequest", "SignatureError", "State", "Store", "TransportError", "ValidationError", "Variant",
    "Worker", "basket_line", "make_wsgi_app", "sign", "to_money", "verify",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
