"""The InvoiceBox API v3 objects as attrs models, with their exact camelCase JSON both ways.

Every model is a frozen attrs class with snake_case, keyword-only attributes that type checkers
see (``PrivateCustomer(name=..., email=...)``); an unknown keyword is refused naming the closest
valid one. :mod:`._json` maps them to JSON and back, leniently when reading what the server
sent; requests are checked against :mod:`invoicebox_flow.rulebook` by ``validate()`` (refusals)
and ``warnings()`` (what InvoiceBox tolerates but a shop should know).

* :mod:`.basket` — :class:`BasketItem`, :class:`RefundableItem`, :func:`basket_line`
* :mod:`.customers` — :class:`PrivateCustomer`, :class:`LegalCustomer`
* :mod:`.orders` — :class:`OrderRequest`, :class:`Order` (= :data:`Notification`)
* :mod:`.shipments_refunds` — :class:`ShipmentRequest`, :class:`Shipment`, :class:`RefundRequest`,
  :class:`RefundOrder`
* :mod:`.api` — :class:`AuthInfo`, :class:`ErrorBody`, :class:`Page`
"""

from ..protocol import TEST_NOTIFICATION_ID
from ..rulebook import CURRENCIES, LANGUAGES, Problem, RuleWarning
from ._json import JsonModel, json_field, json_meta
from .api import AuthInfo, ErrorBody, Page
from .basket import BasketItem, RefundableItem, basket_line
from .customers import Customer, LegalCustomer, PrivateCustomer, customer_from_json, inn_is_valid
from .orders import Notification, Order, OrderRequest
from .shipments_refunds import RefundOrder, RefundRequest, Shipment, ShipmentRequest

__all__ = [
    "CURRENCIES",
    "LANGUAGES",
    "TEST_NOTIFICATION_ID",
    "AuthInfo",
    "BasketItem",
    "Customer",
    "ErrorBody",
    "JsonModel",
    "LegalCustomer",
    "Notification",
    "Order",
    "OrderRequest",
    "Page",
    "PrivateCustomer",
    "Problem",
    "RefundOrder",
    "RefundRequest",
    "RefundableItem",
    "RuleWarning",
    "Shipment",
    "ShipmentRequest",
    "basket_line",
    "customer_from_json",
    "inn_is_valid",
    "json_field",
    "json_meta",
]
