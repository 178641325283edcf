"""Errors only the store raises, placed in the tree of :mod:`invoicebox_flow.errors`.

::

    InvoiceboxFlowError
    ├── FlowError
    │   ├── DuplicateNotificationError  this notification was applied before; nothing written
    │   ├── StoreBusyError              the database stayed locked; nothing written, retry
    │   ├── OutboxLeaseLostError        the outbox item is no longer claimed by this worker
    │   └── DeliveryLeaseLostError      the event delivery is no longer claimed by this worker
    └── SchemaVersionError              the database was written by a newer invoicebox-flow

The store also raises, from :mod:`invoicebox_flow.errors`: ``ConcurrentUpdateError``
(compare-and-set lost), ``OrderNotFoundError`` and ``ValidationError`` (duplicate ids).
"""

from __future__ import annotations

from ..errors import FlowError, InvoiceboxFlowError


class DuplicateNotificationError(FlowError):
    """The notification key was recorded by an earlier update: it was applied already.

    The update that carried it wrote nothing. Answer the notification with success.
    """

    def __init__(self, key: str, order_id: str):
        self.key = key
        self.order_id = order_id
        super().__init__(f"order {order_id}: notification {key!r} was processed already")


class StoreBusyError(FlowError):
    """The database stayed locked by other writers for longer than the busy timeout, or a
    transaction lost a lock race (PostgreSQL deadlock or serialization failure).

    Nothing was written; retrying the same call is safe.
    """

    retryable = True


class OutboxLeaseLostError(FlowError):
    """The outbox item is not (or no longer) claimed by this worker; nothing was changed.

    Another worker took it over after the lease expired, or it was completed already.
    """

    def __init__(self, item_id: int, worker: str):
        self.item_id = item_id
        self.worker = worker
        super().__init__(f"outbox item {item_id} is not claimed by {worker!r}")


class DeliveryLeaseLostError(FlowError):
    """The event delivery is not (or no longer) claimed by this worker; nothing was changed.

    Its lease ran out and another worker claimed it, or it was completed already.
    """

    def __init__(self, delivery_id: int, worker: str):
        self.delivery_id = delivery_id
        self.worker = worker
        super().__init__(f"event delivery {delivery_id} is not claimed by {worker!r}")


class SchemaVersionError(InvoiceboxFlowError):
    """The database's schema is newer than this version of invoicebox-flow understands."""
