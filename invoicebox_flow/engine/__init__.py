"""The lifecycle engine: :class:`OrderFlow` and what it returns.

Modules by concern (private; import from here): ``flow`` (the façade), ``core`` (the one place
that commits a change), ``machine`` (firing a lifecycle's shared machine, guards),
``document`` (the typed order document), ``views``, ``payment``, ``fulfilment``,
``notifications``, ``outbox`` (calls through the outbox), ``calls`` (one strategy per
InvoiceBox write), ``refunds`` (refund arithmetic), ``facts`` (receipts and documents).
"""

from .document import Fact, LinePart, OrderDocument, OrderLine, OrderWarning, RefundEntry, ShipmentEntry
from .facts import expected_facts
from .flow import OrderFlow
from .machine import BUILT_IN_CONDITIONS, Condition, next_state
from .views import OrderView, Snapshot

__all__ = ["BUILT_IN_CONDITIONS", "Condition", "Fact", "LinePart", "OrderDocument", "OrderFlow", "OrderLine", "OrderView",
           "OrderWarning",
           "RefundEntry", "ShipmentEntry", "Snapshot", "expected_facts", "next_state"]
