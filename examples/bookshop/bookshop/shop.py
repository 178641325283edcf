"""The bookshop's :class:`~invoicebox_flow.OrderFlow`: its flow, its guard and its handlers."""

from __future__ import annotations

from typing import Any

from invoicebox_flow import InvoiceboxClient, OrderFlow, Store

from .events import shop_handlers
from .flows import PACKING
from .mail import Mailbox
from .warehouse import Warehouse


def make_flow(client: InvoiceboxClient, store: Store, *, warehouse: Warehouse, mailbox: Mailbox,
              **settings: Any) -> OrderFlow:
    """The shop's flow; ``settings`` are :class:`OrderFlow`'s own (``merchant_id``,
    ``notification_key``, ``notification_url``, ``success_url`` …).

    Handlers run right after each commit, in the process that committed (the payment mail goes
    out before InvoiceBox gets its answer); one that fails is retried by a worker
    (``Worker(flow).run()``), which needs this flow's handlers by the same names.
    """
    return OrderFlow(client, store, definition=PACKING, conditions={"in_stock": warehouse.in_stock},
                     handlers=shop_handlers(mailbox), inline_handlers=True, **settings)
