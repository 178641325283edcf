"""invoicebox-flow: strict, explicit, persisted order lifecycles for InvoiceBox API v3 payments.

The public API, in the order an integrator meets it::

    from invoicebox_flow import InvoiceboxClient, Store, OrderFlow, basket_line, PrivateCustomer

Names are imported when first used (PEP 562), so ``import invoicebox_flow`` costs almost
nothing and a shop that only needs the client never loads SQLAlchemy or the state machines.
The local InvoiceBox for tests and demos lives in :mod:`invoicebox_flow.sandbox` (the
``sandbox`` extra: ``pip install 'invoicebox-flow[sandbox]'``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__

# public name -> the module that defines it
_EXPORTS: dict[str, str] = {
    "InvoiceboxClient": "client",
    "Fact": "engine", "OrderFlow": "engine", "OrderLine": "engine", "OrderView": "engine",
    "ExtensionStep": "engine", "Handlers": "engine", "LifecycleStep": "engine", "OrderAnnotated": "engine",
    "OrderCanceled": "engine", "OrderEvent": "engine", "OrderExpired": "engine", "OrderPaid": "engine",
    "OrderPlaced": "engine", "OrderRefunded": "engine", "OrderShipped": "engine", "PaymentDeclined": "engine",
    "PaymentLinkIssued": "engine",
    "ApiError": "errors", "AuthenticationError": "errors", "BasketError": "errors",
    "ConcurrentUpdateError": "errors", "CustomerError": "errors", "DefinitionError": "errors", "FlowError": "errors",
    "IllegalTransitionError": "errors", "InvalidRequestError": "errors", "InvoiceboxFlowError": "errors",
    "NotFoundError": "errors", "OrderNotFoundError": "errors", "RateLimitError": "errors",
    "RefundLimitError": "errors", "ResultUnknownError": "errors", "ServerError": "errors",
    "SignatureError": "errors", "TransportError": "errors", "ValidationError": "errors",
    "MissingExtraError": "extras",
    "DOCUMENTED_FLOW": "flows", "SEQUENCES": "flows", "FlowDefinition": "flows", "Lifecycle": "flows",
    "Message": "flows", "State": "flows", "StateSpec": "flows", "Variant": "flows",
    "BasketItem": "models", "LegalCustomer": "models", "Order": "models", "OrderRequest": "models",
    "PrivateCustomer": "models", "RefundableItem": "models", "RefundOrder": "models", "RefundRequest": "models",
    "Shipment": "models", "ShipmentRequest": "models",
    "basket_line": "models", "to_money": "money",
    "RateLimiter": "ratelimit",
    "Drift": "reconcile", "Finding": "reconcile", "SweepReport": "reconcile",
    "sign": "signature", "verify": "signature",
    "Store": "store", "StoreRateLimiter": "store",
    "NotificationHandler": "webhook", "make_wsgi_app": "webhook",
    "Worker": "worker",
}

# A literal list, so that type checkers see the re-exports (tests/test_imports.py: equal to _EXPORTS).
__all__ = [
    "DOCUMENTED_FLOW", "SEQUENCES", "ApiError", "AuthenticationError", "BasketError", "BasketItem",
    "ConcurrentUpdateError", "CustomerError", "DefinitionError", "Drift", "ExtensionStep", "Fact", "Finding",
    "FlowDefinition", "FlowError", "Handlers", "IllegalTransitionError", "InvalidRequestError",
    "InvoiceboxClient", "InvoiceboxFlowError", "LegalCustomer", "Lifecycle", "LifecycleStep", "Message",
    "MissingExtraError", "NotFoundError", "NotificationHandler", "Order", "OrderAnnotated", "OrderCanceled",
    "OrderEvent", "OrderExpired", "OrderFlow", "OrderLine", "OrderNotFoundError", "OrderPaid", "OrderPlaced",
    "OrderRefunded", "OrderRequest", "OrderShipped", "OrderView", "PaymentDeclined", "PaymentLinkIssued",
    "PrivateCustomer", "RateLimitError",
    "RateLimiter", "RefundLimitError", "RefundOrder", "RefundRequest", "RefundableItem", "ResultUnknownError",
    "ServerError", "Shipment", "ShipmentRequest", "SignatureError", "State", "StateSpec", "Store", "StoreRateLimiter",
    "SweepReport", "TransportError",
    "ValidationError", "Variant", "Worker", "__version__", "basket_line", "make_wsgi_app", "sign", "to_money",
    "verify",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # the next lookup is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})


if TYPE_CHECKING:  # what type checkers and IDEs see (tests/test_imports.py: the same names as _EXPORTS)
    from .client import InvoiceboxClient
    from .engine import (
        ExtensionStep,
        Fact,
        Handlers,
        LifecycleStep,
        OrderAnnotated,
        OrderCanceled,
        OrderEvent,
        OrderExpired,
        OrderFlow,
        OrderLine,
        OrderPaid,
        OrderPlaced,
        OrderRefunded,
        OrderShipped,
        OrderView,
        PaymentDeclined,
        PaymentLinkIssued,
    )
    from .errors import (
        ApiError,
        AuthenticationError,
        BasketError,
        ConcurrentUpdateError,
        CustomerError,
        DefinitionError,
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
    from .extras import MissingExtraError
    from .flows import DOCUMENTED_FLOW, SEQUENCES, FlowDefinition, Lifecycle, Message, State, StateSpec, Variant
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
        basket_line,
    )
    from .money import to_money
    from .ratelimit import RateLimiter
    from .reconcile import Drift, Finding, SweepReport
    from .signature import sign, verify
    from .store import Store, StoreRateLimiter
    from .webhook import NotificationHandler, make_wsgi_app
    from .worker import Worker
