"""The InvoiceBox API v3 objects as attrs models, with their exact camelCase JSON both ways.

Every model is a frozen attrs class with snake_case attributes. One mechanism maps them to JSON:
each attribute declared with :func:`json_field` carries a :class:`_JsonSpec` (its JSON key —
camelCase of the attribute name unless given — and a codec for its value), and
:class:`JsonModel` turns any such class into JSON and back. No model writes its own mapping.

Writing (``to_json``) produces the API's keys: ``None`` values are left out, ``Decimal`` stays
``Decimal`` (``jsonutil.dumps`` writes it as a JSON number), date-times are ATOM
(``2024-07-01T09:00:00+00:00``), dates ``YYYY-MM-DD``.

Reading (``from_json``) is lenient, because it reads what the server sends: numbers may be
``int`` or ``Decimal`` (``float`` is refused — parse with ``jsonutil.loads``), missing keys are
fine, and unknown keys are kept in ``extra`` and written back. A key that was absent stays
absent and a key that was ``null`` is written back as ``null``, so ``from_json(x).to_json()``
equals ``x``. Reading never *derives* anything: amounts are not computed and customers are not
checked (an INN typed by the payer on the payment page must not break a notification); call
``validate()`` for that. Built directly in code, models are strict: request amounts are computed
from the basket and customers check their INN and KPP on construction.
"""

from __future__ import annotations

import contextvars
import copy
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any, ClassVar, Generic, TypeVar

import attrs

from . import money
from .errors import BasketError, CustomerError, ValidationError
from .fiscal import is_goods_type
from .protocol import TEST_NOTIFICATION_ID

__all__ = [
    "TEST_NOTIFICATION_ID",
    "CURRENCIES",
    "LANGUAGES",
    "JsonModel",
    "json_field",
    "BasketItem",
    "RefundableItem",
    "PrivateCustomer",
    "LegalCustomer",
    "Customer",
    "customer_from_json",
    "inn_is_valid",
    "OrderRequest",
    "Order",
    "Notification",
    "ShipmentRequest",
    "Shipment",
    "RefundRequest",
    "RefundOrder",
    "AuthInfo",
    "ErrorBody",
    "Page",
]

CURRENCIES = ("RUB", "USD", "EUR", "GBP", "CNY", "UZS")
LANGUAGES = ("ru", "en")

# True while a model is being read from JSON: keep what was sent, derive and refuse nothing.
_READING = contextvars.ContextVar("invoicebox_flow_models_reading", default=False)


# --- values: conversion and codecs -----------------------------------------------------------


def _wrong(message: str, name: str = "") -> ValidationError:
    """A ``wrong_value`` error whose field name is relative; enclosing readers prefix it."""
    return ValidationError(message, code="wrong_value", fields=[{"name": name, "code": "wrong_value", "message": message}])


def _prefixed(error: ValidationError, prefix: str) -> ValidationError:
    """``error`` with its field names placed under ``prefix`` (``amount`` → ``basketItems[0].amount``)."""

    def join(name: str) -> str:
        if not name:
            return prefix
        return prefix + name if name.startswith("[") else f"{prefix}.{name}"

    fields = [dict(f, name=join(f.get("name", ""))) for f in error.fields] or [
        {"name": prefix, "code": error.code, "message": error.message}]
    message = error.message if error.message.startswith(prefix) else f"{prefix}: {error.message}"
    return type(error)(message, code=error.code, fields=fields)


def _decimal(value: Any) -> Decimal | None:
    if value is None:
        return None
    try:
        return money.to_decimal(value)
    except ValidationError:
        raise _wrong(f"expected a number, got {value!r}") from None


def _datetime(value: Any) -> datetime | None:
    """A timezone-aware datetime; naive values and text without offset are taken as UTC."""
    if value is None:
        return None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise _wrong(f"expected an ATOM date-time like 2024-07-01T09:00:00+00:00, got {value!r}") from None
    else:
        raise _wrong(f"expected a date-time, got {value!r}")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _date(value: Any) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise _wrong(f"expected a date like 2024-07-05, got {value!r}") from None
    raise _wrong(f"expected a date, got {value!r}")


