"""How a buyer paid, and what a DELETE of the paid order may do about it (DOCS ``order/delete.md``,
``notification/shipping-unavailable.md``).

The API never shows the instrument; it only decides whether InvoiceBox can take the payment
back by a cancellation:

* ``guarantee`` — a guarantee instrument (promised payment, guarantee fund, overdraft): "отмена
  заказа инициирует полный возврат гарантийного платежа", as long as nothing was shipped;
* ``preauthorized`` — money pre-authorised on the buyer's card: the "Контроль отгрузки"
  scenario cancels and returns it only "если в заказе имеется статус shipping_unavailable и
  предавторизованный платёж … иначе ошибка", and only before a shipment;
* ``card`` — an ordinary payment: never reversed by DELETE ("воспользуйтесь методом оформления
  возврата");
* ``bank_transfer`` — an organisation's bank transfer against the invoice: like ``card``.
"""

from __future__ import annotations

from typing import Final

CARD: Final = "card"
PREAUTHORIZED: Final = "preauthorized"
GUARANTEE: Final = "guarantee"
BANK_TRANSFER: Final = "bank_transfer"

#: Instruments a test may choose for the page's payments (a bank transfer is settled instead).
PAGE_INSTRUMENTS: Final = (CARD, PREAUTHORIZED, GUARANTEE)
#: The sandbox's default: it keeps the documented "shop refuses, then cancels" path playable.
DEFAULT_INSTRUMENT: Final = PREAUTHORIZED


def reversible_by_delete(instrument: str, *, shipping_unavailable: bool, shipped: bool) -> bool:
    """Whether a DELETE of a paid order cancels it and returns the whole payment."""
    if shipped:
        return False
    if instrument == GUARANTEE:
        return True
    return instrument == PREAUTHORIZED and shipping_unavailable


def check_page_instrument(instrument: object) -> str:
    """``instrument`` if a page payment can use it; raises ``ValueError`` otherwise."""
    if instrument not in PAGE_INSTRUMENTS:
        raise ValueError(f"unknown payment instrument {instrument!r}; known: {', '.join(PAGE_INSTRUMENTS)}")
    return str(instrument)
