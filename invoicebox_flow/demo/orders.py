"""What the demo runs: four orders, each with the ending the documentation gives it.

* a private buyer's order of services (an online course): paid, shipped, refunded in two steps;
* an organisation's order of services (an act and a funds-transfer report);
* a sole proprietor's order of goods (TORG-12 and a funds-transfer report);
* a private buyer's order canceled before payment.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime

import attrs

from ..flows import Effect, Phase, State, Variant, sequences_of
from ..models import BasketItem, LegalCustomer, PrivateCustomer, basket_line


@attrs.frozen
class DemoOrder:
    """One order of the demo and how the documentation says it ends."""

    order_id: str
    label: str
    customer: PrivateCustomer | LegalCustomer
    lines: tuple[BasketItem, ...]
    description: str
    # ``{sku: quantity}`` of the first, partial refund; None: the order is canceled before payment.
    partial_refund: Mapping[str, int] | None
    # Kinds of the reporting documents InvoiceBox issues on shipment (legal buyers, reference §5.8).
    documents: tuple[str, ...] = ()

    @property
    def variant(self) -> Variant:
        return Variant.LEGAL if isinstance(self.customer, LegalCustomer) else Variant.PRIVATE

    @property
    def canceled(self) -> bool:
        return self.partial_refund is None

    @property
    def final_state(self) -> State:
        return State.CANCELED if self.canceled else State.REFUNDED

    def expected_runs(self) -> dict[str, int]:
        """How many times each documented sequence of the variant runs to its end."""
        if self.canceled:
            return {}
        return {seq.name: 2 if seq.phase is Phase.REFUND else 1 for seq in sequences_of(self.variant)}

    def expected_receipts(self) -> list[str]:
        """Receipt types the documented steps register, once per run (empty for organisations)."""
        return sorted(step.receipt.value for seq in sequences_of(self.variant)
                      for _ in range(self.expected_runs().get(seq.name, 0))
                      for step in seq.steps if step.effect is Effect.RECEIPT_REGISTERED and step.receipt)

    def expected_documents(self) -> list[str]:
        """The shipment's documents, then the same kinds for each of the two refunds."""
        if self.canceled:
            return []
        refunds = self.expected_runs()[f"{self.variant.value}-{Phase.REFUND.value}"]
        return sorted(list(self.documents) + [f"refund_{kind}" for kind in self.documents] * refunds)


# A company (10-digit INN with KPP) and a sole proprietor (12-digit INN, no KPP); checksums valid.
_COMPANY = dict(name="ООО «Вектор»", vat_number="7812345675", tax_registration_reason_code="781201001",
                registration_address="191186, Санкт-Петербург, Невский пр., 1", email="buh@vector.example")
_SOLE_PROPRIETOR = dict(name="ИП Иванов Иван Иванович", vat_number="781234567870", email="ip@ivanov.example")


def demo_orders(run_id: str) -> list[DemoOrder]:
    """The demo's four orders; ``run_id`` keeps their ids unique in a store shared by runs."""
    course = basket_line(sku="COURSE-PY-90", name="Онлайн-курс «Python для аналитиков», доступ 90 дней",
                         unit_price="1200.00", quantity=2, vat_code="RUS_VAT20", type="service")
    audit = basket_line(sku="AUDIT-1", name="Аудит интернет-магазина", unit_price="15000.00", quantity=1,
                        vat_code="RUS_VAT20", type="service")
    support = basket_line(sku="SUPPORT-M", name="Сопровождение, месяц", unit_price="5000.00", quantity=2,
                          vat_code="RUS_VAT20", type="service")
    books = basket_line(sku="BOOK-1", name="Книга «Python»", unit_price="990.00", quantity=3, vat_code="RUS_VAT10",
                        type="commodity")
    mug = basket_line(sku="MUG-1", name="Кружка", unit_price="450.50", quantity=1, vat_code="RUS_VAT20",
                      type="commodity")
    anna = PrivateCustomer(name="Анна Смирнова", phone="79215550101", email="anna@example.org")
    return [
        DemoOrder(f"DEMO-{run_id}-P", "private buyer, services", anna, (course,), "Онлайн-курс", {"COURSE-PY-90": 1}),
        DemoOrder(f"DEMO-{run_id}-LS", "organisation, services", LegalCustomer(**_COMPANY), (audit, support),
                  "Аудит и сопровождение", {"SUPPORT-M": 1}, documents=("act", "transfer_report")),
        DemoOrder(f"DEMO-{run_id}-LG", "sole proprietor, goods", LegalCustomer(**_SOLE_PROPRIETOR), (books, mug),
                  "Книги и кружка", {"BOOK-1": 1}, documents=("torg12", "transfer_report")),
        DemoOrder(f"DEMO-{run_id}-C", "private buyer, canceled", anna, (books,), "Книги (отменён)", None),
    ]


def new_run_id() -> str:
    """Short (order ids must fit a line), readable and unique enough: the time and 16 random bits."""
    return f"{datetime.now(UTC):%H%M%S}-{uuid.uuid4().hex[:4]}"
