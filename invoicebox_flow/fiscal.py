"""What InvoiceBox issues around an order: 54-FZ receipts and reporting documents.

Written once for both sides: the shop's engine records the receipts and documents the
documentation promises, and the sandbox issues them.

* A **private** buyer (natural person) gets cash-register receipts: «предоплата 100%» on
  payment, «полный расчёт» on shipment, «возврат» on refund (``merchant/schema.md``).
* A **legal** buyer (organisation or sole proprietor) gets reporting documents on shipment and
  on refund: always the funds-transfer report, plus an act for services and a TORG-12 for goods.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from typing import Any, Final


class Receipt(enum.StrEnum):
    """A cash-register receipt kind, by the event it settles."""

    PREPAYMENT_FULL = "prepayment_full"  # «предоплата 100%», on payment
    FULL_SETTLEMENT = "full_settlement"  # «полный расчёт», on shipment
    REFUND = "refund"  # «возврат», on refund

    @property
    def label(self) -> str:
        """The receipt's name as the documentation writes it («предоплата 100%»)."""
        return _RECEIPT_TITLES[self]

    @classmethod
    def for_event(cls, event: str) -> Receipt:
        """The receipt of ``"payment"``, ``"shipment"`` or a refund (``"refund:<id>"``)."""
        if event == "payment":
            return cls.PREPAYMENT_FULL
        if event == "shipment" or event.startswith("shipment:"):
            return cls.FULL_SETTLEMENT
        return cls.REFUND


_RECEIPT_TITLES: Final = {
    Receipt.PREPAYMENT_FULL: "предоплата 100%",
    Receipt.FULL_SETTLEMENT: "полный расчёт",
    Receipt.REFUND: "возврат",
}

#: FFD tag 1214 (settlement method) each receipt states for its lines.
RECEIPT_PAYMENT_TYPES: Final = {Receipt.PREPAYMENT_FULL: "full_prepayment", Receipt.FULL_SETTLEMENT: "full_payment"}

DOCUMENT_TITLES: Final = {
    "transfer_report": "Отчёт о переводе денежных средств",
    "act": "Акт оказанных услуг",
    "torg12": "Товарная накладная ТОРГ-12",
    "refund_transfer_report": "Отчёт о возврате денежных средств",
    "refund_act": "Акт о возврате (услуги)",
    "refund_torg12": "Накладная на возврат ТОРГ-12",
}

# FFD tag 1212 values that are goods (товар): goods, excise goods, marked goods with or
# without a code (reference §5.2). Everything else, "service" included, is not goods.
GOODS_TYPE_CODES: Final = frozenset({1, 2, 30, 31, 32, 33})


def is_goods_type(kind: Any) -> bool:
    """True for a basket line ``type`` that is goods: ``"commodity"`` or a goods tag-1212 code."""
    if isinstance(kind, bool):
        return False
    if isinstance(kind, int):
        return kind in GOODS_TYPE_CODES
    if isinstance(kind, str) and kind.isdigit():
        return int(kind) in GOODS_TYPE_CODES
    return bool(kind == "commodity")


def is_goods(line: Mapping[str, Any]) -> bool:
    """True for a camelCase basket line of goods (TORG-12 rather than an act)."""
    return is_goods_type(line.get("type"))


def document_kinds(lines: Iterable[Mapping[str, Any]], *, refund: bool) -> list[str]:
    """The reporting documents a legal buyer gets for ``lines``: the funds-transfer report, an
    act if any line is a service, a TORG-12 if any line is goods (refunds: ``refund_*``)."""
    lines = list(lines)
    kinds = ["transfer_report"]
    if any(not is_goods(line) for line in lines):
        kinds.append("act")
    if any(is_goods(line) for line in lines):
        kinds.append("torg12")
    return [f"refund_{kind}" for kind in kinds] if refund else kinds


def document_lines(kind: str, lines: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The lines a document of ``kind`` covers: every line for the transfer report, the services
    for an act, the goods for a TORG-12."""
    base = kind.removeprefix("refund_")
    return [line for line in lines if base == "transfer_report" or (base == "torg12") == is_goods(line)]
