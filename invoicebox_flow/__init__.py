"""invoicebox-flow: strict, explicit, persisted order lifecycles for InvoiceBox API v3 payments.

The public API, in the order an integrator meets it::

    from invoicebox_flow import InvoiceboxClient, Store, OrderFlow, basket_line, PrivateCustomer

The local InvoiceBox for tests and demos lives in :mod:`invoicebox_flow.sandbox` (imported on
demand: it pulls in Flask).
"""

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
    basket_line,
)
from .money import to_money
from .ratelimit import RateLimiter
from .signature import sign, verify
from .store import Store
from .webhook import NotificationHandler, make_wsgi_app
from .worker import Worker

__all__ = [
    "SEQUENCES", "ApiError", "AuthenticationError", "BasketError", "BasketItem", "ConcurrentUpdateError",
    "CustomerError", "Fact", "FlowError", "IllegalTransitionError", "InvalidRequestError", "InvoiceboxClient",
    "InvoiceboxFlowError", "LegalCustomer", "NotFoundError", "NotificationHandler", "Order", "OrderFlow", "OrderLine",
    "OrderNotFoundError", "OrderRequest", "OrderView", "PrivateCustomer", "RateLimitError", "RateLimiter",
    "RefundLimitError", "RefundOrder", "RefundRequest", "RefundableItem", "ResultUnknownError", "ServerError",
    "Shipment", "ShipmentRequest", "SignatureError", "State", "Store", "TransportError", "ValidationError", "Variant",
    "Worker", "basket_line", "make_wsgi_app", "sign", "to_money", "verify",
]
