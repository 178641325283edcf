"""The bookshop's flow: InvoiceBox's documented lifecycle, and a ``packed`` state of its own.

``paid → packed → shipment``: an order is packed (the ``pack`` transition, allowed only when the
``in_stock`` guard holds) before the shop asks InvoiceBox to register its shipment.
``invoicebox-flow diagrams --definition bookshop.flows:PACKING --out diagrams`` draws it.
"""

from __future__ import annotations

from invoicebox_flow import DOCUMENTED_FLOW, FlowDefinition, Message

PACKING: FlowDefinition = DOCUMENTED_FLOW.renamed("bookshop").insert_state(
    "packed", ru="упакован", en="packed",
    after="paid", before="request_shipment",  # the shipment request moves from "paid" to "packed"
    enter="pack", guard="in_stock",  # the guard's check is given to OrderFlow(conditions=...)
    message=Message("Магазин", "Покупатель", "Заказ собран и упакован"))