def _atom(value: datetime) -> str:
    # ATOM has whole seconds; keep fractions only if something actually carried them.
    return value.isoformat(timespec="seconds" if not value.microsecond else "microseconds")


def _plain_copy(value: Any) -> Any:
    return copy.deepcopy(value) if isinstance(value, (dict, list)) else value


@attrs.frozen
class _Codec:
    """How one kind of value is read from JSON (``load``) and written to it (``dump``)."""

    load: Callable[[Any], Any]
    dump: Callable[[Any], Any]


RAW = _Codec(load=_plain_copy, dump=_plain_copy)
DECIMAL = _Codec(load=_decimal, dump=lambda v: v)
DATETIME = _Codec(load=_datetime, dump=_atom)
DATE = _Codec(load=_date, dump=lambda v: v.isoformat())


def _model_codec(load: Callable[[Any], Any]) -> _Codec:
    return _Codec(load=load, dump=lambda v: v.to_json())


def _list_codec(item: _Codec) -> _Codec:
    def load(value: Any) -> list[Any]:
        if not isinstance(value, list):
            raise _wrong(f"expected a list, got {type(value).__name__}")
        out = []
        for index, element in enumerate(value):
            try:
                out.append(item.load(element))
            except ValidationError as error:
                raise _prefixed(error, f"[{index}]") from None
        return out

    return _Codec(load=load, dump=lambda v: [item.dump(x) for x in v])


@attrs.frozen
class _JsonSpec:
    codec: _Codec
    key: str | None = None  # JSON key; None: camelCase of the attribute name


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def json_field(*, codec: _Codec = RAW, key: str | None = None, **kwargs: Any) -> Any:
    """An attrs field that is written to and read from JSON under ``key`` (default: camelCase)."""
    metadata = dict(kwargs.pop("metadata", {}))
    metadata[_JsonSpec] = _JsonSpec(codec=codec, key=key)
    return attrs.field(metadata=metadata, **kwargs)


def _money_field(**kwargs: Any) -> Any:
    return json_field(codec=DECIMAL, converter=_decimal, **kwargs)


def _json_specs(cls: type) -> Iterator[tuple[attrs.Attribute, str, _JsonSpec]]:
    for field in attrs.fields(cls):
        spec = field.metadata.get(_JsonSpec)
        if spec is not None:
            yield field, spec.key or _camel(field.name), spec


# --- the generic model -----------------------------------------------------------------------

_model = attrs.define(frozen=True, repr=False)


@_model
class JsonModel:
    """Base of every model: camelCase JSON both ways, unknown keys kept in ``extra``."""

    # A fixed ``"type"`` key written first and consumed on reading (customers use it).
    JSON_TYPE: ClassVar[str | None] = None

    extra: dict[str, Any] = attrs.field(factory=dict, kw_only=True, converter=lambda v: dict(v or {}))
    # JSON keys that were explicitly null when read, so that writing gives them back as null.
    _json_nulls: frozenset[str] = attrs.field(factory=frozenset, kw_only=True, repr=False, eq=False,
                                              converter=frozenset)

    def to_json(self) -> dict[str, Any]:
        """The API's camelCase JSON object (``Decimal`` numbers; dump with ``jsonutil.dumps``)."""
        out: dict[str, Any] = {}
        if self.JSON_TYPE is not None:
            out["type"] = self.JSON_TYPE
        for field, key, spec in _json_specs(type(self)):
            value = getattr(self, field.name)
            if value is None:
                if key in self._json_nulls:
                    out[key] = None
                continue
            out[key] = spec.codec.dump(value)
        for key, value in self.extra.items():
            out.setdefault(key, _plain_copy(value))  # a known field always wins over a stray copy
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Any:
        """Read a server object leniently: missing keys become ``None``, unknown ones go to ``extra``."""
        if not isinstance(data, Mapping):
            raise _wrong(f"{cls.__name__}: expected a JSON object, got {type(data).__name__}")
        token = _READING.set(True)
        try:
            kwargs: dict[str, Any] = {}
            known = {"type"} if cls.JSON_TYPE is not None else set()
            nulls = set()
            for field, key, spec in _json_specs(cls):
                known.add(key)
                value = data.get(key)
                if value is None:
                    if key in data:
                        nulls.add(key)
                    kwargs[field.alias] = None
                    continue
                try:
                    kwargs[field.alias] = spec.codec.load(value)
                except ValidationError as error:
                    raise _prefixed(error, key) from None
            kwargs["extra"] = {key: _plain_copy(value) for key, value in data.items() if key not in known}
            kwargs["json_nulls"] = nulls
            return cls(**kwargs)
        finally:
            _READING.reset(token)

    def __repr__(self) -> str:
        # Only what is set, ``extra`` last: a request with three basket lines stays readable.
        parts = []
        for field in attrs.fields(type(self)):
            if not field.repr or field.name == "extra":
                continue
            value = getattr(self, field.name)
            if value is not None:
                parts.append(f"{field.name}={value!r}")
        if self.extra:
            parts.append(f"extra={self.extra!r}")
        return f"{type(self).__name__}({', '.join(parts)})"


