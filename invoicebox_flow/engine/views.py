"""What integrators read: a read-only snapshot of one order, and the order as the engine holds it.

:class:`OrderView` is what every public method returns. :class:`Snapshot` is the engine's own
pairing of the stored record (state, version, ids) with its parsed :class:`OrderDocument`: read
once per operation, never re-parsed.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import attrs

from ..flows import DOCUMENTED_FLOW, Lifecycle, State, Variant
from ..store import OrderRecord
from .document import Fact, OrderDocument, OrderLine, OrderWarning, RefundEntry, ShipmentEntry

_DOCUMENTED = frozenset(s.value for s in State)


def state_value(name: str) -> str:
    """A documented state as its :class:`State` member (``view.state is State.PAID`` holds), any
    integrator's state as its plain name."""
    return State(name) if name in _DOCUMENTED else name


@attrs.frozen
class Snapshot:
    """One stored order: the record and its typed document, parsed from the record's data on
    first use (a step that needs only the state, or the payment URL, parses none of it)."""

    record: OrderRecord
    _doc: OrderDocument | None = attrs.field(default=None, alias="doc", eq=False, repr=False)

    @classmethod
    def of(cls, record: OrderRecord) -> Snapshot:
        return cls(record)

    @property
    def doc(self) -> OrderDocument:
        doc = self._doc
        if doc is None:
            doc = OrderDocument.from_json(self.record.data)
            object.__setattr__(self, "_doc", doc)  # parsed once: a snapshot never changes
        return doc

    @property
    def payment_url(self) -> str | None:
        doc = self._doc
        return doc.payment_url if doc is not None else OrderDocument.payment_url_of(self.record.data)

    @property
    def id(self) -> str:
        return self.record.id

    @property
    def state(self) -> str:
        return self.record.state

    @property
    def variant(self) -> Variant:
        return Variant(self.record.variant)

    @property
    def invoicebox_id(self) -> str | None:
        return self.record.invoicebox_id


@attrs.frozen
class OrderView:
    """A read-only snapshot of one order, as stored.

    ``state`` is the state's name (a :class:`~invoicebox_flow.flows.State` member for the
    documented states, so ``view.state is State.PAID`` and ``view.state == "paid"`` both hold);
    ``state_label`` is its Russian label. ``is_final`` and the labels come from the order's
    flow definition. ``warnings`` are what InvoiceBox accepted but the shop should know (from the
    rule book, when the order was placed).
    """

    order_id: str
    variant: Variant
    state: str
    state_label: str
    version: int
    invoicebox_id: str | None
    payment_url: str | None
    currency: str
    amount: Decimal
    vat_amount: Decimal
    paid_amount: Decimal
    refunded_amount: Decimal
    lines: tuple[OrderLine, ...]
    shipments: tuple[ShipmentEntry, ...]
    refunds: tuple[RefundEntry, ...]
    facts: tuple[Fact, ...]
    warnings: tuple[OrderWarning, ...]
    is_final: bool
    created_at: datetime
    updated_at: datetime

    @property
    def shipped(self) -> bool:
        return bool(self.shipments)

    @property
    def refundable_amount(self) -> Decimal:
        return self.paid_amount - self.refunded_amount

    @property
    def receipts(self) -> tuple[Fact, ...]:
        return tuple(f for f in self.facts if f.kind == "receipt")

    @property
    def documents(self) -> tuple[Fact, ...]:
        return tuple(f for f in self.facts if f.kind == "document")

    @classmethod
    def build(cls, snapshot: Snapshot, lifecycle: Lifecycle) -> OrderView:
        record, doc = snapshot.record, snapshot.doc
        spec = lifecycle.state(record.state) if lifecycle.has_state(record.state) else None
        return cls(
            order_id=record.id, variant=snapshot.variant, state=state_value(record.state),
            state_label=spec.ru if spec else record.state, version=record.version,
            invoicebox_id=record.invoicebox_id, payment_url=doc.payment_url, currency=doc.currency,
            amount=doc.amount, vat_amount=doc.vat_amount, paid_amount=doc.paid_amount,
            refunded_amount=doc.refunded_amount, lines=doc.lines, shipments=doc.shipments, refunds=doc.refunds,
            facts=doc.facts, warnings=doc.warnings, is_final=bool(spec and spec.final), created_at=record.created_at,
            updated_at=record.updated_at,
        )

    @classmethod
    def of(cls, record: OrderRecord, lifecycle: Lifecycle | None = None) -> OrderView:
        """The view of a stored record (the documented lifecycle's labels unless told otherwise)."""
        snapshot = Snapshot.of(record)
        return cls.build(snapshot, lifecycle or DOCUMENTED_FLOW.lifecycle(snapshot.variant))
