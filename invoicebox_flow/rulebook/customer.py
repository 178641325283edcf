"""The order's customer: its type, its requisites (INN, KPP), and what is missing for documents.

Every Customer field is optional in the API (DOCS ``create.md``); like the official MCP server
(``src/core/counterparty.ts``) the rule book refuses only contradictions (a bad INN or KPP, a KPP
where none can exist) and warns about what is missing. Empty strings count as absent: the docs'
own example and the Bitrix module send ``"vatNumber": ""``. Messages never repeat the values
(a payer's personal data).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from ..errors import CustomerError
from . import catalogue as r
from .basket import check_string, is_blank
from .findings import Collector

__all__ = ["CUSTOMER_LENGTHS", "CUSTOMER_TYPES", "check_customer", "customer_kind", "inn_is_valid"]

CUSTOMER_TYPES: Final = ("private", "legal")
CUSTOMER_LENGTHS: Final = {"name": 500, "phone": 100, "email": 100, "vatNumber": 20,
                           "taxRegistrationReasonCode": 9, "registrationAddress": 1000}

_INN_WEIGHTS_10: Final = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN_WEIGHTS_11: Final = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN_WEIGHTS_12: Final = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_KPP: Final = re.compile(r"^\d{4}[\dA-Z]{2}\d{3}$")


def _check_digit(digits: str, weights: tuple[int, ...]) -> int:
    return sum(int(d) * w for d, w in zip(digits, weights, strict=False)) % 11 % 10


def inn_is_valid(inn: object) -> bool:
    """True for a 10-digit (company) or 12-digit (person, sole proprietor) INN with valid check digits."""
    if not isinstance(inn, str) or not inn.isascii() or not inn.isdigit():
        return False
    if len(inn) == 10:
        return _check_digit(inn, _INN_WEIGHTS_10) == int(inn[9])
    if len(inn) == 12:
        return (_check_digit(inn, _INN_WEIGHTS_11) == int(inn[10])
                and _check_digit(inn, _INN_WEIGHTS_12) == int(inn[11]))
    return False


def customer_kind(customer: Mapping[str, Any]) -> str | None:
    """``private`` or ``legal``: the ``type`` given, or without one (or an empty one) legal when
    there is a ``vatNumber``; None for a type that is neither."""
    kind = customer.get("type")
    if is_blank(kind):
        return "legal" if not is_blank(customer.get("vatNumber")) else "private"
    return kind if kind in CUSTOMER_TYPES else None


def _text(customer: Mapping[str, Any], key: str) -> str | None:
    value = customer.get(key)
    return value.strip() if isinstance(value, str) and value.strip() else None


def check_customer(out: Collector, customer: Any, at: str = "customer") -> None:
    """Refusals (each a CustomerError) and warnings for one customer object (``at`` prefixes
    the field names)."""
    with out.within(CustomerError):
        _check_customer(out, customer, at)


def _check_customer(out: Collector, customer: Any, at: str) -> None:

    def path(key: str) -> str:
        return f"{at}.{key}" if at else key

    if not isinstance(customer, Mapping):
        out.refuse(r.SHAPE, at or "customer", f"{at or 'customer'} must be an object")
        return
    kind = customer_kind(customer)
    if kind is None:
        out.refuse(r.CUSTOMER_TYPE, path("type"), f"{path('type')} must be 'private' or 'legal'")
        return
    for key, limit in CUSTOMER_LENGTHS.items():
        check_string(out, customer, key, path(key), limit)
    inn, kpp = _text(customer, "vatNumber"), _text(customer, "taxRegistrationReasonCode")
    if kpp is not None and not _KPP.match(kpp):
        out.refuse(r.KPP, path("taxRegistrationReasonCode"),
                   f"{path('taxRegistrationReasonCode')} is not a KPP: 9 characters like 781201001")
    if kind == "private":
        if kpp is not None:
            out.refuse(r.PRIVATE_KPP, path("taxRegistrationReasonCode"),
                       "a private customer has no KPP; use a legal customer for organisations")
        if inn is not None and not inn_is_valid(inn):
            out.warn(r.PRIVATE_INN, path("vatNumber"), f"{path('vatNumber')} is not a valid INN (sent as given)")
        if not any(_text(customer, key) for key in ("name", "email", "phone")):
            out.warn(r.NO_CONTACT, at or "customer", "a private customer without name, e-mail or phone: the receipt has "
                                       "nowhere to go")
        return
    sole_proprietor = inn is not None and len(inn) == 12
    if inn is None:
        out.warn(r.INN_MISSING, path("vatNumber"), "a legal customer without INN gets no closing documents, "
                                                   "only a receipt")
    elif not inn_is_valid(inn):
        out.refuse(r.INN, path("vatNumber"), f"{path('vatNumber')} is not a 10- or 12-digit INN with valid check digits")
    if sole_proprietor and kpp is not None:
        out.refuse(r.SOLE_PROPRIETOR_KPP, path("taxRegistrationReasonCode"),
                   "a sole proprietor (12-digit INN) has no KPP")
    if not sole_proprietor and kpp is None:
        out.warn(r.KPP_MISSING, path("taxRegistrationReasonCode"),
                 "a company without KPP: its invoice and UPD will be incomplete")
    if _text(customer, "name") is None:
        out.warn(r.NAME_MISSING, path("name"), "a legal customer without a name: its documents will need fixing")
    if _text(customer, "registrationAddress") is None:
        out.warn(r.ADDRESS_MISSING, path("registrationAddress"),
                 "a legal customer without registrationAddress: its documents will be incomplete")
