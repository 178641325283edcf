"""The words of the specs, in Russian and English: states, receipts, documents, refusals,
basket tables and amounts as the feature files write them.

Light on purpose (no SQLAlchemy, transitions or Flask): the step modules use it when pytest
loads the plugin. States are named by the shop's flow definition (its Russian labels).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, TypeVar

from ..errors import (
    IllegalTransitionError,
    InvalidRequestError,
    InvoiceboxFlowError,
    RefundLimitError,
    ResultUnknownError,
    ShipmentLimitError,
    ValidationError,
)
from ..fiscal import Receipt

if TYPE_CHECKING:
    from ..flows import FlowDefinition

T = TypeVar("T")

RECEIPTS: dict[str, Receipt] = (
    {r.label: r for r in Receipt}
    | {r.value.replace("_", " "): r for r in Receipt}
    | {"prepayment 100%": Receipt.PREPAYMENT_FULL}
)

# Short names of the reporting documents; refund documents are the same kinds with "refund_".
DOCUMENTS: dict[str, str] = {
    "отчёт о переводе средств": "transfer_report", "акт": "act", "ТОРГ-12": "torg12",
    "transfer report": "transfer_report", "act": "act", "TORG-12": "torg12",
}

REFUSALS: dict[str, type[InvoiceboxFlowError]] = {
    "недопустимо в текущем состоянии": IllegalTransitionError,
    "превышает оплаченное": RefundLimitError,
    "превышает оставшееся": ShipmentLimitError,
    "ИнвойсБокс отклонил запрос": InvalidRequestError,
    "результат неизвестен": ResultUnknownError,
    "неверные данные": ValidationError,
    "not allowed in the current state": IllegalTransitionError,
    "more than was paid": RefundLimitError,
    "more than is left": ShipmentLimitError,
    "refused by InvoiceBox": InvalidRequestError,
    "outcome unknown": ResultUnknownError,
    "invalid data": ValidationError,
}

# What a basket table's columns may be called, and what its cells may say.
BASKET_COLUMNS: dict[str, str] = {
    "sku": "sku", "артикул": "sku",
    "name": "name", "наименование": "name", "название": "name",
    "price": "unit_price", "unit price": "unit_price", "цена": "unit_price",
    "quantity": "quantity", "qty": "quantity", "количество": "quantity", "кол-во": "quantity",
    "vat": "vat_code", "ндс": "vat_code",
    "type": "type", "тип": "type",
    "payment type": "payment_type", "способ расчёта": "payment_type",
}
LINE_TYPES: dict[str, str] = {
    "товар": "commodity", "товары": "commodity", "goods": "commodity", "commodity": "commodity",
    "услуга": "service", "услуги": "service", "service": "service", "services": "service",
}
VAT_WORDS: dict[str, str] = {
    "20%": "RUS_VAT20", "10%": "RUS_VAT10", "0%": "RUS_VAT0",
    "без ндс": "VATNONE", "none": "VATNONE", "no vat": "VATNONE",
}


def named(table: Mapping[str, T], name: str, what: str) -> T:
    """``table[name]``, or an error that lists the names a feature file may use."""
    try:
        return table[name]
    except KeyError:
        known = ", ".join(f'"{k}"' for k in table)
        raise LookupError(f'unknown {what} "{name}"; known: {known}') from None


def state_value(name: str, definition: FlowDefinition | None = None) -> str:
    """The state a feature file means, in the shop's flow definition (the documented flow by
    default): its Russian label («оплачен»), its English one, its name (``"paid"``) or the name
    with spaces (``"payment link issued"``). The labels are the definition's own, so the shop's
    states («упакован») are named as its definition names them."""
    from ..flows import DOCUMENTED_FLOW  # when a step runs, not when the plugin loads

    flow = definition or DOCUMENTED_FLOW
    names = {spec.ru: spec.name for spec in map(flow.state, flow.state_names)}
    wanted = name.strip()
    candidate = wanted.replace(" ", "_")
    if candidate in flow.state_names:
        return candidate
    names |= {flow.state(state).en: state for state in flow.state_names}
    return named(names, wanted, "order state")


def receipt(name: str) -> Receipt:
    return named(RECEIPTS, name.strip(), "receipt")


def document_kinds(text: str, *, refund: bool = False) -> set[str]:
    """``"отчёт о переводе средств, акт"`` → ``{"transfer_report", "act"}`` (``refund_*`` for refunds)."""
    kinds = {named(DOCUMENTS, part.strip(), "document") for part in text.split(",") if part.strip()}
    return {f"refund_{k}" for k in kinds} if refund else kinds


def refusal(reason: str) -> type[InvoiceboxFlowError]:
    return named(REFUSALS, reason.strip(), "refusal")


def money(text: str) -> Decimal:
    """``"3 420,50"`` (the payment page), ``"3420.50"`` or ``"3420.50 ₽"`` as a Decimal."""
    cleaned = re.sub(r"[\s\u00a0\u202f]|₽|руб\.?|RUB", "", text).replace(",", ".")
    try:
        return Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(f"not an amount: {text!r}") from None


def table_rows(datatable: Sequence[Sequence[str]], columns: Mapping[str, str], what: str) -> list[dict[str, str]]:
    """A Gherkin data table (header row first) as dicts keyed by ``columns``' canonical names."""
    if not datatable:
        raise ValueError(f"the {what} table is empty")
    header, *rows = datatable
    keys = [named(columns, cell.strip().lower(), f"{what} column") for cell in header]
    return [{k: cell.strip() for k, cell in zip(keys, row, strict=True)} for row in rows]


def basket_line_arguments(row: Mapping[str, str]) -> dict[str, Any]:
    """The keyword arguments of :func:`invoicebox_flow.models.basket_line` for one table row."""
    missing = {"sku", "name", "unit_price", "quantity", "vat_code"} - set(row)
    if missing:
        raise ValueError(f"a basket table needs the columns {', '.join(sorted(missing))}")
    vat = row["vat_code"]
    arguments: dict[str, Any] = {
        "sku": row["sku"], "name": row["name"], "unit_price": money(row["unit_price"]),
        "quantity": Decimal(row["quantity"].replace(",", ".")), "vat_code": VAT_WORDS.get(vat.lower(), vat),
        "type": named(LINE_TYPES, row.get("type", "service").lower(), "line type"),
    }
    if row.get("payment_type"):
        arguments["payment_type"] = row["payment_type"]
    return arguments
