"""The sample buyers and baskets the feature files name (``"физическое лицо"``, ``"курс"`` …).

They are the defaults of the ``invoicebox_customers`` and ``invoicebox_baskets`` fixtures; a
shop adds its own by overriding those fixtures, or per scenario with the table steps
(``Дано корзина "…":`` / ``Given the basket "…":``). INNs and KPPs carry valid check digits.
"""

from __future__ import annotations

from collections.abc import Callable

from ..models import BasketItem, LegalCustomer, PrivateCustomer, basket_line

Customer = PrivateCustomer | LegalCustomer

def private_customer() -> PrivateCustomer:
    return PrivateCustomer(name="Анна Смирнова", phone="79215550101", email="anna@example.org")


def company() -> LegalCustomer:
    """An organisation: 10-digit INN with KPP."""
    return LegalCustomer(name="ООО «Вектор»", vat_number="7812345675", tax_registration_reason_code="781201001",
                         registration_address="191186, Санкт-Петербург, Невский пр., 1", email="buh@vector.example")


def sole_proprietor() -> LegalCustomer:
    """A sole proprietor: 12-digit INN, no KPP."""
    return LegalCustomer(name="ИП Иванов Иван Иванович", vat_number="781234567870", email="ip@ivanov.example")


def course_lines() -> list[BasketItem]:
    return [basket_line(sku="COURSE-PY-90", name="Онлайн-курс «Python для аналитиков», доступ 90 дней",
                        unit_price="1200.00", quantity=2, vat_code="RUS_VAT20", type="service")]


def goods_lines() -> list[BasketItem]:
    return [
        basket_line(sku="BOOK-1", name="Книга «Python»", unit_price="990.00", quantity=3, vat_code="RUS_VAT10",
                    type="commodity", payment_type="full_prepayment"),
        basket_line(sku="MUG-1", name="Кружка", unit_price="450.50", quantity=1, vat_code="RUS_VAT20",
                    type="commodity"),
    ]


def course_and_goods() -> list[BasketItem]:
    return course_lines() + goods_lines()


CUSTOMERS: dict[str, Callable[[], Customer]] = {
    "физическое лицо": private_customer, "организация": company, "ИП": sole_proprietor,
    "private person": private_customer, "company": company, "sole proprietor": sole_proprietor,
}
BASKETS: dict[str, Callable[[], list[BasketItem]]] = {
    "курс": course_lines, "товары": goods_lines, "курс и товары": course_and_goods,
    "course": course_lines, "goods": goods_lines, "course and goods": course_and_goods,
}