def _problem(code: str, name: str, message: str) -> dict[str, str]:
    return {"code": code, "name": name, "message": message}


def _raise_first(problems: Sequence[tuple[type[ValidationError], dict[str, str]]]) -> None:
    """Raise the first problem's error class and code, listing every problem in ``fields``."""
    if not problems:
        return
    error_class, first = problems[0]
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    raise error_class(first["message"] + more, code=first["code"], fields=[
        {"name": p["name"], "code": p["code"], "message": p["message"]} for _, p in problems])


def _length_problem(value: Any, name: str, low: int, high: int) -> dict[str, str] | None:
    if not isinstance(value, str) or not low <= len(value) <= high:
        size = len(value) if isinstance(value, str) else None
        return _problem("wrong_value", name, f"{name} must be a string of {low}..{high} characters, got "
                                             + (f"{size}" if size is not None else repr(value)))
    return None


# --- basket ----------------------------------------------------------------------------------

def _item_list(item_class: type[BasketItem]) -> Callable[[Any], list[BasketItem] | None]:
    """Converter: a list of ``item_class`` from models or camelCase dicts."""

    def convert(value: Any) -> list[BasketItem] | None:
        if value is None:
            return None
        if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Sequence):
            raise _wrong(f"expected a list of basket items, got {type(value).__name__}")
        return [x if isinstance(x, BasketItem) else item_class.from_json(x) for x in value]

    return convert


@_model
class BasketItem(JsonModel):
    """One basket line. ``amount`` is the unit price incl. VAT; build lines with
    :func:`invoicebox_flow.money.basket_line` to get the derived amounts right."""

    sku: str = json_field()
    name: str = json_field()
    quantity: Decimal = json_field(codec=DECIMAL, converter=_decimal)
    amount: Decimal = _money_field()
    amount_wo_vat: Decimal = _money_field()
    total_amount: Decimal = _money_field()
    total_vat_amount: Decimal = _money_field()
    vat_code: str = json_field()
    type: str | int = json_field()  # "service" / "commodity", or an FFD tag-1212 integer
    payment_type: str = json_field()
    measure: str | None = json_field(default="шт.")
    measure_code: str | None = json_field(default="796")
    group_name: str | None = json_field(default=None)
    service_date: date | None = json_field(default=None, codec=DATE, converter=_date)

    @property
    def is_goods(self) -> bool:
        """Goods rather than a service (TORG-12 rather than an act for legal buyers)."""
        return is_goods_type(self.type)


@_model
class RefundableItem(BasketItem):
    """A basket line still available for refund; ``available_*`` are MCP-only extras (remaining
    refundable money of the line, not amount × quantity)."""

    available_amount: Decimal | None = _money_field(default=None)
    available_vat_amount: Decimal | None = _money_field(default=None)

    def as_basket_item(self) -> BasketItem:
        """The same line as a plain :class:`BasketItem`, fit for a refund request."""
        values = {f.alias: getattr(self, f.name) for f in attrs.fields(BasketItem)}
        return BasketItem(**values)


