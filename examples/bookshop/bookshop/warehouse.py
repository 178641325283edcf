"""Copies on the shelf. An order is packed only when every book of it is there."""

from __future__ import annotations

import threading
from collections.abc import Mapping

from invoicebox_flow import OrderView


class Warehouse:
    """The stock, by sku: a stand-in for the shop's stock system."""

    def __init__(self, stock: Mapping[str, int]) -> None:
        self._stock = dict(stock)
        self._lock = threading.Lock()

    def in_stock(self, order: OrderView) -> bool:
        """The ``in_stock`` guard of the ``pack`` transition: the order's view in, yes or no out."""
        with self._lock:
            return all(self._stock.get(line.sku, 0) >= line.quantity for line in order.lines)

    def receive(self, sku: str, copies: int) -> None:
        with self._lock:
            self._stock[sku] = self._stock.get(sku, 0) + copies
