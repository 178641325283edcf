"""The lifecycle engine: :class:`OrderFlow` and what it returns.

Modules by concern (private; import from here): ``flow`` (the façade), ``core`` (the one place
that commits a change), ``machine`` (firing a lifecycle's shared machine, guards),
``document`` (the typed order document), ``views``, ``payment``, ``fulfilment``,
``notifications``, ``decisions`` (``can_fulfil`` once per payment), ``outbox`` (calls through
the outbox), ``calls`` (one strategy per InvoiceBox write), ``refunds`` (refund arithmetic),
``facts`` (receipts and documents), ``events`` (the lifecycle events and their catalogue),
``handlers`` (the shop's handlers by name), ``delivery`` (running them).
"""

from .delivery import Deliveries, DeliveryTally
from .document import Fact, LinePart, OrderDocument, OrderLine, OrderWarning, RefundEntry, ShipmentEntry
from .events import (
    EVENT_TYPES,
    ExtensionStep,
    LifecycleStep,
    OrderAnnotated,
    OrderCanceled,
    OrderEvent,
    OrderExpired,
    OrderPaid,
    OrderPlaced,
    OrderRefunded,
    OrderShipped,
    PaymentDeclined,
    PaymentLinkIssued,
)
from .facts import expected_facts
from .flow import OrderFlow
from .handlers import Handlers, Subscription
from .machine import BUILT_IN_CONDITIONS, Condition, next_state
from .views import OrderView, Snapshot

__all__ = [
    "BUILT_IN_CONDITIONS",
    "EVENT_TYPES",
    "Condition",
    "Deliveries",
    "DeliveryTally",
    "ExtensionStep",
    "Fact",
    "Handlers",
    "LifecycleStep",
    "LinePart",
    "OrderAnnotated",
    "OrderCanceled",
    "OrderDocument",
    "OrderEvent",
    "OrderExpired",
    "OrderFlow",
    "OrderLine",
    "OrderPaid",
    "OrderPlaced",
    "OrderRefunded",
    "OrderShipped",
    "OrderView",
    "OrderWarning",
    "PaymentDeclined",
    "PaymentLinkIssued",
    "RefundEntry",
    "ShipmentEntry",
    "Snapshot",
    "Subscription",
    "expected_facts",
    "next_state",
]
