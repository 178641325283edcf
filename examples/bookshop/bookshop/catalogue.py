"""The books the shop sells, and the basket of a checkout."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from invoicebox_flow import BasketItem, basket_line
from invoicebox_flow.errors import BasketError


@dataclass(frozen=True)
class Book:
    sku: str
    title: str
    price: Decimal
    vat_code: str = "RUS_VAT10"  # printed books: the reduced rate


CATALOGUE: dict[str, Book] = {book.sku: book for book in (
    Book("BOOK-PY", "Книга «Python. Быстрый старт»", Decimal("990.00")),
    Book("BOOK-SQL", "Книга «SQL для аналитиков»", Decimal("1250.00")),
    Book("BOOK-RUST", "Книга «Rust с нуля»", Decimal("1490.00")),
)}


def basket(copies: Mapping[str, object]) -> list[BasketItem]:
    """The basket lines of ``{sku: copies}``. An unknown book, or copies that are not a whole
    positive number, is a :class:`~invoicebox_flow.errors.BasketError` naming it."""
    if not copies:
        raise BasketError("the basket is empty", code="empty_basket")
    lines = []
    for sku, count in copies.items():
        book = CATALOGUE.get(sku)
        if book is None:
            raise BasketError(f"no book {sku!r} in the catalogue", code="unknown_sku")
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise BasketError(f"{sku}: copies must be a whole number of at least 1, not {count!r}",
                              code="wrong_value")
        lines.append(basket_line(sku=book.sku, name=book.title, unit_price=book.price, quantity=count,
                                 vat_code=book.vat_code, type="commodity"))
    return lines