BASKET_ITEM = _model_codec(BasketItem.from_json)
BASKET_ITEMS = _list_codec(BASKET_ITEM)


# --- customers -------------------------------------------------------------------------------

_INN_WEIGHTS_10 = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN_WEIGHTS_11 = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN_WEIGHTS_12 = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_KPP = re.compile(r"^\d{4}[\dA-Z]{2}\d{3}$")


def _check_digit(digits: str, weights: tuple[int, ...]) -> int:
    return sum(int(d) * w for d, w in zip(digits, weights)) % 11 % 10


def inn_is_valid(inn: str) -> bool:
    """True for a 10-digit (company) or 12-digit (person, sole proprietor) INN with valid check digits."""
    if not isinstance(inn, str) or not inn.isascii() or not inn.isdigit():
        return False
    if len(inn) == 10:
        return _check_digit(inn, _INN_WEIGHTS_10) == int(inn[9])
    if len(inn) == 12:
        return (_check_digit(inn, _INN_WEIGHTS_11) == int(inn[10])
                and _check_digit(inn, _INN_WEIGHTS_12) == int(inn[11]))
    return False


class _CustomerChecks:
    """Customer validation shared by both kinds: ``problems()`` lists, ``validate()`` raises."""

    __slots__ = ()

    def problems(self) -> list[dict[str, str]]:
        raise NotImplementedError

    def validate(self) -> None:
        """Raise :class:`CustomerError` (first problem's code) if the customer is inconsistent."""
        _raise_first([(CustomerError, p) for p in self.problems()])

    def __attrs_post_init__(self) -> None:
        if not _READING.get():
            self.validate()


@_model
class PrivateCustomer(_CustomerChecks, JsonModel):
    """A natural person: gets fiscal receipts. A phone or e-mail is recommended so the receipt can
    be delivered (see :attr:`has_contact`), but not required by the API."""

    JSON_TYPE: ClassVar[str | None] = "private"

    name: str | None = json_field(default=None)
    phone: str | None = json_field(default=None)
    email: str | None = json_field(default=None)

    @property
    def type(self) -> str:
        return "private"

    @property
    def has_contact(self) -> bool:
        return bool(self.phone or self.email)

    def problems(self) -> list[dict[str, str]]:
        # A natural person has neither INN nor KPP here; sending them means the wrong customer type.
        found = []
        if self.extra.get("taxRegistrationReasonCode"):
            found.append(_problem("kpp_not_allowed", "taxRegistrationReasonCode",
                                  "a private customer has no KPP; use LegalCustomer for organisations"))
        if self.extra.get("vatNumber"):
            found.append(_problem("vat_number_not_allowed", "vatNumber",
                                  "a private customer carries no INN; use LegalCustomer for organisations "
                                  "and sole proprietors"))
        return found


@_model
class LegalCustomer(_CustomerChecks, JsonModel):
    """An organisation (10-digit INN, KPP required) or a sole proprietor (12-digit INN, no KPP):
    gets reporting documents. INN and KPP are checked on construction."""

    JSON_TYPE: ClassVar[str | None] = "legal"

    name: str | None = json_field()
    vat_number: str | None = json_field()  # INN
    tax_registration_reason_code: str | None = json_field(default=None)  # KPP
    registration_address: str | None = json_field(default=None)
    email: str | None = json_field(default=None)
    phone: str | None = json_field(default=None)

    @property
    def type(self) -> str:
        return "legal"

    @property
    def is_sole_proprietor(self) -> bool:
        """ИП: a legal customer with a 12-digit INN."""
        return isinstance(self.vat_number, str) and len(self.vat_number) == 12

    def problems(self) -> list[dict[str, str]]:
        found = []
        inn, kpp = self.vat_number, self.tax_registration_reason_code
        if not inn_is_valid(inn):
            found.append(_problem("wrong_vat_number", "vatNumber",
                                  f"INN {inn!r} is not 10 or 12 digits with valid check digits"))
        if kpp is not None and not (isinstance(kpp, str) and _KPP.match(kpp)):
            found.append(_problem("wrong_kpp", "taxRegistrationReasonCode",
                                  f"KPP {kpp!r} is not 9 characters like 781201001"))
        if isinstance(inn, str) and len(inn) == 10 and not kpp:
            found.append(_problem("kpp_required", "taxRegistrationReasonCode",
                                  "an organisation (10-digit INN) needs a KPP"))
        if isinstance(inn, str) and len(inn) == 12 and kpp:
            found.append(_problem("kpp_not_allowed", "taxRegistrationReasonCode",
                                  "a sole proprietor (12-digit INN) has no KPP"))
        return found


