"""The order's customer: :class:`PrivateCustomer` (receipts) or :class:`LegalCustomer`
(organisation or sole proprietor: reporting documents).

Built in code, a customer refuses contradictions at once (a bad INN or KPP, a KPP where none
can exist) and lists what it lacks in :meth:`warnings` (a company without KPP, a legal customer
without INN): the rules of :mod:`invoicebox_flow.rulebook.customer`. Read from JSON it is kept
as sent, unknown ``type`` included — a payer may type anything on the payment page, and a
notification must still be readable.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Final

import attrs

from .. import rulebook
from ..errors import CustomerError
from ..rulebook import Problem, RuleWarning
from ._json import JsonModel, json_meta, model_codec, reading, wrong
from ._keywords import strict_init

__all__ = ["CUSTOMER", "Customer", "LegalCustomer", "PrivateCustomer", "customer", "customer_from_json",
           "inn_is_valid"]

inn_is_valid = rulebook.inn_is_valid


class _SentType:
    """Marks what ``type`` a customer read from JSON carried, when it was not its own."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


OWN_TYPE: Final = _SentType("OWN_TYPE")  # built in code, or read with its own type: write JSON_TYPE
NO_TYPE: Final = _SentType("NO_TYPE")  # read without a type key: write none


@attrs.frozen(kw_only=True, repr=False)
class _Customer(JsonModel):
    """What both kinds share: the check on construction and the ``type`` as it was read."""

    _sent_type: Any = attrs.field(default=OWN_TYPE, repr=False, eq=False)

    def _json_type(self) -> tuple[bool, Any]:
        if self._sent_type is OWN_TYPE:
            return True, self.JSON_TYPE
        return self._sent_type is not NO_TYPE, self._sent_type

    @classmethod
    def _read_type(cls, data: Mapping[str, Any]) -> dict[str, Any]:
        if "type" not in data:
            return {"sent_type": NO_TYPE}
        return {} if data["type"] == cls.JSON_TYPE else {"sent_type": data["type"]}

    def report(self) -> rulebook.Report:
        return rulebook.customer_report(self.to_json())

    def problems(self) -> list[Problem]:
        """What the rule book refuses in this customer (empty when it may be sent)."""
        return list(self.report().problems)

    def warnings(self) -> list[RuleWarning]:
        """What is accepted but worth knowing (e.g. a company without KPP)."""
        return list(self.report().warnings)

    def validate(self) -> None:
        """Raise :class:`~invoicebox_flow.errors.CustomerError` (first problem's code) if refused."""
        error = self.report().error()
        if error is not None:
            raise error

    def __attrs_post_init__(self) -> None:
        if not reading():
            self.validate()


@strict_init
@attrs.frozen(kw_only=True, repr=False)
class PrivateCustomer(_Customer):
    """A natural person: gets fiscal receipts. A name, phone or e-mail is recommended so the
    receipt can be delivered (a warning otherwise), but not required by the API. An INN
    (``vat_number``) may be given, as the official Bitrix module sends it; a KPP may not."""

    JSON_TYPE: ClassVar[str | None] = "private"

    name: str | None = attrs.field(default=None, metadata=json_meta())
    phone: str | None = attrs.field(default=None, metadata=json_meta())
    email: str | None = attrs.field(default=None, metadata=json_meta())
    vat_number: str | None = attrs.field(default=None, metadata=json_meta())  # INN

    @property
    def type(self) -> str:
        return "private"

    @property
    def has_contact(self) -> bool:
        return bool(self.phone or self.email)


@strict_init
@attrs.frozen(kw_only=True, repr=False)
class LegalCustomer(_Customer):
    """An organisation (10-digit INN, KPP expected) or a sole proprietor (12-digit INN, no KPP):
    gets reporting documents. A wrong INN or KPP is refused on construction; a missing INN, KPP,
    name or address is a warning (:meth:`warnings`), as every Customer field is optional."""

    JSON_TYPE: ClassVar[str | None] = "legal"

    name: str | None = attrs.field(default=None, metadata=json_meta())
    vat_number: str | None = attrs.field(default=None, metadata=json_meta())  # INN
    tax_registration_reason_code: str | None = attrs.field(default=None, metadata=json_meta())  # KPP
    registration_address: str | None = attrs.field(default=None, metadata=json_meta())
    email: str | None = attrs.field(default=None, metadata=json_meta())
    phone: str | None = attrs.field(default=None, metadata=json_meta())

    @property
    def type(self) -> str:
        return "legal"

    @property
    def is_sole_proprietor(self) -> bool:
        """ИП: a legal customer with a 12-digit INN."""
        return isinstance(self.vat_number, str) and len(self.vat_number) == 12


Customer = PrivateCustomer | LegalCustomer


def customer_from_json(data: Mapping[str, Any]) -> PrivateCustomer | LegalCustomer:
    """The customer object of an order: its ``type``, or without one (or an empty one) legal if
    it has a ``vatNumber``. An unknown ``type`` is refused, except while reading a server's
    answer, where it is read like a missing one and written back as it came."""
    if not isinstance(data, Mapping):
        raise wrong(f"customer: expected a JSON object, got {type(data).__name__}")
    kind = rulebook.customer_kind(data)
    if kind is None:
        if not reading():
            raise CustomerError("unknown customer type; expected 'private' or 'legal'", code="wrong_value",
                                fields=[{"name": "type", "code": "wrong_value",
                                         "message": "expected 'private' or 'legal'"}])
        kind = rulebook.customer_kind({**data, "type": None})
    model: type[PrivateCustomer] | type[LegalCustomer] = LegalCustomer if kind == "legal" else PrivateCustomer
    return model.from_json(data)


def customer(value: PrivateCustomer | LegalCustomer | Mapping[str, Any] | None) -> PrivateCustomer | LegalCustomer | None:
    """Converter: a customer model from a model or a camelCase dict (checked unless reading JSON)."""
    if value is None or isinstance(value, (PrivateCustomer, LegalCustomer)):
        return value
    built = customer_from_json(value)
    if not reading():
        built.validate()
    return built


CUSTOMER = model_codec(customer_from_json)
