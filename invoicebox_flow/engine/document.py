"""The order document: what the shop keeps of one order besides its state, typed.

The store keeps it as JSON (``OrderRecord.data``, camelCase keys, amounts as exact decimals);
the engine reads it once per operation into an :class:`OrderDocument`, changes it with
``attrs.evolve`` and writes it back with :meth:`OrderDocument.to_json`. Every field has one
meaning and one type, so no rule indexes a dict by a string.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

import attrs

from .. import money
from ..fiscal import is_goods_type
from ..protocol import RefundStatus

ZERO = Decimal("0.00")


def _amount(value: Any) -> Decimal:
    """An amount read back from the store: ints for whole numbers, Decimals otherwise."""
    if isinstance(value, Decimal):
        # in kopecks already, as the engine wrote it (a document is read on every operation)
        return value if value.same_quantum(money.KOPECK) else money.to_money(value)
    if type(value) is int:
        return Decimal(value).quantize(money.KOPECK)  # exact: what to_money makes of it, without its text
    return money.to_money(str(value))


def _quantity(value: Any) -> Decimal:
    if isinstance(value, Decimal):
        return value
    return Decimal(value) if type(value) is int else Decimal(str(value))  # (a quantity of 0 is stored as 0)


@attrs.frozen
class OrderLine:
    """One basket line of the order, with how much of it was shipped and refunded."""

    sku: str
    name: str
    quantity: Decimal
    unit_price: Decimal
    total_amount: Decimal
    total_vat_amount: Decimal
    vat_code: str
    type: str | int
    refunded_quantity: Decimal = Decimal(0)
    refunded_amount: Decimal = ZERO
    refunded_vat_amount: Decimal = ZERO
    shipped_quantity: Decimal = Decimal(0)
    shipped_amount: Decimal = ZERO
    shipped_vat_amount: Decimal = ZERO

    @property
    def is_goods(self) -> bool:
        return is_goods_type(self.type)

    @property
    def shippable_quantity(self) -> Decimal:
        """What is left to ship: neither shipped nor refunded (what InvoiceBox lets a shipment take)."""
        return max(Decimal(0), self.quantity - self.shipped_quantity - self.refunded_quantity)

    @property
    def shippable_amount(self) -> Decimal:
        return max(ZERO, self.total_amount - self.shipped_amount - self.refunded_amount)

    @property
    def shippable_vat_amount(self) -> Decimal:
        return max(ZERO, self.total_vat_amount - self.shipped_vat_amount - self.refunded_vat_amount)

    @property
    def refundable_quantity(self) -> Decimal:
        return self.quantity - self.refunded_quantity

    @property
    def refundable_amount(self) -> Decimal:
        return self.total_amount - self.refunded_amount

    @property
    def refundable_vat_amount(self) -> Decimal:
        return self.total_vat_amount - self.refunded_vat_amount

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> OrderLine:
        return cls(sku=data["sku"], name=data["name"], quantity=_quantity(data["quantity"]),
                   unit_price=_amount(data["amount"]), total_amount=_amount(data["totalAmount"]),
                   total_vat_amount=_amount(data["totalVatAmount"]), vat_code=data["vatCode"], type=data["type"],
                   refunded_quantity=_quantity(data.get("refundedQuantity", 0)),
                   refunded_amount=_amount(data.get("refundedAmount", 0)),
                   refunded_vat_amount=_amount(data.get("refundedVatAmount", 0)),
                   shipped_quantity=_quantity(data.get("shippedQuantity", 0)),
                   shipped_amount=_amount(data.get("shippedAmount", 0)),
                   shipped_vat_amount=_amount(data.get("shippedVatAmount", 0)))

    def to_json(self) -> dict[str, Any]:
        return {"sku": self.sku, "name": self.name, "quantity": self.quantity, "amount": self.unit_price,
                "totalAmount": self.total_amount, "totalVatAmount": self.total_vat_amount, "vatCode": self.vat_code,
                "type": self.type, "refundedQuantity": self.refunded_quantity, "refundedAmount": self.refunded_amount,
                "refundedVatAmount": self.refunded_vat_amount, "shippedQuantity": self.shipped_quantity,
                "shippedAmount": self.shipped_amount, "shippedVatAmount": self.shipped_vat_amount}


def lines_of(basket: Iterable[Mapping[str, Any]]) -> tuple[OrderLine, ...]:
    """The lines the order keeps of camelCase basket items, with nothing refunded yet."""
    return tuple(OrderLine.from_json(item) for item in basket)


@attrs.frozen
class Fact:
    """A receipt or document that InvoiceBox issued for the order, and how we know."""

    kind: str  # "receipt" | "document"
    type: str  # receipt: prepayment_full / full_settlement / refund; document: transfer_report / act / torg12 / refund_*
    event: str  # "payment" | "shipment" | "refund:<refund merchantOrderId>"
    source: str  # "notification" | "shipment" | "refund" | "sandbox"
    ref: str | None = None  # the receipt's or document's id where InvoiceBox's side told us

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Fact:
        return cls(data["kind"], data["type"], data["event"], data["source"], data.get("ref"))

    def to_json(self) -> dict[str, Any]:
        return attrs.asdict(self)


@attrs.frozen
class LinePart:
    """A part of one order line that a refund or shipment carries."""

    sku: str
    quantity: Decimal
    amount: Decimal
    vat_amount: Decimal

    @classmethod
    def of(cls, item: Mapping[str, Any]) -> LinePart:
        """From a camelCase basket line (``totalAmount``/``totalVatAmount``) or a stored part."""
        return cls(str(item["sku"]), _quantity(item["quantity"]), _amount(item.get("totalAmount", item.get("amount", 0))),
                   _amount(item.get("totalVatAmount", item.get("vatAmount", 0))))

    def to_json(self) -> dict[str, Any]:
        return {"sku": self.sku, "quantity": self.quantity, "amount": self.amount, "vatAmount": self.vat_amount}


def parts_of(items: Iterable[Mapping[str, Any]]) -> tuple[LinePart, ...]:
    return tuple(LinePart.of(item) for item in items)


@attrs.frozen
class RefundEntry:
    """A refund InvoiceBox registered for the order."""

    id: str
    merchant_order_id: str
    amount: Decimal
    vat_amount: Decimal
    status: str
    lines: tuple[LinePart, ...]
    requested_from: str | None = None  # the order's state when the refund was requested

    @property
    def canceled(self) -> bool:
        return self.status == RefundStatus.CANCELED.value

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RefundEntry:
        return cls(str(data["id"]), data["merchantOrderId"], _amount(data["amount"]), _amount(data["vatAmount"]),
                   data.get("status") or "", parts_of(data["lines"]), data.get("requestedFrom"))

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "merchantOrderId": self.merchant_order_id, "amount": self.amount,
                               "vatAmount": self.vat_amount, "status": self.status,
                               "lines": [part.to_json() for part in self.lines]}
        if self.requested_from is not None:
            out["requestedFrom"] = self.requested_from
        return out


@attrs.frozen
class ShipmentEntry:
    """A shipment InvoiceBox registered for the order: by the shop's request, or by itself
    (``observed``: an online service InvoiceBox ships automatically)."""

    id: str
    at: str  # ISO timestamp of when the shop learnt of it
    lines: tuple[LinePart, ...] = ()
    observed: bool = False

    @property
    def event(self) -> str:
        """The event its receipt or documents are recorded under."""
        return f"shipment:{self.id}"

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ShipmentEntry:
        return cls(str(data["id"]), str(data.get("at", "")), parts_of(data.get("lines", ())),
                   bool(data.get("observed", False)))

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "at": self.at, "lines": [part.to_json() for part in self.lines]}
        if self.observed:
            out["observed"] = True
        return out


@attrs.frozen
class OrderWarning:
    """What InvoiceBox accepted but the shop should know, found by the rule book when the order
    was placed (a company without a KPP gets incomplete documents; a legacy VAT code …)."""

    code: str
    field: str
    message: str
    rule: str

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> OrderWarning:
        return cls(data["code"], data["field"], data["message"], data.get("rule", ""))

    def to_json(self) -> dict[str, Any]:
        return attrs.asdict(self)


@attrs.frozen
class OrderDocument:
    """Everything the shop keeps of one order besides its state, version and ids."""

    request: Mapping[str, Any]  # the create-order body as sent (camelCase, for a retried call)
    currency: str
    amount: Decimal
    vat_amount: Decimal
    lines: tuple[OrderLine, ...]
    paid_amount: Decimal = ZERO
    refunded_amount: Decimal = ZERO
    shipments: tuple[ShipmentEntry, ...] = ()
    refunds: tuple[RefundEntry, ...] = ()
    facts: tuple[Fact, ...] = ()
    payment_url: str | None = None
    order_container_id: str | None = None
    resume_state: str | None = None  # where a refused call goes back to
    auto_ship: bool = False  # ship right after the payment commits (online services)
    warnings: tuple[OrderWarning, ...] = ()

    @property
    def shipped(self) -> bool:
        return bool(self.shipments)

    @property
    def something_to_ship(self) -> bool:
        return any(line.shippable_quantity > 0 for line in self.lines)

    @property
    def refundable_amount(self) -> Decimal:
        return self.paid_amount - self.refunded_amount

    @property
    def services_only(self) -> bool:
        return all(not line.is_goods for line in self.lines)

    def line(self, sku: str) -> OrderLine | None:
        return next((ln for ln in self.lines if ln.sku == sku), None)

    def request_line(self, sku: str) -> Mapping[str, Any]:
        """The basket item as it was sent to InvoiceBox (measure, paymentType, … included)."""
        return next(item for item in self.request["basketItems"] if item["sku"] == sku)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> OrderDocument:
        return cls(
            request=data["request"], currency=data["currency"], amount=_amount(data["amount"]),
            vat_amount=_amount(data["vatAmount"]), lines=lines_of(data["lines"]),
            paid_amount=_amount(data.get("paidAmount", 0)), refunded_amount=_amount(data.get("refundedAmount", 0)),
            shipments=tuple(ShipmentEntry.from_json(s) for s in data.get("shipments", ())),
            refunds=tuple(RefundEntry.from_json(r) for r in data.get("refunds", ())),
            facts=tuple(Fact.from_json(f) for f in data.get("facts", ())),
            payment_url=cls.payment_url_of(data), order_container_id=data.get("orderContainerId"),
            resume_state=data.get("resumeState"), auto_ship=bool(data.get("autoShip", False)),
            warnings=tuple(OrderWarning.from_json(w) for w in data.get("warnings", ())),
        )

    @staticmethod
    def payment_url_of(data: Mapping[str, Any]) -> str | None:
        """The payment URL of a stored document, without reading the rest of it."""
        url: str | None = data.get("paymentUrl")
        return url

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "request": self.request, "currency": self.currency, "amount": self.amount, "vatAmount": self.vat_amount,
            "lines": [ln.to_json() for ln in self.lines], "paidAmount": self.paid_amount,
            "refundedAmount": self.refunded_amount, "shipped": self.shipped,
            "shipments": [s.to_json() for s in self.shipments], "refunds": [r.to_json() for r in self.refunds],
            "facts": [f.to_json() for f in self.facts],
        }
        if self.warnings:
            out["warnings"] = [w.to_json() for w in self.warnings]
        optional = {"paymentUrl": self.payment_url, "orderContainerId": self.order_container_id,
                    "resumeState": self.resume_state, "autoShip": self.auto_ship or None}
        out.update({k: v for k, v in optional.items() if v is not None})
        return out