Customer = PrivateCustomer | LegalCustomer


def customer_from_json(data: Mapping[str, Any]) -> PrivateCustomer | LegalCustomer:
    """The customer object of an order; without ``type`` it is legal if it has a ``vatNumber``."""
    if not isinstance(data, Mapping):
        raise _wrong(f"customer: expected a JSON object, got {type(data).__name__}")
    kind = data.get("type")
    if kind is None:
        kind = "legal" if data.get("vatNumber") else "private"
    if kind == "private":
        return PrivateCustomer.from_json(data)
    if kind == "legal":
        return LegalCustomer.from_json(data)
    raise CustomerError(f"unknown customer type {kind!r}; expected 'private' or 'legal'", code="wrong_value",
                        fields=[{"name": "type", "code": "wrong_value", "message": "expected 'private' or 'legal'"}])


def _customer(value: Any) -> PrivateCustomer | LegalCustomer | None:
    """Converter: a customer model from a model or a camelCase dict (checked unless reading JSON)."""
    if value is None or isinstance(value, (PrivateCustomer, LegalCustomer)):
        return value
    customer = customer_from_json(value)
    if not _READING.get():
        customer.validate()
    return customer


CUSTOMER = _model_codec(customer_from_json)


# --- orders ----------------------------------------------------------------------------------


def _fill_amounts(request: Any) -> None:
    """Compute ``amount``/``vat_amount`` left as None from the basket (not when reading JSON)."""
    if _READING.get() or not request.basket_items:
        return
    total, vat = money.order_totals(request.basket_items)
    if request.amount is None:
        object.__setattr__(request, "amount", total)
    if request.vat_amount is None:
        object.__setattr__(request, "vat_amount", vat)


def _basket_problems(request: Any, round_policy: str = "strict") -> list[tuple[type[ValidationError], dict[str, str]]]:
    items = [item.to_json() for item in request.basket_items or []]
    return [(BasketError, p) for p in money.basket_problems(request.amount, request.vat_amount, items, round_policy)]


