"""The sandbox's answers to the shipment methods of the API: register a shipment, list them.

A shipment the shop requests is refused unless the order is paid and the lines are lines of the
order not yet shipped or refunded (:func:`.rules.shipment_lines`), so a request for lines that
InvoiceBox already shipped by itself (:meth:`.backoffice.BackOffice.ship_automatically`) is
refused with ``wrong_shipment_amount``. The receipt or documents follow in the background.
"""

from __future__ import annotations

import copy
from typing import Any

from . import rules
from .backoffice import BackOffice
from .core import SandboxCore
from .listing import Listed, ListQuery, apply_query


class ShipmentsApi:
    def __init__(self, core: SandboxCore, backoffice: BackOffice) -> None:
        self.core = core
        self.backoffice = backoffice
        self.state = core.state

    def create_shipment(self, payload: Any) -> dict[str, Any]:
        with self.state.lock:
            self.backoffice.catch_up()
            request = dict(rules.check_shipment_request(payload))
            record = self.core._order(request["orderId"])
            lines = rules.shipment_lines(record, request, self.state.shipments_of(record),
                                         self.state.refunds_of(record))
            shipment = self.backoffice.register_shipment(record, request, lines)
            order = record.to_json()
            self.core._in_background(
                lambda: self.backoffice.issue_shipment_papers(order, copy.deepcopy(lines), shipment["id"]))
            return shipment

    def list_shipments(self, query: ListQuery) -> Listed:
        with self.state.lock:
            self.backoffice.catch_up()
            items, meta = apply_query(query, copy.deepcopy(list(self.state.shipments.values())))
            return Listed(items, meta)
