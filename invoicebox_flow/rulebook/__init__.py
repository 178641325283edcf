"""The rule book: what InvoiceBox accepts, written once for both sides of the API.

The shop's client checks a request with these rules before sending it (the models'
``validate()``), and the sandbox checks the body it received with the same rules, so a request
the client refuses is one the sandbox would answer 422, with the same code. Every rule is data
(:data:`RULES`: id, code, refusal or warning, what it checks, its sources, the decision taken
where the sources disagree); ``docs/rulebook.md`` lists them.

Checks work on camelCase JSON and return a :class:`Report` of :class:`Problem` (refused) and
:class:`RuleWarning` (tolerated, but worth knowing)::

    report = check_order(order_json)
    report.warnings            # e.g. customer.taxRegistrationReasonCode: kpp_missing
    report.raise_if_refused()  # logs the warnings, raises the first problem's typed error

Single values a shop gets from its users are parsed with :func:`parse_quantity`,
:func:`parse_money` and :func:`parse_datetime` (typed errors naming the field).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .basket import (
    CATEGORY_TYPES,
    ITEM_LENGTHS,
    ITEM_REQUIRED,
    ITEM_TYPES,
    PAYMENT_TYPES,
    TAG_1212,
    check_basket,
    check_line,
    is_unicode,
)
from .catalogue import RULES
from .customer import CUSTOMER_LENGTHS, CUSTOMER_TYPES, check_customer, customer_kind, inn_is_valid
from .describe import rules_table
from .findings import Collector as _Collector
from .findings import Problem, Report, Rule, RuleWarning, logger
from .requests import (
    CURRENCIES,
    LANGUAGES,
    MCP_PAGE_PARAMETERS,
    ORDER_LENGTHS,
    ORDER_REQUIRED,
    PAGE_PARAMETERS,
    PAGE_SIZE_DEFAULT,
    REFUND_LENGTHS,
    REFUND_REQUIRED,
    REFUND_STATUSES,
    SHIPMENT_LENGTHS,
    SHIPMENT_REQUIRED,
    check_order,
    check_refund,
    check_shipment,
    check_update,
    round_policy_of,
)
from .sources import Source
from .values import KOPECK, QUANTITY_DECIMALS, ZERO, parse_datetime, parse_money, parse_quantity, to_decimal, to_money
from .vat import (
    DOCUMENTED_VAT_CODES,
    LEGACY_VAT_CODES,
    ROUND_POLICIES,
    ROUND_POLICY_DEFAULT,
    VAT_CODES,
    amount_wo_vat,
    is_vat_added,
    line_total,
    vat_of_total,
    vat_per_unit,
    vat_rate,
)

__all__ = [
    "CATEGORY_TYPES",
    "CURRENCIES",
    "CUSTOMER_LENGTHS",
    "CUSTOMER_TYPES",
    "DOCUMENTED_VAT_CODES",
    "ITEM_LENGTHS",
    "ITEM_REQUIRED",
    "ITEM_TYPES",
    "KOPECK",
    "LANGUAGES",
    "LEGACY_VAT_CODES",
    "MCP_PAGE_PARAMETERS",
    "ORDER_LENGTHS",
    "ORDER_REQUIRED",
    "PAGE_PARAMETERS",
    "PAGE_SIZE_DEFAULT",
    "PAYMENT_TYPES",
    "QUANTITY_DECIMALS",
    "REFUND_LENGTHS",
    "REFUND_REQUIRED",
    "REFUND_STATUSES",
    "ROUND_POLICIES",
    "ROUND_POLICY_DEFAULT",
    "RULES",
    "SHIPMENT_LENGTHS",
    "SHIPMENT_REQUIRED",
    "TAG_1212",
    "VAT_CODES",
    "ZERO",
    "Problem",
    "Report",
    "Rule",
    "RuleWarning",
    "Source",
    "amount_wo_vat",
    "basket_report",
    "check_order",
    "check_refund",
    "check_shipment",
    "check_update",
    "customer_kind",
    "customer_report",
    "inn_is_valid",
    "is_unicode",
    "is_vat_added",
    "line_report",
    "line_total",
    "logger",
    "parse_datetime",
    "parse_money",
    "parse_quantity",
    "round_policy_of",
    "rules_table",
    "to_decimal",
    "to_money",
    "vat_of_total",
    "vat_per_unit",
    "vat_rate",
    "warnings_of",
]


def basket_report(amount: Any, vat_amount: Any, items: Sequence[Mapping[str, Any]] | Any,
                  round_policy: Any = ROUND_POLICY_DEFAULT, *, fields: bool = True) -> Report:
    """A basket on its own (``basketItems`` with the order's ``amount`` and ``vatAmount``);
    ``fields=False`` checks only its numbers, VAT codes and arithmetic (as
    :func:`invoicebox_flow.money.basket_problems` does)."""
    out = _Collector()
    check_basket(out, amount, vat_amount, items, round_policy, fields=fields)
    return out.report()


def line_report(item: Any) -> Report:
    """One basket line on its own: text, lengths, enums and numbers, no arithmetic."""
    out = _Collector()
    check_line(out, item)
    return out.report()


def customer_report(customer: Any) -> Report:
    """One customer object (field names without the ``customer.`` prefix)."""
    out = _Collector()
    check_customer(out, customer, at="")
    return out.report()


def warnings_of(order: Mapping[str, Any]) -> list[RuleWarning]:
    """The warnings of a create-order body (plain JSON), e.g. to show next to a placed order."""
    return list(check_order(order, check_expiration=False).warnings)