@_model
class OrderRequest(JsonModel):
    """The body of create order (``POST /v3/billing/api/order/order``)."""

    merchant_id: str = json_field()
    merchant_order_id: str = json_field()
    description: str = json_field()
    basket_items: list[BasketItem] = json_field(codec=BASKET_ITEMS, converter=_item_list(BasketItem))
    customer: PrivateCustomer | LegalCustomer = json_field(codec=CUSTOMER, converter=_customer)
    expiration_date: datetime = json_field(codec=DATETIME, converter=_datetime)
    currency_id: str | None = json_field(default="RUB")
    language_id: str | None = json_field(default="ru")
    amount: Decimal | None = _money_field(default=None)  # None: Σ totalAmount of the basket
    vat_amount: Decimal | None = _money_field(default=None)  # None: Σ totalVatAmount of the basket
    notification_url: str | None = json_field(default=None)
    success_url: str | None = json_field(default=None)
    fail_url: str | None = json_field(default=None)
    return_url: str | None = json_field(default=None)
    merchant_order_id_visible: str | None = json_field(default=None)
    invoice_setting: dict[str, Any] | None = json_field(default=None)
    order_setting: dict[str, Any] | None = json_field(default=None)
    meta_data: dict[str, Any] | None = json_field(default=None)

    def __attrs_post_init__(self) -> None:
        _fill_amounts(self)

    @property
    def round_policy(self) -> str:
        """``orderSetting.roundPolicy``; ``strict`` (the documented default) when not given."""
        setting = self.order_setting if isinstance(self.order_setting, Mapping) else {}
        policy = setting.get("roundPolicy")
        return "strict" if policy is None else policy

    def problems(self, now: datetime | None = None) -> list[tuple[type[ValidationError], dict[str, str]]]:
        """Every rule the request breaks, as ``(error class, API-style problem)`` pairs."""
        found = _basket_problems(self, self.round_policy)
        now = now or datetime.now(timezone.utc)
        if self.expiration_date is None:
            found.append((ValidationError, _problem("wrong_expiration_date", "expirationDate", "expirationDate is required")))
        elif self.expiration_date <= now:
            found.append((ValidationError, _problem(
                "wrong_expiration_date", "expirationDate",
                f"expirationDate {_atom(self.expiration_date)} is not in the future (now {_atom(now)})")))
        if self.currency_id not in CURRENCIES:
            found.append((ValidationError, _problem("wrong_currency", "currencyId",
                                                    f"unsupported currency {self.currency_id!r}; supported: {', '.join(CURRENCIES)}")))
        if self.language_id is not None and self.language_id not in LANGUAGES:
            found.append((ValidationError, _problem("language_not_found", "languageId",
                                                    f"unknown language {self.language_id!r}; known: {', '.join(LANGUAGES)}")))
        for problem in (_length_problem(self.merchant_id, "merchantId", 1, 36),
                        _length_problem(self.merchant_order_id, "merchantOrderId", 1, 256),
                        _length_problem(self.description, "description", 1, 1000)):
            if problem:
                found.append((ValidationError, problem))
        for key, value in (("invoiceSetting", self.invoice_setting), ("orderSetting", self.order_setting),
                           ("metaData", self.meta_data)):
            if value is not None and not isinstance(value, Mapping):
                found.append((ValidationError, _problem("wrong_value", key, f"{key} must be an object")))
        if self.customer is None:
            found.append((CustomerError, _problem("wrong_value", "customer", "customer is required")))
        else:
            found.extend((CustomerError, dict(p, name=f"customer.{p['name']}")) for p in self.customer.problems())
        return found

    def validate(self, now: datetime | None = None) -> None:
        """Refuse the request locally with the API's own codes (basket arithmetic first, then
        ``wrong_expiration_date``, ``wrong_currency``, ``language_not_found``, lengths, customer).

        ``now`` defaults to the current UTC time; the sandbox passes its own clock.
        """
        _raise_first(self.problems(now))


@_model
class Order(JsonModel):
    """An order as InvoiceBox returns it (OrderResponse) and as a payment notification carries it.

    ``request_id`` is the response's ``X-Request-Id``, set by the client; it is not part of the JSON.
    """

    id: str = json_field()
    merchant_id: str = json_field()
    merchant_order_id: str = json_field()
    status: str = json_field()
    amount: Decimal = _money_field()
    vat_amount: Decimal = _money_field()
    currency_id: str = json_field()
    basket_items: list[BasketItem] = json_field(codec=BASKET_ITEMS, converter=_item_list(BasketItem))
    customer: PrivateCustomer | LegalCustomer = json_field(codec=CUSTOMER, converter=_customer)
    description: str | None = json_field(default=None)
    order_container_id: str | None = json_field(default=None)
    payment_url: str | None = json_field(default=None)
    created_at: datetime | None = json_field(default=None, codec=DATETIME, converter=_datetime)
    expiration_date: datetime | None = json_field(default=None, codec=DATETIME, converter=_datetime)
    paid_at: datetime | None = json_field(default=None, codec=DATETIME, converter=_datetime)
    language_id: str | None = json_field(default=None)
    success_url: str | None = json_field(default=None)
    fail_url: str | None = json_field(default=None)
    return_url: str | None = json_field(default=None)
    notification_url: str | None = json_field(default=None)
    request_id: str | None = attrs.field(default=None, kw_only=True, eq=False)

    @property
    def is_paid(self) -> bool:
        return self.status == "completed"

    @property
    def is_test_notification(self) -> bool:
        """The monitoring test notification: verify and answer it, but touch no order."""
        return self.id == TEST_NOTIFICATION_ID and not self.merchant_order_id


# A payment notification's body is the order itself; an alias, not a subclass, so that an order
# read from the API and one read from a notification compare equal.
Notification = Order


# --- shipments -------------------------------------------------------------------------------


@_model
class ShipmentRequest(JsonModel):
    """The body of create shipment (``POST /v3/billing/api/order/shipment``)."""

    order_id: str = json_field()
    basket_items: list[BasketItem] = json_field(codec=BASKET_ITEMS, converter=_item_list(BasketItem))
    document_number: str | None = json_field(default=None)
    document_date: date | None = json_field(default=None, codec=DATE, converter=_date)


@_model
class Shipment(JsonModel):
    """A registered shipment. ``id`` is an integer in the docs; kept as sent."""

    id: int | str = json_field()
    order_id: str = json_field()
    merchant_id: str | None = json_field(default=None)
    basket_items: list[BasketItem] | None = json_field(factory=list, codec=BASKET_ITEMS, converter=_item_list(BasketItem))
    document_number: str | None = json_field(default=None)
    document_date: date | None = json_field(default=None, codec=DATE, converter=_date)
    status: str | None = json_field(default=None)  # MCP-only: draft, pending, completed, canceled
    created_at: datetime | None = json_field(default=None, codec=DATETIME, converter=_datetime)
    request_id: str | None = attrs.field(default=None, kw_only=True, eq=False)


# --- refunds ---------------------------------------------------------------------------------

REFUND_REQUEST_STATUSES = ("created", "draft")


@_model
class RefundRequest(JsonModel):
    """The body of create refund (``POST /v3/billing/api/order/refund-order``); ``status="draft"``
    starts the correction-order flow."""

    parent_id: str = json_field()
    merchant_order_id: str = json_field()
    description: str = json_field()
    basket_items: list[BasketItem] = json_field(codec=BASKET_ITEMS, converter=_item_list(BasketItem))
    amount: Decimal | None = _money_field(default=None)  # None: Σ totalAmount of the basket
    vat_amount: Decimal | None = _money_field(default=None)  # None: Σ totalVatAmount of the basket
    status: str | None = json_field(default=None)

    def __attrs_post_init__(self) -> None:
        _fill_amounts(self)

    def problems(self) -> list[tuple[type[ValidationError], dict[str, str]]]:
        found = _basket_problems(self)
        # The refund request table limits merchantOrderId to 100 characters (256 elsewhere).
        for problem in (_length_problem(self.parent_id, "parentId", 1, 36),
                        _length_problem(self.merchant_order_id, "merchantOrderId", 1, 100),
                        _length_problem(self.description, "description", 1, 1000)):
            if problem:
                found.append((ValidationError, problem))
        if self.status is not None and self.status not in REFUND_REQUEST_STATUSES:
            found.append((ValidationError, _problem("wrong_value", "status",
                                                    f"refund status {self.status!r} is not one of created, draft")))
        return found

    def validate(self) -> None:
        """Refuse the refund locally: basket arithmetic, parent id, merchantOrderId, description, status."""
        _raise_first(self.problems())


@_model
class RefundOrder(JsonModel):
    """A refund ("refund order") as InvoiceBox returns it."""

    id: str = json_field()
    parent_id: str = json_field()
    merchant_order_id: str = json_field()
    amount: Decimal = _money_field()
    vat_amount: Decimal = _money_field()
    status: str = json_field()  # draft, created, completed, canceled
    merchant_id: str | None = json_field(default=None)
    description: str | None = json_field(default=None)
    currency_id: str | None = json_field(default=None)
    basket_items: list[BasketItem] | None = json_field(factory=list, codec=BASKET_ITEMS, converter=_item_list(BasketItem))
    created_at: datetime | None = json_field(default=None, codec=DATETIME, converter=_datetime)
    request_id: str | None = attrs.field(default=None, kw_only=True, eq=False)


# --- auth, errors, lists ---------------------------------------------------------------------


@_model
class AuthInfo(JsonModel):
    """The answer of check auth. Without a token InvoiceBox answers 200 with ``userId: null``, so
    only :attr:`authenticated` says whether the token works."""

    user_id: str | None = json_field()
    profile: Any = json_field(default=None)
    access_token: str | None = json_field(default=None, repr=False)  # a credential: never in reprs
    request_id: str | None = attrs.field(default=None, kw_only=True, eq=False)

    @property
    def authenticated(self) -> bool:
        return self.user_id is not None


@attrs.frozen
class ErrorBody:
    """An API error body: ``{"error": {"message", "code", "fields": [{name, code, message}]}}``.

    The nested envelope is authoritative; top-level ``code``/``message`` (as the MCP server's
    client reads them) are the fallback.
    """

    message: str
    code: str | None = None
    fields: list[dict[str, Any]] = attrs.field(factory=list)

    @classmethod
    def from_json(cls, body: Any) -> ErrorBody:
        if not isinstance(body, Mapping):
            return cls(message="unexpected error body" if body is None else str(body)[:500])
        inner = body.get("error")
        source = inner if isinstance(inner, Mapping) else body
        code = source.get("code")
        message = source.get("message")
        if not message and isinstance(inner, str):  # {"error": "text"}
            message = inner
        fields = source.get("fields")
        return cls(
            message=str(message) if message else (str(code) if code else "unknown error"),
            code=str(code) if code is not None else None,
            fields=[dict(f) for f in fields if isinstance(f, Mapping)] if isinstance(fields, list) else [],
        )

    def to_json(self) -> dict[str, Any]:
        inner: dict[str, Any] = {"message": self.message}
        if self.code is not None:
            inner["code"] = self.code
        inner["fields"] = [dict(f) for f in self.fields]
        return {"error": inner}


T = TypeVar("T")


@attrs.frozen
class Page(Generic[T]):
    """One page of a list answer: ``{"data": [...], "metaData": {totalCount, pageSize, page}}``."""

    items: list[T]
    total_count: int | None = None
    page: int | None = None
    page_size: int | None = None
    request_id: str | None = attrs.field(default=None, kw_only=True, eq=False)

    @classmethod
    def from_json(cls, body: Mapping[str, Any], parse_item: Callable[[Any], T] | type[T] | None = None) -> Page[T]:
        """Read a whole list envelope; ``parse_item`` (a model class or a function) turns each
        ``data`` element into an item; without it items stay plain JSON."""
        if not isinstance(body, Mapping) or not isinstance(body.get("data"), list):
            raise _wrong("expected a list answer {\"data\": [...]}", "data")
        if isinstance(parse_item, type) and hasattr(parse_item, "from_json"):
            parse_item = parse_item.from_json  # Page.from_json(body, Order) reads like it should
        items = []
        for index, element in enumerate(body["data"]):
            try:
                items.append(parse_item(element) if parse_item else element)
            except ValidationError as error:
                raise _prefixed(error, f"data[{index}]") from None
        meta = body.get("metaData")
        meta = meta if isinstance(meta, Mapping) else {}

        def number(key: str) -> int | None:
            value = meta.get(key)
            return int(value) if isinstance(value, (int, Decimal)) and not isinstance(value, bool) else None

        return cls(items=items, total_count=number("totalCount"), page=number("page"), page_size=number("pageSize"))

    def to_json(self, dump_item: Callable[[T], Any] | None = None) -> dict[str, Any]:
        """The list envelope without ``extendedData``; items with ``to_json`` are written with it."""

        def dump(item: Any) -> Any:
            if dump_item:
                return dump_item(item)
            return item.to_json() if hasattr(item, "to_json") else item

        meta = {"totalCount": self.total_count, "pageSize": self.page_size, "page": self.page}
        out: dict[str, Any] = {"data": [dump(item) for item in self.items]}
        if any(v is not None for v in meta.values()):
            out["metaData"] = {k: v for k, v in meta.items() if v is not None}
        return out

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)
